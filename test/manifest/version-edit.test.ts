import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/base/coding.js';
import { makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { CorruptionError, NotSupportedError } from '../../src/errors.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { makeFileMetadata } from '../../src/manifest/file-metadata.js';
import {
  decodeVersionEdit, encodeVersionEdit, MANIFEST_FORMAT_VERSION, TAG_FILE_UNIQUE_ID, TAG_FILE_RANGE_DELS, TAG_FILE_WRITE_TIME, TAG_SAFE_TO_IGNORE, Tag, type VersionEdit,
} from '../../src/manifest/version-edit.js';
import { RecordReader } from '../../src/record/record-reader.js';
import { RecordWriter } from '../../src/record/record-writer.js';
import { makeRng, testSeed, withSeed } from '../support/rng.js';
import { versionEditArb } from './fixtures.js';

const enc = new TextEncoder();

function expectOnlyFormatErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof CorruptionError) && !(e instanceof NotSupportedError)) throw e;
  }
}

/** The worked example of src/manifest/FORMAT.md "Worked example". */
export const WORKED_EXAMPLE: VersionEdit = {
  formatVersion: 1,
  comparatorName: 'strata.BytewiseComparator',
  logNumber: 3,
  nextFileNumber: 6,
  lastSequence: 42,
  newFiles: [{
    level: 0,
    file: makeFileMetadata({
      fileNumber: 5, fileSize: 1234, crc32c: 0xdeadbeef,
      smallest: makeInternalKey(enc.encode('a'), 41, ValueKind.Put),
      largest: makeInternalKey(enc.encode('c'), 42, ValueKind.Delete),
      smallestSeq: 1, largestSeq: 42, numEntries: 42, numDeletions: 1,
    }),
  }],
};

/** The same edit with the table's unique id 00 01 .. 0f (FORMAT.md "Worked example", second part). */
export const WORKED_EXAMPLE_WITH_ID: VersionEdit = {
  ...WORKED_EXAMPLE,
  newFiles: [{ level: 0, file: makeFileMetadata({ ...WORKED_EXAMPLE.newFiles![0]!.file, uniqueId: Uint8Array.from({ length: 16 }, (_, i) => i) }) }],
};

function hexLines(b: Uint8Array): string {
  const hex = Buffer.from(b).toString('hex').replace(/(..)/g, '$1 ').trim();
  return hex.replace(/((?:.. ){16})/g, '$1\n').split('\n').map((l) => l.trim()).join('\n') + '\n';
}

