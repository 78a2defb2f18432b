/**
 * Covered stretches across several sources of tombstones: an iterator's tombstones come from a few
 * FragmentSets (one per memtable, one per Version's tables), each kept and cached by its owner, so
 * that no iterator pays to merge them. A jump must still cross a deleted stretch whole even when its
 * pieces come from different sets: stretchEnd/stretchStart chain the stretch of each source until no
 * source extends it (each step moves strictly, so the chain ends; usually after one or two steps).
 * A Stretches is one source's answer for one read: a FragmentSet at (readSeq, aboveSeq), or a
 * memtable's own rule (src/memtable/reentered-keys.ts).
 * Contract: every key in a returned stretch is covered by some source's stretch. Safe in a worker.
 * Not here: which versions a stretch may skip (range-del-skipping-iterator.ts).
 */
import { compareBytes } from '../base/bytes.js';
import type { FragmentSet } from './fragment-set.js';

/** One source's covered stretches for one read (see FragmentSet.seekEnd / seekStart / seekStartBefore). */
export interface Stretches {
  /** The exclusive end of the stretch holding `key`, or undefined when `key` is not covered. */
  endFrom(key: Uint8Array): Uint8Array | undefined;
  /** The first key of the stretch holding `key`, or undefined when `key` is not covered. */
  startOf(key: Uint8Array): Uint8Array | undefined;
  /** The first key of the stretch holding the keys just below `key` (its start is < key), or undefined. */
  startBefore(key: Uint8Array): Uint8Array | undefined;
}

/** A FragmentSet's stretches of tombstones visible at readSeq with seq > aboveSeq. */
export function setStretches(set: FragmentSet, readSeq: number, aboveSeq: number): Stretches {
  return {
    endFrom: (key) => set.seekEnd(key, readSeq, aboveSeq),
    startOf: (key) => set.seekStart(key, readSeq, aboveSeq),
    startBefore: (key) => set.seekStartBefore(key, readSeq, aboveSeq),
  };
}

/** The exclusive end of the union's stretch holding `key`; undefined when no source covers `key`. */
export function stretchEnd(sources: readonly Stretches[], key: Uint8Array): Uint8Array | undefined {
  let end: Uint8Array | undefined;
  let at = key;
  for (;;) {
    let best: Uint8Array | undefined;
    for (const s of sources) {
      const e = s.endFrom(at);
      if (e && (!best || compareBytes(e, best) > 0)) best = e;
    }
    if (!best) return end;
    end = best;
    at = best;
  }
}

/** The first key of the union's stretch holding `key`; undefined when no source covers `key`. */
export function stretchStart(sources: readonly Stretches[], key: Uint8Array): Uint8Array | undefined {
  let start: Uint8Array | undefined;
  for (const s of sources) {
    const x = s.startOf(key);
    if (x && (!start || compareBytes(x, start) < 0)) start = x;
  }
  if (!start) return undefined;
  for (;;) {
    let best: Uint8Array | undefined;
    for (const s of sources) {
      const x = s.startBefore(start);
      if (x && (!best || compareBytes(x, best) < 0)) best = x;
    }
    if (!best) return start;
    start = best;
  }
}
