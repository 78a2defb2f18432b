/**
 * Subcompactions (RocksDB's max_subcompactions): one large compaction split by user-key range into
 * pieces that run at the same time on the worker pool, so a compaction of L0 into a wide L1 uses more
 * than one core. splitPlan() is pure: it decides the pieces; runPlan() runs them and joins the results
 * into one CompactionResult, which the scheduler installs as ONE VersionEdit (plan-edit.ts).
 * Rules:
 * - Split only when the inputs hold more than one output file's worth (targetFileSize), into at most
 *   maxSubcompactions pieces, and at most one per targetFileSize of input.
 * - Boundaries are the immediate successors (key + 0x00) of input files' largest user keys, chosen so
 *   each piece gets about the same share of input bytes (a file's bytes are spread evenly over the
 *   candidate ranges it spans; RocksDB also samples index blocks, which file boundaries approximate
 *   well when the output level is wide). A boundary is a whole user key, so a user key never straddles
 *   two pieces; it ends in 0x00, so the range tombstones a piece carries end at `hi`, recorded as the
 *   previous user key's last internal key (table-output.ts), and two pieces' outputs never share a user
 *   key in their recorded bounds (MANIFEST invariant 4).
 * - All or nothing: every piece settles before runPlan() returns; if one failed, it throws the first
 *   failure and the finished pieces' outputs are left to the caller, who installs nothing and lets
 *   the obsolete-file pass delete them (their numbers are no longer pending).
 * - Worker executors run the pieces in parallel; the inline executor one after another (one thread).
 * Main thread only (runPlan); splitPlan is safe anywhere.
 */
import { compareBytes } from '../src/base/bytes.js';
import { largestUserKey, smallestUserKey, type FileMetadata } from '../src/manifest/file-metadata.js';
import { immediateSuccessor } from '../src/rangedel/range-tombstone.js';
import type { CompactionExecutor, CompactionJob } from './executor.js';
import { allInputFiles, type CompactionPlan } from './plan.js';
import type { CompactionResult } from './runner.js';

/** The pieces' boundaries: piece i covers [bounds[i-1], bounds[i]) (the first from the start, the last to the end). */
export function splitPoints(plan: CompactionPlan, maxPieces: number, targetFileSize: number): Uint8Array[] {
  const files = allInputFiles(plan);
  let total = 0;
  for (const f of files) total += f.fileSize;
  const pieces = Math.min(maxPieces, Math.ceil(total / Math.max(1, targetFileSize)));
  if (pieces <= 1 || plan.isTrivialMove) return [];
  // Candidate boundaries, ascending and distinct; the largest key of all is no boundary.
  const keys = files.map((f) => largestUserKey(f)).sort(compareBytes);
  const cands: Uint8Array[] = [];
  for (const k of keys) if (cands.length === 0 || compareBytes(cands[cands.length - 1]!, k) !== 0) cands.push(k);
  cands.pop();
  if (cands.length === 0) return [];
  const bounds = cands.map(immediateSuccessor);
  // Range j = [bounds[j-1], bounds[j]); weight[j]: input bytes spread over the ranges each file spans.
  const weight = new Float64Array(bounds.length + 1);
  const rangeOf = (k: Uint8Array): number => { // how many boundaries are <= k
    let lo = 0, hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(bounds[mid]!, k) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const f of files) {
    const a = rangeOf(smallestUserKey(f));
    const b = rangeOf(largestUserKey(f));
    for (let j = a; j <= b; j++) weight[j]! += f.fileSize / (b - a + 1);
  }
  const out: Uint8Array[] = [];
  let acc = 0;
  for (let j = 0; j < bounds.length && out.length < pieces - 1; j++) {
    acc += weight[j]!;
    if (acc >= (total * (out.length + 1)) / pieces) out.push(bounds[j]!);
  }
  return out;
}

function overlaps(f: FileMetadata, lo: Uint8Array | undefined, hi: Uint8Array | undefined): boolean {
  return (lo === undefined || compareBytes(largestUserKey(f), lo) >= 0) &&
    (hi === undefined || compareBytes(smallestUserKey(f), hi) < 0);
}

/** The plan of each piece: its bounds and the inputs overlapping them (all of the plan when unsplit). */
export function splitPlan(plan: CompactionPlan, maxPieces: number, targetFileSize: number): CompactionPlan[] {
  const points = splitPoints(plan, maxPieces, targetFileSize);
  if (points.length === 0) return [plan];
  const out: CompactionPlan[] = [];
  for (let i = 0; i <= points.length; i++) {
    const lo = i > 0 ? points[i - 1] : undefined;
    const hi = i < points.length ? points[i] : undefined;
    out.push({
      ...plan,
      inputs: [plan.inputs[0].filter((f) => overlaps(f, lo, hi)), plan.inputs[1].filter((f) => overlaps(f, lo, hi))],
      ...(plan.middleInputs ? { middleInputs: plan.middleInputs.map((m) => ({ level: m.level, files: m.files.filter((f) => overlaps(f, lo, hi)) })) } : {}),
      piece: { ...(lo ? { lo } : {}), ...(hi ? { hi } : {}) },
    });
  }
  return out;
}

/** One result for the pieces of one plan (outputs in key order; time is the wall time of the whole). */
export function joinResults(plan: CompactionPlan, results: readonly CompactionResult[], ms: number): CompactionResult {
  const sum = (f: (r: CompactionResult) => number): number => results.reduce((n, r) => n + f(r), 0);
  let bytesRead = 0;
  for (const f of allInputFiles(plan)) bytesRead += f.fileSize;
  return {
    outputs: results.flatMap((r) => r.outputs), bytesRead, bytesWritten: sum((r) => r.bytesWritten),
    entriesIn: sum((r) => r.entriesIn), entriesOut: sum((r) => r.entriesOut),
    droppedShadowed: sum((r) => r.droppedShadowed), droppedTombstones: sum((r) => r.droppedTombstones),
    droppedCovered: sum((r) => r.droppedCovered), rangeDelsIn: sum((r) => r.rangeDelsIn),
    rangeDelsOut: sum((r) => r.rangeDelsOut), filteredRemoved: sum((r) => r.filteredRemoved),
    filteredChanged: sum((r) => r.filteredChanged), ms,
  };
}

export interface PlanRun { result: CompactionResult; pieces: number }

/** Runs `job.plan`, split per the job's options; throws the first piece's failure once all have settled. */
export async function runPlan(executor: CompactionExecutor, job: CompactionJob): Promise<PlanRun> {
  const pieces = splitPlan(job.plan, job.options.maxSubcompactions ?? 1, job.options.targetFileSize);
  if (pieces.length === 1) return { result: await executor.run(job), pieces: 1 };
  const t0 = performance.now();
  const results: CompactionResult[] = [];
  if (executor.kind === 'inline') {
    for (const p of pieces) results.push(await executor.run({ ...job, plan: p }));
  } else {
    const settled = await Promise.allSettled(pieces.map((p) => executor.run({ ...job, plan: p })));
    for (const s of settled) {
      if (s.status === 'rejected') throw s.reason;
      results.push(s.value);
    }
  }
  return { result: joinResults(job.plan, results, performance.now() - t0), pieces: pieces.length };
}
