/**
 * Decides which compactions run. After every flush and every compaction it asks for a job in the
 * background job queue (job-queue.ts, which alone decides how many jobs run at once: flushes first);
 * the job asks the picker for work only when it starts, against the version current then, so a job
 * that waited never runs a stale plan. A job that found work first asks for the next one, so jobs
 * fill every free slot while the picker finds disjoint work (it skips files already busy); at most
 * one automatic job waits in the queue. Manual plans (compactRange, stale-key rewrites) are picked
 * at once, their files marked busy, and wait in the same queue.
 *
 * A job: a trivial move is one VersionEdit (delete at L, add at L+1); otherwise the executor runs the
 * plan (inline or in a worker; split into subcompactions by subcompactions.ts when the options allow),
 * then the main thread installs one edit (plan-edit.ts: delete inputs,
 * add outputs, move the level's round-robin pointer). Inputs stay on disk until that edit is durable
 * and no version refers to them (deleteObsoleteFiles).
 *
 * An ingest holds picks (holdPicks) while it chooses levels and installs its tables, and reads the
 * plans in flight (inFlightPlans) so it puts nothing where their outputs will land.
 *
 * Styles: style-picker.ts says which picker decides (leveled, tiered or FIFO). A FIFO drop is one
 * VersionEdit deleting its files, like a trivial move writes nothing; with a TTL, a timer (unref'd)
 * asks for work again when the next table expires, since no flush may come to ask.
 *
 * Failures: an I/O failure removes the job's outputs (the runner does; the outputs of a split job's
 * pieces that did finish go with the next obsolete-file pass, started at once), is logged and counted, and no
 * job starts until the back-off of job-policy.ts (COMPACTION_RETRY) has passed; after its attempts in a
 * row, or at once for a corrupt input or a failed MANIFEST write, the host is told to stop writes.
 * Main thread only.
 */
import { isStrataError } from '../src/errors.js';
import type { VersionEdit } from '../src/manifest/version-edit.js';
import type { CompactionExecutor } from './executor.js';
import type { CompactionHost, CompactionOutcome } from './host.js';
import type { BackgroundJobQueue } from './job-queue.js';
import { pickIdle, pickManual, pickInPlace, pickRewrite, type PickerInput } from './picker.js';
import { LEVELED, pickAutoForStyle, pickManualForStyle, pickRewriteInPlace, type StyleConfig } from './style-picker.js';
import { nextFifoExpiryMs } from './fifo-picker.js';
import { sortedRunCount } from './tiered-picker.js';
import { COMPACTION_RETRY, JobRetry, NODE_TIMERS } from './job-policy.js';
import { describePlan, inputFileNumbers, type CompactionPlan } from './plan.js';
import { editForPlan } from './plan-edit.js';
import { runPlan, type PlanRun } from './subcompactions.js';

/** Reruns of a filtered compaction that a new snapshot invalidated, before the job gives up (runFiltered). */
const FILTER_RERUNS = 3;

/**
 * Where a job is: a failed MANIFEST write is fatal at once (the VersionSet refuses further edits).
 * `onEnd`: the host's callback from onCompactionBegin, told once how the job ended.
 */
interface JobStage { isInstalling: boolean; onEnd?: ((outcome: CompactionOutcome) => void) | undefined }

export class CompactionScheduler {
  private readonly busy = new Set<number>();
  /** Jobs submitted and not finished (waiting or running): what progress waits on, never a limit. */
  private submitted = 0;
  /** An automatic job waits in the queue: one is enough, it asks for the next when it starts. */
  private isJobWaiting = false;
  private stopped = false;
  private waiters: (() => void)[] = [];
  /** The writes went quiet (idle-trigger.ts): the next automatic job may also compact a short L0. */
  private isIdleRequested = false;
  private idleMinFiles = 2;
  /** Plans claimed and not yet released (waiting or running): their outputs are still to come. */
  private readonly claimed = new Set<CompactionPlan>();
  /** holdPicks() callers not yet released: no new plan is picked while above 0. */
  private holds = 0;
  private holdWaiters: (() => void)[] = [];
  /** FIFO with a TTL: wakes the scheduler when the next table expires. */
  private expiryTimer: unknown;

