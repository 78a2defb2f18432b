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

export interface FaultFileSystemOptions {
  injector?: Injector;
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
  private count = 0;
  private readonly partial: ((length: number) => number) | undefined;

  constructor(readonly inner: FileSystem, options: FaultFileSystemOptions = {}) {
    this.injector = options.injector ?? none;
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
    this.check({ kind: 'open', path: p, write: true });
    return new FaultWritableFile(this, await this.inner.openWritable(p, options));
  }

  async openReadable(p: string): Promise<ReadableFile> {
    this.check({ kind: 'open', path: p, write: false });
    return new FaultReadableFile(this, await this.inner.openReadable(p));
  }

  async readFile(p: string): Promise<Uint8Array> {
    this.check({ kind: 'read', path: p });
    return this.inner.readFile(p);
  }

  async list(dir: string): Promise<string[]> {
    this.check({ kind: 'list', path: dir });
    return this.inner.list(dir);
  }

  async exists(p: string): Promise<boolean> {
    this.check({ kind: 'exists', path: p });
    return this.inner.exists(p);
  }

  async stat(p: string): Promise<FileStat> {
    this.check({ kind: 'stat', path: p });
    return this.inner.stat(p);
  }

  async rename(from: string, to: string): Promise<void> {
    this.check({ kind: 'rename', path: from, target: to });
    return this.inner.rename(from, to);
  }

  async truncate(p: string, length: number): Promise<void> {
    this.check({ kind: 'truncate', path: p });
    return this.inner.truncate(p, length);
  }

  async remove(p: string): Promise<void> {
    this.check({ kind: 'remove', path: p });
    return this.inner.remove(p);
  }

  async removeDir(p: string): Promise<void> {
    this.check({ kind: 'removeDir', path: p });
    return this.inner.removeDir(p);
  }

  async mkdir(p: string, options?: { recursive?: boolean }): Promise<void> {
    this.check({ kind: 'mkdir', path: p });
    return this.inner.mkdir(p, options);
  }

  async syncDir(p: string): Promise<void> {
    this.check({ kind: 'syncDir', path: p });
    return this.inner.syncDir(p);
  }

  async link(existingPath: string, newPath: string): Promise<void> {
    this.check({ kind: 'link', path: existingPath, target: newPath });
    return this.inner.link(existingPath, newPath);
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

  async sync(): Promise<void> {
    this.fs.check({ kind: 'sync', path: this.file.path });
    return this.file.sync();
  }

  async close(): Promise<void> {
    try {
      this.fs.check({ kind: 'close', path: this.file.path });
    } finally {
      await this.file.close();
    }
  }
}

class FaultReadableFile implements ReadableFile {
  constructor(private readonly fs: FaultFileSystem, private readonly file: ReadableFile) {}
  get path(): string { return this.file.path; }
  get size(): number { return this.file.size; }

  async read(offset: number, length: number): Promise<Uint8Array> {
    this.fs.check({ kind: 'read', path: this.file.path });
    return this.file.read(offset, length);
  }

  readSync(offset: number, length: number): Uint8Array {
    this.fs.check({ kind: 'read', path: this.file.path });
    return this.file.readSync(offset, length);
  }

  async close(): Promise<void> {
    try {
      this.fs.check({ kind: 'close', path: this.file.path });
    } finally {
      await this.file.close();
    }
  }
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
