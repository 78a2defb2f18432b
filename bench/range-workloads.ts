/**
 * The range-delete workloads, engine-neutral like workloads.ts (which lists them):
 * - deleterange (db_bench's range tombstones): on the filled database, num/200 deletes of
 *   RANGE_KEYS consecutive keys each, every other stripe of RANGE_KEYS keys, so half the keys go;
 *   the timed op is one range delete. Afterwards, untimed in the table, gets and seeks that land in
 *   a deleted stripe against ones that land in a live stripe.
 * - clear: PAST_KEYS keys written past the numbered keys ('z' + digits), then every numbered key
 *   deleted in one timed op; then seeks into the cleared range (each must pass every deleted key to
 *   reach the first key past it) against seeks among the kept keys; then the directory's size
 *   after the clear and after compacting everything (engines that have a compaction), which shows
 *   whether the deleted data's space comes back.
 * How each engine deletes a range is its adapter's choice (engine.ts deleteRange). Figures are mean
 * µs per operation, ms, and MB (10^6 bytes) of the directory.
 * Not here: the process around a run (child.ts) and printing (report.ts).
 */
import { diskBytes } from './engine.js';
import type { Figure } from './result.js';
import { XorShift, workloadSeed } from './workload-data.js';
import { runOps } from './workload-runner.js';
import type { WorkloadContext, WorkloadOutcome } from './workloads.js';

/** Keys per range of deleterange. */
export const RANGE_KEYS = 100;
/** Keys kept past the cleared range by clear. */
export const PAST_KEYS = 1000;
/** Reads of each kind after the deletes: enough for a stable mean, few enough for an engine that steps over every deleted key. */
const PROBES = 1000;
const SEEKS_INTO_CLEARED = 20;

/** Every numbered key (decimal digits) sorts below this one byte. */
const PAST_DIGITS = Uint8Array.of(0x3a);

export const deleteRangeCount = (num: number): number => Math.max(1, Math.floor(num / (2 * RANGE_KEYS)));

/** Mean µs of `n` awaited calls of op. */
async function meanUs(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  // runOps stops at an op that returns false (data ran out): a miss here is a result, not an end.
  const m = await runOps(n, 1, async (i) => { await op(i); });
  return m.ops > 0 ? (m.seconds * 1e6) / m.ops : 0;
}

/** One seek: position at target, read the first entry, close. */
async function seekOnce(ctx: WorkloadContext, target: Uint8Array): Promise<boolean> {
  const it = ctx.engine.iterator({ gte: target, limit: 1 });
  try {
    return (await it.next()) !== undefined;
  } finally {
    await it.close();
  }
}

export async function deleterange(ctx: WorkloadContext, c: number): Promise<WorkloadOutcome> {
  const { engine, keys, num } = ctx;
  const ranges = deleteRangeCount(num);
  const first = (stripe: number): number => stripe * RANGE_KEYS;
  const measured = await runOps(ranges, c,
    (i) => engine.deleteRange(keys.keyOf(first(2 * i)), keys.keyOf(first(2 * i + 1))), ctx.progress);
  // Stripe 2i is deleted and 2i+1 is live, for every i below ranges (all below num).
  const rng = new XorShift(workloadSeed(ctx.seed, 'deleterange/reads'));
  const deleted = (): Uint8Array => keys.keyOf(first(2 * rng.below(ranges)) + rng.below(RANGE_KEYS));
  const live = (): Uint8Array => keys.keyOf(first(2 * rng.below(ranges) + 1) + rng.below(RANGE_KEYS));
  const probes = Math.min(PROBES, ctx.reads);
  const followUp = async (): Promise<Figure[]> => [
    { label: 'get in deleted ranges', unit: 'µs', value: await meanUs(probes, () => engine.get(deleted())) },
    { label: 'get elsewhere', unit: 'µs', value: await meanUs(probes, () => engine.get(live())) },
    { label: 'seek into deleted ranges', unit: 'µs', value: await meanUs(probes, () => seekOnce(ctx, deleted())) },
    { label: 'seek elsewhere', unit: 'µs', value: await meanUs(probes, () => seekOnce(ctx, live())) },
  ];
  return {
    measured, entries: measured.ops, bytes: measured.ops * 2 * keys.keySize,
    userBytesWritten: measured.ops * 2 * keys.keySize, opUnit: `range of ${RANGE_KEYS} keys`, followUp,
  };
}

/** A key past every numbered key: 'z' then the digits of i. */
function pastKey(ctx: WorkloadContext, i: number): Uint8Array {
  const k = ctx.keys.keyOf(i);
  k[0] = 0x7a;
  return k;
}

async function dirMB(ctx: WorkloadContext): Promise<number> {
  return ctx.dir === undefined ? 0 : (await diskBytes(ctx.dir)) / 1e6;
}

export async function clearWorkload(ctx: WorkloadContext): Promise<WorkloadOutcome> {
  const { engine, keys, num } = ctx;
  const past = Array.from({ length: PAST_KEYS }, (_, i) => pastKey(ctx, i));
  await engine.batchPut(past, past.map(() => ctx.values.next()), false);
  const figures: Figure[] = [{ label: 'disk before clear', unit: 'MB', value: await dirMB(ctx) }];
  const measured = await runOps(1, 1, () => engine.deleteRange(keys.keyOf(0), PAST_DIGITS), ctx.progress);
  figures.push({ label: 'clear', unit: 'ms', value: measured.seconds * 1e3 });
  const followUp = async (): Promise<Figure[]> => {
    const rng = new XorShift(workloadSeed(ctx.seed, 'clear/seeks'));
    const seeks = Math.min(SEEKS_INTO_CLEARED, ctx.reads);
    figures.push(
      { label: 'seek into cleared range', unit: 'µs', value: await meanUs(seeks, () => seekOnce(ctx, keys.keyOf(rng.below(num)))) },
      { label: 'seek elsewhere', unit: 'µs', value: await meanUs(Math.min(PROBES, ctx.reads), () => seekOnce(ctx, past[rng.below(PAST_KEYS)]!)) },
      { label: 'disk after clear', unit: 'MB', value: await dirMB(ctx) },
    );
    if (engine.compactAll) {
      await engine.compactAll();
      figures.push({ label: 'disk after compaction', unit: 'MB', value: await dirMB(ctx) });
    }
    return figures;
  };
  return {
    measured, entries: num, bytes: num * keys.keySize, userBytesWritten: 2 * keys.keySize,
    opUnit: `clear of ${num} keys`, followUp,
  };
}
