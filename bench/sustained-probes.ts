/**
 * What the sustained-load benchmarks (sustained.ts, styles.ts) measure from the outside, shared so
 * both measure it the same way: the kernel's count of bytes this process had written to storage
 * (/proc/self/io write_bytes, native and worker threads included: write amplification that does not
 * trust the engine's own counters), the bytes a database directory holds, a per-second throughput
 * series, and running one load in a child process of its own (so that /proc counts one engine's run
 * alone) whose last stdout line is its JSON result.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** write_bytes of this process so far; 0 where /proc is unavailable. */
export function procWriteBytes(): number {
  try {
    const m = /write_bytes:\s+(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

/** Bytes of the regular files directly in dir (a database directory has no subdirectories). */
export function dirBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    try {
      const s = statSync(join(dir, f));
      if (s.isFile()) n += s.size;
    } catch { /* deleted between readdir and stat (an obsolete table): it holds nothing now */ }
  }
  return n;
}

/**
 * Operations per wall-clock second: tick(n) after every n completed operations; a second closes at
 * the first tick past it, and onSecond (if given) runs then, e.g. to sample the disk.
 */
export class PerSecond {
  readonly series: number[] = [];
  private start = performance.now();
  private count = 0;

  constructor(private readonly onSecond?: () => void) {}

  tick(n: number): void {
    this.count += n;
    const now = performance.now();
    if (now - this.start >= 1000) {
      this.series.push(Math.round(this.count / ((now - this.start) / 1000)));
      this.start = now;
      this.count = 0;
      this.onSecond?.();
    }
  }
}

/** Runs `node script ...args` and resolves with the JSON of its last stdout line; stderr passes through. */
export function runJsonChild<T>(script: string, args: string[], what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const c = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.on('error', reject);
    c.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${what} child exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
      } catch (e) {
        reject(new Error(`${what} child printed no JSON result: ${String(e)}`));
      }
    });
  });
}
