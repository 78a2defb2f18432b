/**
 * db.ingest() beside a compaction in flight: the compaction's outputs are not in the Version yet, but
 * will land at its output level over the span of its inputs, so an ingest must not choose that level
 * for a table inside the span (the compaction's edit would then put overlapping tables on one level).
 * A GateFileSystem parks the compaction at its first output; the ingest runs; the gate opens.
 * Own MemFileSystem; no sleeps (the test waits on the gate and on the calls).
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem } from '../../src/index.js';
import { writeExternalTable } from '../../sstable/index.js';
import { GateFileSystem } from '../support/gate-fs.js';

describe('db.ingest and compactions in flight', () => {
  it('a table inside the span of a running compaction goes above its output level', async () => {
    const mem = new MemFileSystem();
    await mem.mkdir('/ext');
    let park = false;
    const fs = new GateFileSystem(mem, (p, o) => park && p.endsWith('.sst') && o?.exclusive === true && p.startsWith('/db/'));
    const db = await DB.open('/db', { fs, compactionExecutor: 'inline', numLevels: 3, level0CompactionTrigger: 2, idleCompactionDelayMs: 0 });
    await writeExternalTable('/ext/wide.sst', [['a', 'bottom'], ['z', 'bottom']], { fs: mem });
    expect((await db.ingest('/ext/wide.sst')).files[0]!.level).toBe(2);
    await db.put('b', 'l0');
    await db.flush();
    park = true;
    await db.put('y', 'l0');
    await db.flush(); // the second L0 table: an L0 -> L1 compaction of [b .. y] starts and parks
    await fs.whenWaiting();
    park = false;
    await writeExternalTable('/ext/m.sst', [['m', 'ingested']], { fs: mem });
    const r = await db.ingest('/ext/m.sst');
    // L1 is empty in the Version, but the parked compaction will write [b .. y] there.
    expect(r.files[0]!.level).toBe(0);
    fs.letThrough();
    await db.compactRange(); // waits for the parked job among others
    expect(db.stats().backgroundErrors).toBe(0);
    expect((await db.get('m'))?.toString()).toBe('ingested');
    expect((await db.get('b'))?.toString()).toBe('l0');
    expect((await db.get('z'))?.toString()).toBe('bottom');
    await db.put('after', 'writable');
    await db.close();
  });
});
