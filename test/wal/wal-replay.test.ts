import { describe, expect, it } from 'vitest';
import { ValueKind } from '../../src/base/internal-key.js';
import { CorruptionError, NotSupportedError } from '../../src/errors.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { BLOCK_SIZE, HEADER_SIZE } from '../../src/record/format.js';
import { RecordWriter } from '../../src/record/record-writer.js';
import { WAL_HEADER_SIZE } from '../../src/wal/format.js';
import { WalGroupEncoder, encodeWalHeader } from '../../src/wal/wal-record.js';
import {
  type ReplayWalOptions, type ReplayWalResult, type WalRecoveryMode, inspectWal, replayWal, truncateWal,
} from '../../src/wal/wal-replay.js';
import { WalWriter } from '../../src/wal/wal-writer.js';
import { WriteBatch } from '../../src/wal/write-batch.js';
import { makeRng, testSeed, withSeed } from '../support/rng.js';

const PATH = '/db/000009.log';
const enc = new TextEncoder();

/** Writes a WAL of groups (each group: a list of batch sizes); returns bytes and record offsets. */
async function buildWal(groups: number[][], valueSize = 8): Promise<{ data: Uint8Array; starts: number[] }> {
  const fs = new MemFileSystem();
  await fs.mkdir('/db');
  const w = new WalWriter(await fs.openWritable(PATH), 9);
  const e = new WalGroupEncoder();
  const starts: number[] = [];
  let seq = 1;
  for (const [gi, batches] of groups.entries()) {
    e.begin(seq, 1000 * (gi + 1), batches.length);
    for (const n of batches) {
      const b = new WriteBatch();
      for (let i = 0; i < n; i++) b.put(`k${seq + i}`, new Uint8Array(valueSize).fill(seq + i));
      e.addBatch(b);
      seq += n;
    }
    const at = w.size === 0 ? HEADER_SIZE + WAL_HEADER_SIZE : w.size; // the header comes with group 1
    const left = BLOCK_SIZE - (at % BLOCK_SIZE);
    starts.push(left < HEADER_SIZE ? at + left : at);
    w.appendGroup(e.finish());
  }
  return { data: await fs.readFile(PATH), starts };
}

async function fsWith(data: Uint8Array): Promise<MemFileSystem> {
  const fs = new MemFileSystem();
  await fs.mkdir('/db');
  const f = await fs.openWritable(PATH);
  f.append(data);
  await f.sync();
  return fs;
}

interface Outcome { result?: ReplayWalResult; error?: unknown; seqs: number[] }