describe('VersionEdit encoding', () => {
  it('round-trips every edit (fast-check)', () => {
    const seed = testSeed();
    fc.assert(fc.property(versionEditArb, (edit) => {
      const bytes = encodeVersionEdit(edit);
      const back = decodeVersionEdit(bytes, 'MANIFEST-000001', 0);
      expect(back).toEqual(normalise(edit));
      // Deterministic: re-encoding the decoded edit gives the same bytes.
      expect(Buffer.from(encodeVersionEdit(back)).equals(Buffer.from(bytes))).toBe(true);
    }), { seed, numRuns: 300 });
  });

  it('decodes the empty edit', () => {
    expect(decodeVersionEdit(new Uint8Array(0))).toEqual({});
  });

  it('matches the worked example of FORMAT.md byte for byte (golden)', async () => {
    const payload = encodeVersionEdit(WORKED_EXAMPLE);
    const fs = new MemFileSystem();
    const w = new RecordWriter(await fs.openWritable('/MANIFEST-000004'));
    w.addRecord(payload);
    const file = await fs.readFile('/MANIFEST-000004');
    const text = `# payload (${payload.length} bytes)\n${hexLines(payload)}# MANIFEST file (${file.length} bytes)\n${hexLines(file)}`;
    const golden = fileURLToPath(new URL('../testdata/manifest/worked-example.hex', import.meta.url));
    if (process.env['REWRITE'] === '1') writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
    const record = new RecordReader(file, 'MANIFEST-000004').read()!;
    expect(decodeVersionEdit(record)).toEqual(normalise(WORKED_EXAMPLE));
  });

  it('matches the worked example with a unique id byte for byte (golden); a reader that skips the field sees the edit without it', () => {
    const payload = encodeVersionEdit(WORKED_EXAMPLE_WITH_ID);
    const plain = encodeVersionEdit(WORKED_EXAMPLE);
    // The id is a suffix after NEW_FILE: the edit without it is byte for byte the older encoding.
    expect(Buffer.from(payload.subarray(0, plain.length)).equals(Buffer.from(plain))).toBe(true);
    const text = `# payload (${payload.length} bytes)\n${hexLines(payload)}# FILE_UNIQUE_ID field (${payload.length - plain.length} bytes)\n${hexLines(payload.subarray(plain.length))}`;
    const golden = fileURLToPath(new URL('../testdata/manifest/worked-example-unique-id.hex', import.meta.url));
    if (process.env['REWRITE'] === '1') writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
    expect(decodeVersionEdit(payload)).toEqual(normalise(WORKED_EXAMPLE_WITH_ID));
  });

  it('matches the worked example with a range-deletion count byte for byte (golden); a reader that skips the field sees the edit without it', () => {
    const withDels: VersionEdit = {
      ...WORKED_EXAMPLE_WITH_ID,
      newFiles: [{ level: 0, file: makeFileMetadata({ ...WORKED_EXAMPLE_WITH_ID.newFiles![0]!.file, numRangeDeletions: 3 }) }],
    };
    const payload = encodeVersionEdit(withDels);
    const withId = encodeVersionEdit(WORKED_EXAMPLE_WITH_ID);
    expect(Buffer.from(payload.subarray(0, withId.length)).equals(Buffer.from(withId))).toBe(true);
    const text = `# payload (${payload.length} bytes)\n${hexLines(payload)}# FILE_RANGE_DELS field (${payload.length - withId.length} bytes)\n${hexLines(payload.subarray(withId.length))}`;
    const golden = fileURLToPath(new URL('../testdata/manifest/worked-example-range-dels.hex', import.meta.url));
    if (process.env['REWRITE'] === '1') writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
    expect(decodeVersionEdit(payload)).toEqual(normalise(withDels));
    expect(decodeVersionEdit(payload).newFiles![0]!.file.numRangeDeletions).toBe(3);
    // A count of zero is not written: an edit without range deletes keeps its older bytes.
    const zero = makeFileMetadata({ ...WORKED_EXAMPLE_WITH_ID.newFiles![0]!.file, numRangeDeletions: 0 });
    expect(Buffer.from(encodeVersionEdit({ ...WORKED_EXAMPLE_WITH_ID, newFiles: [{ level: 0, file: zero }] })).equals(Buffer.from(withId))).toBe(true);
    // Not after its NEW_FILE: corrupt.
    const field = new ByteWriter().varint(TAG_FILE_RANGE_DELS).lengthPrefixed(new ByteWriter().varint(6).varint(3).toBytes()).toBytes();
    expect(() => decodeVersionEdit(Buffer.concat([withId, field]))).toThrow(/range deletions field for 6 does not follow/);
  });

  it('matches the worked example with a newest write time byte for byte (golden); a reader that skips the field sees the edit without it', () => {
    const withTime: VersionEdit = {
      ...WORKED_EXAMPLE_WITH_ID,
      newFiles: [{ level: 0, file: makeFileMetadata({ ...WORKED_EXAMPLE_WITH_ID.newFiles![0]!.file, newestWriteTimeMs: 1_700_000_000_000 }) }],
    };
    const payload = encodeVersionEdit(withTime);
    const withId = encodeVersionEdit(WORKED_EXAMPLE_WITH_ID);
    expect(Buffer.from(payload.subarray(0, withId.length)).equals(Buffer.from(withId))).toBe(true);
    const text = `# payload (${payload.length} bytes)\n${hexLines(payload)}# FILE_WRITE_TIME field (${payload.length - withId.length} bytes)\n${hexLines(payload.subarray(withId.length))}`;
    const golden = fileURLToPath(new URL('../testdata/manifest/worked-example-write-time.hex', import.meta.url));
    if (process.env['REWRITE'] === '1') writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
    expect(decodeVersionEdit(payload)).toEqual(normalise(withTime));
    expect(decodeVersionEdit(payload).newFiles![0]!.file.newestWriteTimeMs).toBe(1_700_000_000_000);
    // Not after its NEW_FILE, or twice: corrupt.
    const field = (n: number): Uint8Array => new ByteWriter().varint(TAG_FILE_WRITE_TIME).lengthPrefixed(new ByteWriter().varint(n).varint(7).toBytes()).toBytes();
    expect(() => decodeVersionEdit(Buffer.concat([withId, field(6)]))).toThrow(/write time field for 6 does not follow/);
    expect(() => decodeVersionEdit(Buffer.concat([payload, field(5)]))).toThrow(/write time field for 5 does not follow/);
  });

  it('refuses a unique id field that does not follow its NEW_FILE, or of a bad length', () => {
    const file = WORKED_EXAMPLE.newFiles![0]!.file;
    const idField = (fileNumber: number, id: Uint8Array): Uint8Array =>
      new ByteWriter().varint(TAG_FILE_UNIQUE_ID).lengthPrefixed(new ByteWriter().varint(fileNumber).lengthPrefixed(id).toBytes()).toBytes();
    const withNewFile = (tail: Uint8Array): Uint8Array => Buffer.concat([encodeVersionEdit({ newFiles: [{ level: 0, file }] }), tail]);
    expect(() => decodeVersionEdit(idField(5, new Uint8Array(16)))).toThrow(/does not follow that file's NEW_FILE/);
    expect(() => decodeVersionEdit(withNewFile(idField(6, new Uint8Array(16))))).toThrow(/does not follow that file's NEW_FILE/);
    expect(() => decodeVersionEdit(withNewFile(Buffer.concat([idField(5, new Uint8Array(16)), idField(5, new Uint8Array(16))])))).toThrow(/does not follow/);
    expect(() => decodeVersionEdit(withNewFile(idField(5, new Uint8Array(0))))).toThrow(/unique id must be 1..64 bytes/);
    expect(() => decodeVersionEdit(withNewFile(idField(5, new Uint8Array(65))))).toThrow(CorruptionError);
    expect(decodeVersionEdit(withNewFile(idField(5, new Uint8Array(16).fill(7)))).newFiles![0]!.file.uniqueId).toEqual(new Uint8Array(16).fill(7));
  });

  it('skips safe-to-ignore tags and refuses other unknown tags', () => {
    const w = new ByteWriter();
    w.varint(TAG_SAFE_TO_IGNORE | 5).lengthPrefixed(Uint8Array.of(1, 2, 3)).varint(Tag.LOG_NUMBER).varint(9);
    expect(decodeVersionEdit(w.toBytes())).toEqual({ logNumber: 9 });
    w.reset();
    w.varint(11).varint(1);
    expect(() => decodeVersionEdit(w.toBytes(), 'M', 77)).toThrow(/M: corruption at offset 77: version edit byte 0: unknown tag 11/);
    // A tag past 2^32 with the bit set in its low word is not safe to ignore (no 32-bit truncation).
    w.reset();
    w.varint(2 ** 33 + TAG_SAFE_TO_IGNORE).varint(0);
    expect(() => decodeVersionEdit(w.toBytes())).toThrow(CorruptionError);
  });

  it('refuses a newer format version with NotSupportedError', () => {
    const w = new ByteWriter();
    w.varint(Tag.FORMAT_VERSION).varint(MANIFEST_FORMAT_VERSION + 1).varint(99).varint(1);
    expect(() => decodeVersionEdit(w.toBytes(), 'MANIFEST-000002')).toThrow(NotSupportedError);
  });

  it('refuses duplicate scalar fields, bad levels, short keys, bad UTF-8 and inconsistent files', () => {
    const cases: [string, (w: ByteWriter) => void, RegExp][] = [
      ['dup', (w) => w.varint(Tag.LOG_NUMBER).varint(1).varint(Tag.LOG_NUMBER).varint(2), /log number appears twice/],
      ['level', (w) => w.varint(Tag.DELETED_FILE).varint(64).varint(1), /level 64/],
      ['short key', (w) => w.varint(Tag.COMPACT_POINTER).varint(1).lengthPrefixed(Uint8Array.of(1, 2)), /shorter than an internal-key trailer/],
      ['utf8', (w) => w.varint(Tag.COMPARATOR).lengthPrefixed(Uint8Array.of(0xff, 0xfe)), /UTF-8/],
      ['version 0', (w) => w.varint(Tag.FORMAT_VERSION).varint(0), /format version 0/],
      ['huge length', (w) => w.varint(Tag.COMPARATOR).varint(2 ** 50), /runs past the end/],
      ['bad varint', (w) => w.varint(Tag.LOG_NUMBER).u8(0xff), /bad varint/],
      ['seq order', (w) => {
        w.varint(Tag.NEW_FILE).varint(1).varint(7).varint(10).fixed32(0)
          .lengthPrefixed(makeInternalKey(enc.encode('a'), 1, 1)).lengthPrefixed(makeInternalKey(enc.encode('b'), 1, 1))
          .varint(5).varint(4).varint(1).varint(0);
      }, /smallest seq 5 > largest seq 4/],
      ['key order', (w) => {
        w.varint(Tag.NEW_FILE).varint(1).varint(7).varint(10).fixed32(0)
          .lengthPrefixed(makeInternalKey(enc.encode('b'), 1, 1)).lengthPrefixed(makeInternalKey(enc.encode('a'), 1, 1))
          .varint(1).varint(1).varint(1).varint(0);
      }, /smallest key sorts after largest key/],
    ];
    for (const [name, build, re] of cases) {
      const w = new ByteWriter();
      build(w);
      expect(() => decodeVersionEdit(w.toBytes()), name).toThrow(CorruptionError);
      expect(() => decodeVersionEdit(w.toBytes()), name).toThrow(re);
    }
  });

  it('survives every truncation and byte flip of an encoded edit with only format errors', async () => {
    await withSeed('edit corruption sweep', (rng) => {
      const bytes = encodeVersionEdit(WORKED_EXAMPLE);
      for (let n = 0; n < bytes.length; n++) expectOnlyFormatErrors(() => decodeVersionEdit(bytes.subarray(0, n)));
      for (let i = 0; i < bytes.length; i++) {
        for (const v of [0x00, 0xff, 0x80, bytes[i]! ^ 0x01, rng.int(256)]) {
          const copy = bytes.slice();
          copy[i] = v;
          expectOnlyFormatErrors(() => decodeVersionEdit(copy));
        }
      }
    });
  });

  it('survives random bytes with only format errors (fast-check)', () => {
    const rng = makeRng(testSeed());
    const tagged = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 10)), { maxLength: 120 });
    fc.assert(fc.property(tagged, (arr) => {
      expectOnlyFormatErrors(() => decodeVersionEdit(Uint8Array.from(arr)));
    }), { seed: rng.seed, numRuns: 2000 });
  });
});

/** The decoded form of an edit: absent lists stay absent, empty lists disappear. */
function normalise(edit: VersionEdit): VersionEdit {
  const out: VersionEdit = { ...edit };
  for (const k of ['compactPointers', 'deletedFiles', 'newFiles'] as const) {
    if (out[k] !== undefined && out[k].length === 0) delete out[k];
  }
  return out;
}
