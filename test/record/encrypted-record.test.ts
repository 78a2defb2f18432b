/**
 * Encrypted record logs (src/record/FORMAT.md §8, issue #9): RecordWriter with a FileCipher seals
 * each logical record at its ordinal, the first one prefixed by the encryption header;
 * openRecordReader() finds that out from the first record. Proves:
 * - many records (empty, small, > 32 KiB fragmented, given in parts) round-trip; no plaintext of a
 *   sentinel is in the file (while a plain log of the same records holds it);
 * - a truncation at any length gives exactly the records wholly before it, then 'eof' at a record
 *   boundary or 'corrupt' elsewhere, never a wrong record;
 * - a byte flipped in a sealed payload with the framing CRC recomputed is 'corrupt' with atTail
 *   false at that record (authentication failed); in the first record's encryption header it
 *   refuses the open; swapping, dropping or repeating whole records is caught (nonce = ordinal);
 * - a log without the header is read as plain (unless the keys refuse plaintext); an encrypted log
 *   without keys is ERR_INVALID_ARGUMENT naming the key id; another key or kind is corruption.
 */
import { describe, expect, it } from 'vitest';
import { putFixed32 } from '../../src/base/coding.js';
import { FileCipher, FileKind, type FileKindValue, type KeyResolver } from '../../src/encryption/file-cipher.js';
import { KeyRing } from '../../src/encryption/keyring.js';
import { CorruptionError, IOError, isStrataError } from '../../src/errors.js';
import type { WritableFile } from '../../src/fs/file-system.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { BLOCK_SIZE, HEADER_SIZE, RecordType, recordChecksum } from '../../src/record/format.js';
import { openRecordReader } from '../../src/record/record-cipher.js';
import type { RecordReadResult } from '../../src/record/record-reader.js';
import { RecordWriter } from '../../src/record/record-writer.js';
import { withSeed, type Rng } from '../support/rng.js';

const KEY_ID = 'wal-key-1';
const MASTER = Uint8Array.from({ length: 32 }, (_, i) => (0x42 + i * 23) & 0xff);
const OTHER = Uint8Array.from({ length: 32 }, (_, i) => (0x07 + i * 41) & 0xff);
const NAME = '000007.log';
const SENTINEL = 'SENTINEL-RECORD-5d2c81';
const enc = new TextEncoder();
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

const ring = (keys: Record<string, Uint8Array> = { [KEY_ID]: MASTER }, allowPlaintext = false): KeyRing => new KeyRing({
  currentKeyId: () => KEY_ID,
  getKey: (id) => {
    const k = keys[id];
    if (!k) throw new Error(`no key ${id}`);
    return k;
  },
}, allowPlaintext);

interface Log {
  data: Uint8Array;
  /** End offset of each logical record (where the file may cleanly end). */
  ends: number[];
  /** Header size of the encryption header (0 for a plain log). */
  headerSize: number;
}

/** Writes the records (encrypted unless `plain`); a record given as an array is added in parts. */
async function writeLog(records: Array<Uint8Array | Uint8Array[]>, plain = false, kind: FileKindValue = FileKind.WAL): Promise<Log> {
  const fs = new MemFileSystem();
  const cipher = plain ? undefined : FileCipher.create(kind, KEY_ID, MASTER);
  const w = new RecordWriter(await fs.openWritable('/l'), cipher);
  const ends: number[] = [];
  for (const r of records) {
    if (Array.isArray(r)) w.addRecordParts(r); else w.addRecord(r);
    ends.push(w.size);
  }
  await w.close();
  return { data: await fs.readFile('/l'), ends, headerSize: cipher ? cipher.headerBytes.length : 0 };
}

const flat = (r: Uint8Array | Uint8Array[]): Uint8Array => (Array.isArray(r) ? Uint8Array.from(Buffer.concat(r)) : r);

