import { describe, expect, it } from 'vitest';
import { compareBytes } from '../../src/base/bytes.js';
import { compareInternalKeys, KIND_FOR_SEEK, makeInternalKey, userKeyOf } from '../../src/base/internal-key.js';
import { StrataError } from '../../src/errors.js';
import type { FileMetadata } from '../../src/manifest/file-metadata.js';
import { levelsProblem, Version } from '../../src/manifest/version.js';
import { type Rng, withSeed } from '../support/rng.js';
import { meta } from './fixtures.js';

const enc = new TextEncoder();
const key = (i: number): string => `k${String(i).padStart(4, '0')}`;

/** Random levels: L0 overlapping files newest first, L1..L3 disjoint ranges of a 0..999 key space. */
function randomLevels(rng: Rng): FileMetadata[][] {
  let n = 1;
  const levels: FileMetadata[][] = [[], [], [], []];
  for (let i = 0; i < rng.int(6); i++) {
    const a = rng.int(1000);
    const b = a + rng.int(200);
    levels[0]!.push(meta(n++, key(a), key(Math.min(999, b)), 100 - i * 10, 105 - i * 10));
  }
  for (let level = 1; level < 4; level++) {
    const cuts = new Set<number>();
    const count = rng.int(12);
    while (cuts.size < count * 2) cuts.add(rng.int(1000));
    const sorted = [...cuts].sort((x, y) => x - y);
    for (let i = 0; i + 1 < sorted.length; i += 2) levels[level]!.push(meta(n++, key(sorted[i]!), key(sorted[i + 1]!), 1, 5));
  }
  return levels;
}

const userRange = (f: FileMetadata): [Uint8Array, Uint8Array] => [userKeyOf(f.smallest), userKeyOf(f.largest)];

describe('Version lookups', () => {
  it('overlappingFiles, fileForGet, findFileInLevel and filesForGet agree with brute force', async () => {
    await withSeed('version lookups', (rng) => {
      for (let round = 0; round < 60; round++) {
        const levels = randomLevels(rng);
        expect(levelsProblem(levels)).toBeUndefined();
        const v = new Version(levels);
        for (let q = 0; q < 40; q++) {
          const a = rng.int(1100);
          const b = a + rng.int(300);
          const lo = rng.int(10) === 0 ? undefined : enc.encode(key(a));
          const hi = rng.int(10) === 0 ? undefined : enc.encode(key(b));
          const probe = enc.encode(key(rng.int(1100)));
          for (let level = 0; level < 4; level++) {
            const files = levels[level]!;
            const expected = files.filter((f) => {
              const [s, l] = userRange(f);
              return (lo === undefined || compareBytes(l, lo) >= 0) && (hi === undefined || compareBytes(s, hi) <= 0);
            });
            expect(v.overlappingFiles(level, lo, hi)).toEqual(expected);
            if (level === 0) continue;
            const holder = files.find((f) => compareBytes(userRange(f)[0], probe) <= 0 && compareBytes(userRange(f)[1], probe) >= 0);
            expect(v.fileForGet(level, probe)).toBe(holder);
            const ikey = makeInternalKey(probe, rng.int(200), KIND_FOR_SEEK);
            const idx = files.findIndex((f) => compareInternalKeys(f.largest, ikey) >= 0);
            expect(v.findFileInLevel(level, ikey)).toBe(idx < 0 ? files.length : idx);
          }
          const forGet = v.filesForGet(probe).map((f) => f.fileNumber);
          const brute: number[] = [];
          levels.forEach((files) => {
            for (const f of files) {
              const [s, l] = userRange(f);
              if (compareBytes(s, probe) <= 0 && compareBytes(l, probe) >= 0) brute.push(f.fileNumber);
            }
          });
          expect(forGet).toEqual(brute);
        }
      }
    });
  });

  it('counts files and bytes, and finds the level of a file', () => {
    const v = new Version([[meta(3, 'a', 'z', 5, 9, 100), meta(2, 'b', 'c', 1, 4, 50)], [meta(1, 'a', 'b', 1, 1, 7)], []]);
    expect([v.numFiles(0), v.numFiles(1), v.numFiles(2), v.numFiles(9)]).toEqual([2, 1, 0, 0]);
    expect([v.levelBytes(0), v.levelBytes(1), v.totalFiles()]).toEqual([150, 7, 3]);
    expect([v.levelOf(1), v.levelOf(3), v.levelOf(4)]).toEqual([1, 0, undefined]);
    expect(v.describe()).toContain('L0: 2 files, 150 bytes');
  });

  it('levelsProblem finds overlap at L1+, L0 order and duplicates', () => {
    expect(levelsProblem([[], [meta(1, 'a', 'c'), meta(2, 'c', 'd')]])).toMatch(/overlap/);
    expect(levelsProblem([[meta(1, 'a', 'c', 1, 2), meta(2, 'a', 'c', 3, 4)]])).toMatch(/newest first/);
    expect(levelsProblem([[meta(1, 'a', 'c')], [meta(1, 'x', 'y')]])).toMatch(/twice/);
  });
});

describe('Version reference counting', () => {
  it('runs the release hook once, when the last reference goes', () => {
    const released: Version[] = [];
    const v = Version.empty(3, (x) => released.push(x));
    v.ref();
    v.ref();
    v.unref();
    expect(released).toEqual([]);
    v.unref();
    expect(released).toEqual([v]);
    expect(v.isReleased).toBe(true);
    expect(() => v.ref()).toThrow(StrataError);
    expect(() => v.unref()).toThrow(/no references/);
  });
});
