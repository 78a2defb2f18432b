/**
 * The sorted in-memory model the engine is checked against (LevelDB's ModelDB): a Map from key
 * (hex) to value, snapshot copies, and range scans ordered with compareBytes.
 * deleteRange(start, end) removes every key in [start, end) present now, and nothing else: a clone
 * taken before it (a snapshot) keeps them, and a put after it is visible. Operations of one batch
 * apply in their order, as the engine gives them increasing sequence numbers.
 */
import { Buffer } from 'node:buffer';
import { compareBytes } from '../../src/base/bytes.js';

export interface ScanOptions {
  gt?: Uint8Array; gte?: Uint8Array; lt?: Uint8Array; lte?: Uint8Array;
  reverse?: boolean; limit?: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class Model {
  private readonly map = new Map<string, { key: Uint8Array; value: Uint8Array }>();

  put(key: Uint8Array, value: Uint8Array): void {
    this.map.set(hex(key), { key: key.slice(), value: value.slice() });
  }
  delete(key: Uint8Array): void {
    this.map.delete(hex(key));
  }
  /** Half-open [start, end), as DB.deleteRange; start >= end deletes nothing. */
  deleteRange(start: Uint8Array, end: Uint8Array): void {
    for (const [h, { key }] of this.map) {
      if (compareBytes(key, start) >= 0 && compareBytes(key, end) < 0) this.map.delete(h);
    }
  }
  get(key: Uint8Array): Uint8Array | undefined {
    return this.map.get(hex(key))?.value;
  }
  get size(): number { return this.map.size; }

  clone(): Model {
    const m = new Model();
    for (const [k, v] of this.map) m.map.set(k, v);
    return m;
  }

  scan(o: ScanOptions = {}): [Uint8Array, Uint8Array][] {
    let entries = [...this.map.values()].sort((a, b) => compareBytes(a.key, b.key));
    entries = entries.filter(({ key }) =>
      (o.gt === undefined || compareBytes(key, o.gt) > 0) &&
      (o.gte === undefined || compareBytes(key, o.gte) >= 0) &&
      (o.lt === undefined || compareBytes(key, o.lt) < 0) &&
      (o.lte === undefined || compareBytes(key, o.lte) <= 0));
    if (o.reverse) entries.reverse();
    const limit = o.limit === undefined || o.limit < 0 || o.limit === Infinity ? entries.length : o.limit;
    return entries.slice(0, limit).map((e) => [e.key, e.value]);
  }
}
