/**
 * What db.ingest() refuses, and that a refusal changes nothing (same entries, same sequence, same
 * table files): bad arguments, files that overlap each other (both named), a file whose keys are
 * not strictly increasing (named), a damaged file (CorruptionError naming the file and offset), an
 * engine table, a missing file, a read-only or closed database. Each test has its own MemFileSystem.
 */
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import { DB, MemFileSystem, type CorruptionError } from '../../src/index.js';
import { TableWriter, writeExternalTable } from '../../sstable/index.js';
import { compareBytes } from '../../src/base/bytes.js';
import { bytewiseComparator } from '../../src/base/comparator.js';
import { readAll, rejectsWith } from '../support/db-check.js';

const DIR = '/db';

async function setup(): Promise<{ db: DB; fs: MemFileSystem; state: () => Promise<unknown> }> {
  const fs = new MemFileSystem();
  await fs.mkdir('/ext');
  const db = await DB.open(DIR, { fs, compactionExecutor: 'inline' });
  for (let i = 0; i < 50; i++) await db.put(`k${i}`, `v${i}`);
  await db.flush();
  await db.put('m', 'memtable'); // outside every range below: no flush is forced
  const state = async (): Promise<unknown> => ({
    entries: await readAll(db),
    sequence: db.stats().sequence,
    tables: (await fs.list(DIR)).filter((n) => n.endsWith('.sst')).sort(),
  });
  return { db, fs, state };
}

describe('db.ingest refusals', () => {
  it('bad arguments: ERR_INVALID_ARGUMENT, nothing changed', async () => {
    const { db, fs, state } = await setup();
    await writeExternalTable('/ext/a.sst', [['a', '1']], { fs });
    const before = await state();
    for (const [files, opts] of [
      [[], undefined], [[''], undefined], [42, undefined], [[1], undefined], [null, undefined],
      [['/ext/a.sst', '/ext/a.sst'], undefined], [['/ext/a.sst'], { mvoe: true }], [['/ext/a.sst'], { move: 'yes' }],
      [['/ext/a.sst'], 'move'],
    ] as const) {
      await rejectsWith(() => db.ingest(files as never, opts as never), 'ERR_INVALID_ARGUMENT', `ingest(${JSON.stringify(files)}, ${JSON.stringify(opts)})`);
    }
    const e = await rejectsWith(() => db.ingest('/ext/missing.sst'), 'ERR_INVALID_ARGUMENT');
    expect(e.message).toContain('/ext/missing.sst');
    expect(await state()).toEqual(before);
    await db.close();
  });

  it('files overlapping each other: both named, nothing changed', async () => {
    const { db, fs, state } = await setup();
    await writeExternalTable('/ext/a.sst', [['a', '1'], ['c', '1']], { fs });
    await writeExternalTable('/ext/b.sst', [['c', '2'], ['d', '2']], { fs });
    await writeExternalTable('/ext/x.sst', [['x', '1']], { fs });
    const before = await state();
    const e = await rejectsWith(() => db.ingest(['/ext/x.sst', '/ext/b.sst', '/ext/a.sst']), 'ERR_INVALID_ARGUMENT');
    expect(e.message).toMatch(/\/ext\/a\.sst.*\/ext\/b\.sst.*overlap/);
    expect(await state()).toEqual(before);
    await db.close();
  });

  it('keys not strictly increasing: the file named, nothing changed', async () => {
    const { db, fs, state } = await setup();
    // A writer told that descending is bytewise order: the table is well formed, its order is not.
    const liar = { name: bytewiseComparator.name, compare: (a: Uint8Array, b: Uint8Array) => compareBytes(b, a) };
    const file = await fs.openWritable('/ext/desc.sst');
    const w = new TableWriter(file, { blockSize: 64, blockRestartInterval: 4, compression: 'none', bloomBitsPerKey: 0, comparator: liar });
    for (const k of ['k9', 'k8', 'k7', 'k60', 'k5']) await w.add(Buffer.from(k), Buffer.from('x'));
    await w.finish();
    await file.sync();
    await file.close();
    const before = await state();
    const e = await rejectsWith(() => db.ingest('/ext/desc.sst'), 'ERR_INVALID_ARGUMENT');
    expect(e.message).toContain('/ext/desc.sst');
    expect(e.message).toContain('not strictly increasing');
    expect(await state()).toEqual(before);
    await db.put('after', 'ok'); // the database goes on
    await db.close();
  });

  it('a damaged block: ERR_CORRUPTION naming the file and the offset, nothing changed', async () => {
    const { db, fs, state } = await setup();
    const entries = Array.from({ length: 200 }, (_, i) => [`a${String(i).padStart(4, '0')}`, 'v'.repeat(20)] as const);
    await writeExternalTable('/ext/bad.sst', entries, { fs, blockSize: 256 });
    const bytes = await fs.readFile('/ext/bad.sst');
    bytes[1000] = bytes[1000]! ^ 0x40; // inside a data block (the index, filter and footer are at the end)
    const f = await fs.openWritable('/ext/bad2.sst');
    f.append(bytes);
    await f.sync();
    await f.close();
    const before = await state();
    const e = await rejectsWith(() => db.ingest('/ext/bad2.sst'), 'ERR_CORRUPTION') as CorruptionError;
    expect(e.file).toBe('/ext/bad2.sst');
    expect(e.offset).toBeGreaterThan(0);
    expect(e.offset).toBeLessThanOrEqual(1000);
    expect(await state()).toEqual(before);
    await db.close();
  });

  it('an engine table (internal keys) is not an external table', async () => {
    const { db, fs, state } = await setup();
    const sst = (await fs.list(DIR)).find((n) => n.endsWith('.sst'))!;
    const copy = await fs.openWritable('/ext/engine.sst');
    copy.append(await fs.readFile(`${DIR}/${sst}`));
    await copy.close();
    const before = await state();
    const e = await rejectsWith(() => db.ingest('/ext/engine.sst'), 'ERR_INVALID_ARGUMENT');
    expect(e.message).toContain('/ext/engine.sst');
    expect(await state()).toEqual(before);
    await db.close();
  });

  it('read-only and closed databases refuse', async () => {
    const { db, fs } = await setup();
    await writeExternalTable('/ext/a.sst', [['a', '1']], { fs });
    await db.close();
    await rejectsWith(() => db.ingest('/ext/a.sst'), 'ERR_CLOSED');
    const ro = await DB.open(DIR, { fs, readOnly: true });
    await rejectsWith(() => ro.ingest('/ext/a.sst'), 'ERR_READ_ONLY');
    await ro.close();
    expect(await fs.exists('/ext/a.sst')).toBe(true);
  });
});
