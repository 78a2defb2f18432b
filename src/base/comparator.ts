/**
 * Comparator: the total order of keys in a table or memtable. Tables store the comparator's name
 * in their properties and a reader refuses a table written with another order.
 */
import { compareBytes } from './bytes.js';

export interface Comparator {
  /** Stable name, stored on disk. */
  readonly name: string;
  /** <0, 0, >0 like compareBytes. */
  compare(a: Uint8Array, b: Uint8Array): number;
}

export const bytewiseComparator: Comparator = {
  name: 'strata.BytewiseComparator',
  compare: compareBytes,
};
