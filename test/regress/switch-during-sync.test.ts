/**
 * A memtable switch asked for by flush(), compactRange(), rotateKey() or close() while a write group
 * waits for its fdatasync. The group's record is in the WAL it was appended to; its entries must land
 * in that WAL's memtable, so a crash after the acknowledgement keeps the write. Before the fix the
 * switch ran in between: the entries went into the new memtable, the old WAL was deleted after the
 * old memtable's flush, and a power cut lost the acknowledged sync write (and later writes survived).
 * The first WAL sync is held at a gate, deterministically; nothing here sleeps.
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, staticKeyProvider } from '../../src/index.js';
import { HoldFileSystem, turns } from '../support/hold-fs.js';

const DIR = '/db';
const KEY1 = 'a'.repeat(64);
const KEY2 = 'b'.repeat(64);
const firstWalSync = (kind: string, p: string): boolean => kind === 'sync' && p.endsWith('.log');

type Provider = ReturnType<typeof staticKeyProvider>;
type Switcher = (db: DB, keys: Provider) => Promise<unknown>;

const switchers: [string, Switcher][] = [
  ['flush()', (db) => db.flush()],
  ['compactRange()', (db) => db.compactRange()],
  ['rotateKey()', (db, keys) => { keys.setCurrent('k2'); return db.rotateKey(); }],
];

describe('a memtable switch while a write group awaits its WAL sync', () => {
  for (const [name, run] of switchers) {
    it(`${name}: the acknowledged sync write survives a power cut`, async () => {
      const mem = new MemFileSystem();
      const gate = new HoldFileSystem(mem, firstWalSync);
      const keys = staticKeyProvider({ k1: KEY1, k2: KEY2 }, 'k1');
      const options = { fs: gate, compactionExecutor: 'inline' as const, encryption: { keyProvider: keys } };
      const db = await DB.open(DIR, options);
      await db.put('before', '1'); // applied, so the switch has a memtable to freeze
      const held = db.put('held', '2', { sync: true });
      await gate.reached;
      const switching = run(db, keys);
      // Before the fix the switch completed here, while the group's sync was held.
      await Promise.race([switching, turns(200)]);
      gate.release();
      await held;
      await switching;
      await db.put('after', '3', { sync: true });
      const crashed = mem.crashClone({ keepUnsyncedPercent: 0 });
      await db.close();

      const again = await DB.open(DIR, { ...options, fs: crashed });
      expect((await again.get('held'))?.toString()).toBe('2');
      expect((await again.get('after'))?.toString()).toBe('3');
      expect((await again.get('before'))?.toString()).toBe('1');
      await again.close();
    });
  }

  it('flush() then close(): every write accepted before close() is flushed and survives', async () => {
    const mem = new MemFileSystem();
    const gate = new HoldFileSystem(mem, firstWalSync);
    const db = await DB.open(DIR, { fs: gate, compactionExecutor: 'inline' });
    await db.put('before', '1');
    const held = db.put('held', '2', { sync: true });
    await gate.reached;
    const flushing = db.flush();
    const later = db.put('later', '3');
    const closing = db.close();
    await Promise.race([closing, turns(200)]);
    gate.release();
    await held;
    await later;
    await flushing;
    await closing;
    // A clean close flushed everything: only the synced directory entries and tables count.
    const crashed = mem.crashClone({ keepUnsyncedPercent: 0 });
    const again = await DB.open(DIR, { fs: crashed });
    expect((await again.get('held'))?.toString()).toBe('2');
    expect((await again.get('later'))?.toString()).toBe('3');
    await again.close();
  });
});
