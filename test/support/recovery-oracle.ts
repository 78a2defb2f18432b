/**
 * RecoveryOracle: what a recovered database must hold, given every write a workload submitted and
 * what it heard back. Used by the latency torture runs (test/torture/*) after a simulated power cut,
 * a SIGKILL or a clean close.
 *
 * Model: the write queue is FIFO, so for puts, deletes, batches and transaction commits the SUBMIT
 * order is the commit order. record() must therefore be called synchronously right before the write
 * is submitted (db.put/delete/write or tx.commit()), and gives the write its global submit index. A
 * transaction refused by a conflict commits nothing and is left out of the order; one whose outcome
 * is unknown (in flight at a SIGKILL) is counted in exactly when one of its values is found. A write
 * that failed otherwise (an I/O error: its WAL record may be on disk) is unknown too, never required.
 * Every value a workload writes must be unique (put-only transactions), so a value names its write.
 * A range delete ([key, end), alone or inside a batch) removes the keys the model holds in that range.
 *
 * check() takes the recovered state (key -> value, utf-8 strings), a crash mark (mark(): which writes
 * were acknowledged at the crash) and what kind of stop it was, and verifies:
 *  (a) every write that must survive is there: after a process crash (SIGKILL) or a clean close every
 *      acknowledged write (the WAL append is a write(2): the page cache keeps it); after a power cut
 *      every acknowledged sync write and every write before it in commit order;
 *  (b) the state equals the model after some prefix 1..k of the commit order, k >= that last write;
 *  (c) batches and transactions are whole (a torn one matches no prefix; the message names it).
 * A failure message names k, the required prefix and the first missing or extra write; the caller
 * adds the seed. Not here: producing the workload (torture-workload.ts) or reading the DB (readState).
 */
import type { DB } from '../../src/index.js';
import { matchingPrefixes } from './db-check.js';

export type WriteKind = 'put' | 'delete' | 'deleteRange' | 'batch' | 'txn';

/** One operation: a put (value defined), a delete, or (end defined) a range delete of [key, end). */
export interface OracleOp { key: string; value: string | undefined; end?: string }

export interface WriteSpec {
  kind: WriteKind;
  ops: OracleOp[];
  sync: boolean;
}

export type Outcome = 'pending' | 'acked' | 'conflict' | 'failed';

export interface OracleWrite extends WriteSpec {
  readonly index: number;
  outcome: Outcome;
  /** Order of acknowledgement (0, 1, 2...), set when the promise resolved. */
  ackSerial?: number;
  error?: unknown;
}

/** The moment of a crash: writes acknowledged before it have ackSerial < acked. */
export interface CrashMark { readonly acked: number; readonly submitted: number }

/** power: a power cut (sync writes must survive); process: SIGKILL; clean: close() returned. */
export type StopKind = 'power' | 'process' | 'clean';

export interface Verdict {
  ok: boolean;
  /** Writes in the commit order considered. */
  committed: number;
  /** Prefix length that must be covered (one past the last write that must survive). */
  required: number;
  /** Every prefix length the state matches. */
  matches: number[];
  /** Acknowledged writes that had to survive (what "checked" counts). */
  mustSurvive: number;
  /** Writes below `required` whose effect is missing from the state (0 when ok). */
  lost: number;
  message: string;
}

export class RecoveryOracle {
  readonly writes: OracleWrite[] = [];
  private acks = 0;

  /** Records a write about to be submitted; returns its submit index. Call it synchronously before submitting. */
  record(spec: WriteSpec): number {
    const index = this.writes.length;
    this.writes.push({ ...spec, index, outcome: 'pending' });
    return index;
  }

  /** Records the outcome of `index` from its promise; resolves once settled, never rejects. */
  async track(index: number, p: Promise<unknown>): Promise<Outcome> {
    try {
      await p;
      this.ack(index);
    } catch (e) {
      if ((e as { code?: string })?.code === 'ERR_TXN_CONFLICT') this.conflict(index);
      else this.fail(index, e);
    }
    return this.writes[index]!.outcome;
  }

  ack(index: number): void {
    const w = this.writes[index]!;
    w.outcome = 'acked';
    w.ackSerial = this.acks++;
  }

  conflict(index: number): void { this.writes[index]!.outcome = 'conflict'; }

  fail(index: number, e: unknown): void {
    const w = this.writes[index]!;
    w.outcome = 'failed';
    w.error = e;
  }

  /** Writes acknowledged so far. */
  get acked(): number { return this.acks; }

  /** Writes that failed with anything but a transaction conflict (a workload without faults expects none). */
  failures(): OracleWrite[] { return this.writes.filter((w) => w.outcome === 'failed'); }

  /** The crash moment: call it where the crash happens (synchronously with the crash clone). */
  mark(): CrashMark { return { acked: this.acks, submitted: this.writes.length }; }