/** Reads to the end: the records (copied) and the final result. */
/** `keys`: null for none (NB: not undefined, which would select the default). */
async function drain(data: Uint8Array, keys: KeyResolver | null = ring(), kind: FileKindValue = FileKind.WAL): Promise<{ records: Uint8Array[]; offsets: number[]; end: RecordReadResult }> {
  const r = await openRecordReader(data, NAME, kind, keys ?? undefined);
  const records: Uint8Array[] = [];
  const offsets: number[] = [];
  for (let n = 0; ; n++) {
    if (n > data.length + 1) throw new Error('reader does not end');
    const res = r.readReporting();
    if (res.kind !== 'record') {
      expect(r.readReporting()).toEqual(res); // finished: repeats its answer
      return { records, offsets, end: res };
    }
    records.push(res.data.slice());
    offsets.push(res.offset);
  }
}

interface Phys { offset: number; type: number; length: number }

/** The physical records, walking headers (and skipping block trailers) as the writer laid them out. */
function physicalRecords(data: Uint8Array): Phys[] {
  const out: Phys[] = [];
  let pos = 0;
  while (pos < data.length) {
    const left = BLOCK_SIZE - (pos % BLOCK_SIZE);
    if (left < HEADER_SIZE) { pos += left; continue; }
    const length = data[pos + 4]! | (data[pos + 5]! << 8);
    out.push({ offset: pos, type: data[pos + 6]!, length });
    pos += HEADER_SIZE + length;
  }
  return out;
}

function fixCrc(data: Uint8Array, p: Phys): void {
  putFixed32(data, p.offset, recordChecksum(p.type, data, p.offset + HEADER_SIZE, p.offset + HEADER_SIZE + p.length));
}

function filled(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const a = rng.int(256);
  for (let i = 0; i < n; i++) out[i] = (a + i * 7 + (i >>> 9)) & 0xff;
  return out;
}

/** Asserts the result is the first `k` records exactly, then the expected end. */
function expectPrefix(got: { records: Uint8Array[] }, want: readonly Uint8Array[], k: number, what: string): void {
  if (got.records.length !== k) throw new Error(`${what}: ${got.records.length} records, expected ${k}`);
  for (let i = 0; i < k; i++) if (hex(got.records[i]!) !== hex(want[i]!)) throw new Error(`${what}: record ${i} differs`);
}

const contains = (hay: Uint8Array, needle: string): boolean => Buffer.from(hay).includes(Buffer.from(needle));

