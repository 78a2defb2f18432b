/**
 * `npm run bench:memory`: the memoryBudget checks of README "Memory", each load in a child process of
 * its own (memory-probe.ts, so RSS is that load's alone): with memoryBudget 256 MiB, a mixed load
 * (awaited puts with 256 in flight, batches of 1000, random reads) of 5,000,000 and of 20,000,000
 * keys (16 B keys, 100 B values). For each it prints the kernel's peak RSS against 110% of the budget
 * plus the child's baseline (its RSS before open, Node and the engine's code loaded), and RSS after
 * close() against the baseline. Exit status 1 when a peak is over its limit.
 * Usage: node dist/bench/memory-budget.js [--budget BYTES] [--keys N,N...] [--json]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import type { ProbeResult } from './memory-probe.js';

const MiB = 1 << 20;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function probe(args: string[]): Promise<ProbeResult> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'memory-probe.js');
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--expose-gc', script, ...args, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.on('error', reject);
    c.on('close', (code) => {
      if (code !== 0) return reject(new Error(`memory probe exited with ${code}`));
      try { resolve(JSON.parse(out.trim().split('\n').pop()!) as ProbeResult); } catch (e) { reject(e); }
    });
  });
}

const mb = (n: number): string => `${(n / MiB).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const budget = Number(arg('budget') ?? 256 * MiB);
  const loads = (arg('keys') ?? '5000000,20000000').split(',').map(Number);
  const rows: object[] = [];
  let over = false;
  for (const keys of loads) {
    const r = await probe(['--keys', String(keys), '--mixed', '--memory-budget', String(budget)]);
    const limit = 1.1 * budget + r.baselineRss;
    const ok = r.peakRss <= limit;
    over ||= !ok;
    rows.push({ keys, budget, baselineRss: r.baselineRss, peakRss: r.peakRss, limit, ok, afterCloseRss: r.afterClose.rss, seconds: r.seconds, nearPeak: r.nearPeak });
    if (!process.argv.includes('--json')) {
      console.log(`${keys} keys, memoryBudget ${mb(budget)}: peak RSS ${mb(r.peakRss)} against ${mb(limit)} ` +
        `(110% of the budget + baseline ${mb(r.baselineRss)}) ${ok ? 'ok' : 'OVER'}; after close ${mb(r.afterClose.rss)}; ${r.seconds.toFixed(0)} s`);
      // Where the memory was near the peak: the engine's parts and the process's figures.
      if (r.nearPeak) console.log(`  near the peak: ${JSON.stringify(r.nearPeak.engine, (_k, v: unknown) => (typeof v === 'number' && v >= MiB ? mb(v) : v))}`);
    }
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
  if (over) process.exitCode = 1;
}

main().catch((e: unknown) => { console.error(e); process.exit(2); });
