import { describe, expect, it } from 'vitest';
import { CorruptionError } from '../../src/errors.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { BLOCK_SIZE, HEADER_SIZE, RecordType, recordChecksum } from '../../src/record/format.js';
import { RecordReader, type RecordReadResult } from '../../src/record/record-reader.js';
import { RecordWriter } from '../../src/record/record-writer.js';
import { putFixed32 } from '../../src/base/coding.js';
import { withSeed } from '../support/rng.js';

function filled(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 13 + seed * 101 + (i >>> 9)) & 0xff;
  return out;
}

/** Writes the records; returns the file and each record's start offset. */
async function writeLog(records: Uint8Array[]): Promise<{ data: Uint8Array; starts: number[] }> {
  const fs = new MemFileSystem();
  const w = new RecordWriter(await fs.openWritable('/t.log'));
  const starts: number[] = [];
  for (const r of records) {
    // A record starts at the next block when fewer than 7 bytes are left in this one.
    const left = BLOCK_SIZE - (w.size % BLOCK_SIZE);
    starts.push(left < HEADER_SIZE ? w.size + left : w.size);
    w.addRecord(r);
  }
  return { data: await fs.readFile('/t.log'), starts };
}

/** One physical record, framed by hand (for damage the writer never produces). */
function phys(type: number, payload: Uint8Array, checksumType = type): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + payload.length);
  putFixed32(out, 0, recordChecksum(checksumType, payload, 0, payload.length));
  out[4] = payload.length & 0xff;
  out[5] = payload.length >>> 8;
  out[6] = type;
  out.set(payload, HEADER_SIZE);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** Reads to the end: the records' lengths and the final result. */
function drain(data: Uint8Array): { lengths: number[]; end: RecordReadResult } {
  const r = new RecordReader(data, 't.log');
  const lengths: number[] = [];
  for (;;) {
    const res = r.readReporting();
    if (res.kind !== 'record') return { lengths, end: res };
    lengths.push(res.data.length);
  }
}

