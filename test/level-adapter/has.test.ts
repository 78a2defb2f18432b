/**
 * StrataLevel's has()/hasMany() go to db.has/db.hasMany (no value copied, counted at the read path's
 * copy site) with sublevel prefixes, explicit snapshots and closed snapshots as abstract-level wants;
 * an iterator's `signal` is abstract-level's own (LEVEL_ABORTED).
 */
import { describe, expect, it } from 'vitest';
import { StrataLevel } from '../../src/level-adapter/index.js';
import { readPathCounters } from '../../src/engine/read-path.js';
import { tempDir } from '../support/tmpdir.js';

describe('StrataLevel has/hasMany and signal', () => {
  it('has/hasMany copy no value, honour sublevels and snapshots', async () => {
    const db = new StrataLevel(await tempDir());
    await db.open();
    const sub = db.sublevel<string, string>('s', {});
    await sub.put('a', 'x'.repeat(1 << 20));
    await db.put('b', '2');
    const snap = db.snapshot();
    await db.del('b');
    const before = readPathCounters.valueCopies;
    expect(await sub.has('a')).toBe(true);
    expect(await db.has('a')).toBe(false);
    expect(await db.hasMany(['b', 'c'])).toEqual([false, false]);
    expect(await db.hasMany(['b', 'c'], { snapshot: snap })).toEqual([true, false]);
    expect(await db.has('b', { snapshot: snap })).toBe(true);
    expect(readPathCounters.valueCopies).toBe(before);
    await snap.close();
    await expect(db.has('b', { snapshot: snap })).rejects.toMatchObject({ code: 'LEVEL_SNAPSHOT_NOT_OPEN' });
    const c = new AbortController();
    const it = db.iterator({ signal: c.signal });
    c.abort();
    await expect(it.next()).rejects.toMatchObject({ code: 'LEVEL_ABORTED' });
    await it.close();
    await db.close();
  });
});
