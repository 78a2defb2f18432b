/**
 * How the command line reads and shows bytes: key arguments as UTF-8 text or hex (--hex), keys and
 * values in output as text or hex, sizes, aligned text tables and option parsers for commander.
 * Contract: parse* functions throw commander's InvalidArgumentError (commander turns it into
 * "error: option ... is invalid", exit 2) or our InvalidArgumentError when called from an action.
 * Pure functions; no I/O. Not here: writing to stdout (tools/output.ts).
 */
import { Buffer } from 'node:buffer';
import { InvalidArgumentError as CommanderArgumentError } from 'commander';
import { InvalidArgumentError, inspect } from '../src/index.js';

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** A key or value argument: UTF-8 text, or hex digits (an optional 0x prefix) with --hex. */
export function parseBytesArg(name: string, text: string, isHex: boolean): Uint8Array {
  if (!isHex) return Buffer.from(text, 'utf8');
  const digits = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (!HEX_RE.test(digits)) {
    throw new InvalidArgumentError(`${name} '${text}' is not hex (pairs of digits 0-9a-f, --hex was given)`);
  }
  return Buffer.from(digits, 'hex');
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Bytes as the DB commands print them: UTF-8 text, or hex with --hex. */
export function showBytes(b: Uint8Array, isHex: boolean): string {
  return isHex ? toHex(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

/** Printable ASCII as itself, anything else as 0x-hex; `max` characters, then a length note. */
export function printable(b: Uint8Array, max = Infinity): string {
  return inspect.printableKey(b, max);
}

/** Bytes for people: `512 B`, `1.5 KiB`, `3.2 MiB` (tables also show exact counts where they matter). */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** stored/raw as a compression ratio (raw / stored), `-` when nothing was stored. */
export function ratio(raw: number, stored: number): string {
  return stored > 0 ? (raw / stored).toFixed(2) : '-';
}

/**
 * Rows as aligned columns (the first row is the header). Columns listed in `right` are
 * right-aligned (numbers); the last column is never padded so lines carry no trailing blanks.
 */
export function table(rows: string[][], right: ReadonlySet<number> = new Set()): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return rows.map((r) => r.map((c, i) => {
    const w = widths[i] ?? 0;
    if (right.has(i)) return c.padStart(w);
    return i === r.length - 1 ? c : c.padEnd(w);
  }).join('  ').trimEnd());
}

/** `2023-11-14T22:13:20.000Z`, or `-` for 0 (not recorded). */
export function isoTime(ms: number): string {
  return ms > 0 && Number.isFinite(ms) ? new Date(ms).toISOString() : '-';
}

/** commander option parser: an integer >= min. */
export function intOption(min: number): (value: string) => number {
  return (value: string) => {
    if (!/^-?\d+$/.test(value)) throw new CommanderArgumentError(`expected an integer, got '${value}'`);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new CommanderArgumentError(`expected an integer >= ${min}, got '${value}'`);
    return n;
  };
}
