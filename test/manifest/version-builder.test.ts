import { describe, expect, it } from 'vitest';
import { CorruptionError, InternalError } from '../../src/errors.js';
import type { FileMetadata } from '../../src/manifest/file-metadata.js';
import type { VersionEdit } from '../../src/manifest/version-edit.js';
import { VersionBuilder } from '../../src/manifest/version-builder.js';
import { levelsProblem, Version } from '../../src/manifest/version.js';
import { withSeed } from '../support/rng.js';
import { meta } from './fixtures.js';

const key = (i: number): string => `k${String(i).padStart(4, '0')}`;
const summary = (v: Version): string =>
  v.levels.map((files, l) => `L${l}:${files.map((f) => f.fileNumber).join(',')}`).join(' ');

describe('VersionBuilder', () => {
  it('applies deletions before additions, sorts levels, and shares untouched levels', () => {
    const base = new Version([[meta(1, 'a', 'c', 1, 2)], [meta(2, 'a', 'b'), meta(3, 'm', 'n')], [meta(4, 'a', 'z')]]);
    const b = new VersionBuilder(base);
    b.apply({
      deletedFiles: [{ level: 0, fileNumber: 1 }, { level: 1, fileNumber: 2 }],
      newFiles: [{ level: 1, file: meta(1, 'a', 'c', 1, 2) }, { level: 0, file: meta(5, 'x', 'y', 3, 3) }, { level: 1, file: meta(6, 'd', 'e') }],
    });
    b.apply({ newFiles: [{ level: 0, file: meta(7, 'a', 'b', 4, 9) }] });
    const v = b.finish();
    expect(summary(v)).toBe('L0:7,5 L1:1,6,3 L2:4');
    expect(v.levels[2]).toBe(base.levels[2]);
    expect(base.numFiles(1)).toBe(2);
    expect(summary(base)).toBe('L0:1 L1:2,3 L2:4');
  });

  it('deletes a file added by an earlier edit of the same builder, and re-adds a deleted one', () => {
    const base = new Version([[], [meta(1, 'a', 'b')]]);
    const b = new VersionBuilder(base);
    b.apply({ newFiles: [{ level: 0, file: meta(2, 'a', 'z', 5, 5) }] });
    b.apply({ deletedFiles: [{ level: 0, fileNumber: 2 }, { level: 1, fileNumber: 1 }] });
    b.apply({ newFiles: [{ level: 1, file: meta(1, 'a', 'b') }] });
    expect(summary(b.finish())).toBe('L0: L1:1');
  });

  it('rejects impossible edits with InternalError by default and with the caller\'s error when given', () => {
    const base = new Version([[meta(1, 'a', 'c', 1, 2)], [meta(2, 'a', 'b')], []]);
    const bad: [VersionEdit, RegExp][] = [
      [{ deletedFiles: [{ level: 1, fileNumber: 9 }] }, /no such file is live/],
      [{ deletedFiles: [{ level: 0, fileNumber: 2 }] }, /it is at L1/],
      [{ deletedFiles: [{ level: 0, fileNumber: 1 }, { level: 0, fileNumber: 1 }] }, /no such file is live/],
      [{ newFiles: [{ level: 2, file: meta(2, 'x', 'y') }] }, /already live at L1/],
      [{ newFiles: [{ level: 3, file: meta(7, 'x', 'y') }] }, /there are 3 levels/],
    ];
    for (const [edit, re] of bad) {
      expect(() => new VersionBuilder(base).apply(edit)).toThrow(InternalError);
      expect(() => new VersionBuilder(base).apply(edit)).toThrow(re);
      const corrupt = (d: string): never => { throw new CorruptionError('MANIFEST-000003', 40, d); };
      expect(() => new VersionBuilder(base, corrupt).apply(edit)).toThrow(CorruptionError);
    }
    const overlap = new VersionBuilder(base);
    overlap.apply({ newFiles: [{ level: 1, file: meta(8, 'b', 'd') }] });
    expect(() => overlap.finish()).toThrow(/L1 files 000002 and 000008 overlap/);
    // Adjacent files may not share a user key either (one file per user key per level).
    const share = new VersionBuilder(base);
    share.apply({ newFiles: [{ level: 1, file: meta(8, 'b', 'c', 7, 7) }] });
    expect(() => share.finish()).toThrow(InternalError);
  });

  it('matches a model over random edit sequences, one builder or one per edit', async () => {
    await withSeed('builder model', (rng) => {
      for (let round = 0; round < 30; round++) {
        const model = new Map<number, { level: number; file: FileMetadata }>();
        let next = 1;
        let seq = 1;
        const edits: VersionEdit[] = [];
        let stepwise = Version.empty(4);
        for (let e = 0; e < 40; e++) {
          const edit: VersionEdit = { deletedFiles: [], newFiles: [] };
          // Delete a few live files.
          for (const [n, { level }] of model) {
            if (rng.int(5) === 0) { edit.deletedFiles!.push({ level, fileNumber: n }); model.delete(n); }
          }
          // Add L0 files, and L1+ files in gaps that do not overlap anything live at that level.
          for (let k = rng.int(3); k > 0; k--) {
            const level = rng.int(4);
            const a = rng.int(500);
            const f = meta(next++, key(a), key(a + rng.int(20)), seq, seq + 1);
            seq += 2;
            const clash = level > 0 && [...model.values()].some((m) => m.level === level &&
              !(Buffer.compare(m.file.largest.subarray(0, 5), f.smallest.subarray(0, 5)) < 0 ||
                Buffer.compare(f.largest.subarray(0, 5), m.file.smallest.subarray(0, 5)) < 0));
            if (clash) continue;
            edit.newFiles!.push({ level, file: f });
            model.set(f.fileNumber, { level, file: f });
          }
          edits.push(edit);
          const one = new VersionBuilder(stepwise);
          one.apply(edit);
          stepwise = one.finish();
          expect(levelsProblem(stepwise.levels)).toBeUndefined();
        }
        const all = new VersionBuilder(Version.empty(4));
        for (const edit of edits) all.apply(edit);
        const batch = all.finish();
        expect(summary(batch)).toBe(summary(stepwise));
        const expected = [0, 1, 2, 3].map((l) => [...model.entries()].filter(([, m]) => m.level === l).map(([n]) => n).sort((x, y) => x - y));
        expect(batch.levels.map((fs) => fs.map((f) => f.fileNumber).sort((x, y) => x - y))).toEqual(expected);
      }
    });
  });
});
