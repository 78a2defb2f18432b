/**
 * `stratadb sst-dump`: golden text output (test/testdata/tools/sst-dump.txt) on a library table
 * and an engine table, the --json shapes, --verify on a damaged block (exit 1 naming the file and
 * offset), and a missing file (exit 2, no stack trace). Runs the compiled CLI as a child process.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runGolden } from '../support/golden.js';
import { tempDir } from '../support/tmpdir.js';
import { flipByte, hasStackTrace, makeFixtureDb, onlyFile, redact, runCli, writeLibraryTable, FIXED_CLOCK_MS } from './cli-helpers.js';

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
    await runGolden(GOLDEN, async (c) => {
      const file = c.args[0] === 'engine' ? f.engine : f.library;
      const r = await runCli(['sst-dump', file, ...c.args.slice(1)]);
      const err = r.stderr.trimEnd();
      return [redact(r.stdout.trimEnd(), f.dir), ...(err ? [`stderr: ${redact(err, f.dir)}`] : []), `exit ${r.code}`].join('\n');
    });
  });

  it('--json: the layout adds up to the file size, and properties and keys are decoded', async () => {
    const f = await fixtures();
    const r = await runCli(['sst-dump', f.library, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.keys).toBe('bytewise');
    expect(j.properties.numEntries).toBe(4);
    expect(j.properties.creationTimeMs).toBe(FIXED_CLOCK_MS);
    expect(j.properties.smallestKey).toEqual({ key: '0x00ff', keyHex: '00ff' });
    const total = j.summary.find((s: { kind: string }) => s.kind === 'total');
    expect(total.storedBytes).toBe(j.fileSize);
    expect(total.count).toBe(j.blocks.length);
    expect(j.blocks.filter((b: { kind: string }) => b.kind === 'data').length).toBe(j.properties.numDataBlocks);
  });

  it('--scan --verify --json on an engine table: verify result, then every entry with seq and type', async () => {
    const f = await fixtures();
    const r = await runCli(['sst-dump', f.engine, '--scan', '--verify', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.keys).toBe('internal');
    expect(j.verify).toEqual({ ok: true, blocks: expect.any(Number), entries: 21 });
    expect(j.count).toBe(21);
    expect(j.entries[0]).toEqual({ key: 'key000', keyHex: '6b6579303030', seq: 1, type: 'put', value: 'value-0', valueHex: '76616c75652d30' });
    const tomb = j.entries.find((e: { type: string }) => e.type === 'del');
    expect(tomb).toMatchObject({ key: 'key005', seq: 21 });
  });

  it('--verify exits 1 naming the file and offset of a damaged block; the default dump fails too', async () => {
    const f = await fixtures();
    const layout = JSON.parse((await runCli(['sst-dump', f.library, '--json'])).stdout);
    const second = layout.blocks.filter((b: { kind: string }) => b.kind === 'data')[1];
    await flipByte(f.library, second.offset + 1);
    const [verify, dump] = await Promise.all([runCli(['sst-dump', f.library, '--verify']), runCli(['sst-dump', f.library])]);
    for (const r of [verify, dump]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error ERR_CORRUPTION: ${f.library}: corruption at offset ${second.offset}`);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
    expect(verify.stdout).toBe('');
  });

  it('a missing file is a usage mistake: exit 2, the code and message, no stack trace', async () => {
    const dir = await tempDir('strata-sst-dump-');
    const r = await runCli(['sst-dump', path.join(dir, 'nope.sst')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error ERR_IO: .*nope\.sst.*ENOENT/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});
