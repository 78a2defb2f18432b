/**
 * FaultFileSystem: wraps any FileSystem and fails chosen operations with an injected OS error
 * (EIO, ENOSPC, EACCES), like Pebble's errorfs. Tests use it for "fail at operation i, for
 * i = 0, 1, 2, ..." sweeps and for targeted failures (every sync of MANIFEST-*, say).
 *
 * Contract:
 * - Every operation, including append/sync/read/close on files opened through this wrapper, is
 *   counted (`operationCount`) and shown to the injector BEFORE it runs. If the injector answers a
 *   code, the operation does not happen and an IOError is thrown (sync methods) or rejected (async
 *   methods). Its `cause` is an Error with that `code` and `injected: true`; isInjected() walks the
 *   cause chain, so a test can tell an injected failure from a real bug.
 * - A failed append writes nothing, unless the wrapper was built with `partialAppend`: then a prefix
 *   of the data is written before the error is thrown, modelling a torn write(2) (a short write
 *   followed by ENOSPC/EIO). The wrapped file's size includes the torn prefix, as a real file's would.
 * - A failed close still closes the underlying file (POSIX close releases the descriptor even when it
 *   reports EIO); only the error is injected.
 * - Injectors may keep state (failNth counts); setInjector() swaps one in at any time.
 * - Latency (`latency`, setLatency(), seededLatency()): after the injector let an async operation
 *   through, the latency function may delay its COMPLETION by a number of ms (0 = one setImmediate, a
 *   turn of the event loop; undefined = no delay at all), so completions arrive late and out of order
 *   as they do from a busy libuv pool (`turnsPerMs`: counted in event-loop turns, not timers, for
 *   runs that replay the same order). What happens when, as on a real disk:
 *   - sync and syncDir: the real fdatasync runs only at the end of the delay, so a crash clone taken
 *     meanwhile sees the bytes (or entries) unsynced;
 *   - rename, remove, link: performed before the delay or after it, as the latency function's
 *     LatencyPlan says (a plain number: after), so the namespace may change long before the caller
 *     hears of it, or long after it asked;
 *   - every other async operation (open, close, read, readFile, list, stat, exists, mkdir, removeDir)
 *     runs at the end of the delay.
 *   append and readSync stay synchronous (a write(2) into the page cache; a cached read): never delayed.
 *   lock is never delayed. An injected failure is reported at once, without delay.
 * Not here: crash modelling (mem-fs.ts crashClone) and real OS errors (node-fs.ts).
 */
import * as path from 'node:path';
import { IOError } from '../errors.js';
import type {
  FileLock, FileStat, FileSystem, OpenWritableOptions, ReadableFile, WritableFile,
} from './file-system.js';

export type FaultKind =
  | 'open' | 'append' | 'sync' | 'close' | 'read' | 'list' | 'exists' | 'stat' | 'rename'
  | 'remove' | 'removeDir' | 'mkdir' | 'syncDir' | 'link' | 'lock' | 'truncate';

/** One operation as the injector sees it. `path` is the file or directory acted on (for rename and
 * link: the source); `target` is the destination of rename and link. `write` marks openWritable. */
export interface FaultOp {
  readonly kind: FaultKind;
  readonly path: string;
  readonly target?: string;
  readonly write?: boolean;
}

export type FaultCode = 'EIO' | 'ENOSPC' | 'EACCES';

/** Decides, per operation, whether it fails (with which code) or runs (undefined). */
export type Injector = (op: FaultOp) => FaultCode | undefined;

/** Which operations an injector considers. All given conditions must hold. */
export interface OpMatch {
  kinds?: readonly FaultKind[];
  /** RegExp tested against the full path, or a glob (`*`, `?`): without a '/' it matches the base
   * name (so 'MANIFEST-*' finds MANIFEST files in any directory), with one the whole path. */
  path?: RegExp | string;
  where?: (op: FaultOp) => boolean;
}

/** Namespace operations only: the delay, and whether the operation happens before it (`applyFirst`)
 * or after it. */
export interface LatencyPlan {
  readonly ms: number;
  readonly applyFirst: boolean;
}

/** Per async operation, the ms by which its completion is delayed (undefined: none). */
export type LatencyFn = (op: FaultOp) => number | LatencyPlan | undefined;

/** The operations whose effect can land before their completion is reported. */
const NAMESPACE_KINDS: ReadonlySet<FaultKind> = new Set<FaultKind>(['rename', 'remove', 'link']);

