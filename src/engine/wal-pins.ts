/**
 * WalPins: WAL files held on disk for readers of the log (getUpdatesSince, wal-tail.ts). A pin holds
 * every WAL numbered at or above its floor, live or archived: the file-gc host never treats those as
 * obsolete (so they are neither deleted nor kept for reuse), and archive retention skips them. The
 * floor only rises, as the reader moves past files; release() lets them go and asks for a GC pass.
 * A floor rather than a list of numbers: the pin is taken synchronously, before the reader has listed
 * the directory, so a WAL rolled over in between is held too.
 * Main thread only.
 */
export interface WalPin {
  /** Holds WALs >= floor only (a lower floor is ignored: a pin never widens). */
  raise(floor: number): void;
  /** Idempotent. */
  release(): void;
}

export class WalPins {
  private readonly floors = new Set<{ floor: number }>();

  /** `onRelease`: a pin was released or narrowed, so files may now be obsolete. */
  constructor(private readonly onRelease: () => void) {}

  pin(floor = 0): WalPin {
    const entry = { floor };
    this.floors.add(entry);
    return {
      raise: (f) => {
        if (f <= entry.floor || !this.floors.has(entry)) return;
        entry.floor = f;
        this.onRelease();
      },
      release: () => {
        if (this.floors.delete(entry)) this.onRelease();
      },
    };
  }

  /** Whether WAL `n` is held by a pin. */
  holds(n: number): boolean {
    for (const e of this.floors) if (n >= e.floor) return true;
    return false;
  }

  get size(): number { return this.floors.size; }
}
