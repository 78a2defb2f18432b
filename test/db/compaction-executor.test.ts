/**
 * The executor choice at open (src/compaction-executor.ts) and the fallback when a worker cannot
 * start (compaction/fallback-executor.ts): refusals change nothing; a worker script that dies while
 * loading moves compactions inline with one LOG line instead of failing them.
 * The bundled-app case (default script missing) is test/db/bundled-app.test.ts.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DB, StrataError } from '../../src/index.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { tempDir } from '../support/tmpdir.js';

const WORKER = fileURLToPath(new URL('../../dist/compaction/worker.js', import.meta.url));
const small = { writeBufferSize: 16 * 1024, targetFileSize: 8 * 1024, maxBytesForLevelBase: 32 * 1024, level0CompactionTrigger: 2 };

async function openError(dir: string, options: object): Promise<StrataError> {
  const e = await DB.open(dir, options).then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(StrataError);
  return e as StrataError;
}

describe('compaction executor choice', () => {
  it("refuses 'worker' with an injected fs, and creates nothing", async () => {
    const fs = new MemFileSystem();
    const e = await openError('/db', { compactionExecutor: 'worker', fs });
    expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e.message).toMatch(/injected fs/);
    expect(await fs.exists('/db')).toBe(false);
    // 'auto' and 'inline' with the same fs open fine (inline)
    const db = await DB.open('/db', { compactionExecutor: 'auto', fs });
    await db.close();
  });

  it('validates compactionWorkerPath: type, and a file that is not there (nothing created)', async () => {
    const dir = path.join(await tempDir(), 'db');
    expect((await openError(dir, { compactionWorkerPath: 42 })).code).toBe('ERR_INVALID_ARGUMENT');
    expect((await openError(dir, { compactionWorkerPath: '' })).code).toBe('ERR_INVALID_ARGUMENT');
    expect((await openError(dir, { compactionWorkerPath: new URL('https://example.invalid/w.js') })).code).toBe('ERR_INVALID_ARGUMENT');
    const missing = await openError(dir, { compactionWorkerPath: path.join(dir, '..', 'nope.js') });
    expect(missing.code).toBe('ERR_INVALID_ARGUMENT');
    expect(missing.message).toMatch(/compactionWorkerPath: no file at .*nope\.js/);
    expect(existsSync(dir)).toBe(false);
  });

  it('compactionWorkerPath as a file: URL runs compactions in workers, none started at open', async () => {
    expect(existsSync(WORKER), 'dist/ missing: run npm run build').toBe(true);
    const db = await DB.open(await tempDir(), { ...small, compactionExecutor: 'worker', compactionWorkerPath: pathToFileURL(WORKER) });
    const executor = (db.engine as unknown as { executor: { started: number; kind: string } }).executor;
    expect(executor.started).toBe(0);
    for (let i = 0; i < 1500; i++) await db.put(`k${String(i % 700).padStart(5, '0')}`, 'v'.repeat(100));
    await db.compactRange();
    expect(executor.started).toBeGreaterThan(0);
    expect(executor.kind).toBe('worker');
    await db.close();
  });

  it('a worker that cannot start: compactions run inline with one LOG line, writes keep working', async () => {
    const dir = await tempDir();
    const broken = path.join(dir, 'broken-worker.mjs');
    await writeFile(broken, "import './missing-module-of-the-worker.js';\n");
    const db = await DB.open(path.join(dir, 'db'), { ...small, compactionExecutor: 'worker', compactionWorkerPath: broken });
    for (let i = 0; i < 3000; i++) await db.put(`k${String(i % 900).padStart(5, '0')}`, 'v'.repeat(100));
    await db.compactRange();
    await db.put('after', 'x');
    expect(db.stats().compactions.count).toBeGreaterThan(2);
    await db.close();
    const log = await readFile(path.join(dir, 'db', 'LOG'), 'utf8');
    const lines = log.split('\n').filter((l) => l.includes('could not start'));
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/broken-worker\.mjs could not start: .*compactions and flushes run inline/);
    expect(log).not.toMatch(/compaction .*failed/i);
  });
});
