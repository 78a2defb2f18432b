/**
 * Per-call options are checked like open options: an unknown name is ERR_INVALID_ARGUMENT naming it
 * (with the closest known name), and the call changes nothing. Before, `put(k, v, { synch: true })`
 * wrote without syncing and a misspelt iterator option returned every key.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackupEngine, DB, MemFileSystem, WriteBatch, inspect, staticKeyProvider } from '../../src/index.js';

let db: DB;
beforeEach(async () => {
  db = await DB.open('/db', {
    fs: new MemFileSystem(), compactionExecutor: 'inline',
    encryption: { keyProvider: staticKeyProvider({ k1: 'a'.repeat(64) }, 'k1') },
  });
  await db.put('a', '1');
});
afterEach(async () => { await db.close(); });

/* eslint-disable @typescript-eslint/no-explicit-any -- the point is to pass what the types forbid */
const bad = { synch: true } as any;

describe('unknown per-call option names', () => {
  const calls: [string, (d: DB) => unknown, RegExp][] = [
    ['put', (d) => d.put('b', '2', bad), /write options: unknown option "synch" \(did you mean sync\?\)/],
    ['delete', (d) => d.delete('a', bad), /write options: unknown option "synch"/],
    ['write', (d) => d.write(new WriteBatch().put('b', '2'), bad), /write options: unknown option "synch"/],
    ['get', (d) => d.get('a', { fillCache: false } as any), /read options: unknown option "fillCache"/],
    ['getMany', (d) => d.getMany(['a'], { fillCache: false } as any), /read options: unknown option "fillCache"/],
    ['has', (d) => d.has('a', { snapsot: undefined, snapshoot: 1 } as any), /read options: unknown option "snapshoot" \(did you mean snapshot\?\)/],
    ['hasMany', (d) => d.hasMany(['a'], { signl: 1 } as any), /read options: unknown option "signl" \(did you mean signal\?\)/],
    ['iterator', (d) => d.iterator({ prefx: 'a' } as any), /iterator options: unknown option "prefx" \(did you mean prefix\?\)/],
    ['keys', (d) => d.keys({ revers: true } as any), /iterator options: unknown option "revers" \(did you mean reverse\?\)/],
    ['values', (d) => d.values({ limt: 1 } as any), /iterator options: unknown option "limt" \(did you mean limit\?\)/],
    ['beginTransaction', (d) => d.beginTransaction({ isolaton: 'serializable' } as any), /transaction options: unknown option "isolaton" \(did you mean isolation\?\)/],
    ['transaction', (d) => d.transaction(() => 1, { retires: 2 } as any), /transaction options: unknown option "retires" \(did you mean retries\?\)/],
    ['rotateKey', (d) => d.rotateKey({ rewite: true } as any), /rotateKey options: unknown option "rewite"/],
    ['backup', (d) => d.backup('/backup', { progress: () => undefined } as any), /backup options: unknown option "progress"/],
  ];
  for (const [name, call, message] of calls) {
    it(`${name} refuses an unknown option name`, async () => {
      let caught: unknown;
      try { await call(db); } catch (e) { caught = e; }
      expect(caught).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      expect((caught as Error).message).toMatch(message);
    });
  }

  it('a refused write changes nothing', async () => {
    await expect(db.put('b', '2', bad)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(db.write(new WriteBatch().put('c', '3'), bad)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(db.delete('a', bad)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(db.stats().sequence).toBe(1);
    expect(await db.getMany(['a', 'b', 'c'])).toEqual([Buffer.from('1'), undefined, undefined]);
  });

  it('transaction iterators refuse unknown names and bad types', async () => {
    const tx = db.beginTransaction();
    expect(() => tx.iterator({ fillCache: false } as any)).toThrow(/iterator options: unknown option "fillCache"/);
    expect(() => tx.keys({ prefix: 1 } as any)).toThrow(/options.prefix/);
    expect(() => tx.keys({ reverse: 'yes' } as any)).toThrow(/options.reverse must be a boolean/);
    tx.rollback();
  });

  it('options whose value is undefined are allowed (spread defaults)', async () => {
    await db.put('b', '2', { sync: undefined });
    expect((await db.get('b', { snapshot: undefined }))?.toString()).toBe('2');
    const keys: string[] = [];
    for await (const k of db.keys({ gte: undefined, reverse: undefined })) keys.push(k.toString());
    expect(keys).toEqual(['a', 'b']);
  });

  it('open options get the same hint', async () => {
    await expect(DB.open('/other', { fs: new MemFileSystem(), writeBufferSise: 1 } as any))
      .rejects.toThrow(/options: unknown option "writeBufferSise" \(did you mean writeBufferSize\?\)/);
  });
});

describe('one set of argument rules behind every entry point', () => {
  const keyProvider = staticKeyProvider({ k1: 'b'.repeat(64) }, 'k1');
  const refusals: [string, unknown, RegExp][] = [
    ['an unknown name', { keyProvider, allowPlaintxt: true }, /option encryption: unknown option "allowPlaintxt" \(did you mean allowPlaintext\?\)/],
    ['a provider without methods', { keyProvider: {} }, /option encryption.keyProvider must have currentKeyId\(\) and getKey\(id\) methods/],
    ['a non-boolean allowPlaintext', { keyProvider, allowPlaintext: 'yes' }, /option encryption.allowPlaintext must be a boolean \(got "yes"\)/],
  ];
  for (const [what, encryption, message] of refusals) {
    it(`DB.open, BackupEngine.open and inspect refuse ${what} in encryption alike`, async () => {
      const fs = new MemFileSystem();
      const calls: [string, () => Promise<unknown>][] = [
        ['DB.open', () => DB.open('/x', { fs, encryption } as any)],
        ['BackupEngine.open', () => BackupEngine.open('/bk', { fs, encryption } as any)],
        ['inspect.manifest', () => inspect.manifest('/x', { fs, encryption } as any)],
      ];
      for (const [name, call] of calls) {
        let caught: unknown;
        try { await call(); } catch (e) { caught = e; }
        expect(caught, name).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
        expect((caught as Error).message, name).toMatch(message);
      }
      expect(await fs.list('/')).toEqual([]);
    });
  }

  it('iterator.seek takes a string key like every other key argument, and refuses a number', async () => {
    await db.put('c', '3');
    const it = db.keys();
    try {
      it.seek('b');
      expect((await it.next()).value?.toString()).toBe('c');
      expect(() => it.seek(42 as any)).toThrow(/seek\(target\): target must be a Uint8Array or a string \(got number 42\)/);
    } finally {
      await it.close();
    }
  });
});
