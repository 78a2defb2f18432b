/**
 * Range tombstones on the iterator path: each child of the merge (a memtable, an L0 table, a level)
 * is wrapped so that it never shows a version a tombstone deletes at the read's sequence, and jumps
 * over deleted stretches instead of stepping through them (RocksDB's RangeDelAggregator and Pebble's
 * mergingIter play this part).
 * Why per child with the child's largest seq: a tombstone's stretch [key, end) may hold versions
 * newer than the tombstone in the same source, so a whole stretch can be skipped only in a child
 * whose every version is older than the tombstones covering it (seekEnd/seekStart with aboveSeq =
 * the child's largest seq). That is the usual case (a range deleted over flushed data: every deeper
 * table jumps to the tombstone's end, one seek); elsewhere covered versions are stepped over one by one.
 * The tombstones are those of every memtable and of every table of the Version whose MANIFEST entry
 * counts range tombstones (FileMetadata.numRangeDeletions; tables without are never opened for this):
 * read once per Version (memoised, a Version never changes) on the first positioning, which then may
 * wait. An iterator over a DB with no tombstones is not wrapped.
 * Main thread only.
 */
import type { InternalIterator, MaybePromise } from '../base/internal-iterator.js';
import { KIND_FOR_SEEK, MAX_SEQUENCE, TRAILER_SIZE, makeInternalKey, seqOf } from '../base/internal-key.js';
import { FragmentSet } from '../rangedel/fragment-set.js';
import type { RangeTombstone } from '../rangedel/range-tombstone.js';
import type { MemTable } from '../memtable/memtable.js';
import type { Version } from '../manifest/version.js';
import type { TableCache } from '../cache/table-cache.js';
import { tableRangeDels } from '../table/table-range-dels.js';

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
export class RangeDelView {
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

/** A child of the merge that hides the versions the view's tombstones delete. */
export class RangeDelSkippingIterator implements InternalIterator {
  constructor(
    private readonly inner: InternalIterator, private readonly view: RangeDelView,
    /** No version in `inner` has a larger seq. */
    private readonly maxSeq: number,
  ) {}

  valid(): boolean { return this.inner.valid(); }
  key(): Uint8Array { return this.inner.key(); }
  value(): Uint8Array { return this.inner.value(); }
  close(): MaybePromise<void> { return this.inner.close(); }

  seekToFirst(): MaybePromise<void> { return this.move(() => this.inner.seekToFirst(), true); }
  seekToLast(): MaybePromise<void> { return this.move(() => this.inner.seekToLast(), false); }
  seek(target: Uint8Array): MaybePromise<void> { return this.move(() => this.inner.seek(target), true); }
  seekForPrev(target: Uint8Array): MaybePromise<void> { return this.move(() => this.inner.seekForPrev(target), false); }
  next(): MaybePromise<void> { return this.move(() => this.inner.next(), true); }
  prev(): MaybePromise<void> { return this.move(() => this.inner.prev(), false); }

  private move(op: () => MaybePromise<void>, forward: boolean): MaybePromise<void> {
    const l = this.view.load();
    if (l) return l.then(() => this.move(op, forward));
    const p = op();
    if (p) return p.then(() => this.skip(forward));
    return this.skip(forward);
  }

  /** Moves off covered versions, jumping whole stretches where this child is older than them. */
  private skip(forward: boolean): MaybePromise<void> {
    const set = this.view.fragments!;
    if (set.isEmpty) return undefined;
    const readSeq = this.view.readSeq;
    while (this.inner.valid()) {
      const k = this.inner.key();
      const userKey = k.subarray(0, k.length - TRAILER_SIZE);
      if (set.maxCoveringSeq(userKey, readSeq) <= seqOf(k)) return undefined;
      let p: MaybePromise<void>;
      if (forward) {
        const end = set.seekEnd(userKey, readSeq, this.maxSeq);
        p = end ? this.inner.seek(makeInternalKey(end, MAX_SEQUENCE, KIND_FOR_SEEK)) : this.inner.next();
      } else {
        const start = set.seekStart(userKey, readSeq, this.maxSeq);
        p = start ? this.inner.seekForPrev(makeInternalKey(start, MAX_SEQUENCE, KIND_FOR_SEEK)) : this.inner.prev();
      }
      if (p) return p.then(() => this.skip(forward));
    }
    return undefined;
  }
}