describe('encrypted log round trip', () => {
  it('many records (empty, small, fragmented, in parts) read back exactly; no plaintext in the file', async () => {
    await withSeed('enc-log-roundtrip', async (rng) => {
      const records: Array<Uint8Array | Uint8Array[]> = [
        new Uint8Array(0), enc.encode(SENTINEL), new Uint8Array(0),
        filled(rng, BLOCK_SIZE - HEADER_SIZE - 16), filled(rng, 40_000), filled(rng, 100_000), filled(rng, 3 * BLOCK_SIZE),
        [enc.encode('part one, '), new Uint8Array(0), enc.encode(`${SENTINEL} in parts`), filled(rng, 50_000)],
      ];
      for (let i = 0; i < 300; i++) {
        const n = rng.pick([0, 1, 7, 16, 100, 1000, 5000]) + rng.int(50);
        records.splice(rng.int(records.length + 1), 0, i % 50 === 0 ? [filled(rng, n), filled(rng, rng.int(100))] : filled(rng, n));
      }
      const log = await writeLog(records);
      expect(contains(log.data, SENTINEL)).toBe(false);
      expect(contains(log.data, 'part one')).toBe(false);
      expect(Buffer.from(log.data).includes(Buffer.from(MASTER))).toBe(false);
      const plain = await writeLog(records, true);
      expect(contains(plain.data, SENTINEL)).toBe(true); // the control

      const got = await drain(log.data);
      expect(got.end).toEqual({ kind: 'eof' });
      expectPrefix(got, records.map(flat), records.length, 'round trip');
      // Each record is reported at the offset where its first fragment starts.
      const types = physicalRecords(log.data);
      const starts = types.filter((p) => p.type === RecordType.Full || p.type === RecordType.First).map((p) => p.offset);
      expect(got.offsets).toEqual(starts);
      expect(types.some((p) => p.type === RecordType.Middle)).toBe(true);
      // Sealing costs a 16-byte tag per record, plus the header once.
      const plainBytes = records.reduce((s, r) => s + flat(r).length, 0);
      const sealedBytes = types.reduce((s, p) => s + p.length, 0);
      expect(sealedBytes).toBe(plainBytes + 16 * records.length + log.headerSize);
    });
  });

  it('read() returns records and undefined at the end; an empty log is empty', async () => {
    const log = await writeLog([enc.encode('a'), new Uint8Array(0), enc.encode('ccc')]);
    const r = await openRecordReader(log.data, NAME, FileKind.WAL, ring());
    expect([...r.read()!]).toEqual([97]);
    expect(r.read()!.length).toBe(0);
    expect(Buffer.from(r.read()!).toString()).toBe('ccc');
    expect(r.read()).toBeUndefined();
    expect(r.position).toBe(log.data.length);
    expect((await drain(new Uint8Array(0))).end).toEqual({ kind: 'eof' });
  });

  it('a record over the 1 MiB chunk size round-trips (appended in chunks, sealed once)', async () => {
    await withSeed('enc-log-huge', async (rng) => {
      const big = filled(rng, (5 << 19) + 3); // 2.5 MiB
      const records = [enc.encode('before'), big, enc.encode('after')];
      const log = await writeLog(records);
      const got = await drain(log.data);
      expectPrefix(got, records, 3, 'huge');
      expect(got.end).toEqual({ kind: 'eof' });
    });
  });

  it('a failed append is sticky: nothing is written after it', async () => {
    const fs = new MemFileSystem();
    const file = await fs.openWritable('/l');
    let fail = false;
    const appended: number[] = [];
    const failing: WritableFile = {
      path: '/l',
      get size() { return file.size; },
      append(d) { if (fail) throw new IOError('injected', { path: '/l' }); appended.push(d.length); file.append(d); },
      sync: () => file.sync(),
      close: () => file.close(),
    };
    const cipher = FileCipher.create(FileKind.WAL, KEY_ID, MASTER);
    const w = new RecordWriter(failing, cipher);
    w.addRecord(enc.encode('one'));
    fail = true;
    expect(() => w.addRecord(enc.encode('two'))).toThrow(IOError);
    fail = false;
    for (let i = 0; i < 3; i++) expect(() => w.addRecord(enc.encode('three'))).toThrow(/earlier append failed/);
    expect(appended.length).toBe(1);
    const got = await drain(await fs.readFile('/l'));
    expect(got.records.map((r) => Buffer.from(r).toString())).toEqual(['one']);
    expect(got.end).toEqual({ kind: 'eof' });
  });

  it('an encrypted log cannot be appended to', async () => {
    const fs = new MemFileSystem();
    const f = await fs.openWritable('/l');
    f.append(Uint8Array.of(1, 2, 3));
    expect(() => new RecordWriter(f, FileCipher.create(FileKind.WAL, KEY_ID, MASTER))).toThrow(/cannot be appended/);
  });
});

