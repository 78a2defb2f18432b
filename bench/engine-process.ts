/**
 * Runs one engine's workloads in a child process (child.ts) and collects its EngineRun.
 * Between workloads the child waits for a 'go', so that the kernel's write counter of the child
 * (/proc/<pid>/io write_bytes: bytes this process dirtied for storage, its native threads included)
 * can be read at each boundary: write amplification measured from outside the engine, the same way
 * for both engines. Shows a cli-progress bar per workload when asked (stdout is a terminal), or a
 * line per finished workload when `lines` is set (a log, not a terminal); nothing for --json.
 * A child that fails before 'ready' (e.g. classic-level does not load) yields available: false.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { ChildConfig, ChildMessage, EngineRun } from './result.js';
import { int } from './report.js';

export interface DisplayOptions {
  /** A progress bar per workload (stdout is a TTY, not --json). */
  bars: boolean;
  /** One line per finished workload on stdout (not a TTY, not --json). */
  lines: boolean;
}

/** write_bytes of a live process, or undefined where /proc is unavailable. */
export function readWriteBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^write_bytes:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const CHILD = new URL('./child.js', import.meta.url);

/** Children currently running, so the driver can stop them (by pid) if it is interrupted. */
export const liveChildren = new Set<number>();

export function runEngineProcess(cfg: ChildConfig, display: DisplayOptions): Promise<EngineRun> {
  const run: EngineRun = { engine: cfg.engine, version: 'unknown', available: false, appliedOptions: {}, results: [] };
  const child = fork(CHILD, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  if (child.pid !== undefined) liveChildren.add(child.pid);
  let ioStart: number | undefined;
  let ioWorkload: number | undefined;
  let bar: cliProgress.SingleBar | undefined;
  let sawEnd = false;

  const onMessage = (m: ChildMessage): void => {
    switch (m.type) {
      case 'ready':
        run.available = true;
        run.version = m.version;
        run.appliedOptions = m.appliedOptions;
        ioStart = readWriteBytes(child.pid);
        break;
      case 'begin':
        ioWorkload = readWriteBytes(child.pid);
        if (display.bars) {
          bar = new cliProgress.SingleBar({
            format: '{engine} {id} [{bar}] {percentage}% | {value}/{total} | {rate} ops/s',
            stream: process.stdout, hideCursor: true, clearOnComplete: false, etaBuffer: 20,
          }, cliProgress.Presets.shades_classic);
          bar.start(m.total, 0, { engine: cfg.engine.padEnd(13), id: m.id.padEnd(18), rate: '-' });
        }
        child.send({ type: 'go' });
        break;
      case 'progress':
        bar?.setTotal(m.total);
        bar?.update(m.done, { rate: m.rate > 0 ? int(m.rate) : '-' });
        break;
      case 'end': {
        const r = m.result;
        const after = readWriteBytes(child.pid);
        if (after !== undefined && ioWorkload !== undefined) {
          r.ioWriteBytes = after - ioWorkload;
          if (r.userBytesWritten > 0) r.ioWriteAmp = r.ioWriteBytes / r.userBytesWritten;
        }
        run.results.push(r);
        if (bar) {
          bar.update(bar.getTotal(), { rate: r.workload === 'open' ? '-' : int(r.opsPerSec) });
          bar.stop();
          bar = undefined;
        }
        if (display.lines) {
          const what = r.workload === 'open' ? `open ${r.openMs?.toFixed(1)} ms` : `${int(r.opsPerSec)} ops/s`;
          process.stdout.write(`${cfg.engine} ${r.id}: ${what}\n`);
        }
        child.send({ type: 'go' });
        break;
      }
      case 'done': {
        sawEnd = true;
        run.peakRssBytes = m.peakRssBytes;
        const io = readWriteBytes(child.pid);
        if (io !== undefined && ioStart !== undefined) run.ioWriteBytesTotal = io - ioStart;
        break;
      }
      case 'error':
        sawEnd = true;
        run.error = m.message;
        // Before 'ready' it is a load failure (reported as "not available"); after it, a real
        // failure whose stack the user needs.
        if (run.available && m.stack) process.stderr.write(`${cfg.engine} failed: ${m.stack}\n`);
        break;
    }
  };

  return new Promise((resolve) => {
    child.on('message', onMessage);
    child.on('error', (e) => { run.error ??= e.message; });
    child.on('exit', (code, signal) => {
      if (child.pid !== undefined) liveChildren.delete(child.pid);
      bar?.stop();
      if (!sawEnd) run.error ??= `child process exited (${signal ?? `code ${code}`}) without reporting`;
      resolve(run);
    });
  });
}
