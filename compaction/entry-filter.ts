/**
 * Runs a compaction filter (src/compaction-filter.ts: a user module's export, or the built-in ttl) on
 * one entry and checks what it answers. The compaction iterator decides which entries reach it (only
 * the newest version of a key that no live snapshot can see, Put entries only) and what 'remove' turns
 * into; this file only loads and calls.
 * Errors fail the compaction, never the data: a module that cannot be imported, an export that is not a
 * function, a throw or an answer other than 'keep' | 'remove' | { value: Uint8Array } become an
 * InvalidArgumentError (ERR_INVALID_ARGUMENT, the filter is the caller's code) naming the filter and the
 * key; the runner then removes its outputs, and the scheduler's retry policy applies.
 * Safe in a worker: a module is imported by the thread that runs the compaction (the worker, or the
 * main thread for the inline executor), once per thread (the import cache).
 */
import { Buffer } from 'node:buffer';
import { printableKey } from '../src/base/bytes.js';
import { InvalidArgumentError } from '../src/errors.js';
import { describeCompactionFilter, type CompactionFilterSpec, type TtlFilterSpec } from '../src/compaction-filter.js';

/** 'keep', 'remove', or the new value. */
export type EntryDecision = 'keep' | 'remove' | Uint8Array;

/**
 * Decides for one entry. `writeTimeMs`: an upper bound on the entry's write time (write-time.ts), or
 * undefined when none is known. userKey and value are views, valid during the call only.
 */
export type EntryFilter = (userKey: Uint8Array, value: Uint8Array, writeTimeMs: number | undefined) => EntryDecision;

type UserFunction = (key: Buffer, value: Buffer, level: number) => unknown;

function view(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function showAnswer(d: unknown): string {
  if (typeof d === 'string') return JSON.stringify(d);
  if (d === null || typeof d !== 'object') return String(d);
  try { return JSON.stringify(d)?.slice(0, 80) ?? String(d); } catch { return Object.prototype.toString.call(d); }
}

async function loadModuleFunction(spec: Extract<CompactionFilterSpec, { kind: 'module' }>): Promise<UserFunction> {
  const name = describeCompactionFilter(spec);
  let mod: Record<string, unknown>;
  try {
    mod = await import(spec.url) as Record<string, unknown>;
  } catch (e) {
    throw new InvalidArgumentError(`compaction filter ${name}: the module could not be loaded: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  const f = mod[spec.exportName];
  if (typeof f !== 'function') {
    throw new InvalidArgumentError(`compaction filter ${name}: export ${spec.exportName} is ${f === undefined ? 'missing' : `a ${typeof f}`}, not a function`);
  }
  return f as UserFunction;
}

/** The filter for one compaction writing to `level` at time `nowMs` (the engine's clock when the job started). */
export async function loadEntryFilter(spec: CompactionFilterSpec, level: number, nowMs: number): Promise<EntryFilter> {
  if (spec.kind === 'ttl') return ttlFilter(spec, nowMs);
  const f = await loadModuleFunction(spec);
  const name = describeCompactionFilter(spec);
  return (userKey, value) => {
    let d: unknown;
    try {
      d = f(view(userKey), view(value), level);
    } catch (e) {
      throw new InvalidArgumentError(`compaction filter ${name} threw on key '${printableKey(userKey)}': ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    if (d === 'keep' || d === 'remove') return d;
    if (typeof d === 'object' && d !== null && (d as { value?: unknown }).value instanceof Uint8Array) return (d as { value: Uint8Array }).value;
    throw new InvalidArgumentError(`compaction filter ${name} returned ${showAnswer(d)} for key '${printableKey(userKey)}' ` +
      "(expected 'keep', 'remove' or { value: Uint8Array }; a Promise is not allowed)");
  };
}

/** Removes an entry written at or before nowMs - ms; a value too short to hold its time is kept. */
function ttlFilter(spec: TtlFilterSpec, nowMs: number): EntryFilter {
  const expiredBefore = nowMs - spec.ms;
  const from = spec.fromValue;
  if (!from) return (_k, _v, writeTimeMs) => (writeTimeMs !== undefined && writeTimeMs < expiredBefore ? 'remove' : 'keep');
  const size = from.type === 'u64be-ms' ? 8 : 4;
  return (_k, value) => {
    if (value.length < from.offset + size) return 'keep';
    const dv = new DataView(value.buffer, value.byteOffset + from.offset, size);
    const t = from.type === 'u64be-ms' ? Number(dv.getBigUint64(0)) : dv.getUint32(0) * 1000;
    return t < expiredBefore ? 'remove' : 'keep';
  };
}