describe('encrypted log damage', () => {
  const smallRecords = (rng: Rng): Uint8Array[] => {
    const out: Uint8Array[] = [new Uint8Array(0)];
    for (let i = 0; i < 14; i++) out.push(filled(rng, rng.pick([0, 1, 5, 30, 90])));
    out.push(enc.encode(SENTINEL));
    return out;
  };

  it('truncation at every length of a small log: the valid prefix, then eof at boundaries, else corrupt', async () => {
    await withSeed('enc-log-truncate', async (rng) => {
      const records = smallRecords(rng);
      const log = await writeLog(records);
      expect(log.data.length).toBeLessThan(BLOCK_SIZE);
      for (let n = 0; n <= log.data.length; n++) {
        const got = await drain(log.data.subarray(0, n));
        const k = log.ends.filter((e) => e <= n).length;
        expectPrefix(got, records, k, `truncated to ${n}`);
        if (n === 0 || log.ends.includes(n)) expect(got.end).toEqual({ kind: 'eof' });
        else {
          expect(got.end.kind).toBe('corrupt');
          const c = got.end as Extract<RecordReadResult, { kind: 'corrupt' }>;
          expect(c.offset).toBe(k === 0 ? 0 : log.ends[k - 1]);
          expect(c.atTail).toBe(true);
        }
      }
    });
  });

  it('truncation of a fragmented log (seeded sample, and every record boundary +-1) keeps the valid prefix', async () => {
    await withSeed('enc-log-truncate-frag', async (rng) => {
      const records = [filled(rng, 100), filled(rng, 40_000), new Uint8Array(0), filled(rng, 70_000), filled(rng, BLOCK_SIZE - 40), filled(rng, 10)];
      const log = await writeLog(records);
      const lengths = new Set<number>([0, log.data.length]);
      for (const e of log.ends) for (const d of [-1, 0, 1]) lengths.add(e + d);
      for (let i = 0; i < 250; i++) lengths.add(rng.int(log.data.length));
      for (const n of lengths) {
        if (n < 0 || n > log.data.length) continue;
        const got = await drain(log.data.subarray(0, n));
        const k = log.ends.filter((e) => e <= n).length;
        expectPrefix(got, records, k, `truncated to ${n}`);
        expect(got.end.kind).toBe(n === 0 || log.ends.includes(n) ? 'eof' : 'corrupt');
      }
    });
  });

  it('a flipped byte in a sealed payload, CRC fixed up, is corrupt with atTail false at that record', async () => {
    await withSeed('enc-log-flip', async (rng) => {
      const records = smallRecords(rng);
      const log = await writeLog(records);
      const phys = physicalRecords(log.data);
      expect(phys.length).toBe(records.length);
      for (let i = 0; i < phys.length; i++) {
        const p = phys[i]!;
        const from = p.offset + HEADER_SIZE + (i === 0 ? log.headerSize : 0);
        for (let at = from; at < p.offset + HEADER_SIZE + p.length; at++) {
          const bad = log.data.slice();
          bad[at] = bad[at]! ^ (1 << rng.int(8));
          fixCrc(bad, p);
          const got = await drain(bad);
          expectPrefix(got, records, i, `flip at ${at} (record ${i})`);
          expect(got.end.kind).toBe('corrupt');
          const c = got.end as Extract<RecordReadResult, { kind: 'corrupt' }>;
          expect(c.offset).toBe(p.offset);
          expect(c.atTail).toBe(false);
          expect(c.detail).toMatch(/authentication failed/);
        }
      }
      // read() throws the same as a CorruptionError naming the file and the offset.
      const bad = log.data.slice();
      const p = phys[3]!;
      bad[p.offset + HEADER_SIZE] = bad[p.offset + HEADER_SIZE]! ^ 1;
      fixCrc(bad, p);
      const r = await openRecordReader(bad, NAME, FileKind.WAL, ring());
      for (let i = 0; i < 3; i++) r.read();
      try {
        r.read();
        throw new Error('expected a CorruptionError');
      } catch (e) {
        expect(e).toBeInstanceOf(CorruptionError);
        expect((e as CorruptionError).file).toBe(NAME);
        expect((e as CorruptionError).offset).toBe(p.offset);
      }
    });
  });

  it('a flipped byte in a fragment of a large record, CRC fixed up, is corrupt at that record', async () => {
    await withSeed('enc-log-flip-frag', async (rng) => {
      const records = [filled(rng, 10), filled(rng, 80_000), filled(rng, 20), filled(rng, 50_000), filled(rng, 5)];
      const log = await writeLog(records);
      const phys = physicalRecords(log.data);
      // Logical record index of each physical record.
      const owner: number[] = [];
      let ordinal = -1;
      for (const p of phys) {
        if (p.type === RecordType.Full || p.type === RecordType.First) ordinal++;
        owner.push(ordinal);
      }
      for (let n = 0; n < 60; n++) {
        const j = rng.int(phys.length);
        const p = phys[j]!;
        const from = p.offset + HEADER_SIZE + (j === 0 ? log.headerSize : 0);
        const end = p.offset + HEADER_SIZE + p.length;
        if (end <= from) continue;
        const at = from + rng.int(end - from);
        const bad = log.data.slice();
        bad[at] = bad[at]! ^ (1 << rng.int(8));
        fixCrc(bad, p);
        const got = await drain(bad);
        const i = owner[j]!;
        expectPrefix(got, records, i, `flip at ${at} (record ${i})`);
        expect(got.end.kind).toBe('corrupt');
        expect((got.end as { atTail: boolean }).atTail).toBe(false);
        expect((got.end as { offset: number }).offset).toBe(phys.find((q, x) => owner[x] === i)!.offset);
      }
    });
  });

  it('a flipped byte in the encryption header of the first record, CRC fixed up, refuses the open', async () => {
    const log = await writeLog([enc.encode('one'), enc.encode('two')]);
    const p = physicalRecords(log.data)[0]!;
    for (let at = p.offset + HEADER_SIZE; at < p.offset + HEADER_SIZE + log.headerSize; at++) {
      for (const bit of [0, 3, 7]) {
        const bad = log.data.slice();
        bad[at] = bad[at]! ^ (1 << bit);
        fixCrc(bad, p);
        let e: unknown;
        try {
          await drain(bad);
        } catch (x) {
          e = x;
        }
        // Magic flips make it look plain, which these keys refuse; any other flip fails the header CRC.
        if (!(e instanceof CorruptionError)) throw new Error(`flip at ${at} bit ${bit}: ${String(e)}`);
        expect(e.file).toBe(NAME);
      }
    }
  });

  it('swapping, dropping or repeating whole records (frames intact) is caught: the nonce is the ordinal', async () => {
    await withSeed('enc-log-reorder', async (rng) => {
      // Records of equal length, so equal-size FULL physical records can trade places.
      const records: Uint8Array[] = [];
      for (let i = 0; i < 12; i++) records.push(filled(rng, 40));
      const log = await writeLog(records);
      const phys = physicalRecords(log.data);
      const size = HEADER_SIZE + phys[1]!.length;
      const slice = (i: number): Uint8Array => log.data.subarray(phys[i]!.offset, phys[i]!.offset + size);
      for (let i = 1; i < phys.length; i++) {
        for (let j = i + 1; j < phys.length; j++) {
          const bad = log.data.slice();
          bad.set(slice(j), phys[i]!.offset);
          bad.set(slice(i), phys[j]!.offset);
          const got = await drain(bad);
          expectPrefix(got, records, i, `swap ${i} <-> ${j}`);
          expect(got.end).toMatchObject({ kind: 'corrupt', offset: phys[i]!.offset, atTail: false });
        }
        // Dropping record i: the later ones shift down one ordinal.
        const dropped = Uint8Array.from(Buffer.concat([log.data.subarray(0, phys[i]!.offset), log.data.subarray(phys[i]!.offset + size)]));
        const d = await drain(dropped);
        expectPrefix(d, records, i, `drop ${i}`);
        if (i < phys.length - 1) expect(d.end).toMatchObject({ kind: 'corrupt', offset: phys[i]!.offset, atTail: false });
        else expect(d.end).toEqual({ kind: 'eof' }); // NB: dropping the LAST record is a clean truncation
        // Repeating record i right after itself (a replayed write).
        const at = phys[i]!.offset + size;
        const repeated = Uint8Array.from(Buffer.concat([log.data.subarray(0, at), slice(i), log.data.subarray(at)]));
        const r = await drain(repeated);
        expectPrefix(r, records, i + 1, `repeat ${i}`);
        expect(r.end).toMatchObject({ kind: 'corrupt', offset: at, atTail: false });
      }
    });
  });

  it('records from another encrypted log (same key, another salt) do not splice in', async () => {
    const a = await writeLog([enc.encode('aaaa'), enc.encode('bbbb'), enc.encode('cccc')]);
    const b = await writeLog([enc.encode('xxxx'), enc.encode('yyyy'), enc.encode('zzzz')]);
    const pa = physicalRecords(a.data);
    const pb = physicalRecords(b.data);
    const bad = a.data.slice();
    bad.set(b.data.subarray(pb[1]!.offset, pb[2]!.offset), pa[1]!.offset);
    const got = await drain(bad);
    expect(got.records.map((r) => Buffer.from(r).toString())).toEqual(['aaaa']);
    expect(got.end).toMatchObject({ kind: 'corrupt', offset: pa[1]!.offset, atTail: false });
  });
});

