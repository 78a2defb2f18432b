/**
 * invariant(): a broken internal assumption is a bug, reported as ERR_INTERNAL.
 * Costly checks are guarded by `invariantsEnabled`, true only when STRATA_INVARIANTS=1 is set
 * (read once here, the one place that looks at process.env for it).
 */
import { InternalError } from '../errors.js';

export const invariantsEnabled: boolean =
  typeof process !== 'undefined' && process.env['STRATA_INVARIANTS'] === '1';

export function invariant(cond: unknown, message: string): asserts cond {
  if (!cond) throw new InternalError(`invariant failed: ${message}`);
}
