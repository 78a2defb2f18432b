/**
 * The one place tests open the range-delete gate (src/engine/range-delete-gate.ts) while it still
 * exists: every test file that writes range deletes calls openRangeDeletes() at load time, so
 * removing the gate is a change to this file alone.
 */
import { rangeDeleteGate } from '../../src/engine/range-delete-gate.js';

export function openRangeDeletes(): void {
  rangeDeleteGate.writable = true;
}
