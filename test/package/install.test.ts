/**
 * The published package as a user gets it: `npm pack` (of the built dist/, scripts skipped), then
 * the tarball installed into a fresh project twice, with npm's default layout and with
 * `--install-strategy=linked` (pnpm-like: a package sees only what it declares), from the local npm
 * cache where it can (--prefer-offline). In each project a separate node process imports every entry
 * of the package's "exports" (read from the packed package.json, so a new export is covered by
 * itself) and uses the main ones; the `stratadb` bin answers --help and runs `bench` without
 * classic-level; the README's relative links resolve inside the installed package; and tsc
 * resolves the types under moduleResolution node16, nodenext and bundler (node10 cannot: the check's
 * own control).
 * Part of `npm test` (about a minute and a half of its own on 2 cores, beside the other files); alone:
 * `npm run test:package`. It needs the npm cache `npm ci` filled (or the registry).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const execFileP = promisify(execFile);

/** The environment without the npm_* variables of an outer `npm run` (they would steer the inner npm). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}

async function sh(cmd: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileP(cmd, args, { cwd, env: cleanEnv(), maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    err.message = `${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`;
    throw err;
  }
}

/** Imports every export of the installed package, then uses the main ones; prints a JSON summary. */
const CHECK = `
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const require = createRequire(import.meta.url);
const pkg = require('stratadb/package.json');
const out = { exports: {} };
for (const key of Object.keys(pkg.exports)) {
  const spec = 'stratadb' + key.slice(1);
  const mod = key.endsWith('.json') ? await import(spec, { with: { type: 'json' } }) : await import(spec);
  out.exports[key] = Object.keys(mod).length;
}
const { DB } = await import('stratadb');
const db = await DB.open(mkdtempSync(join(tmpdir(), 'strata-installed-')));
await db.put('k', 'v');
out.get = (await db.get('k')).toString();
await db.close();
const { StrataLevel } = await import('stratadb/level');
const level = new StrataLevel(mkdtempSync(join(tmpdir(), 'strata-installed-level-')));
await level.put('a', '1');
out.level = await level.get('a');
await level.close();
const { TableReader, TableWriter } = await import('stratadb/sstable');
out.sstable = typeof TableReader === 'function' && typeof TableWriter === 'function';
console.log(JSON.stringify(out));
`;

const TYPES_CHECK = `
import { DB, WriteBatch, StrataError } from 'stratadb';
import { StrataLevel } from 'stratadb/level';
import { TableReader } from 'stratadb/sstable';
export async function use(dir: string): Promise<string | undefined> {
  const db: DB = await DB.open(dir, { compression: 'lz4', compactionExecutor: 'auto' });
  await db.write(new WriteBatch().put('a', 'b'));
  const level = new StrataLevel<string, string>(dir + '-level');
  const v = await level.get('a');
  const e: StrataError | undefined = undefined;
  void e; void TableReader;
  return (await db.get('a'))?.toString() ?? v;
}
`;

const RESOLUTIONS: Array<{ name: string; module: string; moduleResolution: string; works: boolean }> = [
  { name: 'node16', module: 'node16', moduleResolution: 'node16', works: true },
  { name: 'nodenext', module: 'nodenext', moduleResolution: 'nodenext', works: true },
  { name: 'bundler', module: 'esnext', moduleResolution: 'bundler', works: true },
  // Control: node10 resolution ignores "exports", so subpaths cannot resolve. If this passed, the check would prove nothing.
  { name: 'node10', module: 'commonjs', moduleResolution: 'node10', works: false },
];

let work: string;
let tarball: string;
const installs = new Map<string, Promise<string>>();

/** The project with the tarball installed with `flags`, installed once per strategy. */
function installed(strategy: string, flags: string[]): Promise<string> {
  let p = installs.get(strategy);
  if (!p) {
    p = (async () => {
      const project = path.join(work, strategy);
      await sh('mkdir', ['-p', project], work);
      await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: `app-${strategy}`, private: true, type: 'module' }));
      await sh('npm', ['install', tarball, ...flags, '--prefer-offline', '--no-audit', '--no-fund'], project);
      return project;
    })();
    installs.set(strategy, p);
  }
  return p;
}

// npm and tsc child processes: slower than the default test timeout on a busy 2-core machine.
vi.setConfig({ testTimeout: 120_000 });

