/**
 * Reused (recycled) WAL files at the format level: a WAL written in the recyclable framing over the
 * file of an earlier WAL, then read back as replay and wal-dump see it. What is checked:
 * - the earlier use's records are never replayed: after a clean write, after a crash that tore the
 *   new life's last record, and when an earlier use's fragment would continue a half-written record;
 * - the recovery modes: the tail of a reused WAL is its end (not damage) in every mode, in the newest
 *   WAL and in older ones; damage followed by this life's records is still refused/stopped at;
 * - a reused file whose new life wrote nothing replays as empty;
 * - the golden bytes of the recyclable framing (src/record/FORMAT.md §6).
 */
import { describe, expect, it } from 'vitest';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { BLOCK_SIZE, RECYCLABLE_HEADER_SIZE } from '../../src/record/format.js';
import { RecordReader } from '../../src/record/record-reader.js';
import { RecordWriter } from '../../src/record/record-writer.js';
import { WalGroupEncoder } from '../../src/wal/wal-record.js';
import { type WalRecoveryMode, inspectWal, replayWal } from '../../src/wal/wal-replay.js';
import { WalWriter } from '../../src/wal/wal-writer.js';
import { WriteBatch } from '../../src/wal/write-batch.js';
import { withSeed } from '../support/rng.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OLD = '/db/000005.log';
const NEW = '/db/000009.log';
/** A testdata .hex file (bytes as hex pairs, whitespace ignored) as one hex string. */
function goldenHex(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../testdata/${name}`, import.meta.url)), 'utf8').replace(/\s+/g, '');
}

const MODES: WalRecoveryMode[] = ['point-in-time', 'tolerate-tail'];

/** Appends groups of one put each (keys `${tag}${i}`, `valueSize`-byte values) to `w`, seq from `seq`. */
function writeGroups(w: WalWriter, tag: string, count: number, seq: number, valueSize: number): number {
  const e = new WalGroupEncoder();
  for (let i = 0; i < count; i++) {
    const b = new WriteBatch();
    b.put(`${tag}${i}`, new Uint8Array(valueSize).fill(i & 0xff));
    e.begin(seq, 1000 + i, 1);
    e.addBatch(b);
    w.appendGroup(e.finish());
    seq++;
  }
  return seq;
}

/** WAL 5 written with `oldGroups` groups, synced, then renamed to 9 and opened for overwrite. */
async function reusedFile(oldGroups: number, valueSize: number): Promise<{ fs: MemFileSystem; w: WalWriter; oldSize: number }> {
  const fs = new MemFileSystem();
  await fs.mkdir('/db');
  const old = new WalWriter(await fs.openWritable(OLD), 5, undefined, true);
  writeGroups(old, 'old', oldGroups, 1, valueSize);
  await old.sync();
  await old.close();
  const oldSize = (await fs.stat(OLD)).size;
  await fs.rename(OLD, NEW);
  await fs.syncDir('/db');
  const w = new WalWriter(await fs.openWritable(NEW, { overwrite: true }), 9, undefined, true);
  return { fs, w, oldSize };
}

async function replayKeys(fs: MemFileSystem, mode: WalRecoveryMode, isNewest: boolean): Promise<{ keys: string[]; ended: boolean; stopped: boolean }> {
  const keys: string[] = [];
  const r = await replayWal(fs, NEW, {
    mode, isNewest, logNumber: 9,
    onBatch: (b) => b.forEachOp((_kind, key) => { keys.push(Buffer.from(key).toString()); }),
  });
  return { keys, ended: r.endedAt !== undefined, stopped: r.stoppedAt !== undefined };
}

describe('reused WAL files (recyclable framing)', () => {
  it('after a clean write, only the new life is replayed, in every mode and position; the old tail is the end', async () => {
    const { fs, w, oldSize } = await reusedFile(200, 100);
    writeGroups(w, 'new', 30, 1000, 100);
    await w.sync();
    expect((await fs.stat(NEW)).size).toBe(oldSize); // written over, not appended
    for (const mode of MODES) {
      for (const isNewest of [true, false]) {
        const r = await replayKeys(fs, mode, isNewest);
        expect(r.keys).toEqual(Array.from({ length: 30 }, (_, i) => `new${i}`));
        expect(r.ended).toBe(true);
        expect(r.stopped).toBe(false);
      }
    }
    const dump = await inspectWal(fs, NEW, undefined, 9);
    expect(dump.recyclable).toBe(true);
    expect(dump.records).toHaveLength(30);
    expect(dump.problem?.endOfRecyclable).toBe(true);
  });

  it('a reused file that got no write replays as empty (its records name another log)', async () => {
    const { fs } = await reusedFile(50, 100);
    for (const mode of MODES) {
      const r = await replayKeys(fs, mode, true);
      expect(r.keys).toEqual([]);
      expect(r.ended).toBe(true);
    }
  });

  it('power cuts at random points of the new life never replay an old record, and keep every synced group', async () => {
    await withSeed('reused wal power cuts', async (rng) => {
      for (let round = 0; round < 20; round++) {
        const valueSize = 1 + rng.int(3000);
        const { fs, w } = await reusedFile(100 + rng.int(100), 1 + rng.int(3000));
        const synced = rng.int(20);
        writeGroups(w, 'new', synced, 1000, valueSize);
        await w.sync();
        writeGroups(w, 'late', 1 + rng.int(10), 1000 + synced, valueSize);
        const clone = fs.crashClone({ keepUnsyncedPercent: 100, rng: () => rng.next() });
        for (const mode of MODES) {
          const keys: string[] = [];
          const r = await replayWal(clone, NEW, {
            mode, isNewest: true, logNumber: 9,
            onBatch: (b) => b.forEachOp((_k, key) => { keys.push(Buffer.from(key).toString()); }),
          });
          expect(keys.some((k) => k.startsWith('old')), `round ${round} ${mode}: ${keys.join(',')}`).toBe(false);
          expect(keys.slice(0, synced)).toEqual(Array.from({ length: synced }, (_, i) => `new${i}`));
          expect(r.stoppedAt).toBeUndefined();
        }
      }
    });
  });

  it('an old fragment at the next block start never completes a half-written new record', async () => {
    // The old life: records of 50000 bytes, so block 1 starts with an old continuation fragment.
    const { fs, w } = await reusedFile(10, 50_000);
    const old = await fs.readFile(NEW);
    expect(old[BLOCK_SIZE + 6]).toBeGreaterThanOrEqual(7); // RECYCLABLE_MIDDLE or RECYCLABLE_LAST
    writeGroups(w, 'new', 1, 1000, 100); // header + a small group in block 0
    writeGroups(w, 'big', 1, 1001, 40_000); // FIRST in block 0, the rest from block 1 on
    const now = await fs.readFile(NEW);
    // A crash that kept block 0 of the new life only: block 1 on is the old life's.
    const torn = new Uint8Array(old);
    torn.set(now.subarray(0, BLOCK_SIZE));
    const crashed = new MemFileSystem();
    await crashed.mkdir('/db');
    const f = await crashed.openWritable(NEW);
    f.append(torn);
    for (const mode of MODES) {
      const keys: string[] = [];
      const r = await replayWal(crashed, NEW, {
        mode, isNewest: true, logNumber: 9,
        onBatch: (b) => b.forEachOp((_k, key) => { keys.push(Buffer.from(key).toString()); }),
      });
      expect(keys).toEqual(['new0']);
      expect(r.endedAt?.detail).toMatch(/belongs to log 5/);
    }
  });

  it('damage followed by records of this life is still damage (refused by tolerate-tail, stopped at by point-in-time)', async () => {
    const { fs, w } = await reusedFile(200, 100);
    writeGroups(w, 'new', 600, 1000, 100); // past the first block
    await w.sync();
    const data = await fs.readFile(NEW);
    data[RECYCLABLE_HEADER_SIZE + 20]! ^= 0xff; // inside the header record's block-0 neighbour
    const bad = new MemFileSystem();
    await bad.mkdir('/db');
    (await bad.openWritable(NEW)).append(data);
    await expect(replayWal(bad, NEW, { mode: 'tolerate-tail', isNewest: true, logNumber: 9, onBatch: () => undefined }))
      .rejects.toMatchObject({ code: 'ERR_CORRUPTION' });
    await expect(replayWal(bad, NEW, { mode: 'point-in-time', isNewest: false, logNumber: 9, onBatch: () => undefined }))
      .rejects.toMatchObject({ code: 'ERR_CORRUPTION' });
    const r = await replayWal(bad, NEW, { mode: 'point-in-time', isNewest: true, logNumber: 9, onBatch: () => undefined });
    expect(r.stoppedAt).toBeDefined();
    expect(r.endedAt).toBeUndefined();
  });

  it('golden: "hello" and "" in the recyclable framing of log 7', async () => {
    const fs = new MemFileSystem();
    await fs.mkdir('/db');
    const f = await fs.openWritable('/db/x');
    const w = new RecordWriter(f, undefined, { recyclableLogNumber: 7 });
    w.addRecord(new TextEncoder().encode('hello'));
    w.addRecord(new Uint8Array(0));
    const bytes = await fs.readFile('/db/x');
    expect(Buffer.from(bytes).toString('hex')).toBe(goldenHex('record/hello-empty-recyclable.hex'));
    const r = new RecordReader(bytes, '/db/x', undefined, 7);
    expect(new TextDecoder().decode(r.read())).toBe('hello');
    expect(r.read()).toEqual(new Uint8Array(0));
    expect(r.read()).toBeUndefined();
    // Read as log 8, the same bytes are an earlier use's: the end at once.
    const other = new RecordReader(bytes, '/db/x', undefined, 8).readReporting();
    expect(other).toMatchObject({ kind: 'corrupt', offset: 0, atTail: true, recyclable: true });
  });
});
