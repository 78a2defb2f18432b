/**
 * Backup metadata (src/backup/backup-meta.ts, src/backup/FORMAT.md "Metadata file"): the worked
 * example of FORMAT.md byte for byte (golden test/testdata/backup/meta-example.txt, REWRITE=1 to
 * regenerate), round trips, and hostile metadata: every form of path traversal (`..`, absolute
 * paths, separators, NUL bytes, a name that is not the content identity), huge numbers and wrong
 * types are ERR_CORRUPTION, with a valid checksum so the field checks themselves are what refuses.
 * Through the engine, list/verify/restore refuse them and nothing is written anywhere but the
 * restore target (the whole MemFileSystem is compared before and after).
 */
import { Buffer } from 'node:buffer';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BackupEngine, DB, MemFileSystem } from '../../src/index.js';
import { crc32c } from '../../src/base/crc32c.js';
import { makeInternalKey, ValueKind } from '../../src/base/internal-key.js';
import { makeFileMetadata } from '../../src/manifest/file-metadata.js';
import { decodeBackupMeta, encodeBackupMeta, sharedName, type BackupMeta } from '../../src/backup/backup-meta.js';
import { rejectsWith } from '../support/db-check.js';

const enc = new TextEncoder();

/** The worked example of src/backup/FORMAT.md. */
export const META_EXAMPLE: BackupMeta = {
  id: 3,
  sequence: 1234,
  timestamp: 1_700_000_000_000,
  nextFileNumber: 20,
  files: [
    {
      level: 1,
      file: makeFileMetadata({
        fileNumber: 9, fileSize: 65536, crc32c: 0xdeadbeef,
        smallest: makeInternalKey(enc.encode('a'), 7, ValueKind.Put),
        largest: makeInternalKey(enc.encode('m'), 900, ValueKind.Put),
        smallestSeq: 1, largestSeq: 1100, numEntries: 1000, numDeletions: 0,
      }),
    },
    {
      level: 0,
      file: makeFileMetadata({
        fileNumber: 17, fileSize: 2048, crc32c: 0x1a2b3c4d,
        smallest: makeInternalKey(enc.encode('apple'), 1200, ValueKind.Put),
        largest: makeInternalKey(enc.encode('cherry'), 1234, ValueKind.Delete),
        smallestSeq: 1200, largestSeq: 1234, numEntries: 35, numDeletions: 2,
      }),
    },
  ],
};

/** Line 1 + the crc32c line over it: what a careful attacker (or a buggy writer) would produce. */
function withCrc(doc: unknown): Uint8Array {
  const line = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc), 'utf8');
  return Buffer.concat([line, Buffer.from(`\ncrc32c ${crc32c(line).toString(16).padStart(8, '0')}\n`)]);
}

function exampleDoc(): Record<string, unknown> & { files: Record<string, unknown>[] } {
  const text = Buffer.from(encodeBackupMeta(META_EXAMPLE)).toString('utf8');
  return JSON.parse(text.slice(0, text.indexOf('\n'))) as Record<string, unknown> & { files: Record<string, unknown>[] };
}

type Mutation = [string, (d: ReturnType<typeof exampleDoc>) => unknown];

const realName = (d: ReturnType<typeof exampleDoc>): string => d.files[0]!['name'] as string;

