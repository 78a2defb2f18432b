/**
 * A range delete on the engine's write path (internal: DB.write still refuses one) goes to the WAL,
 * is replayed into the memtable's tombstones at reopen, and a flush writes it into the L0 table's
 * range-deletion block, with the table's bounds extended by it.
 */
import { describe, expect, it } from 'vitest';
import { DB, MemFileSystem, WriteBatch } from '../../src/index.js';
import { describeInternalKey } from '../../src/manifest/file-metadata.js';
import { openTable } from '../../src/table/table-open.js';
import { tableRangeDels } from '../../src/table/table-range-dels.js';
import type { FragmentSet } from '../../src/rangedel/fragment-set.js';

const str = (u: Uint8Array): string => new TextDecoder().decode(u);
const show = (set: FragmentSet): string[] => set.fragments().map((f) => `${str(f.start)}-${str(f.end)}{${f.seqs.join(',')}}`);

describe('range deletes through WAL recovery and flush', () => {
  it('replays a range delete from the WAL and flushes it into the table', async () => {
    const fs = new MemFileSystem();
    let db = await DB.open('/db', { fs, compactionExecutor: 'inline' });
    await db.put('a', '1');
    const b = new WriteBatch().put('c', '2').deleteRange('b', 'm').deleteRange('k', 'q');
    await db.engine.writes.submit(b.encodedOps().slice(), b.length, b.byteLength, true);
    expect(show(db.engine.memtables.mem.rangeDelFragments())).toEqual(['b-k{3}', 'k-m{4,3}', 'm-q{4}']);
    // A crash (no close, no flush): the batch survives only in the synced WAL.
    const crashed = fs.crashClone();
    expect((await crashed.list('/db')).filter((n) => n.endsWith('.sst'))).toEqual([]);
    await db.close();

    db = await DB.open('/db', { fs: crashed, compactionExecutor: 'inline' });
    expect(db.stats().sequence).toBe(4);
    await db.flush();
    const files = db.engine.versions.current().levels.flat();
    expect(files.length).toBe(1);
    const meta = files[0]!;
    expect(describeInternalKey(meta.smallest)).toBe("'a'@1:put");
    expect(describeInternalKey(meta.largest)).toBe(`'q'@${2 ** 53 - 1}:rangedel`);
    const reader = await openTable(crashed, '/db', meta, { syncReads: false });
    expect(show(tableRangeDels(reader))).toEqual(['b-k{3}', 'k-m{4,3}', 'm-q{4}']);
    await reader.close();
    await db.close();
  });
});
