/**
 * One engine's child process (child.ts), driven one workload at a time: the driver starts every
 * engine's process, then gives them turns (StrataDB's fillseq, classic-level's fillseq, StrataDB's
 * fillrandom...), so both engines meet the same machine conditions minutes apart at most (the
 * machines are shared and their load drifts), and never run at the same time.
 * Around each workload the child waits for a 'go', so that the kernel's write counter of the child
 * (/proc/<pid>/io write_bytes: bytes this process dirtied for storage, its native threads included)
 * is read at each boundary: write amplification measured from outside, the same way for both.
 * Shows a cli-progress bar per workload when asked (stdout is a terminal), or a line per finished
 * workload when `lines` is set (a log, not a terminal); nothing for --json.
 * A child that fails before 'ready' (e.g. classic-level does not load) yields available: false.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import cliProgress from 'cli-progress';
import type { ChildConfig, ChildMessage, EngineRun, WorkloadResult } from './result.js';
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

export class EngineProcess {
  readonly run: EngineRun;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private readonly ready: Promise<boolean>;
  private onReady: ((ok: boolean) => void) | undefined;
  private onEnd: ((r: WorkloadResult | undefined) => void) | undefined;
  private ioStart: number | undefined;
  private ioWorkload: number | undefined;
  private bar: cliProgress.SingleBar | undefined;
  private finished = false;

  constructor(private readonly cfg: ChildConfig, private readonly display: DisplayOptions) {
    this.run = { engine: cfg.engine, version: 'unknown', available: false, appliedOptions: {}, results: [] };
    this.ready = new Promise((resolve) => { this.onReady = resolve; });
    this.child = fork(CHILD, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const pid = this.child.pid;
    if (pid !== undefined) liveChildren.add(pid);
    this.child.on('message', (m: ChildMessage) => this.handle(m));
    this.child.on('error', (e) => { this.run.error ??= e.message; });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        if (pid !== undefined) liveChildren.delete(pid);
        this.bar?.stop();
        if (!this.finished) this.run.error ??= `child process exited (${signal ?? `code ${code}`}) without reporting`;
        this.finished = true;
        this.onReady?.(false);
        this.onEnd?.(undefined);
        resolve();
      });
    });
  }

  /** True once the engine loaded and its process is waiting for turns. */
  started(): Promise<boolean> { return this.ready; }

  /** Runs the next workload; undefined if the process has failed. */
  next(): Promise<WorkloadResult | undefined> {
    if (this.finished) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.onEnd = resolve;
      this.child.send({ type: 'go' });
    });
  }

  /** Lets the child close its database and exit; resolves with the whole run. */
  async finish(): Promise<EngineRun> {
    if (!this.finished && this.child.connected) this.child.send({ type: 'go' });
    await this.exited;
    return this.run;
  }

  private handle(m: ChildMessage): void {
    const pid = this.child.pid;
    switch (m.type) {
      case 'ready':
        this.run.available = true;
        this.run.version = m.version;
        this.run.appliedOptions = m.appliedOptions;
        this.ioStart = readWriteBytes(pid);
        this.onReady?.(true);
        this.onReady = undefined;
        break;
      case 'begin':
        this.ioWorkload = readWriteBytes(pid);
        if (this.display.bars) {
          this.bar = new cliProgress.SingleBar({
            format: '{engine} {id} [{bar}] {percentage}% | {value}/{total} | {rate} ops/s',
            stream: process.stdout, hideCursor: true, clearOnComplete: false, etaBuffer: 20,
          }, cliProgress.Presets.shades_classic);
          this.bar.start(m.total, 0, { engine: this.cfg.engine.padEnd(13), id: m.id.padEnd(18), rate: '-' });
        }
        this.child.send({ type: 'go' });
        break;
      case 'progress':
        this.bar?.setTotal(m.total);
        this.bar?.update(m.done, { rate: m.rate > 0 ? int(m.rate) : '-' });
        break;
      case 'end':
        this.ended(m.result, readWriteBytes(pid));
        break;
      case 'done': {
        this.finished = true;
        this.run.peakRssBytes = m.peakRssBytes;
        const io = readWriteBytes(pid);
        if (io !== undefined && this.ioStart !== undefined) this.run.ioWriteBytesTotal = io - this.ioStart;
        break;
      }
      case 'error':
        this.finished = true;
        this.run.error = m.message;
        // Before 'ready' it is a load failure (reported as "not available"); after it, a real
        // failure whose stack the user needs.
        if (this.run.available && m.stack) process.stderr.write(`${this.cfg.engine} failed: ${m.stack}\n`);
        this.onReady?.(false);
        this.onEnd?.(undefined);
        break;
    }
  }

  private ended(r: WorkloadResult, ioAfter: number | undefined): void {
    if (ioAfter !== undefined && this.ioWorkload !== undefined) {
      r.ioWriteBytes = ioAfter - this.ioWorkload;
      if (r.userBytesWritten > 0) r.ioWriteAmp = r.ioWriteBytes / r.userBytesWritten;
    }
    this.run.results.push(r);
    if (this.bar) {
      this.bar.update(this.bar.getTotal(), { rate: r.workload === 'open' ? '-' : int(r.opsPerSec) });
      this.bar.stop();
      this.bar = undefined;
    }
    if (this.display.lines) {
      const what = r.workload === 'open' ? `open ${r.openMs?.toFixed(1)} ms` : `${int(r.opsPerSec)} ops/s`;
      process.stdout.write(`${this.cfg.engine} ${r.id}: ${what}\n`);
    }
    const done = this.onEnd;
    this.onEnd = undefined;
    done?.(r);
  }
}
