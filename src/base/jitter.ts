/**
 * Seeded jitter for retry back-offs (transaction conflicts, anything that must spread racing
 * retries): a tiny xorshift32 generator, so engine code never reads Math.random() and a test that
 * seeds it replays the same delays. Not for cryptography or key generation.
 * Contract: the same seed gives the same sequence; next() is in [0, 1). Safe in a worker.
 */

export interface Jitter {
  /** A number in [0, 1). */
  next(): number;
}

/** A jitter source seeded by any number (its low 32 bits; 0 is remapped, xorshift needs a non-zero state). */
export function makeJitter(seed: number): Jitter {
  let state = (seed >>> 0) || 0x9e3779b9;
  return {
    next(): number {
      // Marsaglia's xorshift32 (13, 17, 5): period 2^32 - 1, plenty for spreading retries.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      return state / 0x1_0000_0000;
    },
  };
}
