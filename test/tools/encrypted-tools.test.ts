/**
 * The `stratadb` tools on an encrypted database (issue #9), each command a child process
 * (dist/tools/cli.js): with --key-file (or --key-env) sst-dump, wal-dump, manifest, scan, get, stats,
 * check, backup and rotate-key work; without the keys each fails cleanly (exit 2, the code and a
 * message naming the key id, a hint, no stack trace). No output, text or --json, ever contains the
 * key's hex or base64. Also inspect.table/manifest/wal in-process: they decrypt with a provider and
 * refuse without one, naming the key id.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DB, inspect, keyProviderFromFile, WriteBatch } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { hasStackTrace, runCli, type CliResult } from './cli-helpers.js';

const SENTINEL_KEY = 'SENTINEL-KEY-c0ffee';
const SENTINEL_VALUE = 'SENTINEL-VALUE-5e1f';
const K1 = randomBytes(32);
const K2 = randomBytes(32);
const secrets = [K1, K2].flatMap((k) => [k.toString('hex'), k.toString('base64'), k.toString('hex').toUpperCase()]);

/** No key material in anything a command printed. */
function expectNoKeys(results: CliResult[]): void {
  for (const r of results) for (const s of secrets) expect(r.stdout + r.stderr).not.toContain(s);
}

function expectRefused(r: CliResult, what: string): void {
  expect(r.code, `${what}: ${r.stderr}`).toBe(2);
  expect(r.stderr, what).toMatch(/^error ERR_INVALID_ARGUMENT: .*key id "k1"/);
  expect(r.stderr, what).toContain('--key-file');
  expect(hasStackTrace(r.stderr), what).toBe(false);
  expect(r.stdout, what).toBe('');
}

interface Fixture { root: string; dir: string; keyFile: string; sst: string; wal: string }

/** An encrypted database: key000..key199 flushed to a table, the sentinel left in the WAL. */
async function fixture(): Promise<Fixture> {
  const root = await tempDir('strata-enccli-');
  const dir = path.join(root, 'db');
  const keyFile = path.join(root, 'keys');
  writeFileSync(keyFile, `# test keys\nk1=${K1.toString('hex')}\n`);
  const db = await DB.open(dir, { flushOnClose: false, encryption: { keyProvider: keyProviderFromFile(keyFile) } });
  const b = new WriteBatch();
  for (let i = 0; i < 200; i++) b.put(`key${String(i).padStart(3, '0')}`, `value-${i}`);
  await db.write(b);
  await db.flush();
  await db.put(SENTINEL_KEY, SENTINEL_VALUE);
  await db.close();
  const names = readdirSync(dir);
  const sst = path.join(dir, names.find((n) => n.endsWith('.sst'))!);
  const wal = path.join(dir, names.filter((n) => n.endsWith('.log')).sort().pop()!);
  return { root, dir, keyFile, sst, wal };
}

afterEach(() => { delete process.env['STRATA_TEST_KEYS']; });