const STRATEGIES = [
  { strategy: 'default', flags: [] as string[] },
  { strategy: 'linked', flags: ['--install-strategy=linked'] },
];

beforeAll(async () => {
  expect(existsSync(path.join(ROOT, 'dist', 'src', 'index.js')), 'dist/ missing: run npm run build').toBe(true);
  work = await mkdtemp(path.join(tmpdir(), 'strata-pack-'));
  // --ignore-scripts: pack what the build made (prepare would rebuild it).
  const { stdout } = await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
  const [info] = JSON.parse(stdout) as Array<{ filename: string }>;
  tarball = path.join(work, path.basename(info!.filename));
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

describe.each(STRATEGIES)('the packed tarball installed with the $strategy strategy', ({ strategy, flags }) => {
  let project: string;

  beforeAll(async () => {
    project = await installed(strategy, flags);
  }, 240_000);

  it('imports every export in a separate node process and uses the main ones', async () => {
    await writeFile(path.join(project, 'check.mjs'), CHECK);
    const { stdout } = await sh(process.execPath, ['check.mjs'], project);
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { exports: Record<string, number>; get: string; level: string; sstable: boolean };
    expect(Object.keys(r.exports).sort()).toEqual(['.', './level', './package.json', './sstable']);
    for (const [k, n] of Object.entries(r.exports)) expect(n, `exports of ${k}`).toBeGreaterThan(0);
    expect(r.get).toBe('v');
    expect(r.level).toBe('1');
    expect(r.sstable).toBe(true);
  });

  it('runs the stratadb bin: --help, and bench without classic-level (StrataDB alone, saying so)', async () => {
    const bin = path.join(project, 'node_modules', '.bin', 'stratadb');
    const help = await sh(bin, ['--help'], project);
    expect(help.stdout).toMatch(/Usage: stratadb/);
    expect(help.stdout).toMatch(/bench/);
    const bench = await sh(bin, ['bench', '--num', '300', '--compare', 'classic-level', 'fillseq', 'readrandom'], project);
    expect(bench.stdout).toMatch(/fillseq/);
    expect(bench.stdout).toMatch(/classic-level: not available.*not installed/);
  });

  it("resolves every relative link of the README inside the installed package", async () => {
    const pkgDir = path.join(project, 'node_modules', 'stratadb');
    const readme = await readFile(path.join(pkgDir, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    expect(links.length).toBeGreaterThan(5);
    expect(links.filter((l) => !existsSync(path.join(pkgDir, l)))).toEqual([]);
    expect(existsSync(path.join(pkgDir, 'LICENSE'))).toBe(true);
  });

  it('ships no source map whose sources are missing', async () => {
    const pkgDir = path.join(project, 'node_modules', 'stratadb');
    const missing: string[] = [];
    for (const map of ['dist/src/db.js.map', 'dist/sstable/table-reader.js.map', 'dist/compaction/worker.js.map', 'dist/tools/cli.js.map', 'dist/bench/driver.js.map']) {
      const file = path.join(pkgDir, map);
      expect(existsSync(file), map).toBe(true);
      const { sources } = JSON.parse(await readFile(file, 'utf8')) as { sources: string[] };
      for (const s of sources) if (!existsSync(path.resolve(path.dirname(file), s))) missing.push(`${map} -> ${s}`);
    }
    expect(missing).toEqual([]);
  });
});

// Types once, from the linked install (the stricter layout): each tsc run costs ~10 s here.
describe('TypeScript users of the installed package', () => {
  let project: string;

  beforeAll(async () => {
    project = await installed(STRATEGIES[1]!.strategy, STRATEGIES[1]!.flags);
  }, 240_000);

  it.each(RESOLUTIONS)('tsc resolves the types with moduleResolution $name: $works', async ({ name, module, moduleResolution, works }) => {
    const dir = path.join(project, `types-${name}`);
    await sh('mkdir', ['-p', dir], project);
    await writeFile(path.join(dir, 'use.ts'), TYPES_CHECK);
    await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        module, moduleResolution, target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true,
        types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      },
      files: ['use.ts'],
    }));
    const result = await sh(process.execPath, [TSC, '-p', dir], dir).then(() => 'ok', (e: Error) => e.message);
    if (works) expect(result).toBe('ok');
    else expect(result).toMatch(/Cannot find module 'stratadb\/level'/);
  }, 60_000);
});
