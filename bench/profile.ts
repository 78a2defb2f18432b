/**
 * `npm run profile -- [WORKLOAD...] [--num N] [--reads N] [--engine E] [--out DIR] [--top K]`:
 * runs workloads on one engine (StrataDB by default) under V8's sampling CPU profiler (the one
 * behind `node --cpu-prof`, DevTools and clinic flame), says where the .cpuprofile files went (one
 * per timed workload: the child starts and stops the profiler around each, so the untimed setup is
 * left out), and prints where the time went in each: the top functions and files by self time.
 * Open a file in Chrome DevTools (Performance > Load profile) or speedscope for a flame graph.
 * clinic is not a dependency: it is heavy, and this gives the same samples. Main thread only.
 * The database lives in a temporary directory that is deleted afterwards; profiles are kept.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChildConfig, WorkloadResult } from './result.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number }

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function where(url: string): string {
  if (!url) return '(native, V8, GC)';
  const p = url.startsWith('file://') ? fileURLToPath(url) : url;
  return p.startsWith(ROOT) ? relative(ROOT, p) : p;
}

/** Self time per function and per file, in ms, largest first. */
function summarizeProfile(profile: CpuProfile, top: number): string[] {
  const totalSamples = profile.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
  const msPerSample = totalSamples > 0 ? (profile.endTime - profile.startTime) / 1000 / totalSamples : 0;
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const f = n.callFrame;
    const file = where(f.url);
    const fn = `${f.functionName || '(anonymous)'}  ${file}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + hits);
    byFile.set(file, (byFile.get(file) ?? 0) + hits);
  }
  const show = (title: string, m: Map<string, number>, n: number): string[] => [
    title,
    ...[...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, hits]) =>
      `  ${(hits * msPerSample).toFixed(0).padStart(7)} ms ${((100 * hits) / Math.max(1, totalSamples)).toFixed(1).padStart(5)}%  ${k}`),
  ];
  return [...show('  self time by function:', byFn, top), ...show('  self time by file:', byFile, Math.ceil(top / 2))];
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      num: { type: 'string', default: '200000' },
      reads: { type: 'string' },
      engine: { type: 'string', default: 'stratadb' },
      out: { type: 'string' },
      top: { type: 'string', default: '20' },
    },
  });
  const num = Number(values.num);
  const reads = values.reads ? Number(values.reads) : num;
  if (!Number.isInteger(num) || num < 1 || !Number.isInteger(reads) || reads < 1) throw new Error('--num and --reads must be positive integers');
  if (values.engine !== 'stratadb' && values.engine !== 'classic-level') throw new Error('--engine must be stratadb or classic-level');
  const out = resolve(values.out ?? mkdtempSync(join(tmpdir(), 'stratadb-profile-')));
  mkdirSync(out, { recursive: true });
  const dbDir = mkdtempSync(join(tmpdir(), 'stratadb-profile-db-'));
  const cfg: ChildConfig = {
    engine: values.engine, dir: join(dbDir, values.engine), num, reads,
    keySize: 16, valueSize: 100, concurrency: 1, seed: 1,
    workloads: positionals.length ? positionals : ['fillrandom'], engineOptions: {}, profileDir: out,
  };
  const child = fileURLToPath(new URL('./child.js', import.meta.url));
  const lines: string[] = [];
  try {
    const code = await new Promise<number | null>((done, fail) => {
      const p = spawn(process.execPath, [child, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'inherit'] });
      p.stdout.setEncoding('utf8');
      let buf = '';
      p.stdout.on('data', (d: string) => { buf += d; });
      p.on('error', fail);
      p.on('close', (c) => { lines.push(...buf.split('\n').filter((l) => l.trim())); done(c); });
    });
    if (code !== 0) throw new Error(`the profiled run failed (exit code ${code})`);
  } finally {
    rmSync(dbDir, { recursive: true, force: true });
  }
  const top = Number(values.top) || 20;
  for (const l of lines) {
    const r = JSON.parse(l) as WorkloadResult;
    const file = join(out, `${r.engine}-${r.id.replace(':', 'x')}.cpuprofile`);
    const what = r.workload === 'open' ? `first open ${r.openMs?.toFixed(1)} ms` : `${Math.round(r.opsPerSec)} ops/s, p50 ${r.latencyUs.p50.toFixed(1)} µs`;
    process.stdout.write(`\n${r.engine} ${r.id}: ${what}\n  profile: ${file}\n`);
    if (readdirSync(out).includes(`${r.engine}-${r.id.replace(':', 'x')}.cpuprofile`)) {
      process.stdout.write(summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top).join('\n') + '\n');
    }
  }
  process.stdout.write('\nOpen a .cpuprofile in Chrome DevTools (Performance > Load profile) or speedscope for a flame graph.\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`profile: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
