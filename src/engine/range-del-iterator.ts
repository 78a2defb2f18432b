/**
 * Range tombstones on the iterator path: the tombstones a read honours (RangeDelView), which wrap
 * each child of the merge (a memtable, an L0 table, a level) in a RangeDelSkippingIterator
 * (src/rangedel/range-del-skipping-iterator.ts: why per child, and the jumps).
 * The tombstones are a few FragmentSets, each cached where it lives, so that making an iterator costs
 * nothing per tombstone: one per memtable (MemTable.rangeDelFragments(), rebuilt only after a new
 * tombstone arrives) and one per Version for all its tables whose MANIFEST entry counts range
 * tombstones (FileMetadata.numRangeDeletions; tables without are never opened for this), built on the
 * first positioning of the first iterator over that Version (which then may wait) and memoised, as a
 * Version never changes. Queries take the union (src/rangedel/stretches.ts); with one memtable and
 * one Version that is two binary searches per covered key instead of one, where merging the sets
 * for every iterator cost a fragmentation of every tombstone. An iterator over a DB with no
 * tombstones is not wrapped.
 * Main thread only.
 */
import type { MaybePromise } from '../base/internal-iterator.js';
import { FragmentSet } from '../rangedel/fragment-set.js';
import type { RangeTombstone } from '../rangedel/range-tombstone.js';
import type { ReadableMemTable } from '../memtable/readable-memtable.js';
import type { Version } from '../manifest/version.js';
import type { TableCache } from '../cache/table-cache.js';
import { tableRangeDels } from '../table/table-range-dels.js';
import type { TombstoneView } from '../rangedel/range-del-skipping-iterator.js';

const versionTombstones = new WeakMap<Version, FragmentSet>();
/** A load under way, so that iterators positioned meanwhile wait for it rather than repeat it. */
const versionLoading = new WeakMap<Version, Promise<FragmentSet>>();

/** Every tombstone of every table of `version`, fragmented (memoised per Version). */
function tableTombstones(version: Version, tables: TableCache): MaybePromise<FragmentSet> {
  const known = versionTombstones.get(version) ?? versionLoading.get(version);
  if (known) return known;
  const files: Parameters<TableCache['acquire']>[0][] = [];
  version.forEachFile((f) => { if ((f.numRangeDeletions ?? 0) > 0) files.push(f); });
  const out: RangeTombstone[] = [];
  const finish = (): FragmentSet => {
    const set = FragmentSet.fromTombstones(out);
    versionTombstones.set(version, set);
    versionLoading.delete(version);
    return set;
  };
  const step = (i: number): MaybePromise<FragmentSet> => {
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
  const r = step(0);
  if (r instanceof Promise) {
    versionLoading.set(version, r);
    // A failed load is not kept: the next iterator tries again (and the failing one reports it).
    r.catch(() => versionLoading.delete(version));
  }
  return r;
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
  private sets: FragmentSet[] | undefined;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly memtables: readonly ReadableMemTable[], private readonly version: Version,
    private readonly tables: TableCache, readonly readSeq: number,
  ) {}

  /** Undefined when the DB surely holds no tombstone (then nothing needs wrapping). */
  static maybe(memtables: readonly ReadableMemTable[], version: Version, tables: TableCache, readSeq: number): RangeDelView | undefined {
    if (!memtables.every((m) => m.rangeDeletions === 0)) return new RangeDelView(memtables, version, tables, readSeq);
    const known = versionTombstones.get(version);
    if (known ? known.isEmpty : !versionHasTableTombstones(version)) return undefined;
    return new RangeDelView(memtables, version, tables, readSeq);
  }

  get fragments(): readonly FragmentSet[] | undefined { return this.sets; }

  /** Loads the sets; undefined when done synchronously. */
  load(): MaybePromise<void> {
    if (this.sets) return undefined;
    if (this.loading) return this.loading;
    const sets: FragmentSet[] = [];
    for (const m of this.memtables) if (m.rangeDeletions > 0) sets.push(m.rangeDelFragments());
    const done = (t: FragmentSet): void => {
      if (!t.isEmpty) sets.push(t);
      this.sets = sets;
    };
    const t = versionHasTableTombstones(this.version) ? tableTombstones(this.version, this.tables) : FragmentSet.EMPTY;
    if (t instanceof Promise) {
      this.loading = t.then(done);
      return this.loading;
    }
    done(t);
    return undefined;
  }
}