/** Hostile documents: each must be ERR_CORRUPTION. */
const HOSTILE: Mutation[] = [
  ['name ..', (d) => { d.files[0]!['name'] = '../../etc/passwd'; return d; }],
  ['name shared/..', (d) => { d.files[0]!['name'] = 'shared/../../000009_deadbeef_65536.sst'; return d; }],
  ['name .. inside shared', (d) => { d.files[0]!['name'] = 'shared/../meta/1'; return d; }],
  ['name absolute', (d) => { d.files[0]!['name'] = '/tmp/000009_deadbeef_65536.sst'; return d; }],
  ['name absolute, right basename', (d) => { d.files[0]!['name'] = `/${realName(d)}`; return d; }],
  ['name with backslashes', (d) => { d.files[0]!['name'] = realName(d).replace('/', '\\'); return d; }],
  ['name with a second separator', (d) => { d.files[0]!['name'] = realName(d).replace('shared/', 'shared//'); return d; }],
  ['name with a NUL byte', (d) => { d.files[0]!['name'] = `${realName(d)}\u0000.txt`; return d; }],
  ['name with a NUL byte before', (d) => { d.files[0]!['name'] = `shared/\u0000${realName(d).slice(7)}`; return d; }],
  ['name of another crc', (d) => { d.files[0]!['name'] = 'shared/000009_deadbeee_65536.sst'; return d; }],
  ['name of another size', (d) => { d.files[0]!['name'] = 'shared/000009_deadbeef_65537.sst'; return d; }],
  ['name of another number', (d) => { d.files[0]!['name'] = 'shared/000010_deadbeef_65536.sst'; return d; }],
  ['name without padding', (d) => { d.files[0]!['name'] = 'shared/9_deadbeef_65536.sst'; return d; }],
  ['name upper-case hex', (d) => { d.files[0]!['name'] = 'shared/000009_DEADBEEF_65536.sst'; return d; }],
  ['name missing', (d) => { delete d.files[0]!['name']; return d; }],
  ['name a number', (d) => { d.files[0]!['name'] = 9; return d; }],
  ['name an array', (d) => { d.files[0]!['name'] = [realName(d)]; return d; }],
  ['fileNumber negative', (d) => { d.files[0]!['fileNumber'] = -9; return d; }],
  ['fileNumber fraction', (d) => { d.files[0]!['fileNumber'] = 9.5; return d; }],
  ['fileNumber 2^53', (d) => { d.files[0]!['fileNumber'] = 2 ** 53; return d; }],
  ['fileNumber 1e300', (d) => { d.files[0]!['fileNumber'] = 1e300; return d; }],
  ['fileNumber a string', (d) => { d.files[0]!['fileNumber'] = '9'; return d; }],
  ['fileNumber a path', (d) => { d.files[0]!['fileNumber'] = '../9'; return d; }],
  ['size huge', (d) => { d.files[0]!['size'] = 1e300; return d; }],
  ['size negative', (d) => { d.files[0]!['size'] = -1; return d; }],
  ['size null', (d) => { d.files[0]!['size'] = null; return d; }],
  ['crc32c over 32 bits', (d) => { d.files[0]!['crc32c'] = 2 ** 32 + 0xdeadbeef; return d; }],
  ['crc32c a hex string', (d) => { d.files[0]!['crc32c'] = 'deadbeef'; return d; }],
  ['level 64', (d) => { d.files[0]!['level'] = 64; return d; }],
  ['level -1', (d) => { d.files[0]!['level'] = -1; return d; }],
  ['level a string', (d) => { d.files[0]!['level'] = '1'; return d; }],
  ['smallest not hex', (d) => { d.files[0]!['smallest'] = 'zz'.repeat(9); return d; }],
  ['smallest too short', (d) => { d.files[0]!['smallest'] = '61'; return d; }],
  ['smallest > largest', (d) => { [d.files[0]!['smallest'], d.files[0]!['largest']] = [d.files[0]!['largest'], d.files[0]!['smallest']]; return d; }],
  ['deletions > entries', (d) => { d.files[0]!['deletions'] = 5000; return d; }],
  ['uniqueId not hex', (d) => { d.files[0]!['uniqueId'] = 'xyz'; return d; }],
  ['uniqueId empty', (d) => { d.files[0]!['uniqueId'] = ''; return d; }],
  ['uniqueId too long', (d) => { d.files[0]!['uniqueId'] = 'ab'.repeat(65); return d; }],
  ['uniqueId a number', (d) => { d.files[0]!['uniqueId'] = 7; return d; }],
  ['rangeDeletions negative', (d) => { d.files[0]!['rangeDeletions'] = -1; return d; }],
  ['rangeDeletions a string', (d) => { d.files[0]!['rangeDeletions'] = '3'; return d; }],
  ['file number twice', (d) => { d.files[1] = d.files[0]!; return d; }],
  ['file entry null', (d) => { d.files[0] = null as never; return d; }],
  ['file entry a string', (d) => { d.files[0] = realName(d) as never; return d; }],
  ['files not an array', (d) => { (d as Record<string, unknown>)['files'] = { 0: d.files[0] }; return d; }],
  ['files missing', (d) => { delete (d as Record<string, unknown>)['files']; return d; }],
  ['id negative', (d) => { d['id'] = -3; return d; }],
  ['id a string', (d) => { d['id'] = '3'; return d; }],
  ['sequence huge', (d) => { d['sequence'] = 2 ** 64; return d; }],
  ['timestamp a date string', (d) => { d['timestamp'] = '2023-11-14T22:13:20Z'; return d; }],
  ['nextFileNumber missing', (d) => { delete d['nextFileNumber']; return d; }],
  ['format wrong', (d) => { d['format'] = 'rocksdb-backup'; return d; }],
  ['version 0.5', (d) => { d['version'] = 0.5; return d; }],
  ['version a string', (d) => { d['version'] = '1'; return d; }],
  ['top level an array', (d) => [d]],
  ['top level null', () => null],
  ['top level a number', () => 3],
  ['not JSON', () => '{"format":"stratadb-backup",'],
];

