/**
 * A bundled app (README "Bundling"): the package's compiled code bundled into one file with every
 * package import left external, as esbuild/webpack setups do with native modules. The bundler is
 * rolldown, which arrives with vitest (through vite); the bundle runs in a child process.
 * Without the worker file beside the bundle, 'auto' must run compactions inline (saying so in LOG)
 * and keep accepting writes; 'worker' must refuse the open; a worker bundled as a second entry
 * named worker.js, or pointed at by compactionWorkerPath, must run compactions in workers.
 * Needs the compiled dist/ (npm test builds first).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmpdir.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = path.join(ROOT, 'dist');
const run = promisify(execFile);

/** The app: small buffers so a few thousand writes cause many compactions; prints what happened. */
const APP = `
import { DB } from './strata.js';
const [dir, executor, workerPath] = process.argv.slice(2);
const options = { writeBufferSize: 16 * 1024, targetFileSize: 8 * 1024, maxBytesForLevelBase: 32 * 1024,
  level0CompactionTrigger: 2, compactionExecutor: executor };
if (workerPath) options.compactionWorkerPath = workerPath;
let db;
try { db = await DB.open(dir, options); }
catch (e) { console.log(JSON.stringify({ openError: e.code, message: e.message })); process.exit(0); }
let writeError;
try {
  for (let i = 0; i < 4000; i++) await db.put('k' + String((i * 7919) % 1500).padStart(6, '0'), 'v'.repeat(100) + i);
  await db.compactRange();
  await db.put('after', 'compactions');
} catch (e) { writeError = e.code + ' ' + e.message; }
const stats = db.stats();
const started = db.engine.executor.started ?? 0;
const last = (await db.get('after'))?.toString();
await db.close();
console.log(JSON.stringify({ writeError, compactions: stats.compactions.count, started, last }));
`;

async function bundle(out: string, entries: Record<string, string>): Promise<void> {
  const { rolldown } = await import('rolldown');
  const b = await rolldown({
    input: entries,
    external: (id: string) => !id.startsWith('.') && !path.isAbsolute(id),
    platform: 'node',
    logLevel: 'silent',
  });
  await b.write({ dir: out, format: 'esm', entryFileNames: '[name].js' });
  await b.close();
}

async function app(withWorker: boolean): Promise<string> {
  expect(existsSync(path.join(DIST, 'src', 'index.js')), 'dist/ missing: run npm run build').toBe(true);
  const out = await tempDir('strata-bundle-');
  const entries: Record<string, string> = { strata: path.join(DIST, 'src', 'index.js') };
  if (withWorker) entries['worker'] = path.join(DIST, 'compaction', 'worker.js');
  await bundle(out, entries);
  await writeFile(path.join(out, 'app.mjs'), APP);
  // The externals (native modules and other packages) resolve from node_modules, as in a deployment.
  await symlink(path.join(ROOT, 'node_modules'), path.join(out, 'node_modules'), 'dir');
  return out;
}

interface Outcome { openError?: string; message?: string; writeError?: string; compactions: number; started: number; last?: string }

async function runApp(out: string, executor: string, workerPath = ''): Promise<{ r: Outcome; log: string; dir: string }> {
  const dir = path.join(out, 'db');
  const { stdout } = await run(process.execPath, [path.join(out, 'app.mjs'), dir, executor, workerPath], { cwd: out });
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as Outcome;
  const log = existsSync(path.join(dir, 'LOG')) ? await readFile(path.join(dir, 'LOG'), 'utf8') : '';
  return { r, log, dir };
}

describe('a bundled app', () => {
  it("without the worker file: 'auto' compacts inline, says so in LOG, and keeps accepting writes", async () => {
    const out = await app(false);
    expect(existsSync(path.join(out, 'worker.js'))).toBe(false);
    const { r, log } = await runApp(out, 'auto');
    expect(r.writeError).toBeUndefined();
    expect(r.last).toBe('compactions');
    expect(r.compactions).toBeGreaterThan(2);
    expect(r.started).toBe(0);
    expect(log).toMatch(/compaction worker script .*worker\.js not found: compactions run inline/);
    expect(log).toMatch(/\(inline\)/);
  });

  it("without the worker file: 'worker' refuses the open with ERR_NOT_SUPPORTED and creates nothing", async () => {
    const out = await app(false);
    const { r, dir } = await runApp(out, 'worker');
    expect(r.openError).toBe('ERR_NOT_SUPPORTED');
    expect(r.message).toMatch(/compactionWorkerPath/);
    expect(existsSync(dir)).toBe(false);
  });

  it('with the worker bundled as worker.js beside the app, or named by compactionWorkerPath, compactions run in workers', async () => {
    const out = await app(true);
    const beside = await runApp(out, 'worker');
    expect(beside.r.writeError).toBeUndefined();
    expect(beside.r.started).toBeGreaterThan(0);
    expect(beside.log).toMatch(/\(worker\)/);
    expect(beside.log).not.toMatch(/\(inline\)/);

    const plain = await app(false);
    const named = await runApp(plain, 'worker', path.join(out, 'worker.js'));
    expect(named.r.writeError).toBeUndefined();
    expect(named.r.compactions).toBeGreaterThan(2);
    expect(named.r.started).toBeGreaterThan(0);
    expect(named.log).not.toMatch(/\(inline\)/);
  });
});
