/**
 * Helpers for the database-level failure and contract tests (test/db/*, test/crash/*): error-code
 * assertions that also check HOW a call failed (a Promise method must reject, never throw), whole-
 * database reads into comparable maps, byte listings of a MemFileSystem directory, and CommitLog,
 * the record of writes in commit order against which recovered states are matched.
 *
 * CommitLog: the engine assigns sequence numbers in group-commit order and resolves each group's
 * members in that order, so a write's promise resolution order is its commit order. A recovered
 * database must equal the model after SOME prefix of that order (a crash loses a suffix, never a
 * write in the middle), and the prefix must cover every write whose durability was promised.
 */
import { Buffer } from 'node:buffer';
import { expect } from 'vitest';
import { DB, MemFileSystem, type Options, type Snapshot, type StrataError } from '../../src/index.js';
import type { FileSystem, WritableFile } from '../../src/fs/file-system.js';
import { PassThroughFileSystem, writableWith } from './pass-through-fs.js';

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name} ${(e as { code?: string }).code ?? ''}: ${e.message}`;
  return String(e);
}

/**
 * Calls `fn`, which must return a Promise (never throw synchronously) that rejects with a
 * StrataError of `code`. Returns the error.
 */
export async function rejectsWith(fn: () => unknown, code: string, what = 'call'): Promise<StrataError> {
  let p: unknown;
  try {
    p = fn();
  } catch (e) {
    throw new Error(`${what} threw synchronously (${describeError(e)}); a Promise method must reject`);
  }
  if (!(p instanceof Promise)) throw new Error(`${what} returned ${typeof p}, not a Promise`);
  try {
    await p;
  } catch (e) {
    expect((e as StrataError).code, `${what}: ${describeError(e)}`).toBe(code);
    return e as StrataError;
  }
  throw new Error(`${what} resolved; expected a rejection with ${code}`);
}

/** Calls the synchronous `fn`, which must throw a StrataError of `code`. Returns the error. */
export function throwsWith(fn: () => unknown, code: string, what = 'call'): StrataError {
  try {
    fn();
  } catch (e) {
    expect((e as StrataError).code, `${what}: ${describeError(e)}`).toBe(code);
    return e as StrataError;
  }
  throw new Error(`${what} returned; expected it to throw ${code}`);
}

/** A fresh database at /db on its own MemFileSystem. */
export async function openMem(options: Options = {}): Promise<{ db: DB; fs: MemFileSystem }> {
  const fs = new MemFileSystem();
  return { db: await DB.open('/db', { ...options, fs }), fs };
}

/** A database at /db holding a..e (values v-a..v-e), and that state, so "nothing written" is checkable. */
export async function seeded(options: Options = {}): Promise<{ db: DB; fs: MemFileSystem; before: Map<string, string> }> {
  const { db, fs } = await openMem(options);
  for (const k of ['a', 'b', 'c', 'd', 'e']) await db.put(k, `v-${k}`);
  return { db, fs, before: await readAll(db) };
}

/** Every live entry (hex key -> hex value), optionally at a snapshot. */
export async function readAll(db: DB, snapshot?: Snapshot): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const [k, v] of db.iterator(snapshot ? { snapshot } : {})) out.set(hex(k), hex(v));
  return out;
}

/** File name -> content (hex) of every file in `dir` of a MemFileSystem. */
export async function fileBytes(fs: MemFileSystem, dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await fs.list(dir)) out.set(name, hex(await fs.readFile(`${dir}/${name}`)));
  return out;
}

/** Replaces a MemFileSystem file's content (synced), e.g. after flipping a byte. */
export async function overwrite(fs: MemFileSystem, file: string, data: Uint8Array): Promise<void> {
  const w = await fs.openWritable(file);
  w.append(data);
  await w.sync();
  await w.close();
}

/**
 * One operation of a logged write: a put (value defined), a delete, or with `end` a range delete of
 * [key, end). Keys and values in hex (hex strings compare in byte order).
 */
export interface LoggedOp { key: string; value: string | undefined; end?: string }

export interface LoggedWrite {
  ops: LoggedOp[];
  sync: boolean;
}

/** Writes in commit order, and the model state after any prefix of them. */
export class CommitLog {
  readonly writes: LoggedWrite[] = [];

  /** Appends a committed write (call it when the write's promise resolves). */
  commit(w: LoggedWrite): void {
    this.writes.push(w);
  }

  get length(): number { return this.writes.length; }

  /** One past the index of the last synced write among the first `n`: the prefix a power cut must keep. */
  durablePrefix(n = this.writes.length): number {
    for (let i = Math.min(n, this.writes.length) - 1; i >= 0; i--) if (this.writes[i]!.sync) return i + 1;
    return 0;
  }

  /** The model state after the first `n` writes (hex key -> hex value). */
  stateAfter(n: number): Map<string, string> {
    const m = new Map<string, string>();
    for (let i = 0; i < n; i++) {
      for (const op of this.writes[i]!.ops) {
        if (op.end !== undefined) { for (const k of [...m.keys()]) if (k >= op.key && k < op.end) m.delete(k); }
        else if (op.value === undefined) m.delete(op.key);
        else m.set(op.key, op.value);
      }
    }
    return m;
  }

  /**
   * Every n in [0, writes.length] such that the state after the first n writes equals `state`.
   * One pass: keeps the count of keys on which model and state differ.
   */
  matchingPrefixes(state: ReadonlyMap<string, string>): number[] {
    return matchingPrefixes(this.writes, state);
  }
}

/**
 * Every n in [0, writes.length] such that the state after the first n writes equals `state`.
 * One pass: keeps the count of keys on which model and state differ. An op with `end` is a range
 * delete of [key, end) (keys compared as strings: the workloads' keys are ASCII, so this is byte order).
 */
export function matchingPrefixes(
  writes: readonly { ops: readonly { key: string; value?: string | undefined; end?: string | undefined }[] }[],
  state: ReadonlyMap<string, string>,
): number[] {
  const model = new Map<string, string>();
  let diff = state.size;
  const out: number[] = diff === 0 ? [0] : [];
  const set = (key: string, value: string | undefined): void => {
    const before = model.get(key) === state.get(key);
    if (value === undefined) model.delete(key);
    else model.set(key, value);
    const after = model.get(key) === state.get(key);
    if (before && !after) diff++;
    else if (!before && after) diff--;
  };
  writes.forEach((w, i) => {
    for (const op of w.ops) {
      if (op.end === undefined) set(op.key, op.value);
      else for (const k of [...model.keys()]) if (k >= op.key && k < op.end) set(k, undefined);
    }
    if (diff === 0) out.push(i + 1);
  });
  return out;
}

/** A short description of how `got` differs from `want`, for failure messages. */
export function diffStates(got: ReadonlyMap<string, string>, want: ReadonlyMap<string, string>, max = 5): string {
  const lines: string[] = [];
  for (const [k, v] of want) {
    if (got.get(k) !== v) lines.push(`key ${k}: want ${v.slice(0, 16)}…, got ${got.get(k)?.slice(0, 16) ?? 'nothing'}`);
    if (lines.length >= max) break;
  }
  for (const k of got.keys()) {
    if (lines.length >= max) break;
    if (!want.has(k)) lines.push(`key ${k}: unexpected`);
  }
  return lines.join('; ');
}

/**
 * Wraps a FileSystem and runs an async hook before every file sync (the sync proceeds when the
 * hook resolves): a test can give syncs real latency (a macrotask, as fdatasync on the thread pool
 * has) or park one at a gate while it does something else. Everything else passes straight through.
 */
export class SyncHookFileSystem extends PassThroughFileSystem {
  constructor(inner: FileSystem, private readonly beforeSync: (path: string) => Promise<void> | void) {
    super(inner);
  }
  protected override wrapWritable(p: string, f: WritableFile): WritableFile {
    const hook = this.beforeSync;
    return writableWith(f, { sync: async () => { await hook(p); await f.sync(); } });
  }
}
