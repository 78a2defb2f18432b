/**
 * A small Elle-style checker for transaction histories (issue #5; Kingsbury & Alvaro, "Elle", and
 * Adya's phenomena). Input: every transaction's operations in program order (reads with the value
 * observed, writes of values unique across the whole history), its outcome, optionally the sequence
 * it read at, and the version order of each key as the engine installed it (value + sequence).
 * Output: the anomalies found, each naming the transactions involved.
 *
 * Where Elle infers version orders from list-append values, we take them from the engine (each
 * installed version's sequence number) and check them instead: every committed transaction's final
 * write must be installed exactly once, nothing else may be installed, and one transaction's
 * versions must be contiguous in sequence order (atomic commit).
 *
 * Checked for every level:
 * - garbage-read: a value nobody wrote; internal: a read after the transaction's own write of the key
 *   that does not return that write; G1a: a read of an aborted transaction's write; G1b: a read of
 *   another transaction's non-final write of the key; non-snapshot-read: an external read that is
 *   not the newest version at or below the transaction's snapshot sequence (when one is given).
 *   Reads of aborted transactions are checked too (stricter than Adya: the engine promises every
 *   transaction a snapshot).
 * - Over committed transactions, with ww (consecutive versions), wr (writer -> reader) and rw (reader
 *   of version i -> writer of version i + 1) edges: G0 (a ww cycle), G1c (a ww/wr cycle), G-single
 *   (a cycle with exactly one rw edge: read skew; snapshot isolation forbids it), lost-update (two
 *   committed transactions read the same version of a key and both wrote that key).
 * Serializable also: G2 (any cycle through an rw edge: write skew and its longer forms).
 *
 * Limits: no deletes (an absent read means "never written"); keys start absent; history sizes of a
 * few thousand transactions (reachability is a BFS per suspicious edge).
 */

export type Level = 'snapshot' | 'serializable';

export type Op = { kind: 'r'; key: string; value: string | undefined } | { kind: 'w'; key: string; value: string };

export interface TxnRecord {
  id: number;
  status: 'committed' | 'aborted';
  ops: Op[];
  /** The sequence the transaction read at; absent for plain writes and when unknown. */
  snapshot?: number;
}

export interface Version { value: string; seq: number }

export interface History {
  txns: TxnRecord[];
  /** Installed versions of each key, as the engine ordered them (ascending seq). */
  versions: Map<string, Version[]>;
}

export type AnomalyKind =
  | 'duplicate-value' | 'unknown-version' | 'aborted-write-installed' | 'intermediate-write-installed'
  | 'lost-write' | 'non-atomic' | 'garbage-read' | 'internal' | 'G1a' | 'G1b' | 'non-snapshot-read'
  | 'G0' | 'G1c' | 'G-single' | 'lost-update' | 'G2';

export interface Anomaly { kind: AnomalyKind; txns: number[]; detail: string }

interface WriteInfo { txn: TxnRecord; key: string; final: boolean }
type EdgeKind = 'ww' | 'wr' | 'rw';
interface Edge { to: number; kind: EdgeKind }

