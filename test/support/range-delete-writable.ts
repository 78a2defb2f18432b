/**
 * Importing this module opens the range-delete gate (src/engine/range-delete-gate.ts) for the whole
 * process: StrataLevel.clear() writes range tombstones, so the Level adapter's tests and the
 * abstract-level suite's child process need it open. When the gate goes, so does this file.
 */
import { rangeDeleteGate } from '../../src/engine/range-delete-gate.js';

rangeDeleteGate.writable = true;
