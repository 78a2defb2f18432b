/**
 * `npm run profile -- [WORKLOAD...] [--num N] [--reads N] [--engine E] [--out DIR] [--top K]`:
 * runs workloads on one engine (StrataDB by default) under Node's built-in CPU profiler
 * (`node --cpu-prof`, the same V8 sampling profiler that DevTools and clinic flame read), then says
 * where the .cpuprofile went and prints where the time went: the top functions and files by self
 * time. Open the file in Chrome DevTools (Performance > Load profile) or speedscope for a flame
 * graph. clinic is not a dependency: it is heavy, and --cpu-prof gives the same samples.
 * The database lives in a temporary directory that is deleted afterwards; profiles are kept.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
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
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples?: number[] }

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function where(url: string): string {
  if (!url) return '(native or V8)';
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
  const show = (title: string, m: Map<string, number>): string[] => [
    title,
    ...[...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, hits]) =>
      `  ${(hits * msPerSample).toFixed(0).padStart(7)} ms ${((100 * hits) / Math.max(1, totalSamples)).toFixed(1).padStart(5)}%  ${k}`),
  ];
  return [...show('self time by function:', byFn), '', ...show('self time by file:', byFile)];
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      num: { type: 'string', default: '200000' },
      reads: { type: 'string' },
      engine: { type: 'string', default: 'stratadb' },
      out: { type: 'string' },
      top: { type: 'string', default: '25' },
    },
  });
  const num = Number(values.num);
  if (!Number.isInteger(num) || num < 1) throw new Error('--num must be a positive integer');
  const engine = values.engine === 'classic-level' ? 'classic-level' : 'stratadb';
  const out = resolve(values.out ?? mkdtempSync(join(tmpdir(), 'stratadb-profile-')));
  const dbDir = mkdtempSync(join(tmpdir(), 'stratadb-profile-db-'));
  const cfg: ChildConfig = {
    engine, dir: join(dbDir, engine), num, reads: values.reads ? Number(values.reads) : num,
    keySize: 16, valueSize: 100, concurrency: 1, seed: 1,
    workloads: positionals.length ? positionals : ['fillrandom'], engineOptions: {},
  };
  const child = fileURLToPath(new URL('./child.js', import.meta.url));
  const before = new Set(safeList(out));
  const lines: string[] = [];
  try {
    const code = await new Promise<number | null>((done, fail) => {
      const p = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${out}`, child, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  for (const l of lines) {
    const r = JSON.parse(l) as WorkloadResult;
    process.stdout.write(`${r.engine} ${r.id}: ${Math.round(r.opsPerSec)} ops/s over ${r.seconds.toFixed(2)} s (p50 ${r.latencyUs.p50.toFixed(1)} µs)\n`);
  }
  const made = safeList(out).filter((f) => f.endsWith('.cpuprofile') && !before.has(f));
  if (made.length === 0) throw new Error(`no .cpuprofile appeared in ${out}`);
  // The main thread's profile is the largest; worker threads write their own files beside it.
  made.sort((a, b) => statSync(join(out, b)).size - statSync(join(out, a)).size);
  process.stdout.write(`\nCPU profile${made.length > 1 ? 's' : ''} written to:\n${made.map((f) => `  ${join(out, f)}`).join('\n')}\n`);
  process.stdout.write('(includes the untimed setup; open in Chrome DevTools > Performance > Load profile, or speedscope)\n\n');
  const profile = JSON.parse(readFileSync(join(out, made[0]!), 'utf8')) as CpuProfile;
  process.stdout.write(summarizeProfile(profile, Number(values.top) || 25).join('\n') + '\n');
}

function safeList(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}

main().catch((e: unknown) => {
  process.stderr.write(`profile: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
