/**
 * Argument checks for the public API, one rule each, used by the facade (db.ts), transactions, write
 * batches, iterators and the open options (options.ts, the encryption options of DB.open, BackupEngine
 * and inspect): keys, option objects with their known names, booleans, iterator limits. A caller mistake
 * is an InvalidArgumentError naming the argument and what was expected, thrown before anything
 * changes. Unknown option names are refused on every call, as at open: `{ synch: true }` would
 * otherwise write without syncing. The Level adapter keeps abstract-level's own rules instead.
 */
import { toBytes } from './bytes.js';
import { InvalidArgumentError } from '../errors.js';

/** A key or value argument: a Uint8Array (used as is) or a string (UTF-8). */
export function keyArg(name: string, v: unknown): Uint8Array {
  if (typeof v === 'string') return toBytes(v);
  if (v instanceof Uint8Array) return v;
  throw new InvalidArgumentError(`${name} must be a Uint8Array or a string (got ${describe(v)})`);
}

/**
 * An options argument: undefined, or a plain object whose every name is in `known` (names whose
 * value is undefined are allowed, as with spread defaults). Returns the object, typed.
 */
export function optionsArg<T extends object>(what: string, o: unknown, known: readonly string[]): T | undefined {
  if (o === undefined) return undefined;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) {
    throw new InvalidArgumentError(`${what} must be an object (got ${describe(o)})`);
  }
  for (const name of Object.keys(o)) {
    if ((o as Record<string, unknown>)[name] === undefined || known.includes(name)) continue;
    throw new InvalidArgumentError(unknownOption(what, name, known));
  }
  return o as T;
}

/** The message for an unknown option name, with the closest known name when one is near. */
export function unknownOption(what: string, name: string, known: Iterable<string>): string {
  const list = [...known];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of list) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) { bestDistance = d; best = k; }
  }
  const near = name.length <= 3 ? 1 : Math.max(2, Math.floor(name.length / 3));
  const hint = best !== undefined && bestDistance <= near ? ` (did you mean ${best}?)` : '';
  return `${what}: unknown option ${JSON.stringify(name)}${hint}; known options: ${list.length ? list.join(', ') : 'none'}`;
}

/** An optional iterator `limit`: a number, -1 or Infinity for none (undefined stays undefined). */
export function limitArg(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new InvalidArgumentError(`${name} must be a number (-1 or Infinity for no limit)`);
  return v;
}

/** An optional boolean argument (undefined stays undefined). */
export function booleanArg(name: string, v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(`${name} must be a boolean (got ${describe(v)})`);
  return v;
}

const ENCRYPTION_OPTIONS = ['keyProvider', 'allowPlaintext'];

/**
 * The `encryption: { keyProvider, allowPlaintext }` option of DB.open, BackupEngine.open and inspect:
 * undefined, or an object with only those names whose provider has currentKeyId() and getKey(id).
 * `allowPlaintextDefault` is the caller's (the inspection tools read plaintext files by default).
 * `P` is the key provider type (src/encryption/); the check here is structural.
 */
export function encryptionArg<P>(e: unknown, allowPlaintextDefault: boolean): { keyProvider: P; allowPlaintext: boolean } | undefined {
  if (e === undefined) return undefined;
  if (e === null || typeof e !== 'object' || Array.isArray(e)) {
    throw new InvalidArgumentError(`option encryption must be { keyProvider } (got ${describe(e)})`);
  }
  optionsArg('option encryption', e, ENCRYPTION_OPTIONS);
  const { keyProvider: p, allowPlaintext } = e as { keyProvider?: unknown; allowPlaintext?: unknown };
  if (p === null || typeof p !== 'object' || typeof (p as { currentKeyId?: unknown }).currentKeyId !== 'function' ||
    typeof (p as { getKey?: unknown }).getKey !== 'function') {
    throw new InvalidArgumentError('option encryption.keyProvider must have currentKeyId() and getKey(id) methods');
  }
  return { keyProvider: p as P, allowPlaintext: booleanArg('option encryption.allowPlaintext', allowPlaintext) ?? allowPlaintextDefault };
}

/** A wrong argument as an error message shows it: its kind, and the value or class where that helps. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  // The class tells an ArrayBuffer or a Uint16Array (a near miss for bytes) from a plain object.
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'no prototype'})`;
  return typeof v;
}

/** Levenshtein distance; option names are short, so the quadratic table is fine. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
