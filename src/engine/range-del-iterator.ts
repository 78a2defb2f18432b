/**
 * Range tombstones on the iterator path: the tombstones a read honours (RangeDelView), which wrap
 * each child of the merge (a memtable, an L0 table, a level) in a RangeDelSkippingIterator
 * (src/rangedel/range-del-skipping-iterator.ts: why per child, and the jumps).
 * The tombstones are those of every memtable and of every table of the Version whose MANIFEST entry
 * counts range tombstones (FileMetadata.numRangeDeletions; tables without are never opened for this):
 * read once per Version (memoised, a Version never changes) on the first positioning, which then may
 * wait. An iterator over a DB with no tombstones is not wrapped.
 * Main thread only.
 */
import type { InternalIterator, MaybePromise } from '../base/internal-iterator.js';
import { FragmentSet } from '../rangedel/fragment-set.js';
import type { RangeTombstone } from '../rangedel/range-tombstone.js';
import type { MemTable } from '../memtable/memtable.js';
import type { Version } from '../manifest/version.js';
import type { TableCache } from '../cache/table-cache.js';
import { tableRangeDels } from '../table/table-range-dels.js';
import type { TombstoneView } from '../rangedel/range-del-skipping-iterator.js';

const versionTombstones = new WeakMap<Version, readonly RangeTombstone[]>();

/** Every tombstone of every table of `version` (memoised per Version). */
function tableTombstones(version: Version, tables: TableCache): MaybePromise<readonly RangeTombstone[]> {
  const known = versionTombstones.get(version);
  if (known) return known;
  const files: Parameters<TableCache['acquire']>[0][] = [];
  version.forEachFile((f) => { if ((f.numRangeDeletions ?? 0) > 0) files.push(f); });
  const out: RangeTombstone[] = [];
  const finish = (): readonly RangeTombstone[] => {
    versionTombstones.set(version, out);
    return out;
  };
  const step = (i: number): MaybePromise<readonly RangeTombstone[]> => {
    for (; i < files.length; i++) {
      const h = tables.acquire(files[i]!);
      if (h instanceof Promise) {
        const at = i;
        return h.then((x) => {
          try { out.push(...tableRangeDels(x.reader).tombstones()); } finally { x.release(); }
          return step(at + 1);
        });
      }
      try { out.push(...tableRangeDels(h.reader).tombstones()); } finally { h.release(); }
    }
    return finish();
  };
  return step(0);
}

const versionHasAny = new WeakMap<Version, boolean>();

/** Whether any table of `version` counts range tombstones in its MANIFEST entry (memoised). */
function versionHasTableTombstones(version: Version): boolean {
  let known = versionHasAny.get(version);
  if (known === undefined) {
    known = false;
    version.forEachFile((f) => { if ((f.numRangeDeletions ?? 0) > 0) known = true; });
    versionHasAny.set(version, known);
  }
  return known;
}

/** The tombstones a read at `readSeq` honours, found lazily (one per iterator, shared by its children). */
export class RangeDelView implements TombstoneView {
  private set: FragmentSet | undefined;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly memtables: readonly MemTable[], private readonly version: Version,
    private readonly tables: TableCache, readonly readSeq: number,
  ) {}

  /** Undefined when the DB surely holds no tombstone (then nothing needs wrapping). */
  static maybe(memtables: readonly MemTable[], version: Version, tables: TableCache, readSeq: number): RangeDelView | undefined {
    if (!memtables.every((m) => m.rangeDeletions === 0)) return new RangeDelView(memtables, version, tables, readSeq);
    const known = versionTombstones.get(version);
    if (known ? known.length === 0 : !versionHasTableTombstones(version)) return undefined;
    return new RangeDelView(memtables, version, tables, readSeq);
  }

  get fragments(): FragmentSet | undefined { return this.set; }

  /** Loads the set; undefined when done synchronously. */
  load(): MaybePromise<void> {
    if (this.set) return undefined;
    if (this.loading) return this.loading;
    const mem: RangeTombstone[] = [];
    for (const m of this.memtables) if (m.rangeDeletions > 0) mem.push(...m.rangeDelFragments().tombstones());
    const done = (t: readonly RangeTombstone[]): void => { this.set = FragmentSet.fromTombstones(mem.concat(t)); };
    const t = tableTombstones(this.version, this.tables);
    if (t instanceof Promise) {
      this.loading = t.then(done);
      return this.loading;
    }
    done(t);
    return undefined;
  }
}