describe('RecordReader', () => {
  it('returns FULL records as views and fragmented ones as copies', async () => {
    const { data } = await writeLog([filled(5, 1), filled(40_000, 2)]);
    const r = new RecordReader(data, 't.log');
    const a = r.readReporting();
    const b = r.readReporting();
    expect(a.kind === 'record' && a.data.buffer === data.buffer && a.offset === 0).toBe(true);
    expect(b.kind === 'record' && b.data.buffer !== data.buffer && b.offset === 12).toBe(true);
    expect(r.readReporting()).toEqual({ kind: 'eof' });
    expect(r.read()).toBeUndefined();
    expect(r.position).toBe(data.length);
  });

  it('reads an empty file as a clean end', () => {
    expect(drain(new Uint8Array(0))).toEqual({ lengths: [], end: { kind: 'eof' } });
  });

  it('reports a torn tail at every cut of a small last record', async () => {
    const { data, starts } = await writeLog([filled(30, 1), filled(200, 2), filled(100, 3)]);
    const last = starts[2]!;
    for (let cut = last; cut < data.length; cut++) {
      const { lengths, end } = drain(data.subarray(0, cut));
      expect(lengths).toEqual([30, 200]);
      if (cut === last) {
        expect(end).toEqual({ kind: 'eof' });
      } else {
        expect(end.kind === 'corrupt' && end.offset === last && end.atTail).toBe(true);
      }
    }
  });

  it('reports a torn tail for cuts of a fragmented last record and of a block trailer', async () => {
    // Record 1 ends 6 bytes before the block end: record 2 starts after a 6-byte trailer,
    // then spans into a third block.
    const { data, starts } = await writeLog([filled(BLOCK_SIZE - 6 - HEADER_SIZE, 1), filled(40_000, 2)]);
    const trailerStart = BLOCK_SIZE - 6;
    expect(starts[1]).toBe(BLOCK_SIZE);
    const cuts: number[] = [];
    for (let c = trailerStart; c < trailerStart + 40; c++) cuts.push(c);
    for (let c = 2 * BLOCK_SIZE - 10; c < 2 * BLOCK_SIZE + 12; c++) cuts.push(c);
    for (let c = trailerStart; c < data.length; c += 997) cuts.push(c);
    for (let c = data.length - 10; c < data.length; c++) cuts.push(c);
    for (const cut of cuts) {
      const { lengths, end } = drain(data.subarray(0, cut));
      expect(lengths).toEqual([BLOCK_SIZE - 6 - HEADER_SIZE]);
      if (cut === trailerStart) {
        expect(end).toEqual({ kind: 'eof' });
      } else {
        // Inside or right after the trailer the problem is the trailer itself; later, the record.
        const offset = cut <= BLOCK_SIZE ? trailerStart : BLOCK_SIZE;
        expect({ cut, ...end }).toMatchObject({ cut, kind: 'corrupt', offset, atTail: true });
      }
    }
  });

  it('tells damage followed by valid records from a torn tail', async () => {
    const { data, starts } = await writeLog([filled(50, 1), filled(50, 2), filled(50, 3)]);
    for (const [i, at] of [[1, starts[1]! + 9], [2, starts[2]! + 9], [1, starts[1]! + 4]] as const) {
      const bad = data.slice();
      bad[at]! ^= 0x40;
      const { lengths, end } = drain(bad);
      expect(lengths).toHaveLength(i);
      expect(end).toMatchObject({ kind: 'corrupt', offset: starts[i], atTail: i === 2 });
    }
  });

  it('finds valid records after a damaged length field, in the same block and in later ones', async () => {
    const small = await writeLog([filled(50, 1), filled(50, 2), filled(50, 3)]);
    const bad = small.data.slice();
    bad[small.starts[1]! + 5] = 0x70; // length now > block: impossible
    expect(drain(bad).end).toMatchObject({ kind: 'corrupt', offset: small.starts[1], atTail: false });
    const spread = await writeLog([filled(50, 1), filled(40_000, 2), filled(50, 3)]);
    const bad2 = spread.data.slice();
    bad2[spread.starts[1]! + 4]! ^= 0xff;
    expect(drain(bad2).end).toMatchObject({ kind: 'corrupt', offset: spread.starts[1], atTail: false });
  });

  it('reads zero-filled space as a problem, at the tail or not', async () => {
    const { data } = await writeLog([filled(50, 1)]);
    const zeros = new Uint8Array(300);
    expect(drain(concat(data, zeros)).end).toMatchObject({ kind: 'corrupt', offset: data.length, atTail: true });
    expect(drain(zeros).end).toMatchObject({ kind: 'corrupt', offset: 0, atTail: true });
    const after = concat(data, zeros, phys(RecordType.Full, filled(9, 9)));
    const r = drain(after);
    expect(r.lengths).toEqual([50]);
    expect(r.end).toMatchObject({ kind: 'corrupt', offset: data.length, atTail: false });
    expect(r.end.kind === 'corrupt' && r.end.detail).toMatch(/zero-filled/);
  });

  it('finds intact records after a hole that covers a block start', async () => {
    const { data, starts } = await writeLog([filled(100, 1), filled(40_000, 2), filled(50, 3)]);
    expect(starts[2]! > BLOCK_SIZE).toBe(true);
    const hole = data.slice();
    hole.fill(0, starts[1]!, BLOCK_SIZE + 100); // B's FIRST and the start of its LAST: C is still intact
    const r = drain(hole);
    expect(r.lengths).toEqual([100]);
    expect(r.end).toMatchObject({ kind: 'corrupt', offset: starts[1], atTail: false });
    const tail = data.slice();
    tail.fill(0, starts[1]!); // everything after A lost: a torn tail
    expect(drain(tail).end).toMatchObject({ kind: 'corrupt', offset: starts[1], atTail: true });
  });

  it('calls a torn record a torn tail whatever its payload looks like', async () => {
    // Bytes 0x01..0x04 read as record types at every position, with short plausible lengths:
    // thousands of candidate headers inside the torn fragment, none of which may count.
    for (const fill of [1, 2, 4]) {
      const { data, starts } = await writeLog([filled(100, 1), new Uint8Array(70_000).fill(fill)]);
      for (const cut of [starts[1]! + 5000, BLOCK_SIZE + 20_000, 2 * BLOCK_SIZE - 1, data.length - 1]) {
        expect(drain(data.subarray(0, cut)).end).toMatchObject({ kind: 'corrupt', offset: starts[1], atTail: true });
      }
    }
  });

  it('bounds the torn-tail scan on adversarial garbage (answering "not a torn tail")', async () => {
    const { data } = await writeLog([filled(100, 1)]);
    const garbage = concat(data, new Uint8Array(4 << 20).fill(1)); // type 1, length 257 at every byte
    // No valid record hides in it, so only the budget running out can answer false.
    const r = drain(garbage);
    expect(r.end).toMatchObject({ kind: 'corrupt', offset: data.length, atTail: false });
    expect(drain(concat(data, new Uint8Array(4 << 20))).end).toMatchObject({ atTail: true });
  });

  it('reports fragments out of order', () => {
    const p = filled(10, 1);
    const cases: [Uint8Array, number, RegExp][] = [
      [concat(phys(RecordType.Middle, p), phys(RecordType.Full, p)), 0, /MIDDLE fragment at 0 without a FIRST/],
      [concat(phys(RecordType.Last, p)), 0, /LAST fragment at 0 without a FIRST/],
      [concat(phys(RecordType.Full, p), phys(RecordType.First, p), phys(RecordType.Full, p)), 17, /cut short by a FULL/],
      [concat(phys(RecordType.First, p), phys(RecordType.First, p), phys(RecordType.Last, p)), 0, /cut short by a FIRST/],
    ];
    for (const [data, offset, detail] of cases) {
      const { end } = drain(data);
      expect(end).toMatchObject({ kind: 'corrupt', offset, atTail: false });
      expect(end.kind === 'corrupt' && end.detail).toMatch(detail);
    }
    // In-block fragments are legal even though the writer never produces them.
    const ok = drain(concat(phys(RecordType.First, p), phys(RecordType.Middle, p), phys(RecordType.Last, p)));
    expect(ok).toEqual({ lengths: [30], end: { kind: 'eof' } });
  });

  it('reports unknown types, non-zero trailers and bad checksums', async () => {
    // 9: past the recyclable types 5-8 too.
    const unknown = drain(phys(9, filled(4, 1)));
    expect(unknown.end).toMatchObject({ kind: 'corrupt', offset: 0, atTail: true });
    expect(unknown.end.kind === 'corrupt' && unknown.end.detail).toMatch(/unknown record type 9/);
    const wrongSum = drain(phys(RecordType.Full, filled(4, 1), RecordType.First));
    expect(wrongSum.end.kind === 'corrupt' && wrongSum.end.detail).toMatch(/checksum mismatch/);
    const { data } = await writeLog([filled(BLOCK_SIZE - 6 - HEADER_SIZE, 1), filled(10, 2)]);
    const bad = data.slice();
    bad[BLOCK_SIZE - 3] = 1;
    const t = drain(bad);
    expect(t.end).toMatchObject({ kind: 'corrupt', offset: BLOCK_SIZE - 6, atTail: false });
    expect(t.end.kind === 'corrupt' && t.end.detail).toMatch(/non-zero byte in the block trailer/);
  });

  it('throws CorruptionError from read() with file and offset, and stays finished', async () => {
    const { data, starts } = await writeLog([filled(20, 1), filled(20, 2)]);
    const r = new RecordReader(data.subarray(0, data.length - 1), '000007.log');
    expect(r.read()?.length).toBe(20);
    for (let i = 0; i < 2; i++) {
      let err: unknown;
      try { r.read(); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(CorruptionError);
      expect((err as CorruptionError).file).toBe('000007.log');
      expect((err as CorruptionError).offset).toBe(starts[1]);
      expect((err as CorruptionError).code).toBe('ERR_CORRUPTION');
    }
    expect(r.position).toBe(starts[1]);
  });

  it('survives random damage: only records or CorruptionError, always terminating', async () => {
    await withSeed('record-reader fuzz', async (rng) => {
      const records = Array.from({ length: 12 }, (_, i) => filled(rng.int(3) === 0 ? rng.int(70_000) : rng.int(300), i));
      const { data } = await writeLog(records);
      for (let round = 0; round < 150; round++) {
        const bad = data.slice(0, rng.int(4) === 0 ? rng.int(data.length + 1) : data.length);
        const flips = 1 + rng.int(4);
        for (let f = 0; f < flips && bad.length > 0; f++) bad[rng.int(bad.length)] = rng.int(256);
        const r = new RecordReader(bad, 'fuzz.log');
        let n = 0;
        try {
          while (r.read() !== undefined) n++;
        } catch (e) {
          if (!(e instanceof CorruptionError)) throw e;
        }
        expect(n).toBeLessThanOrEqual(records.length);
      }
      // Pure garbage too.
      for (let round = 0; round < 30; round++) {
        const r = new RecordReader(rng.bytes(rng.int(100_000)), 'garbage.log');
        try { while (r.read() !== undefined); } catch (e) { if (!(e instanceof CorruptionError)) throw e; }
      }
    });
  });
});
