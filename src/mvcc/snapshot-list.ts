/**
 * The live snapshots: each pins a sequence number (never files), so compaction keeps what each can
 * see. 100,000 open snapshots cost a Map entry each. Compaction asks for the whole sorted list of
 * distinct live sequences (it keeps the newest version visible to each), the oldest for trimming.
 */
import { InvalidArgumentError } from '../errors.js';

/** A point-in-time view: reads with { snapshot } see exactly the writes with sequence <= seq. */
export class Snapshot {
  #released = false;
  /** @internal */
  constructor(readonly sequence: number, private readonly owner: SnapshotList, readonly ownerId: object) {}
  get released(): boolean { return this.#released; }
  /** Releases the snapshot; idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.owner.remove(this.sequence);
  }
  /** `using snap = db.snapshot()`: release() at the end of the scope. */
  [Symbol.dispose](): void {
    this.release();
  }
}

export class SnapshotList {
  /** sequence -> number of live snapshots at it */
  private readonly counts = new Map<number, number>();
  private total = 0;

  constructor(private readonly ownerId: object) {}

  create(sequence: number): Snapshot {
    this.counts.set(sequence, (this.counts.get(sequence) ?? 0) + 1);
    this.total++;
    return new Snapshot(sequence, this, this.ownerId);
  }

  /** @internal called by Snapshot.release */
  remove(sequence: number): void {
    const n = this.counts.get(sequence);
    if (n === undefined) return;
    if (n <= 1) this.counts.delete(sequence);
    else this.counts.set(sequence, n - 1);
    this.total--;
  }

  get size(): number { return this.total; }

  /** Distinct live sequences, ascending. */
  sequences(): number[] {
    return [...this.counts.keys()].sort((a, b) => a - b);
  }

  /** Oldest live sequence, or undefined when none. */
  oldest(): number | undefined {
    let min: number | undefined;
    for (const s of this.counts.keys()) if (min === undefined || s < min) min = s;
    return min;
  }

  /** Checks that a snapshot passed by a user belongs here and is live. */
  check(s: unknown): Snapshot {
    if (!(s instanceof Snapshot)) throw new InvalidArgumentError('options.snapshot must be a Snapshot from db.snapshot()');
    if (s.ownerId !== this.ownerId) throw new InvalidArgumentError('options.snapshot belongs to another database');
    if (s.released) throw new InvalidArgumentError('options.snapshot was released');
    return s;
  }
}
