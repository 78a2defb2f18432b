import { describe, expect, it } from 'vitest';
import { CorruptionError } from '../../src/errors.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { isInterruptedAppend, replayManifest } from '../../src/manifest/manifest-replay.js';
import { encodeVersionEdit, type VersionEdit } from '../../src/manifest/version-edit.js';
import { BLOCK_SIZE } from '../../src/record/format.js';
import { RecordWriter } from '../../src/record/record-writer.js';
import { withSeed } from '../support/rng.js';
import { meta } from './fixtures.js';

const HEADER: VersionEdit = {
  formatVersion: 1, comparatorName: 'strata.BytewiseComparator', logNumber: 1, nextFileNumber: 1000, lastSequence: 9,
};

async function manifestBytes(edits: VersionEdit[]): Promise<{ data: Uint8Array; ends: number[] }> {
  const fs = new MemFileSystem();
  const w = new RecordWriter(await fs.openWritable('/M'));
  const ends: number[] = [];
  for (const e of edits) { w.addRecord(encodeVersionEdit(e)); ends.push(w.size); }
  return { data: await fs.readFile('/M'), ends };
}

describe('replayManifest', () => {
  it('replays a MANIFEST whose records span blocks, and tolerates a cut anywhere in the last one', async () => {
    // 1200 files in one snapshot record: over 32 KiB, so FIRST/LAST fragments and a block boundary.
    const snapshot: VersionEdit = { ...HEADER, newFiles: Array.from({ length: 1200 }, (_, i) => ({ level: 0, file: meta(i + 1, 'a', 'b', i, i) })) };
    // The last record spans blocks too: 1200 disjoint L1 files.
    const moveUp: VersionEdit = {
      newFiles: Array.from({ length: 1200 }, (_, i) => ({ level: 1, file: meta(5000 + i, `k${10000 + i}`, `k${10000 + i}`) })),
    };
    const { data, ends } = await manifestBytes([snapshot, { lastSequence: 700 }, moveUp]);
    expect(data.length).toBeGreaterThan(BLOCK_SIZE);
    const full = replayManifest(data, '/M');
    expect(full.records).toBe(3);
    expect(full.levels[0]!.length).toBe(1200);
    expect(full.levels[1]!.length).toBe(1200);
    expect(data.length - ends[1]!).toBeGreaterThan(BLOCK_SIZE);
    expect(full.lastSequence).toBe(700);
    // Cuts around every block boundary inside the last record, and a spread in between.
    const cuts = new Set<number>();
    for (let b = Math.ceil(ends[1]! / BLOCK_SIZE) * BLOCK_SIZE; b < data.length; b += BLOCK_SIZE) {
      for (let d = -9; d <= 9; d++) cuts.add(b + d);
    }
    for (let cut = ends[1]! + 1; cut < data.length; cut += 997) cuts.add(cut);
    for (const cut of [...cuts].filter((c) => c > ends[1]! && c < data.length)) {
      const r = replayManifest(data.subarray(0, cut), '/M');
      expect(r.records, `cut ${cut}`).toBe(2);
      expect(r.tornTail?.offset).toBe(ends[1]);
      expect(r.lastSequence).toBe(700);
    }
    // The first record cut inside its second block: nothing complete at all.
    expect(() => replayManifest(data.subarray(0, BLOCK_SIZE + 100), '/M')).toThrow(/no complete record/);
  });

  it('isInterruptedAppend tells truncations and zero tails from bit rot', async () => {
    await withSeed('interrupted append', async (rng) => {
      const big: VersionEdit = { ...HEADER, newFiles: Array.from({ length: 1200 }, (_, i) => ({ level: 0, file: meta(i + 1, 'a', 'b', i, i) })) };
      const { data } = await manifestBytes([big]);
      for (let i = 0; i < 50; i++) {
        const cut = rng.int(data.length);
        expect(isInterruptedAppend(data.subarray(0, cut), 0), `cut ${cut}`).toBe(true);
        const rot = data.slice();
        const at = rng.int(data.length);
        rot[at]! ^= 1 << rng.int(8);
        // A flipped length byte can make the record look longer than the file: that reads as a cut.
        const isLength = [4, 5, BLOCK_SIZE + 4, BLOCK_SIZE + 5].includes(at);
        if (!isLength) expect(isInterruptedAppend(rot, 0), `flip at ${at}`).toBe(false);
      }
      expect(data.length).toBeGreaterThan(BLOCK_SIZE);
      // The FIRST fragment is whole and the second block never reached the disk: torn.
      const zeroTail = data.slice();
      zeroTail.fill(0, BLOCK_SIZE);
      expect(isInterruptedAppend(zeroTail, 0)).toBe(true);
      // Zeros from inside a fragment's payload break its checksum: not what a torn append leaves.
      const zeroMid = data.slice();
      zeroMid.fill(0, 1000);
      expect(isInterruptedAppend(zeroMid, 0)).toBe(false);
      const zeroRecord = new Uint8Array(100);
      expect(isInterruptedAppend(zeroRecord, 0)).toBe(true);
    });
  });

  it('reports instead of throwing in report mode, with the state before the problem', async () => {
    const { data, ends } = await manifestBytes([HEADER, { logNumber: 5 }, { lastSequence: 20 }]);
    const bad = data.slice();
    bad[ends[0]! + 8]! ^= 0x40; // inside the second record's payload
    expect(() => replayManifest(bad, '/M')).toThrow(CorruptionError);
    const r = replayManifest(bad, '/M', { mode: 'report', collectEdits: true });
    expect(r.problem?.offset).toBe(ends[0]);
    expect(r.records).toBe(1);
    expect(r.logNumber).toBe(1);
    expect(r.edits?.length).toBe(1);
  });

  it('refuses a comparator or format version that changes mid-file, and edits that do not apply', async () => {
    for (const [second, re] of [
      [{ comparatorName: 'other' }, /comparator changes/],
      [{ deletedFiles: [{ level: 2, fileNumber: 3 }] }, /no such file is live/],
      [{ newFiles: [{ level: 1, file: meta(3, 'a', 'c') }, { level: 1, file: meta(4, 'b', 'd') }] }, /overlap/],
    ] as const) {
      const { data } = await manifestBytes([HEADER, second as VersionEdit]);
      expect(() => replayManifest(data, '/M')).toThrow(re);
    }
  });
});
