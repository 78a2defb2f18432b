/**
 * `stratadb wal-dump`: the fixture database's WAL (two records: a three-op batch and a put) as
 * text and --json; a torn tail (exit 0 with a note), corruption with a valid record after it
 * (exit 1), and a file that is not a WAL at all (exit 1); a reused (recycled) WAL whose tail is its
 * earlier use's records (exit 0, "end of log", none of the old records listed); range deletes counted
 * apart. The CLI runs as a child process.
 */
import { copyFile, readFile, truncate } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmpdir.js';
import { NodeFileSystem } from '../../src/fs/node-fs.js';
import { WalGroupEncoder } from '../../src/wal/wal-record.js';
import { WalWriter } from '../../src/wal/wal-writer.js';
import { WriteBatch } from '../../src/wal/write-batch.js';
import { FIXED_CLOCK_MS, flipByte, makeFixtureDb, onlyFile, runCli } from './cli-helpers.js';

async function fixtureWal(): Promise<{ dir: string; wal: string; table: string }> {
  const dir = await tempDir('strata-wal-dump-');
  await makeFixtureDb(path.join(dir, 'db'));
  return { dir, wal: onlyFile(path.join(dir, 'db'), '.log'), table: onlyFile(path.join(dir, 'db'), '.sst') };
}

describe('stratadb wal-dump', () => {
  it('lists records, batches and sequence numbers (text and JSON), and tells a torn tail from corruption', async () => {
    const { dir, wal, table } = await fixtureWal();
    const [text, json] = await Promise.all([runCli(['wal-dump', wal]), runCli(['wal-dump', wal, '--json'])]);
    expect(json.code).toBe(0);
    const w = JSON.parse(json.stdout);
    expect(w.status).toBe('ok');
    expect(w.header.version).toBe(2);
    expect(w.header.logNumber).toBe(Number.parseInt(path.basename(wal), 10));
    expect(w.records.map((r: { firstSeq: number; lastSeq: number; commitTimeMs: number; batches: unknown[] }) =>
      [r.firstSeq, r.lastSeq, r.commitTimeMs, r.batches])).toEqual([
      [22, 24, FIXED_CLOCK_MS, [{ firstSeq: 22, lastSeq: 24, ops: 3, puts: 2, deletes: 1, rangeDeletes: 0 }]],
      [25, 25, FIXED_CLOCK_MS, [{ firstSeq: 25, lastSeq: 25, ops: 1, puts: 1, deletes: 0, rangeDeletes: 0 }]],
    ]);
    expect(w.summary).toEqual({ records: 2, batches: 2, puts: 3, deletes: 1, rangeDeletes: 0, firstSeq: 22, lastSeq: 25 });

    expect(text.code).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`wal ${wal}  (${w.size} bytes, format 2, log number ${w.header.logNumber})`);
    expect(lines.slice(1)).toEqual([
      `  @${w.records[0].offset}  seq 22..24  ${w.records[0].length} bytes  2023-11-14T22:13:20.000Z  1 batch`,
      '      batch seq 22..24  3 ops (2 put, 1 del)',
      `  @${w.records[1].offset}  seq 25..25  ${w.records[1].length} bytes  2023-11-14T22:13:20.000Z  1 batch`,
      '      batch seq 25..25  1 op (1 put, 0 del)',
      '2 records, 2 batches, 4 ops (3 put, 1 del), sequence 22..25',
    ]);

    // Damage: a torn tail exits 0 with a note; corruption before valid data, or no WAL header, exits 1.
    const bytes = await readFile(wal);
    const torn = path.join(dir, 'torn.log');
    const corrupt = path.join(dir, 'corrupt.log');
    await copyFile(wal, torn);
    await truncate(torn, bytes.length - 4);
    await copyFile(wal, corrupt);
    await flipByte(corrupt, w.records[0].offset + 3);

    const [t, c, notWal] = await Promise.all([
      runCli(['wal-dump', torn]), runCli(['wal-dump', corrupt, '--json']), runCli(['wal-dump', table]),
    ]);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('1 record, 1 batch, 3 ops (2 put, 1 del), sequence 22..24');
    expect(t.stdout).toMatch(/torn tail at offset \d+/);

    expect(c.code).toBe(1);
    const cj = JSON.parse(c.stdout);
    expect(cj.status).toBe('corrupt');
    expect(cj.records).toEqual([]);
    expect(cj.problem.atTail).toBe(false);

    expect(notWal.code).toBe(1);
    expect(notWal.stdout).toContain('no valid header record');
  });

  it('a reused WAL: lists only its own records and ends where its earlier use starts (exit 0)', async () => {
    const dir = await tempDir('strata-wal-dump-');
    const fs = new NodeFileSystem();
    const e = new WalGroupEncoder();
    const write = (w: WalWriter, n: number, seq: number): void => {
      for (let i = 0; i < n; i++) {
        const b = new WriteBatch();
        // Same-size records in both lives: the new one's end is an old header, which names log 5.
        b.put(`k${String(seq + i).padStart(4, '0')}`, 'v'.repeat(50));
        e.begin(seq + i, FIXED_CLOCK_MS, 1);
        e.addBatch(b);
        w.appendGroup(e.finish());
      }
    };
    const old = new WalWriter(await fs.openWritable(path.join(dir, '000005.log')), 5, undefined, true);
    write(old, 40, 1);
    await old.close();
    await fs.rename(path.join(dir, '000005.log'), path.join(dir, '000009.log'));
    const now = new WalWriter(await fs.openWritable(path.join(dir, '000009.log'), { overwrite: true }), 9, undefined, true);
    write(now, 3, 100);
    await now.close();
    const wal = path.join(dir, '000009.log');
    const [text, json] = await Promise.all([runCli(['wal-dump', wal]), runCli(['wal-dump', wal, '--json'])]);
    expect(json.code).toBe(0);
    const w = JSON.parse(json.stdout);
    expect(w.status).toBe('ok');
    expect(w.recyclable).toBe(true);
    expect(w.header.logNumber).toBe(9);
    expect(w.summary).toMatchObject({ records: 3, firstSeq: 100, lastSeq: 102 });
    expect(w.problem.endOfRecyclable).toBe(true);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('recyclable framing');
    expect(text.stdout).toMatch(/end of log at offset \d+: record at \d+ belongs to log 5, not 9/);
  });

  it('counts range deletes apart from puts and deletes', async () => {
    const dir = await tempDir('strata-wal-dump-');
    const wal = path.join(dir, '000003.log');
    const w = new WalWriter(await new NodeFileSystem().openWritable(wal), 3);
    const e = new WalGroupEncoder();
    e.begin(10, FIXED_CLOCK_MS, 1);
    e.addBatch(new WriteBatch().put('a', '1').deleteRange('b', 'q').delete('z'));
    w.appendGroup(e.finish());
    await w.close();
    const [text, json] = await Promise.all([runCli(['wal-dump', wal]), runCli(['wal-dump', wal, '--json'])]);
    expect(json.code).toBe(0);
    const j = JSON.parse(json.stdout);
    expect(j.records[0].batches).toEqual([{ firstSeq: 10, lastSeq: 12, ops: 3, puts: 1, deletes: 1, rangeDeletes: 1 }]);
    expect(j.summary).toMatchObject({ puts: 1, deletes: 1, rangeDeletes: 1 });
    expect(text.stdout).toContain('      batch seq 10..12  3 ops (1 put, 1 del, 1 range del)');
    expect(text.stdout).toContain('1 record, 1 batch, 3 ops (1 put, 1 del, 1 range del), sequence 10..12');
  });
});
