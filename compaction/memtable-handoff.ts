/**
 * Hands a frozen memtable to a flush worker: copies the typed arrays of MemTable.share() (arena slabs
 * and big records, entry pages, sorted runs) into SharedArrayBuffers from the executor's pool
 * (shared-buffer-pool.ts), so that posting the result shares memory instead of cloning it, while the
 * memtable itself stays in ordinary memory that V8 frees as it should.
 * Layout: arrays of up to BLOCK_BYTES are packed one after another (8-byte aligned) into blocks of
 * BLOCK_BYTES; a bigger one gets a buffer of its own size class. All buffers are taken from the pool
 * before any byte is copied: past the pool's cap this throws FlushPoolFullError having taken nothing.
 * The copy runs in slices of at most ~SLICE_MS, yielding to the event loop between them (memcpy runs
 * at several GB/s, so a slice is a few MiB: a 64 MiB memtable costs the event loop a few dozen
 * short turns, never one long one).
 * Contract: `shared` comes from a frozen memtable (nothing is added while the copy runs; reads may
 * go on: they never write to the arrays share() returned). The caller owns the returned buffers and
 * gives them back to the pool once nothing reads them (executor.ts). Main thread only.
 */
import type { SharedMemTable } from '../src/memtable/memtable.js';
import type { Run } from '../src/memtable/sorted-runs.js';
import { BLOCK_BYTES, sizeClass, type SharedBufferPool } from './shared-buffer-pool.js';

/** Longest the event loop waits on one slice of the copy. */
export const SLICE_MS = 0.5;
/** Bytes copied between two looks at the clock. */
export const PIECE_BYTES = 256 * 1024;

type Typed = Uint8Array | Int32Array | Uint32Array;

/** A memtable's arrays in pooled shared memory, and the buffers to give back when the job is done. */
export interface PooledMemTable {
  mem: SharedMemTable;
  buffers: SharedArrayBuffer[];
}

export interface HandoffEnv {
  pool: SharedBufferPool;
  /** Lets the event loop run between slices (default: setImmediate). */
  yieldNow?: () => Promise<void>;
  /** The clock slices are timed by, in ms (default: performance.now). */
  now?: () => number;
}

const viaImmediate = (): Promise<void> => new Promise((r) => setImmediate(r));

interface Placement { buffer: number; offset: number }

/** Where each array goes: packed into blocks, or alone in a buffer of its class. */
function place(arrays: readonly Typed[]): { classes: number[]; at: Placement[] } {
  const classes: number[] = [];
  const at: Placement[] = [];
  let block = -1;
  let used = BLOCK_BYTES;
  for (const a of arrays) {
    const n = a.byteLength;
    if (n > BLOCK_BYTES) {
      classes.push(sizeClass(n));
      at.push({ buffer: classes.length - 1, offset: 0 });
      continue;
    }
    const start = (used + 7) & ~7;
    if (start + n > BLOCK_BYTES) {
      classes.push(BLOCK_BYTES);
      block = classes.length - 1;
      used = 0;
    } else {
      used = start;
    }
    at.push({ buffer: block, offset: used });
    used += n;
  }
  return { classes, at };
}

function viewOf<T extends Typed>(a: T, buffer: SharedArrayBuffer, offset: number): T {
  const Ctor = a.constructor as new (b: SharedArrayBuffer, o: number, n: number) => T;
  return new Ctor(buffer, offset, a.length);
}

/** Every typed array of `s` that is worth sharing (the small pending tail and prefix are cloned). */
function arraysOf(s: SharedMemTable): Typed[] {
  const out: Typed[] = [...s.arena.slabs, ...s.arena.bigs, ...s.table.pages];
  for (const r of s.runSet.runs) out.push(r.ids, r.pfx, r.fence);
  return out;
}

/**
 * Copies `s`'s arrays into pooled shared memory (see header). Rejects with FlushPoolFullError, having
 * taken nothing, when the pool cannot hold them.
 */
export async function copyToPool(s: SharedMemTable, env: HandoffEnv): Promise<PooledMemTable> {
  const arrays = arraysOf(s);
  const { classes, at } = place(arrays);
  const buffers = env.pool.acquire(classes);
  const yieldNow = env.yieldNow ?? viaImmediate;
  const now = env.now ?? ((): number => performance.now());
  try {
    const views = arrays.map((a, i) => viewOf(a, buffers[at[i]!.buffer]!, at[i]!.offset));
    let sliceStart = now();
    for (let i = 0; i < arrays.length; i++) {
      const src = arrays[i]!;
      const dst = views[i]!;
      const step = Math.max(1, Math.floor(PIECE_BYTES / src.BYTES_PER_ELEMENT));
      for (let k = 0; k < src.length; k += step) {
        dst.set(src.subarray(k, Math.min(src.length, k + step)), k);
        if (now() - sliceStart >= SLICE_MS) {
          await yieldNow();
          sliceStart = now();
        }
      }
    }
    let v = 0;
    const next = <T extends Typed>(): T => views[v++] as T;
    const slabs = s.arena.slabs.map(() => next<Uint8Array>());
    const bigs = s.arena.bigs.map(() => next<Uint8Array>());
    const pages = s.table.pages.map(() => next<Int32Array>());
    const runs: Run[] = s.runSet.runs.map(() => ({ ids: next<Int32Array>(), pfx: next<Uint32Array>(), fence: next<Uint32Array>() }));
    return {
      mem: {
        ...s,
        arena: { ...s.arena, slabs, bigs },
        table: { ...s.table, pages },
        runSet: { ...s.runSet, runs },
      },
      buffers,
    };
  } catch (e) {
    env.pool.release(buffers);
    throw e;
  }
}