async function replay(data: Uint8Array, mode: WalRecoveryMode, isNewest: boolean,
  extra: Partial<ReplayWalOptions> = {}): Promise<Outcome> {
  const fs = await fsWith(data);
  const seqs: number[] = [];
  try {
    const result = await replayWal(fs, PATH, {
      mode, isNewest, ...extra,
      onBatch: (b) => { let s = b.firstSeq; b.forEachOp(() => seqs.push(s++)); },
    });
    return { result, seqs };
  } catch (error) {
    return { error, seqs };
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

const MODES: WalRecoveryMode[] = ['point-in-time', 'tolerate-tail', 'absolute'];

/** What each mode must do with a bad record (FORMAT.md "Recovery modes"). */
function tolerated(mode: WalRecoveryMode, isNewest: boolean, isTornTail: boolean): boolean {
  if (mode === 'point-in-time') return isNewest;
  return mode === 'tolerate-tail' && isTornTail;
}

function expectOutcome(o: Outcome, ok: boolean, stopOffset: number, seqs: number[], label: string): void {
  if (ok) {
    expect(o.error, label).toBeUndefined();
    expect(o.result!.stoppedAt?.offset, label).toBe(stopOffset);
    expect(o.result!.validLength, label).toBe(stopOffset);
    expect(o.seqs, label).toEqual(seqs);
  } else {
    expect(o.error, label).toBeInstanceOf(CorruptionError);
    expect((o.error as CorruptionError).file, label).toBe(PATH);
    expect((o.error as CorruptionError).offset, label).toBe(stopOffset);
  }
}

describe('replayWal', () => {
  it('replays every batch with its boundaries, sequences and commit time in every mode', async () => {
    const { data } = await buildWal([[2, 1], [3], [1, 1, 1]]);
    for (const mode of MODES) {
      for (const isNewest of [true, false]) {
        const fs = await fsWith(data);
        const got: [number, number, number][] = [];
        const result = await replayWal(fs, PATH, {
          mode, isNewest, logNumber: 9,
          onBatch: (b) => { got.push([b.firstSeq, b.lastSeq, b.commitTimeMs]); },
        });
        expect(got).toEqual([[1, 2, 1000], [3, 3, 1000], [4, 6, 2000], [7, 7, 3000], [8, 8, 3000], [9, 9, 3000]]);
        expect(result).toEqual({ lastSeq: 9, records: 3, batches: 6, validLength: data.length, header: { version: 2, logNumber: 9 } });
      }
    }
  });

  it('delivers keys and values and awaits an async onBatch before the next batch', async () => {
    const { data } = await buildWal([[2], [1]]);
    const fs = await fsWith(data);
    const log: string[] = [];
    await replayWal(fs, PATH, {
      mode: 'absolute', isNewest: true,
      onBatch: async (b) => {
        log.push(`start ${b.firstSeq}`);
        await Promise.resolve();
        b.forEachOp((kind, key, value) => log.push(`${kind} ${Buffer.from(key)} ${value[0]}/${value.length}`));
        log.push(`end ${b.firstSeq}`);
      },
    });
    expect(log).toEqual(['start 1', '1 k1 1/8', '1 k2 2/8', 'end 1', 'start 3', '1 k3 3/8', 'end 3']);
  });

  it('reads an empty file and a header-only file as no records', async () => {
    const empty = await replay(new Uint8Array(0), 'absolute', false);
    expect(empty.result).toEqual({ lastSeq: 0, records: 0, batches: 0, validLength: 0 });
    expect((await buildWal([])).data.length).toBe(0); // an unused WAL stays empty
    const fs = new MemFileSystem();
    new RecordWriter(await fs.openWritable('/h.log')).addRecord(encodeWalHeader(9));
    const data = await fs.readFile('/h.log');
    const headerOnly = await replay(data, 'absolute', false);
    expect(headerOnly.result).toMatchObject({ lastSeq: 0, records: 0, validLength: data.length, header: { logNumber: 9 } });
  });

  it('handles a torn tail at every byte of the last record as each mode says', async () => {
    const { data, starts } = await buildWal([[1], [2, 1], [2]]);
    const last = starts[2]!;
    for (let cut = last; cut < data.length; cut++) {
      const torn = data.subarray(0, cut);
      for (const mode of MODES) {
        for (const isNewest of [true, false]) {
          const o = await replay(torn, mode, isNewest);
          const label = `cut ${cut} ${mode} newest=${isNewest}`;
          if (cut === last) {
            expect(o.result?.stoppedAt, label).toBeUndefined();
            expect(o.seqs, label).toEqual(range(1, 4));
          } else {
            expectOutcome(o, tolerated(mode, isNewest, true), last, range(1, 4), label);
          }
        }
      }
    }
  });

  it('handles a torn fragmented last record (sampled cuts) and a torn header', async () => {
    const { data, starts } = await buildWal([[1], [3]], 20_000);
    const last = starts[1]!;
    const cuts = [last + 1, last + 6, last + 7, last + 100, BLOCK_SIZE - 1, BLOCK_SIZE, BLOCK_SIZE + 1,
      BLOCK_SIZE + 7, 2 * BLOCK_SIZE - 1, 2 * BLOCK_SIZE, 2 * BLOCK_SIZE + 3, data.length - 1];
    for (const cut of cuts) {
      const torn = data.subarray(0, cut);
      expectOutcome(await replay(torn, 'point-in-time', true), true, last, [1], `cut ${cut}`);
      expectOutcome(await replay(torn, 'tolerate-tail', false), true, last, [1], `cut ${cut}`);
      expectOutcome(await replay(torn, 'point-in-time', false), false, last, [1], `cut ${cut}`);
      expectOutcome(await replay(torn, 'absolute', true), false, last, [1], `cut ${cut}`);
    }
    for (let cut = 1; cut < HEADER_SIZE + 13; cut++) {
      expectOutcome(await replay(data.subarray(0, cut), 'point-in-time', true), true, 0, [], `header cut ${cut}`);
      expectOutcome(await replay(data.subarray(0, cut), 'absolute', true), false, 0, [], `header cut ${cut}`);
    }
  });

  it('handles damage followed by valid records as each mode says', async () => {
    const { data, starts } = await buildWal([[1], [2], [1], [1]]);
    for (const [what, at] of [['payload', starts[1]! + 12], ['checksum', starts[1]!], ['length', starts[1]! + 4]] as const) {
      const bad = data.slice();
      bad[at]! ^= 0x10;
      for (const mode of MODES) {
        for (const isNewest of [true, false]) {
          const o = await replay(bad, mode, isNewest);
          expectOutcome(o, tolerated(mode, isNewest, false), starts[1]!, [1], `${what} ${mode} newest=${isNewest}`);
        }
      }
    }
  });

  it('treats a zero-filled tail as a torn tail, and zeros before valid records as a hole', async () => {
    const { data, starts } = await buildWal([[1], [1]]);
    const zeros = Uint8Array.from(Buffer.concat([data, new Uint8Array(500)]));
    for (const mode of MODES) {
      for (const isNewest of [true, false]) {
        expectOutcome(await replay(zeros, mode, isNewest), tolerated(mode, isNewest, true), data.length, [1, 2], `${mode} ${isNewest}`);
      }
    }
    const hole = data.slice();
    hole.fill(0, starts[1]!, starts[1]! + 12);
    const withMore = Uint8Array.from(Buffer.concat([hole, (await buildWal([[1], [1], [1]])).data.subarray(starts[1]!)]));
    expectOutcome(await replay(withMore, 'tolerate-tail', true), false, starts[1]!, [1], 'hole');
    expectOutcome(await replay(withMore, 'point-in-time', true), true, starts[1]!, [1], 'hole');
  });

  it('never calls a malformed but checksum-valid group record a torn tail', async () => {
    for (const kind of ['junk', 'backwards'] as const) {
      const fs = new MemFileSystem();
      await fs.mkdir('/db');
      const w = new WalWriter(await fs.openWritable(PATH), 9);
      const e = new WalGroupEncoder();
      e.begin(10, 1, 1); e.addOp(ValueKind.Put, enc.encode('a'), enc.encode('b'));
      w.appendGroup(e.finish());
      const badAt = w.size;
      if (kind === 'junk') {
        w.appendGroup(Uint8Array.of(1, 2, 3));
      } else {
        e.begin(10, 1, 1); e.addOp(ValueKind.Delete, enc.encode('a'), new Uint8Array(0));
        w.appendGroup(e.finish());
      }
      const data = await fs.readFile(PATH);
      for (const mode of MODES) {
        for (const isNewest of [true, false]) {
          const o = await replay(data, mode, isNewest);
          expectOutcome(o, mode === 'point-in-time' && isNewest, badAt, [10], `${kind} ${mode} ${isNewest}`);
        }
      }
      const o = await replay(data, 'point-in-time', true);
      expect(o.result!.stoppedAt!.detail).toMatch(kind === 'junk' ? /WAL group record/ : /sequence numbers go backwards/);
    }
  });

  it('refuses a file that is not a WAL, a newer version and a wrong log number in every mode', async () => {
    const notWal = new MemFileSystem();
    await notWal.mkdir('/db');
    const rw = new RecordWriter(await notWal.openWritable(PATH));
    rw.addRecord(enc.encode('MANIFEST-ish record'));
    const newer = encodeWalHeader(9); newer[4] = 3;
    const newerFs = new MemFileSystem();
    await newerFs.mkdir('/db');
    new RecordWriter(await newerFs.openWritable(PATH)).addRecord(newer);
    for (const mode of MODES) {
      const opts = { mode, isNewest: true, onBatch: () => {} };
      await expect(replayWal(notWal, PATH, opts)).rejects.toThrow(/not a StrataDB WAL/);
      await expect(replayWal(newerFs, PATH, opts)).rejects.toBeInstanceOf(NotSupportedError);
    }
    const { data } = await buildWal([[1]]);
    await expect(replayWal(await fsWith(data), PATH, { mode: 'point-in-time', isNewest: true, logNumber: 10, onBatch: () => {} }))
      .rejects.toThrow(/names log 9, but the file name says 10/);
  });

  it('restores whole batches up to a sequence number or a commit time', async () => {
    const { data } = await buildWal([[2, 1], [3], [1]]);
    const bySeq = await replay(data, 'absolute', true, { untilSeq: 5 });
    expect(bySeq.seqs).toEqual([1, 2, 3]); // the batch 4..6 would cross seq 5: not split
    expect(bySeq.result).toMatchObject({ lastSeq: 3, reachedLimit: true });
    const byTime = await replay(data, 'absolute', true, { untilTimeMs: 2000 });
    expect(byTime.seqs).toEqual(range(1, 6));
    expect(byTime.result).toMatchObject({ lastSeq: 6, records: 2, reachedLimit: true });
  });

  it('truncateWal cuts the damage off so the WAL replays cleanly as an older WAL', async () => {
    const { data, starts } = await buildWal([[1], [1], [1]]);
    const fs = await fsWith(data.subarray(0, data.length - 3));
    await fs.syncDir('/db'); // the WAL's entry was made durable when it was created
    const first = await replayWal(fs, PATH, { mode: 'point-in-time', isNewest: true, onBatch: () => {} });
    expect(first.stoppedAt?.offset).toBe(starts[2]);
    await truncateWal(fs, PATH, first.validLength);
    expect((await fs.stat(PATH)).size).toBe(first.validLength);
    expect(await fs.list('/db')).toEqual(['000009.log']);
    const crashed = fs.crashClone();
    const again = await replayWal(crashed, PATH, { mode: 'point-in-time', isNewest: false, onBatch: () => {} });
    expect(again).toMatchObject({ lastSeq: 2, records: 2, validLength: starts[2] });
    expect(again.stoppedAt).toBeUndefined();
  });

  it('after a crash, point-in-time replay of the newest WAL keeps a prefix holding every synced group', async () => {
    await withSeed('wal crash clones', async (rng) => {
      for (let round = 0; round < 40; round++) {
        const fs = new MemFileSystem();
        await fs.mkdir('/db');
        await fs.syncDir('/');
        const w = new WalWriter(await fs.openWritable(PATH), 9);
        await fs.syncDir('/db');
        const e = new WalGroupEncoder();
        let seq = 1;
        let syncedSeq = 0;
        const groups = 1 + rng.int(30);
        for (let g = 0; g < groups; g++) {
          const batches = 1 + rng.int(3);
          e.begin(seq, g, batches);
          for (let b = 0; b < batches; b++) {
            const n = 1 + rng.int(3);
            const wb = new WriteBatch();
            for (let i = 0; i < n; i++) wb.put(rng.bytes(1 + rng.int(10)), rng.bytes(rng.int(3) === 0 ? rng.int(40_000) : rng.int(100)));
            e.addBatch(wb);
            seq += n;
          }
          w.appendGroup(e.finish());
          if (rng.int(4) === 0) { await w.sync(); syncedSeq = seq - 1; }
        }
        const crashed = fs.crashClone({ keepUnsyncedPercent: 100, rng: () => rng.next() });
        const seqs: number[] = [];
        const r = await replayWal(crashed, PATH, {
          mode: 'point-in-time', isNewest: true,
          onBatch: (b) => { for (let s = b.firstSeq; s <= b.lastSeq; s++) seqs.push(s); },
        });
        expect(seqs).toEqual(range(1, r.lastSeq));
        expect(r.lastSeq).toBeGreaterThanOrEqual(syncedSeq);
        expect(r.lastSeq).toBeLessThanOrEqual(seq - 1);
        // A crash only tears the tail, so tolerate-tail agrees.
        const tt = await replayWal(crashed, PATH, { mode: 'tolerate-tail', isNewest: false, onBatch: () => {} });
        expect(tt.lastSeq).toBe(r.lastSeq);
      }
    });
  });

  it('survives random damage: a prefix of the records, or CorruptionError, never anything else', async () => {
    const { data } = await buildWal(Array.from({ length: 20 }, (_, i) => [1 + (i % 3), 1]), 300);
    const rng = makeRng(testSeed());
    await withSeed('wal replay fuzz', async () => {
      for (let round = 0; round < 60; round++) {
        const bad = data.slice(0, data.length - rng.int(50));
        for (let f = 0; f <= rng.int(3); f++) bad[rng.int(bad.length)] = rng.int(256);
        for (const mode of MODES) {
          const o = await replay(bad, mode, rng.int(2) === 0);
          if (o.error && !(o.error instanceof CorruptionError)) throw o.error;
          expect(o.seqs).toEqual(range(1, o.seqs.length));
        }
      }
    }, rng.seed);
  });
});

describe('inspectWal', () => {
  it('lists records with offsets, sequence ranges, commit times and batches', async () => {
    const { data, starts } = await buildWal([[2, 1], [1]]);
    const info = await inspectWal(await fsWith(data), PATH);
    expect(info).toMatchObject({
      path: PATH, size: data.length, header: { version: 2, logNumber: 9 },
      records: [
        { offset: starts[0], firstSeq: 1, lastSeq: 3, commitTimeMs: 1000, batches: [
          { firstSeq: 1, lastSeq: 2, ops: 2, puts: 2, deletes: 0 }, { firstSeq: 3, lastSeq: 3, ops: 1, puts: 1, deletes: 0 }] },
        { offset: starts[1], firstSeq: 4, lastSeq: 4, commitTimeMs: 2000 },
      ],
    });
    expect(info.problem).toBeUndefined();
  });

  it('reports the first problem with offset, detail and whether it is a torn tail, without throwing', async () => {
    const { data, starts } = await buildWal([[1], [1], [1]]);
    const torn = await inspectWal(await fsWith(data.subarray(0, data.length - 2)), PATH);
    expect(torn.records).toHaveLength(2);
    expect(torn.problem).toMatchObject({ offset: starts[2], atTail: true });
    expect(torn.problem!.detail).toMatch(/truncated record/);
    const bad = data.slice();
    bad[starts[1]! + 10]! ^= 1;
    const hole = await inspectWal(await fsWith(bad), PATH);
    expect(hole.records).toHaveLength(1);
    expect(hole.problem).toMatchObject({ offset: starts[1], atTail: false });
    expect(hole.problem!.detail).toMatch(/checksum mismatch/);
    const newer = encodeWalHeader(9); newer[4] = 3;
    const fs = new MemFileSystem();
    new RecordWriter(await fs.openWritable('/x.log')).addRecord(newer);
    expect((await inspectWal(fs, '/x.log')).problem!.detail).toMatch(/version 3 is not supported/);
  });
});