describe('backup metadata', () => {
  it('matches the worked example of FORMAT.md byte for byte (golden)', () => {
    const text = Buffer.from(encodeBackupMeta(META_EXAMPLE)).toString('utf8');
    const golden = fileURLToPath(new URL('../testdata/backup/meta-example.txt', import.meta.url));
    if (process.env['REWRITE'] === '1') writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
    const spec = readFileSync(fileURLToPath(new URL('../../src/backup/FORMAT.md', import.meta.url)), 'utf8');
    expect(spec.includes(`\`\`\`\n${text}\`\`\``), 'FORMAT.md must show the golden text verbatim in a code block').toBe(true);
    expect(decodeBackupMeta(Buffer.from(text), 'meta/3')).toEqual(META_EXAMPLE);
    expect(META_EXAMPLE.files.map((f) => sharedName(f.file))).toEqual([
      'shared/000009_deadbeef_65536.sst', 'shared/000017_1a2b3c4d_2048.sst',
    ]);
  });

  it('round-trips a table unique id (an optional field, so the version stays 1 for a plaintext backup)', () => {
    const id = Uint8Array.from({ length: 16 }, (_, i) => i * 3);
    const m = { ...META_EXAMPLE, files: META_EXAMPLE.files.map((f, i) => i === 0 ? { ...f, file: makeFileMetadata({ ...f.file, uniqueId: id }) } : f) };
    const bytes = encodeBackupMeta(m);
    const doc = JSON.parse(Buffer.from(bytes).toString('utf8').split('\n')[0]!) as { version: number; files: Array<Record<string, unknown>> };
    expect(doc.version).toBe(1);
    expect(doc.files[0]!['uniqueId']).toBe(Buffer.from(id).toString('hex'));
    expect(doc.files[1]!['uniqueId']).toBeUndefined();
    const back = decodeBackupMeta(bytes, 'meta/3');
    expect(back).toEqual(m);
    expect(back.files[0]!.file.uniqueId).toEqual(id);
  });

  it('round-trips a table range-deletion count (optional, any version)', () => {
    const m = { ...META_EXAMPLE, files: META_EXAMPLE.files.map((f, i) => i === 1 ? { ...f, file: makeFileMetadata({ ...f.file, numRangeDeletions: 4 }) } : f) };
    const bytes = encodeBackupMeta(m);
    const doc = JSON.parse(Buffer.from(bytes).toString('utf8').split('\n')[0]!) as { version: number; files: Array<Record<string, unknown>> };
    expect(doc.version).toBe(1);
    expect(doc.files[1]!['rangeDeletions']).toBe(4);
    expect(doc.files[0]!['rangeDeletions']).toBeUndefined();
    const back = decodeBackupMeta(bytes, 'meta/3');
    expect(back).toEqual(m);
    expect(back.files[1]!.file.numRangeDeletions).toBe(4);
  });

  it('tolerates a missing final newline, refuses any damage to the checksum line', () => {
    const bytes = encodeBackupMeta(META_EXAMPLE);
    expect(decodeBackupMeta(bytes.subarray(0, bytes.length - 1), 'm')).toEqual(META_EXAMPLE);
    const text = Buffer.from(bytes).toString('latin1');
    for (const bad of [text.replace('crc32c ', 'crc32c  '), text.replace('crc32c ', 'CRC32C '), `${text}\n`, `${text}x`, text.replace(/\n/, '\r\n')]) {
      expect(() => decodeBackupMeta(Buffer.from(bad, 'latin1'), 'meta/3')).toThrow(/meta\/3/);
    }
  });

  it('a newer format version is ERR_NOT_SUPPORTED', () => {
    const d = exampleDoc();
    d['version'] = 3; // 2 is an encrypted backup's (test/backup/encrypted-backup.test.ts)
    expect(() => decodeBackupMeta(withCrc(d), 'meta/3')).toThrow(expect.objectContaining({ code: 'ERR_NOT_SUPPORTED' }));
  });

  it('refuses a nextFileNumber not above every listed file number (a replay would overwrite a restored table)', () => {
    for (const next of [17, 9, 0]) {
      const d = exampleDoc();
      d['nextFileNumber'] = next;
      expect(() => decodeBackupMeta(withCrc(d), '/bk/meta/3'), `nextFileNumber ${next}`)
        .toThrow(expect.objectContaining({ code: 'ERR_CORRUPTION', file: '/bk/meta/3' }));
    }
  });

  it.each(HOSTILE)('refuses hostile metadata: %s', (_what, mutate) => {
    const data = withCrc(mutate(exampleDoc()));
    let err: unknown;
    try {
      decodeBackupMeta(data, '/bk/meta/3');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERR_CORRUPTION', file: '/bk/meta/3' });
  });

  it('through the engine, hostile metadata is refused by list, verify and restore, and nothing is written outside the target', async () => {
    const fs = new MemFileSystem();
    const db = await DB.open('/db', { fs, writeBufferSize: 16 * 1024 });
    for (let i = 0; i < 300; i++) await db.put(`k${String(i).padStart(4, '0')}`, `value-${i}-`.repeat(10));
    await db.flush();
    await db.put('in-memtable', 'yes');
    await db.backup('/bk');
    await db.close();
    const original = await fs.readFile('/bk/meta/1');
    const realDoc = JSON.parse(Buffer.from(original).toString('utf8').split('\n')[0]!) as ReturnType<typeof exampleDoc>;
    // Decoys: files a traversal would reach. They must be neither read into the target nor changed.
    await fs.mkdir('/etc', { recursive: true });
    const decoy = await fs.openWritable('/etc/passwd');
    decoy.append(enc.encode('root:x:0:0\n'));
    await decoy.close();
    const engine = await BackupEngine.open('/bk', { fs });
    for (const [i, [what, mutate]] of HOSTILE.entries()) {
      const doc = mutate(structuredClone(realDoc) as ReturnType<typeof exampleDoc>);
      const w = await fs.openWritable('/bk/meta/1');
      w.append(withCrc(doc));
      await w.close();
      const before = await snapshotFs(fs);
      const target = `/restore-${i}`;
      await rejectsWith(() => engine.list(), 'ERR_CORRUPTION', `list (${what})`);
      await rejectsWith(() => engine.verify(1), 'ERR_CORRUPTION', `verify (${what})`);
      await rejectsWith(() => engine.restore(1, target), 'ERR_CORRUPTION', `restore (${what})`);
      await rejectsWith(() => engine.purge({ keepLast: 5 }), 'ERR_CORRUPTION', `purge (${what})`);
      const after = await snapshotFs(fs);
      for (const [p, content] of after) {
        if (p === target || p.startsWith(`${target}/`)) continue;
        expect(before.get(p), `${what}: ${p} was written`).toBe(content);
      }
      expect([...before.keys()].filter((p) => !after.has(p)), `${what}: files removed`).toEqual([]);
    }
    // The real metadata back: everything works again, shared tables intact (purge above deleted nothing).
    const w = await fs.openWritable('/bk/meta/1');
    w.append(original);
    await w.close();
    await engine.verify(1);
    await engine.restore(1, '/restored');
    const r = await DB.open('/restored', { fs });
    expect((await r.get('in-memtable'))?.toString()).toBe('yes');
    await r.close();
  });
});

/** Every file of a MemFileSystem: path -> content (hex). */
async function snapshotFs(fs: MemFileSystem, dir = '/', out = new Map<string, string>()): Promise<Map<string, string>> {
  for (const name of await fs.list(dir)) {
    const p = path.posix.join(dir, name);
    if ((await fs.stat(p)).isDirectory) await snapshotFs(fs, p, out);
    else out.set(p, Buffer.from(await fs.readFile(p)).toString('hex'));
  }
  return out;
}