  check(state: ReadonlyMap<string, string>, mark: CrashMark, stop: StopKind): Verdict {
    const present = new Set(state.values());
    // The commit order: refused transactions left out; a transaction of unknown outcome kept only
    // when one of its values was found (put-only, so "none found" also covers a shadowed one).
    const order = this.writes.slice(0, mark.submitted).filter((w) =>
      w.outcome === 'acked' || w.outcome !== 'conflict' && (w.kind !== 'txn' || w.ops.some((o) => o.value !== undefined && present.has(o.value))));
    let required = 0;
    let mustSurvive = 0;
    order.forEach((w, pos) => {
      if (w.ackSerial === undefined || w.ackSerial >= mark.acked) return;
      if (stop === 'power' && !w.sync) return;
      mustSurvive++;
      required = pos + 1;
    });
    if (stop === 'power') mustSurvive = order.filter((w, pos) => pos < required && w.ackSerial !== undefined && w.ackSerial < mark.acked).length;
    const matches = matchingPrefixes(order, state);
    const ok = matches.some((k) => k >= required);
    const base = { ok, committed: order.length, required, matches, mustSurvive };
    if (ok) return { ...base, lost: 0, message: `state = prefix ${matches.find((k) => k >= required)} of ${order.length} (>= ${required})` };
    const { lost, message } = explain(order, state, required, matches, stop);
    return { ...base, lost, message };
  }
}

function describe(w: OracleWrite | undefined, pos: number | undefined): string {
  if (!w) return 'no write of this workload';
  const ack = w.outcome === 'acked' ? `acked #${w.ackSerial}` : w.outcome;
  return `write ${w.index} (commit position ${pos ?? '?'}, ${w.kind}${w.sync ? ' sync' : ''}, ${w.ops.length} op(s), ${ack})`;
}

/** Names the first missing write (below `required`), extra values and torn batches. */
function explain(order: readonly OracleWrite[], state: ReadonlyMap<string, string>, required: number, matches: number[], stop: StopKind): { lost: number; message: string } {
  const byValue = new Map<string, { w: OracleWrite; pos: number }>();
  order.forEach((w, pos) => { for (const op of w.ops) if (op.value !== undefined) byValue.set(op.value, { w, pos }); });
  const lastWriter = new Map<string, number>();
  const model = new Map<string, string>();
  for (let pos = 0; pos < required; pos++) {
    for (const op of order[pos]!.ops) {
      if (op.end !== undefined) {
        // A range delete is the last writer of every key it removed (a key absent before stays untouched).
        for (const key of [...model.keys()]) if (key >= op.key && key < op.end) { lastWriter.set(key, pos); model.delete(key); }
        continue;
      }
      lastWriter.set(op.key, pos);
      if (op.value === undefined) model.delete(op.key); else model.set(op.key, op.value);
    }
  }
  const lines: string[] = [];
  // The first (in commit order) write below the required prefix whose effect is not in the state.
  let firstMissing: { pos: number; key: string } | undefined;
  const missing = new Set<number>();
  for (const [key, pos] of lastWriter) {
    if (model.get(key) === state.get(key)) continue;
    const found = state.get(key);
    const later = found === undefined ? undefined : byValue.get(found);
    if (later && later.pos >= required) continue; // overwritten by a later write: an extra, not a loss
    missing.add(pos);
    if (!firstMissing || pos < firstMissing.pos) firstMissing = { pos, key };
  }
  if (firstMissing) {
    const w = order[firstMissing.pos]!;
    const found = state.get(firstMissing.key);
    lines.push(`first missing: ${describe(w, firstMissing.pos)}: key ${firstMissing.key} has ` +
      (found === undefined ? 'no value' : `the value of ${describe(byValue.get(found)?.w, byValue.get(found)?.pos)}`));
  }
  let extras = 0;
  for (const [key, value] of state) {
    const src = byValue.get(value);
    if (src && src.pos < required) continue;
    if (src && matches.length > 0) continue; // beyond the prefix: fine if some longer prefix matched
    if (extras++ < 2) lines.push(`extra: key ${key} = ${value.slice(0, 24)} from ${describe(src?.w, src?.pos)}`);
  }
  // Torn: some puts of a batch are there, while others, which no later write touches, are not.
  const lastTouch = new Map<string, number>();
  order.forEach((w, pos) => {
    for (const op of w.ops) {
      if (op.end === undefined) lastTouch.set(op.key, pos);
      else for (const key of lastTouch.keys()) if (key >= op.key && key < op.end) lastTouch.set(key, pos);
    }
  });
  for (let pos = 0; pos < order.length; pos++) {
    const w = order[pos]!;
    const puts = w.ops.filter((o) => o.value !== undefined);
    if (puts.length < 2) continue;
    const seen = puts.filter((o) => state.get(o.key) === o.value).length;
    const absent = puts.filter((o) => state.get(o.key) !== o.value && lastTouch.get(o.key) === pos).length;
    if (seen > 0 && absent > 0) { lines.push(`torn: ${describe(w, pos)}: ${seen} of ${puts.length} puts present`); break; }
  }
  const k = matches.length === 0 ? 'matches no prefix' : `matches only prefixes ${matches.slice(-3).join(', ')}`;
  const message = `after a ${stop === 'power' ? 'power cut' : stop === 'process' ? 'process crash' : 'clean close'}: ` +
    `state ${k} of ${order.length}; needs k >= ${required}; ${missing.size} write(s) lost. ${lines.join('; ')}`;
  return { lost: Math.max(1, missing.size), message };
}

/** Every live entry of `db` as utf-8 strings. */
export async function readState(db: DB): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const [k, v] of db.iterator()) out.set(k.toString('utf8'), v.toString('utf8'));
  return out;
}