describe('encrypted log keys and plain logs', () => {
  const records = [enc.encode('first'), new Uint8Array(0), enc.encode(SENTINEL)];

  it('a log without the header is read as plain (no keys, or keys allowing plaintext)', async () => {
    const log = await writeLog(records, true);
    expect(log.headerSize).toBe(0);
    const resolver: KeyResolver = { keyFor: async () => { throw new Error('never asked'); } }; // allowPlaintext absent: true
    for (const keys of [null, ring(undefined, true), resolver]) {
      const got = await drain(log.data, keys);
      expectPrefix(got, records, records.length, 'plain');
      expect(got.end).toEqual({ kind: 'eof' });
    }
  });

  it('keys that refuse plaintext refuse a plain log as corruption', async () => {
    const log = await writeLog(records, true);
    const e = await drain(log.data, ring()).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(CorruptionError);
    expect((e as CorruptionError).message).toMatch(/not encrypted/);
    expect((e as CorruptionError).file).toBe(NAME);
  });

  it('an encrypted log without keys is ERR_INVALID_ARGUMENT naming the key id', async () => {
    const log = await writeLog(records);
    const e = await drain(log.data, null).then(() => undefined, (x: unknown) => x);
    expect(isStrataError(e, 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect((e as Error).message).toContain(`"${KEY_ID}"`);
    expect((e as Error).message).toContain(NAME);
  });

  it('a provider without the key id is ERR_INVALID_ARGUMENT naming the id and the file', async () => {
    const log = await writeLog(records);
    const e = await drain(log.data, ring({ other: MASTER })).then(() => undefined, (x: unknown) => x);
    expect(isStrataError(e, 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect((e as Error).message).toContain(`"${KEY_ID}"`);
    expect((e as Error).message).toContain(NAME);
  });

  it('another key under the same id is refused before any record: ERR_INVALID_ARGUMENT from the key check value', async () => {
    const log = await writeLog(records);
    const e = await drain(log.data, ring({ [KEY_ID]: OTHER })).then(() => undefined, (x: unknown) => x);
    expect(e).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/not the key this file was written with/) });
    expect((e as Error).message.toLowerCase()).not.toContain(hex(OTHER));
  });

  it('a WAL opened as a MANIFEST (another kind) is refused as corruption', async () => {
    const log = await writeLog(records, false, FileKind.WAL);
    const e = await drain(log.data, ring(), FileKind.MANIFEST).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(CorruptionError);
    expect((e as Error).message).toMatch(/expected MANIFEST/);
    const m = await writeLog(records, false, FileKind.MANIFEST);
    expectPrefix(await drain(m.data, ring(), FileKind.MANIFEST), records, records.length, 'manifest');
  });

  it('a first record too damaged to read says nothing either way: the reader reports it, returns nothing', async () => {
    const log = await writeLog(records);
    const bad = log.data.slice();
    bad[HEADER_SIZE + 2] = bad[HEADER_SIZE + 2]! ^ 0x40; // inside the magic, CRC not fixed
    const got = await drain(bad, ring());
    expect(got.records).toEqual([]);
    expect(got.end).toMatchObject({ kind: 'corrupt', offset: 0 });
  });
});