  constructor(
    private readonly host: CompactionHost,
    private readonly executor: CompactionExecutor,
    private readonly jobs: BackgroundJobQueue,
    private readonly retry: JobRetry = new JobRetry(COMPACTION_RETRY),
  ) {}

  /** Compaction jobs submitted and not finished: progress is coming while this is above 0. */
  get runningJobs(): number { return this.submitted; }

  /** Plans picked and not finished: where outputs not yet in the Version will land (ingest avoids them). */
  inFlightPlans(): readonly CompactionPlan[] { return [...this.claimed]; }

  /**
   * Stops new plans from being picked (running and already claimed ones go on) until the returned
   * release is called: an ingest chooses its levels from the Version and the in-flight plans, and no
   * plan picked meanwhile may put outputs where it chose. Releases are idempotent.
   */
  holdPicks(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds > 0) return;
      const w = this.holdWaiters;
      this.holdWaiters = [];
      for (const f of w) f();
      this.maybeSchedule();
    };
  }

  /** Resolves once no hold is in place (at once when none is). */
  private whenUnheld(): Promise<void> | undefined {
    if (this.holds === 0) return undefined;
    return new Promise((resolve) => this.holdWaiters.push(resolve));
  }

  /** Asks the queue for a compaction job, unless one is waiting already; it picks its work when it starts. */
  maybeSchedule(): void {
    // A back-off in progress calls this again when it ends.
    if (this.stopped || this.host.isStopped() || this.isJobWaiting || this.retry.isBackingOff) return;
    this.isJobWaiting = true;
    this.submit(async () => {
      this.isJobWaiting = false;
      if (this.stopped || this.host.isStopped()) return;
      if (this.retry.isBackingOff) return; // a failure since: its back-off schedules the next job
      if (this.holds > 0) return; // the release schedules again
      const plan = this.pickAuto();
      if (!plan) return;
      this.claim(plan);
      this.maybeSchedule(); // another slot may be free for other work
      await this.execute(plan);
    });
  }

  /**
   * Asks for one idle compaction (picker.ts pickIdle) with at least `minL0Files` L0 files. Scored
   * work goes first; the request is used up by the next automatic pick whether or not it finds a
   * plan, so a quiet database compacts L0 once and never polls.
   */
  requestIdleCompaction(minL0Files: number): void {
    this.idleMinFiles = minL0Files;
    this.isIdleRequested = true;
    this.maybeSchedule();
  }

  private style(): StyleConfig {
    return this.host.compactionStyle?.() ?? LEVELED;
  }

  private pickerInput(): PickerInput {
    return {
      levels: this.host.currentVersion().levels, options: this.host.pickerOptions(),
      compactPointers: this.host.compactPointers(), busy: this.busy,
    };
  }

  private pickAuto(): CompactionPlan | undefined {
    const input = this.pickerInput();
    const style = this.style();
    const plan = pickAutoForStyle(style, input, this.host.nowMs?.() ?? 0);
    if (style.style === 'fifo') this.armExpiry(style.fifo.ttlMs);
    if (plan) return plan;
    if (this.isIdleRequested) {
      this.isIdleRequested = false;
      const idle = style.style === 'leveled' ? pickIdle(input, this.idleMinFiles) : undefined;
      if (idle) return idle;
    }
    return this.pickRewrite();
  }

  /** FIFO with a TTL: a wake-up when the next table expires (none when no table has a write time). */
  private armExpiry(ttlMs: number): void {
    if (ttlMs <= 0 || this.stopped || this.expiryTimer !== undefined) return;
    const now = this.host.nowMs?.() ?? 0;
    const at = nextFifoExpiryMs(this.host.currentVersion().levels, ttlMs, now);
    if (at === undefined) return;
    const delay = Math.min(2 ** 31 - 1, Math.max(1, at - now + 1));
    // Unref'd (NODE_TIMERS): a pending expiry must not hold the process open.
    this.expiryTimer = NODE_TIMERS.setTimeout(() => { this.expiryTimer = undefined; this.maybeSchedule(); }, delay);
  }

  private pickRewrite(): CompactionPlan | undefined {
    const isStale = this.host.staleFiles?.();
    if (!isStale) return undefined;
    const input = this.pickerInput();
    return this.style().style === 'leveled' ? pickRewrite(input, isStale) : pickRewriteInPlace(input, isStale);
  }

  /**
   * Rewrites every stale file (see CompactionHost.staleFiles) and waits; returns how many tables
   * were rewritten. Files written meanwhile use the current key, so this ends.
   */
  async rewriteStale(): Promise<number> {
    let rewritten = 0;
    for (;;) {
      if (this.stopped || this.host.isStopped()) return rewritten;
      const held = this.whenUnheld();
      if (held) { await held; continue; }
      const plan = this.pickRewrite();
      if (!plan) {
        const isStale = this.host.staleFiles?.();
        let any = false;
        if (isStale) this.host.currentVersion().forEachFile((f) => { if (isStale(f)) any = true; });
        if (!any) return rewritten;
        await this.waitForProgress(); // the stale files are busy in other jobs
        if (this.submitted === 0) await new Promise((r) => setImmediate(r));
        continue;
      }
      await new Promise<void>((resolve, reject) => this.start(plan, (e) => (e ? reject(e) : resolve())));
      rewritten += plan.inputs[0].length + plan.inputs[1].length;
    }
  }

  /**
   * Submits a job to the queue; `onSkipped` runs instead when the queue stopped before it could
   * start. Progress waiters hear when work finishes or the scheduler idles.
   */
  private submit(job: () => Promise<void>, onSkipped?: () => void): void {
    this.submitted++;
    void this.jobs.submit('compaction', job).then((ran) => {
      if (!ran) { this.isJobWaiting = false; onSkipped?.(); }
    }, (e: unknown) => this.host.log(`compaction scheduling failed: ${(e as Error).message}`)).finally(() => {
      this.submitted--;
      // Woken only by finished work or idleness: a job that found nothing while others run is no
      // progress, and waking a stalled writer for it would spin.
      if (this.submitted === 0) this.notify();
    });
  }

  private claim(plan: CompactionPlan): void {
    this.claimed.add(plan);
    for (const n of inputFileNumbers(plan)) this.busy.add(n);
  }

  /** A plan picked now (its files busy from now on) that runs when the queue has a slot. */
  private start(plan: CompactionPlan, onDone: (e?: unknown) => void): void {
    this.claim(plan);
    const skip = (): void => { this.release(plan); onDone(); };
    this.submit(async () => {
      if (this.stopped || this.host.isStopped()) skip();
      else await this.execute(plan, onDone);
    }, skip);
  }

  private release(plan: CompactionPlan): void {
    this.claimed.delete(plan);
    for (const n of inputFileNumbers(plan)) this.busy.delete(n);
  }

  private async execute(plan: CompactionPlan, onDone?: (e?: unknown) => void): Promise<void> {
    let error: unknown;
    const stage: JobStage = { isInstalling: false };
    try {
      await this.runJob(plan, stage);
      this.retry.recordSuccess();
    } catch (e) {
      error = e;
      this.onFailure(plan, e, stage);
    } finally {
      this.release(plan);
      onDone?.(error);
      this.notify();
      this.maybeSchedule();
    }
  }

  private async runJob(plan: CompactionPlan, stage: JobStage): Promise<void> {
    const host = this.host;
    const t0 = performance.now();
    host.log(`compaction start: ${describePlan(plan)}`);
    stage.onEnd = host.onCompactionBegin?.(plan);
    if (plan.isTrivialMove) {
      const f = plan.inputs[0][0]!;
      await this.install(editForPlan(plan, []), stage);
      const stats = { level: plan.level, outputLevel: plan.outputLevel, bytesRead: 0, bytesWritten: 0, ms: performance.now() - t0, trivialMove: true };
      host.onCompaction(stats);
      host.log(`compaction done: trivial move of ${f.fileNumber} to L${plan.outputLevel}`);
      this.ended(stage, { ok: true, stats, outputs: [f.fileNumber] });
      return;
    }
    if (plan.reason === 'fifo-drop') {
      let bytes = 0;
      for (const f of plan.inputs[0]) bytes += f.fileSize;
      await this.install(editForPlan(plan, []), stage);
      const stats = { level: plan.level, outputLevel: plan.outputLevel, bytesRead: 0, bytesWritten: 0, ms: performance.now() - t0, trivialMove: false };
      host.onFifoDrop?.(plan.inputs[0].length, bytes);
      host.log(`compaction done: fifo-drop (${plan.dropCause ?? 'size'}) of ${plan.inputs[0].length} tables, ${bytes} B from L${plan.level}: ` +
        plan.inputs[0].map((f) => f.fileNumber).join(','));
      this.ended(stage, { ok: true, stats, outputs: [] });
      await host.deleteObsoleteFiles().catch((e: unknown) => host.log(`deleting obsolete files failed: ${(e as Error).message}`));
      return;
    }
    const allocated: number[] = [];
    let ok = false;
    try {
      if (host.prepareJob) await host.prepareJob();
      const run = await this.runFiltered(plan, allocated);
      if (!run) {
        this.ended(stage, { ok: false, error: new Error('abandoned: new snapshots kept arriving during a filtered compaction') });
        return;
      }
      const { result, pieces } = run;
      await this.install(editForPlan(plan, result.outputs), stage);
      const stats = {
        level: plan.level, outputLevel: plan.outputLevel, bytesRead: result.bytesRead,
        bytesWritten: result.bytesWritten, ms: result.ms, trivialMove: false,
        subcompactions: pieces, filteredRemoved: result.filteredRemoved, filteredChanged: result.filteredChanged,
      };
      host.onCompaction(stats);
      host.log(`compaction done: ${describePlan(plan)} -> ${result.outputs.map((f) => f.fileNumber).join(',') || 'nothing'}; ` +
        `read ${result.bytesRead} B, wrote ${result.bytesWritten} B, ${result.entriesIn} -> ${result.entriesOut} entries ` +
        `(${result.droppedShadowed} shadowed, ${result.droppedTombstones} tombstones dropped, ${result.droppedCovered} range-deleted; ` +
        `range tombstones ${result.rangeDelsIn} -> ${result.rangeDelsOut}` +
        (result.filteredRemoved + result.filteredChanged > 0 ? `; filter removed ${result.filteredRemoved}, changed ${result.filteredChanged}` : '') +
        `) in ${result.ms.toFixed(1)} ms (${this.executor.kind}${pieces > 1 ? `, ${pieces} subcompactions` : ''})` +
        (this.style().style === 'tiered' ? `; ${sortedRunCount(host.currentVersion().levels)} sorted runs` : ''));
      this.ended(stage, { ok: true, stats, outputs: result.outputs.map((f) => f.fileNumber) });
      ok = true;
    } finally {
      for (const n of allocated) host.unregisterOutput(n);
      // A split job that failed may leave finished pieces' outputs: no longer pending, they are obsolete now.
      // NB: not after a failed install: the edit naming them may be in the MANIFEST (a reopen decides).
      if (!ok && !stage.isInstalling && allocated.length > 0) {
        await host.deleteObsoleteFiles().catch((e: unknown) => host.log(`deleting obsolete files failed: ${(e as Error).message}`));
      }
    }
    await host.deleteObsoleteFiles().catch((e: unknown) => host.log(`deleting obsolete files failed: ${(e as Error).message}`));
  }

  /**
   * Runs the plan; when the compaction filter changed something and a snapshot was taken meanwhile,
   * runs it again with that snapshot known. A snapshot taken during the run sees the inputs' newest
   * versions, exactly what the filter may change, so installing that result would change what it reads.
   * After FILTER_RERUNS such runs the job gives up (nothing installed, no failure counted: the next
   * automatic job picks the work again). The discarded runs' outputs go with the obsolete-file pass.
   * NB: a snapshot taken while the edit's MANIFEST record is being written is not seen here.
   */
  private async runFiltered(plan: CompactionPlan, allocated: number[]): Promise<PlanRun | undefined> {
    const host = this.host;
    for (let attempt = 0; attempt <= FILTER_RERUNS; attempt++) {
      const snapshots = host.liveSnapshots();
      const run = await runPlan(this.executor, {
        dir: host.dir, plan, snapshots, options: host.outputOptions(plan.outputLevel),
        allocateFileNumber: () => { const n = host.allocateOutput(); allocated.push(n); return n; },
      });
      if (run.result.filteredRemoved + run.result.filteredChanged === 0) return run;
      const known = new Set(snapshots);
      if (!host.liveSnapshots().some((s) => !known.has(s))) return run;
      host.log(`compaction ${describePlan(plan)}: a snapshot was taken while the compaction filter ran; running it again`);
    }
    host.log(`compaction ${describePlan(plan)} abandoned: snapshots kept arriving while the compaction filter ran`);
    return undefined;
  }

  private ended(stage: JobStage, outcome: CompactionOutcome): void {
    const onEnd = stage.onEnd;
    stage.onEnd = undefined;
    onEnd?.(outcome);
  }

  private async install(edit: VersionEdit, stage: JobStage): Promise<void> {
    stage.isInstalling = true;
    await this.host.logAndApply(edit);
    stage.isInstalling = false;
  }

  private onFailure(plan: CompactionPlan, e: unknown, stage: JobStage): void {
    const host = this.host;
    if (this.stopped && isStrataError(e, 'ERR_CLOSED')) {
      // Stopped by stop() (executor.stopCompactions): nothing failed, nothing to retry or report.
      host.log(`compaction stopped at close: ${describePlan(plan)}`);
      this.ended(stage, { ok: false, error: e });
      return;
    }
    const fatalWhy = stage.isInstalling ? 'MANIFEST write during compaction failed'
      : isStrataError(e, 'ERR_CORRUPTION') ? 'compaction found a corrupt input' : undefined;
    const failure = this.retry.recordFailure(e, fatalWhy);
    host.onCompactionFailure(e, !failure.fatal);
    host.log(`compaction failed (${failure.attempts} in a row): ${describePlan(plan)}: ${(e as Error).message}`);
    this.ended(stage, { ok: false, error: e });
    if (failure.fatal) {
      host.onFatalError(e, fatalWhy ?? `compaction ${failure.why}`);
      return;
    }
    // Another job's back-off may be pending: this one, longer, replaces it.
    void this.retry.backoff().then((elapsed) => { if (elapsed) this.maybeSchedule(); });
  }

  /** Resolves at the next job completion, or when no job is left (at once when none is). */
  waitForProgress(): Promise<void> {
    if (this.submitted === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when no job waits or runs, and the picker has nothing to do. */
  async waitForIdle(): Promise<void> {
    while (this.submitted > 0) await this.waitForProgress();
  }

  /**
   * Compacts every file overlapping [lo, hi] down to the last level holding data, level by level,
   * then rewrites in place the files of that level in range that hold range tombstones, and waits. Runs its own plans through the same queue, waiting for busy files to free up.
   */
  async compactRange(lo: Uint8Array | undefined, hi: Uint8Array | undefined): Promise<void> {
    if (this.style().style !== 'leveled') return this.compactAllRuns();
    const levels = (): readonly (readonly unknown[])[] => this.host.currentVersion().levels;
    let last = 0;
    levels().forEach((files, l) => { if (files.length > 0) last = l; });
    const stopAt = Math.max(last, 1);
    for (let level = 0; level < stopAt; level++) {
      for (;;) {
        if (this.stopped || this.host.isStopped()) return;
        const held = this.whenUnheld();
        if (held) { await held; continue; }
        const plan = pickManual({
          levels: this.host.currentVersion().levels, options: this.host.pickerOptions(),
          compactPointers: this.host.compactPointers(), busy: this.busy,
        }, level, lo, hi);
        if (!plan) {
          // Nothing left in range at this level, or its files are busy: wait for them.
          const anyInRange = this.host.currentVersion().overlappingFiles(level, lo, hi).length > 0;
          if (!anyInRange) break;
          await this.waitForProgress();
          if (this.submitted === 0) await new Promise((r) => setImmediate(r));
          continue;
        }
        await new Promise<void>((resolve, reject) => this.start(plan, (e) => (e ? reject(e) : resolve())));
        if (plan.level !== 0) break; // L1+: all overlapping files were taken at once
      }
    }
    // Files at the bottom holding range tombstones: rewritten in place, which drops the tombstones
    // and what they cover unless a snapshot needs them. The list is taken once, so a tombstone a
    // snapshot keeps is not rewritten again and again.
    const bottom = this.host.currentVersion().overlappingFiles(stopAt, lo, hi)
      .filter((f) => (f.numRangeDeletions ?? 0) > 0).map((f) => f.fileNumber);
    for (const fileNumber of bottom) {
      for (;;) {
        if (this.stopped || this.host.isStopped()) return;
        const held = this.whenUnheld();
        if (held) { await held; continue; }
        const version = this.host.currentVersion();
        if (!version.levels[stopAt]?.some((f) => f.fileNumber === fileNumber)) break; // compacted meanwhile
        const plan = pickInPlace({
          levels: version.levels, options: this.host.pickerOptions(),
          compactPointers: this.host.compactPointers(), busy: this.busy,
        }, stopAt, fileNumber);
        if (!plan) {
          await this.waitForProgress();
          if (this.submitted === 0) await new Promise((r) => setImmediate(r));
          continue;
        }
        await new Promise<void>((resolve, reject) => this.start(plan, (e) => (e ? reject(e) : resolve())));
        break;
      }
    }
  }

  /**
   * compactRange in the tiered and FIFO styles (style-picker.ts pickManualForStyle): one merge of
   * what is there now, waiting while its files are busy in other jobs. In FIFO it first waits for the
   * drops (and merges) the picker finds now.
   */
  private async compactAllRuns(): Promise<void> {
    if (this.style().style === 'fifo') {
      // Pending drops (and merges) first, so compactRange leaves the database within its cap and TTL.
      this.maybeSchedule();
      await this.waitForIdle();
    }
    for (;;) {
      if (this.stopped || this.host.isStopped()) return;
      const { plan, isDone } = pickManualForStyle(this.style(), this.pickerInput());
      if (isDone) return;
      if (!plan) {
        await this.waitForProgress();
        if (this.submitted === 0) await new Promise((r) => setImmediate(r));
        continue;
      }
      await new Promise<void>((resolve, reject) => this.start(plan, (e) => (e ? reject(e) : resolve())));
      return;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Running jobs stop at their next check instead of finishing (a close must not wait for the rest
    // of a compaction that may rewrite gigabytes); their outputs are removed, nothing is installed.
    this.executor.stopCompactions();
    if (this.expiryTimer !== undefined) NODE_TIMERS.clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.retry.stop();
    // Jobs still waiting in the queue skip when they start; the running ones end soon.
    await this.waitForIdle();
    this.notify();
  }
}