describe('stratadb on an encrypted database', () => {
  it('sst-dump, wal-dump, manifest, scan, get, stats and check work with --key-file and refuse cleanly without', async () => {
    const f = await fixture();
    const k = ['--key-file', f.keyFile];
    const ok = await Promise.all([
      runCli(['sst-dump', f.sst, '--scan', ...k]),
      runCli(['sst-dump', f.sst, '--verify', '--json', ...k]),
      runCli(['wal-dump', f.wal, '--json', ...k]),
      runCli(['manifest', f.dir, ...k]),
      runCli(['scan', f.dir, '--gte', 'S', '--lt', 'T', '--json', ...k]),
      runCli(['get', f.dir, SENTINEL_KEY, ...k]),
      runCli(['stats', f.dir, '--json', ...k]),
      runCli(['check', f.dir, ...k]),
      runCli(['manifest', f.dir, '--json', ...k]),
      runCli(['stats', f.dir, ...k]),
    ]);
    for (const r of ok) expect(r.code, r.stderr).toBe(0);
    const layout = await runCli(['sst-dump', f.sst, ...k]);
    expect(layout.code, layout.stderr).toBe(0);
    expect(layout.stdout).toMatch(/format 4 \(encrypted, key id "[^"]+"\)/); // partitioned (format 3), encrypted
    const [sstScan, sstVerify, walDump, manifest, scan, get, stats, check, manifestJson, statsText] = ok;
    expect(sstScan!.stdout).toContain("'key199'");
    expect(sstScan!.stdout).toMatch(/200 entries\n$/);
    expect(JSON.parse(sstVerify!.stdout)).toMatchObject({ verify: { ok: true, entries: 200 } });
    expect(JSON.parse(walDump!.stdout)).toMatchObject({ status: 'ok', summary: { puts: 1 } });
    expect(manifest!.stdout).toContain('key id "k1"');
    expect(JSON.parse(manifestJson!.stdout).levels[0].files[0]).toMatchObject({ keyId: 'k1' });
    expect(JSON.parse(scan!.stdout)).toEqual([{ key: SENTINEL_KEY, value: SENTINEL_VALUE }]); 
    expect(get!.stdout).toBe(`${SENTINEL_VALUE}\n`);
    expect(JSON.parse(stats!.stdout).encryption).toMatchObject({ enabled: true, currentKeyId: 'k1', keyIdsInUse: { k1: 1 } });
    expect(statsText!.stdout).toMatch(/^encryption +aes-256-gcm, current key id "k1", tables per key id: "k1" 1$/m);
    expect(check!.stdout).toMatch(/healthy\n$/);

    const refused = await Promise.all([
      runCli(['sst-dump', f.sst]),
      runCli(['sst-dump', f.sst, '--verify', '--json']),
      runCli(['wal-dump', f.wal]),
      runCli(['wal-dump', f.wal, '--json']),
      runCli(['manifest', f.dir]),
      runCli(['scan', f.dir]),
      runCli(['get', f.dir, SENTINEL_KEY]),
      runCli(['stats', f.dir, '--json']),
      runCli(['check', f.dir]),
    ]);
    // Read-write opens take the LOCK: one at a time.
    refused.push(await runCli(['put', f.dir, 'a', 'b']), await runCli(['compact', f.dir]));
    refused.forEach((r, i) => expectRefused(r, `refused #${i}`));
    expectNoKeys([...ok, ...refused]);
  });

  it('--key-env reads the keys from a variable; mistakes in key options are usage errors that never echo a key', async () => {
    const f = await fixture();
    process.env['STRATA_TEST_KEYS'] = `k1=${K1.toString('base64')}`;
    const [viaEnv, both, unset, badFile, missingFile, wrongKey] = await Promise.all([
      runCli(['get', f.dir, SENTINEL_KEY, '--key-env', 'STRATA_TEST_KEYS']),
      runCli(['get', f.dir, SENTINEL_KEY, '--key-env', 'STRATA_TEST_KEYS', '--key-file', f.keyFile]),
      runCli(['get', f.dir, SENTINEL_KEY, '--key-env', 'STRATA_TEST_NOT_SET']),
      (async () => {
        const bad = path.join(f.root, 'bad-keys');
        writeFileSync(bad, `k1=${K1.toString('hex').slice(0, 60)}\n`); // 60 of the 64 digits: not a key
        return runCli(['scan', f.dir, '--key-file', bad]);
      })(),
      runCli(['scan', f.dir, '--key-file', path.join(f.root, 'nope')]),
      (async () => {
        const other = path.join(f.root, 'other-keys');
        writeFileSync(other, `k1=${randomBytes(32).toString('hex')}\n`);
        return runCli(['scan', f.dir, '--key-file', other]);
      })(),
    ]);
    expect(viaEnv).toMatchObject({ code: 0, stdout: `${SENTINEL_VALUE}\n` });
    for (const r of [both, unset, badFile, missingFile]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: /);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
    expect(both.stderr).toContain('not both');
    expect(unset.stderr).toContain('STRATA_TEST_NOT_SET is not set');
    expect(missingFile.stderr).toContain('cannot read key file');
    expect(badFile.stderr).not.toContain(K1.toString('hex').slice(0, 60));
    expect(wrongKey.code).toBe(2); // the wrong key for k1: the header's key check value says so (a usage mistake, not damage)
    expect(wrongKey.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: .*MANIFEST-\d+: the key given for key id "k1" is not the key this file was written with/);
    expect(hasStackTrace(wrongKey.stderr)).toBe(false);
    expectNoKeys([viaEnv, both, unset, badFile, missingFile, wrongKey]);
  });

  it('backup create/list/verify/restore need the keys; rotate-key moves every table to the new key', async () => {
    const f = await fixture();
    const bk = path.join(f.root, 'bk');
    const k = ['--key-file', f.keyFile];
    const created = await runCli(['backup', 'create', f.dir, bk, '--json', ...k]);
    expect(created.code, created.stderr).toBe(0);
    const [list, verify, listNo, verifyNo, restoreNo, createNo] = await Promise.all([
      runCli(['backup', 'list', bk, '--json', ...k]),
      runCli(['backup', 'verify', bk, ...k]),
      runCli(['backup', 'list', bk]),
      runCli(['backup', 'verify', bk, '1']),
      runCli(['backup', 'restore', bk, 'latest', path.join(f.root, 'r0')]),
      runCli(['backup', 'create', f.dir, path.join(f.root, 'bk2')]),
    ]);
    expect(JSON.parse(list.stdout)).toMatchObject([{ id: 1 }]);
    expect(verify).toMatchObject({ code: 0, stdout: expect.stringMatching(/: ok\n$/) });
    for (const [i, r] of [listNo, verifyNo, restoreNo, createNo].entries()) expectRefused(r, `backup without keys #${i}`);
    const restored = await runCli(['backup', 'restore', bk, 'latest', path.join(f.root, 'r'), ...k]);
    expect(restored.code, restored.stderr).toBe(0);
    const fromRestore = await runCli(['get', path.join(f.root, 'r'), SENTINEL_KEY, ...k]);
    expect(fromRestore).toMatchObject({ code: 0, stdout: `${SENTINEL_VALUE}\n` });

    // Rotation: append k2 (now the current key), rotate, then k1 is no longer needed at all.
    appendFileSync(f.keyFile, `k2=${K2.toString('hex')}\n`);
    const [rotateNo, rotate] = [await runCli(['rotate-key', f.dir]), await runCli(['rotate-key', f.dir, ...k])];
    expect(rotateNo.code).toBe(2);
    expect(rotateNo.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: rotate-key needs the keys/);
    expect(rotate.code, rotate.stderr).toBe(0);
    // NB: background compaction may already have rewritten the stale table (rewritten counts this call only)
    expect(rotate.stdout).toMatch(/^current key id "k2"; \d+ tables? rewritten\n/);
    const stats = await runCli(['stats', f.dir, '--json', ...k]);
    expect(JSON.parse(stats.stdout).encryption).toMatchObject({ currentKeyId: 'k2', keyIdsInUse: { k2: expect.any(Number) } });
    expect(Object.keys(JSON.parse(stats.stdout).encryption.keyIdsInUse)).toEqual(['k2']);
    const onlyK2 = path.join(f.root, 'k2-only');
    writeFileSync(onlyK2, `k2=${K2.toString('hex')}\n`);
    const [check, get] = await Promise.all([
      runCli(['check', f.dir, '--key-file', onlyK2]),
      runCli(['get', f.dir, SENTINEL_KEY, '--key-file', onlyK2]),
    ]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(get).toMatchObject({ code: 0, stdout: `${SENTINEL_VALUE}\n` });
    const rotateJson = await runCli(['rotate-key', f.dir, '--json', '--key-file', onlyK2]);
    expect(JSON.parse(rotateJson.stdout)).toMatchObject({ keyId: 'k2', rewritten: 0 });
    expectNoKeys([created, list, verify, listNo, verifyNo, restoreNo, createNo, restored, rotateNo, rotate, stats, check, get, rotateJson]);
  });

  it('every command that opens a database or a file documents --key-file and --key-env', async () => {
    const cmds = [['get'], ['put'], ['delete'], ['scan'], ['stats'], ['check'], ['compact'], ['manifest'], ['wal-dump'], ['sst-dump'],
      ['rotate-key'], ['backup', 'create'], ['backup', 'list'], ['backup', 'verify'], ['backup', 'restore'], ['backup', 'purge']];
    const helps = await Promise.all(cmds.map((c) => runCli([...c, '--help'])));
    helps.forEach((h, i) => {
      expect(h.code, cmds[i]!.join(' ')).toBe(0);
      expect(h.stdout, cmds[i]!.join(' ')).toMatch(/--key-file <FILE>/);
      expect(h.stdout, cmds[i]!.join(' ')).toMatch(/--key-env <VAR>/);
    });
  });
});

describe('inspect on encrypted files', () => {
  it('decrypts with a provider, refuses without one naming the key id', async () => {
    const f = await fixture();
    const encryption = { keyProvider: keyProviderFromFile(f.keyFile) };
    const layout = await inspect.table(f.sst, { encryption });
    expect(layout.properties.numEntries).toBe(200);
    const m = await inspect.manifest(f.dir, { encryption });
    expect(m.problem).toBeUndefined();
    expect(m.levels[0]!.files[0]).toMatchObject({ keyId: 'k1', numEntries: 200 });
    const w = await inspect.wal(f.wal, { encryption });
    expect(w.problem).toBeUndefined();
    expect(w.records.length).toBeGreaterThan(0);
    for (const call of [() => inspect.table(f.sst), () => inspect.manifest(f.dir), () => inspect.wal(f.wal)]) {
      await expect(call()).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('key id "k1"') });
    }
    await expect(inspect.wal(f.wal, { encryption: { keyProvider: {} as never } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
