/**
 * `stratadb sst-dump`: golden text output (test/testdata/tools/sst-dump.txt) on a library table
 * and an engine table, the --json shapes, --verify on a damaged block (exit 1 naming the file and
 * offset), and a missing file (exit 2, no stack trace). Runs the compiled CLI as a child process.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runGolden } from '../support/golden.js';
import { ValueKind } from '../../src/base/internal-key.js';
import { NodeFileSystem } from '../../src/fs/node-fs.js';
import { MemTable } from '../../src/memtable/memtable.js';
import { writeTable } from '../../src/table/table-output.js';
import { tempDir } from '../support/tmpdir.js';
import {
  flipByte, hasStackTrace, makeFixtureDb, onlyFile, redact, runCli, writeLibraryTable, FIXED_CLOCK_MS, type CliResult,
} from './cli-helpers.js';

const GOLDEN = fileURLToPath(new URL('../testdata/tools/sst-dump.txt', import.meta.url));

async function fixtures(): Promise<{ dir: string; library: string; engine: string }> {
  const dir = await tempDir('strata-sst-dump-');
  const library = path.join(dir, 'library.sst');
  await writeLibraryTable(library);
  const dbDir = path.join(dir, 'db');
  await makeFixtureDb(dbDir);
  return { dir, library, engine: onlyFile(dbDir, '.sst') };
}

describe('stratadb sst-dump', () => {
  it('prints the golden text for properties, blocks, --scan and --verify', async () => {
    const f = await fixtures();
    const run = (line: string): Promise<CliResult> => {
      const [, fixture, ...flags] = line.trim().split(/\s+/);
      return runCli(['sst-dump', fixture === 'engine' ? f.engine : f.library, ...flags]);
    };
    // Every case starts at once (a process start costs ~0.5 s here); the golden runner then reads them in order.
    const started = new Map<string, Promise<CliResult>>();
    for (const line of readFileSync(GOLDEN, 'utf8').split('\n')) if (line.startsWith('sst-dump ')) started.set(line.trim(), run(line));
    await runGolden(GOLDEN, async (c) => {
      const r = await (started.get(['sst-dump', ...c.args].join(' ')) ?? run(['sst-dump', ...c.args].join(' ')));
      const err = r.stderr.trimEnd();
      // An engine table's unique id is random: the golden shows that it is there, not its value.
      const stdout = r.stdout.trimEnd().replace(/(uniqueId\s+)[0-9a-f]{32}/, '$1<32 hex digits>');
      return [redact(stdout, f.dir), ...(err ? [`stderr: ${redact(err, f.dir)}`] : []), `exit ${r.code}`].join('\n');
    });
  });

  it('--json shapes; --verify exits 1 naming the file and offset of a damaged block; a missing file exits 2', async () => {
    const f = await fixtures();
    const [layout, scan, engineLayout] = await Promise.all([
      runCli(['sst-dump', f.library, '--json']),
      runCli(['sst-dump', f.engine, '--scan', '--verify', '--json']),
      runCli(['sst-dump', f.engine, '--json']),
    ]);
    expect(layout.code).toBe(0);
    const j = JSON.parse(layout.stdout);
    expect(j.keys).toBe('bytewise');
    expect(j.properties.numEntries).toBe(4);
    expect(j.properties.creationTimeMs).toBe(FIXED_CLOCK_MS);
    expect(j.properties.smallestKey).toEqual({ key: '0x00ff', keyHex: '00ff' });
    const total = j.summary.find((s: { kind: string }) => s.kind === 'total');
    expect(total.storedBytes).toBe(j.fileSize);
    expect(total.count).toBe(j.blocks.length);
    const dataBlocks = j.blocks.filter((b: { kind: string }) => b.kind === 'data');
    expect(dataBlocks.length).toBe(j.properties.numDataBlocks);

    expect(scan.code).toBe(0);
    const s = JSON.parse(scan.stdout);
    expect(s.keys).toBe('internal');
    // An engine table shows its unique id; a library table written without one has none.
    expect(JSON.parse(engineLayout.stdout).properties.uniqueId).toMatch(/^[0-9a-f]{32}$/);
    expect(j.properties.uniqueId).toBeUndefined();
    // key000..key019 and the delete of key005, whose put the flush left out (shadowed, no snapshot)
    expect(s.verify).toEqual({ ok: true, blocks: 7, entries: 20 }); // data, filter and index partition, properties, metaindex, top-level index, footer
    expect(s.count).toBe(20);
    expect(s.entries[0]).toEqual({ key: 'key000', keyHex: '6b6579303030', seq: 1, type: 'put', value: 'value-0', valueHex: '76616c75652d30' });
    expect(s.entries.filter((e: { type: string }) => e.type === 'del')).toEqual([
      { key: 'key005', keyHex: '6b6579303035', seq: 21, type: 'del', value: '', valueHex: '' },
    ]);

    const second = dataBlocks[1];
    await flipByte(f.library, second.offset + 1);
    const [verify, missing] = await Promise.all([
      runCli(['sst-dump', f.library, '--verify']),
      runCli(['sst-dump', path.join(f.dir, 'nope.sst')]),
    ]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toBe('');
    expect(verify.stderr).toContain(`error ERR_CORRUPTION: ${f.library}: corruption at offset ${second.offset}`);
    expect(hasStackTrace(verify.stderr)).toBe(false);

    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error ERR_IO: .*nope\.sst.*ENOENT/);
    expect(hasStackTrace(missing.stderr)).toBe(false);
  });

  it('--scan lists the range deletions after the entries (text and JSON)', async () => {
    const dir = await tempDir('strata-sst-dump-');
    const mem = new MemTable();
    const te = new TextEncoder();
    mem.add(1, ValueKind.Put, te.encode('apple'), te.encode('red'));
    mem.add(2, ValueKind.RangeDelete, te.encode('b'), te.encode('f'));
    mem.add(3, ValueKind.RangeDelete, te.encode('d'), te.encode('h'));
    const options = { blockSize: 4096, blockRestartInterval: 16, indexBlockRestartInterval: 1, bloomBitsPerKey: 0, compression: 'none' as const, zstdLevel: 3 };
    await writeTable({ fs: new NodeFileSystem(), dir, fileNumber: 5, options, creationTimeMs: FIXED_CLOCK_MS }, mem.newIterator(), mem.rangeDelFragments());
    const file = path.join(dir, '000005.sst');
    const [text, json, plain] = await Promise.all([runCli(['sst-dump', file, '--scan']), runCli(['sst-dump', file, '--scan', '--json']), runCli(['sst-dump', file])]);
    expect(text.code).toBe(0);
    expect(text.stdout.trimEnd().split('\n')).toEqual([
      "'apple'@1 put => 'red'",
      '1 entries',
      '4 range deletions (start@seq => exclusive end):',
      "  'b'@2 rangedel => 'd'",
      "  'd'@3 rangedel => 'f'",
      "  'd'@2 rangedel => 'f'",
      "  'f'@3 rangedel => 'h'",
    ]);
    const j = JSON.parse(json.stdout);
    expect(j.count).toBe(1);
    expect(j.rangeDeletions[0]).toEqual({ key: 'b', keyHex: '62', seq: 2, type: 'rangedel', end: 'd', endHex: '64' });
    expect(j.rangeDeletions.length).toBe(4);
    expect(plain.stdout).toMatch(/range_del/);
  });
});