export interface FaultFileSystemOptions {
  injector?: Injector;
  latency?: LatencyFn;
  /**
   * Virtual time for latency: a delay of d ms completes after 1 + round(d * turnsPerMs) turns of the
   * event loop (setImmediate) instead of a timer. Completions then keep their order relative to the
   * rest of the program's event-loop work from run to run (timers do not), and runs are faster.
   */
  turnsPerMs?: number;
  /** On an injected append failure, write a prefix first: true = half the bytes, or a function of
   * the data length returning how many bytes to write (clamped to [0, length - 1]). */
  partialAppend?: boolean | ((length: number) => number);
}

/** True when e, or any error in its cause chain, was produced by a FaultFileSystem. */
export function isInjected(e: unknown): boolean {
  let cur: unknown = e;
  for (let i = 0; i < 16 && typeof cur === 'object' && cur !== null; i++) {
    if ((cur as { injected?: unknown }).injected === true) return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/** The injector that never fails. */
export const none: Injector = () => undefined;

/**
 * Fails the nth matching operation (counting from 0); with `sticky`, every matching one after it too.
 * Each call returns a fresh counter.
 */
export function failNth(
  n: number,
  options: OpMatch & { sticky?: boolean; code?: FaultCode } = {},
): Injector {
  const matches = matcher(options);
  const code = options.code ?? 'EIO';
  let seen = 0;
  return (op) => {
    if (!matches(op)) return undefined;
    const i = seen++;
    return i === n || (options.sticky === true && i > n) ? code : undefined;
  };
}

/** Fails every operation of the given kinds (narrowed further by path/where). */
export function failKind(
  kinds: FaultKind | readonly FaultKind[],
  options: Omit<OpMatch, 'kinds'> & { code?: FaultCode } = {},
): Injector {
  const matches = matcher({ ...options, kinds: typeof kinds === 'string' ? [kinds] : kinds });
  const code = options.code ?? 'EIO';
  return (op) => (matches(op) ? code : undefined);
}

/** Fails every operation on a matching path (RegExp or glob, see OpMatch.path). */
export function failPath(
  pattern: RegExp | string,
  options: Omit<OpMatch, 'path'> & { code?: FaultCode } = {},
): Injector {
  const matches = matcher({ ...options, path: pattern });
  const code = options.code ?? 'EIO';
  return (op) => (matches(op) ? code : undefined);
}

export interface SeededLatencyOptions extends OpMatch {
  /** Share (0..1) of matching operations that are delayed at all. */
  probability: number;
  /** The longest delay, for the rare long tail. */
  maxMs: number;
  /** One delayed operation in this many takes the long tail (default 50). */
  tailEvery?: number;
}

/**
 * Seeded latency like a busy libuv pool: of the delayed operations about half complete after one
 * setImmediate (0 ms), most others after 1-4 ms, and 1 in 50 (tailEvery) after up to maxMs (a long tail: a
 * sync stuck behind a big write). Namespace operations land before or after their delay at random.
 * Draws a fixed number of values per matching operation, so a seed replays the same decisions for
 * the same sequence of operations.
 */
export function seededLatency(seed: number, options: SeededLatencyOptions): LatencyFn {
  const matches = matcher(options);
  const next = mulberry32(seed);
  const maxMs = Math.max(0, options.maxMs);
  const tail = 1 / Math.max(1, options.tailEvery ?? 50);
  return (op) => {
    if (!matches(op)) return undefined;
    const delayed = next() < options.probability;
    const shape = next();
    const size = next();
    const applyFirst = next() < 0.5;
    if (!delayed) return undefined;
    const ms = shape < tail ? Math.ceil(maxMs * (0.25 + 0.75 * size))
      : shape < tail + (1 - tail) / 2 ? 0
      : Math.min(maxMs, 1 + Math.floor(size * 4));
    return NAMESPACE_KINDS.has(op.kind) ? { ms, applyFirst } : ms;
  };
}

/** Fails each matching operation with the given probability, from a seeded generator. */
export function failRandom(
  probability: number,
  seed: number,
  options: OpMatch & { code?: FaultCode } = {},
): Injector {
  const matches = matcher(options);
  const code = options.code ?? 'EIO';
  const next = mulberry32(seed);
  // Draw for every matching op, failing or not, so a seed replays the same decisions.
  return (op) => (matches(op) && next() < probability ? code : undefined);
}

export class FaultFileSystem implements FileSystem {
  private injector: Injector;
  private latency: LatencyFn | undefined;
  private readonly turnsPerMs: number | undefined;
  private count = 0;
  private delayed = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly partial: ((length: number) => number) | undefined;

  constructor(readonly inner: FileSystem, options: FaultFileSystemOptions = {}) {
    this.injector = options.injector ?? none;
    this.latency = options.latency;
    this.turnsPerMs = options.turnsPerMs;
    const p = options.partialAppend;
    this.partial = p === true ? (len) => Math.floor(len / 2) : typeof p === 'function' ? p : undefined;
  }

  /** Operations seen so far (failed ones included). */
  get operationCount(): number {
    return this.count;
  }

  setInjector(injector: Injector): void {
    this.injector = injector;
  }

  /** Swaps the latency function (undefined: no delays from now on; delays under way still run out). */
  setLatency(latency: LatencyFn | undefined): void {
    this.latency = latency;
  }

  /** Operations whose completion is being delayed right now. */
  get delayedCount(): number {
    return this.delayed;
  }

  /** Resolves once no operation is being delayed (a test draining timers before it ends). */
  whenUndelayed(): Promise<void> {
    if (this.delayed === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private delay(ms: number): Promise<void> {
    if (this.turnsPerMs === undefined) return delay(ms);
    return turns(1 + Math.round(ms * this.turnsPerMs));
  }

  /**
   * @internal Checks op with the injector, then runs `run` with the latency the latency function
   * asks for: after the delay, or (a namespace op whose plan says applyFirst) before it.
   */
  async perform<T>(op: FaultOp, run: () => Promise<T>): Promise<T> {
    this.check(op);
    const plan = this.latency?.(op);
    if (plan === undefined) return run();
    const ms = typeof plan === 'number' ? plan : plan.ms;
    const first = typeof plan === 'object' && plan.applyFirst && NAMESPACE_KINDS.has(op.kind);
    this.delayed++;
    try {
      if (first) {
        let result: { ok: true; value: T } | { ok: false; error: unknown };
        try {
          result = { ok: true, value: await run() };
        } catch (error) {
          result = { ok: false, error };
        }
        await this.delay(ms);
        if (!result.ok) throw result.error;
        return result.value;
      }
      await this.delay(ms);
      return await run();
    } finally {
      if (--this.delayed === 0) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const f of w) f();
      }
    }
  }

  /** @internal Counts op, asks the injector; throws the injected IOError if it says so. */
  check(op: FaultOp): void {
    this.count++;
    const code = this.injector(op);
    if (code !== undefined) throw injectedError(code, op);
  }

  /** @internal The prefix length a failed append writes first (0 without partialAppend). */
  partialLength(length: number): number {
    if (!this.partial || length <= 1) return 0;
    const n = Math.floor(this.partial(length));
    return Math.max(0, Math.min(length - 1, n));
  }

  async openWritable(p: string, options?: OpenWritableOptions): Promise<WritableFile> {
    const file = await this.perform({ kind: 'open', path: p, write: true }, () => this.inner.openWritable(p, options));
    return new FaultWritableFile(this, file);
  }

  async openReadable(p: string): Promise<ReadableFile> {
    const file = await this.perform({ kind: 'open', path: p, write: false }, () => this.inner.openReadable(p));
    return new FaultReadableFile(this, file);
  }

  readFile(p: string): Promise<Uint8Array> {
    return this.perform({ kind: 'read', path: p }, () => this.inner.readFile(p));
  }

  list(dir: string): Promise<string[]> {
    return this.perform({ kind: 'list', path: dir }, () => this.inner.list(dir));
  }

  exists(p: string): Promise<boolean> {
    return this.perform({ kind: 'exists', path: p }, () => this.inner.exists(p));
  }

  stat(p: string): Promise<FileStat> {
    return this.perform({ kind: 'stat', path: p }, () => this.inner.stat(p));
  }

  rename(from: string, to: string): Promise<void> {
    return this.perform({ kind: 'rename', path: from, target: to }, () => this.inner.rename(from, to));
  }

  truncate(p: string, length: number): Promise<void> {
    return this.perform({ kind: 'truncate', path: p }, () => this.inner.truncate(p, length));
  }

  remove(p: string): Promise<void> {
    return this.perform({ kind: 'remove', path: p }, () => this.inner.remove(p));
  }

  removeDir(p: string): Promise<void> {
    return this.perform({ kind: 'removeDir', path: p }, () => this.inner.removeDir(p));
  }

  mkdir(p: string, options?: { recursive?: boolean }): Promise<void> {
    return this.perform({ kind: 'mkdir', path: p }, () => this.inner.mkdir(p, options));
  }

  syncDir(p: string): Promise<void> {
    return this.perform({ kind: 'syncDir', path: p }, () => this.inner.syncDir(p));
  }

  link(existingPath: string, newPath: string): Promise<void> {
    return this.perform({ kind: 'link', path: existingPath, target: newPath }, () => this.inner.link(existingPath, newPath));
  }

  async lock(p: string): Promise<FileLock> {
    this.check({ kind: 'lock', path: p });
    return this.inner.lock(p);
  }
}

class FaultWritableFile implements WritableFile {
  constructor(private readonly fs: FaultFileSystem, private readonly file: WritableFile) {}
  get path(): string { return this.file.path; }
  get size(): number { return this.file.size; }

  append(data: Uint8Array): void {
    try {
      this.fs.check({ kind: 'append', path: this.file.path });
    } catch (e) {
      const n = this.fs.partialLength(data.length);
      if (n > 0) this.file.append(data.subarray(0, n));
      throw e;
    }
    this.file.append(data);
  }

  sync(): Promise<void> {
    return this.fs.perform({ kind: 'sync', path: this.file.path }, () => this.file.sync());
  }

  close(): Promise<void> {
    return closeThrough(this.fs, this.file);
  }
}

class FaultReadableFile implements ReadableFile {
  constructor(private readonly fs: FaultFileSystem, private readonly file: ReadableFile) {}
  get path(): string { return this.file.path; }
  get size(): number { return this.file.size; }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.fs.perform({ kind: 'read', path: this.file.path }, () => this.file.read(offset, length));
  }

  readSync(offset: number, length: number): Uint8Array {
    this.fs.check({ kind: 'read', path: this.file.path });
    return this.file.readSync(offset, length);
  }

  readSyncInto(offset: number, into: Uint8Array): number {
    this.fs.check({ kind: 'read', path: this.file.path });
    const f = this.file;
    if (f.readSyncInto) return f.readSyncInto(offset, into);
    const got = f.readSync(offset, into.length);
    into.set(got, 0);
    return got.length;
  }

  close(): Promise<void> {
    return closeThrough(this.fs, this.file);
  }
}

/** A failed close still closes the wrapped file (at once); a delayed one closes it when it completes. */
async function closeThrough(fs: FaultFileSystem, file: { readonly path: string; close(): Promise<void> }): Promise<void> {
  try {
    await fs.perform({ kind: 'close', path: file.path }, () => file.close());
  } catch (e) {
    if (isInjected(e)) await file.close();
    throw e;
  }
}

/** n turns of the event loop (setImmediate each). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** 0 ms: one turn of the event loop (setImmediate), as a libuv completion takes at the least. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0) setImmediate(resolve);
    else setTimeout(resolve, ms);
  });
}

function injectedError(code: FaultCode, op: FaultOp): IOError {
  const where = op.target === undefined ? op.path : `${op.path} -> ${op.target}`;
  const cause = Object.assign(new Error(`${code}: injected failure of ${op.kind} '${where}'`), {
    code,
    syscall: op.kind,
    path: op.path,
    injected: true as const,
  });
  return new IOError(`${op.kind} failed for ${where}: ${code} (injected)`, { cause, path: op.path });
}

function matcher(m: OpMatch): (op: FaultOp) => boolean {
  const kinds = m.kinds ? new Set<FaultKind>(m.kinds) : undefined;
  const test = m.path === undefined ? undefined : pathTester(m.path);
  return (op) =>
    (kinds === undefined || kinds.has(op.kind)) &&
    (test === undefined || test(op.path) || (op.target !== undefined && test(op.target))) &&
    (m.where === undefined || m.where(op));
}

function pathTester(pattern: RegExp | string): (p: string) => boolean {
  if (pattern instanceof RegExp) {
    // NB: a /g or /y RegExp keeps lastIndex between test() calls; copy it without those flags.
    const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    return (p) => re.test(p);
  }
  const re = globToRegExp(pattern);
  return pattern.includes('/') ? (p) => re.test(p) : (p) => re.test(path.basename(p));
}

/** `*` = any run of non-'/' characters, `?` = one; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  let src = '';
  for (const ch of glob) {
    if (ch === '*') src += '[^/]*';
    else if (ch === '?') src += '[^/]';
    else src += ch.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
  }
  return new RegExp(`^${src}$`);
}

/** A tiny seeded generator in [0, 1); src/ cannot use test/support/rng.ts. */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}
