/**
 * The `stratadb lsm` history's steps replayed the way its page does (gap, deletes, moves, adds), for
 * the tests that check the steps add up to a shape: fileNumber -> level.
 */
import type { LsmHistory } from '../../tools/lsm/lsm-history.js';

export function replaySteps(h: LsmHistory): Map<number, number> {
  const state = new Map<number, number>();
  for (const s of h.steps) {
    for (const [, f] of s.gap?.deleted ?? []) state.delete(f);
    for (const [l, f] of s.gap?.added ?? []) state.set(f, l);
    for (const [, f] of s.deleted) state.delete(f);
    for (const [f, , to] of s.moved) state.set(f, to);
    for (const [l, f] of s.added) state.set(f, l);
  }
  return state;
}