export function checkHistory(h: History, level: Level): Anomaly[] {
  const out: Anomaly[] = [];
  const add = (kind: AnomalyKind, txns: number[], detail: string): void => { out.push({ kind, txns, detail }); };

  // who wrote each value, and whether it was that transaction's last write of the key
  const writes = new Map<string, WriteInfo>();
  for (const t of h.txns) {
    const last = new Map<string, string>();
    for (const op of t.ops) if (op.kind === 'w') last.set(op.key, op.value);
    for (const op of t.ops) {
      if (op.kind !== 'w') continue;
      if (writes.has(op.value)) add('duplicate-value', [writes.get(op.value)!.txn.id, t.id], `value ${op.value} written twice`);
      writes.set(op.value, { txn: t, key: op.key, final: last.get(op.key) === op.value });
    }
  }

  // the installed versions: index of each value in its key's order, and the writer of each version
  const versionIndex = new Map<string, number>();
  const seqsOf = new Map<number, number[]>();
  const allSeqs: { seq: number; txn: number }[] = [];
  for (const [key, vs] of h.versions) {
    vs.forEach((v, i) => {
      const w = writes.get(v.value);
      if (i > 0 && vs[i - 1]!.seq >= v.seq) add('unknown-version', [], `versions of ${key} out of sequence order at ${v.value}`);
      if (!w || w.key !== key) { add('unknown-version', [], `${key} holds ${v.value}, which no transaction wrote to it`); return; }
      if (versionIndex.has(v.value)) add('duplicate-value', [w.txn.id], `${v.value} installed twice`);
      versionIndex.set(v.value, i);
      if (w.txn.status === 'aborted') add('aborted-write-installed', [w.txn.id], `${key} = ${v.value} from an aborted transaction`);
      else if (!w.final) add('intermediate-write-installed', [w.txn.id], `${key} = ${v.value} is not the transaction's final write`);
      if (!seqsOf.has(w.txn.id)) seqsOf.set(w.txn.id, []);
      seqsOf.get(w.txn.id)!.push(v.seq);
      allSeqs.push({ seq: v.seq, txn: w.txn.id });
    });
  }
  for (const [value, w] of writes) {
    if (w.txn.status === 'committed' && w.final && !versionIndex.has(value)) add('lost-write', [w.txn.id], `${w.key} = ${value} committed but never installed`);
  }
  allSeqs.sort((a, b) => a.seq - b.seq);
  for (const [id, seqs] of seqsOf) {
    const lo = Math.min(...seqs), hi = Math.max(...seqs);
    const intruder = allSeqs.find((s) => s.seq > lo && s.seq < hi && s.txn !== id);
    if (intruder) add('non-atomic', [id, intruder.txn], `T${intruder.txn} installed seq ${intruder.seq} inside T${id}'s [${lo}, ${hi}]`);
  }

  // reads
  const reads: { txn: TxnRecord; key: string; index: number }[] = [];
  for (const t of h.txns) {
    const own = new Map<string, string>();
    for (const op of t.ops) {
      if (op.kind === 'w') { own.set(op.key, op.value); continue; }
      if (own.has(op.key)) {
        if (op.value !== own.get(op.key)) add('internal', [t.id], `T${t.id} read ${op.key} = ${op.value} after writing ${own.get(op.key)}`);
        continue;
      }
      let index = -1;
      if (op.value !== undefined) {
        const w = writes.get(op.value);
        if (!w || w.key !== op.key || w.txn === t) { add('garbage-read', [t.id], `T${t.id} read ${op.key} = ${op.value}`); continue; }
        if (w.txn.status === 'aborted') { add('G1a', [w.txn.id, t.id], `T${t.id} read ${op.key} = ${op.value} from aborted T${w.txn.id}`); continue; }
        if (!w.final) { add('G1b', [w.txn.id, t.id], `T${t.id} read ${op.key} = ${op.value}, an intermediate write of T${w.txn.id}`); continue; }
        const i = versionIndex.get(op.value);
        if (i === undefined) continue; // already reported as lost-write
        index = i;
      }
      if (t.snapshot !== undefined) {
        const vs = h.versions.get(op.key) ?? [];
        let want = -1;
        while (want + 1 < vs.length && vs[want + 1]!.seq <= t.snapshot) want++;
        if (want !== index) {
          add('non-snapshot-read', [t.id], `T${t.id} (snapshot ${t.snapshot}) read ${op.key} = ${op.value ?? '(absent)'}, expected ${want < 0 ? '(absent)' : vs[want]!.value}`);
        }
      }
      if (t.status === 'committed') reads.push({ txn: t, key: op.key, index });
    }
  }

  // lost update: two committed transactions read one version of a key and both wrote it
  const readers = new Map<string, Set<number>>();
  for (const r of reads) {
    const wroteIt = r.txn.ops.some((op) => op.kind === 'w' && op.key === r.key);
    if (!wroteIt) continue;
    const k = `${r.key}@${r.index}`;
    if (!readers.has(k)) readers.set(k, new Set());
    readers.get(k)!.add(r.txn.id);
  }
  for (const [k, ids] of readers) if (ids.size > 1) add('lost-update', [...ids], `${[...ids].map((i) => `T${i}`).join(', ')} all read ${k} and wrote it`);

  // dependency graph over committed transactions
  const graph = new Map<number, Edge[]>();
  const edge = (from: number, to: number, kind: EdgeKind): void => {
    if (from === to) return;
    if (!graph.has(from)) graph.set(from, []);
    graph.get(from)!.push({ to, kind });
  };
  const writerAt = (key: string, i: number): number | undefined => {
    const v = h.versions.get(key)?.[i];
    return v === undefined ? undefined : writes.get(v.value)?.txn.id;
  };
  for (const [key, vs] of h.versions) {
    for (let i = 0; i + 1 < vs.length; i++) {
      const a = writerAt(key, i), b = writerAt(key, i + 1);
      if (a !== undefined && b !== undefined) edge(a, b, 'ww');
    }
  }
  for (const r of reads) {
    const w = r.index >= 0 ? writerAt(r.key, r.index) : undefined;
    if (w !== undefined) edge(w, r.txn.id, 'wr');
    const next = writerAt(r.key, r.index + 1);
    if (next !== undefined) edge(r.txn.id, next, 'rw');
  }

  const cycleKinds: [AnomalyKind, EdgeKind[], EdgeKind[]][] = [
    // kind, edge kinds that may close the cycle (the suspicious edge), edge kinds for the way back
    ['G0', ['ww'], ['ww']],
    ['G1c', ['wr'], ['ww', 'wr']],
    ['G-single', ['rw'], ['ww', 'wr']],
  ];
  if (level === 'serializable') cycleKinds.push(['G2', ['rw'], ['ww', 'wr', 'rw']]);
  const seenCycle = new Set<string>();
  for (const [kind, first, back] of cycleKinds) {
    for (const [from, edges] of graph) {
      for (const e of edges) {
        if (!first.includes(e.kind)) continue;
        const path = findPath(graph, e.to, from, back);
        if (!path) continue;
        const cycle = [from, ...path.slice(0, -1)];
        const sig = [...new Set(cycle)].sort((a, b) => a - b).join(',');
        if (seenCycle.has(sig)) continue; // one report per set of transactions
        seenCycle.add(sig);
        add(kind, cycle, `cycle ${cycle.map((t) => `T${t}`).join(' -> ')} -> T${from} (first edge ${e.kind})`);
      }
    }
  }
  return out;
}

/** A path from `from` to `to` using only edges of the given kinds (BFS), or undefined. */
function findPath(graph: Map<number, Edge[]>, from: number, to: number, kinds: EdgeKind[]): number[] | undefined {
  const parent = new Map<number, number>([[from, from]]);
  const queue = [from];
  for (let q = 0; q < queue.length; q++) {
    const n = queue[q]!;
    if (n === to) {
      const path = [n];
      for (let c = n; c !== from;) { c = parent.get(c)!; path.unshift(c); }
      return path;
    }
    for (const e of graph.get(n) ?? []) {
      if (!kinds.includes(e.kind) || parent.has(e.to)) continue;
      parent.set(e.to, n);
      queue.push(e.to);
    }
  }
  return undefined;
}

/** Counts anomalies by kind, for messages. */
export function summarize(anomalies: Anomaly[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of anomalies) out[a.kind] = (out[a.kind] ?? 0) + 1;
  return out;
}
