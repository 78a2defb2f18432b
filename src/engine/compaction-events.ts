/**
 * The 'compaction' event's payloads (engine-events.ts), built from a plan at its begin and from the
 * scheduler's outcome at its end. Called through CompactionHost.onCompactionBegin, so compaction/
 * knows nothing of events; nothing is built when nobody listens.
 * Main thread only.
 */
import { allInputFiles, inputsByLevel, type CompactionPlan } from '../../compaction/plan.js';
import type { CompactionOutcome } from '../../compaction/host.js';
import type { EngineEvents } from './engine-events.js';

/** Emits the begin of `plan`'s job and returns the callback that emits its end (undefined: nobody listens). */
export function compactionBegin(events: EngineEvents, plan: CompactionPlan): ((o: CompactionOutcome) => void) | undefined {
  const job = events.beginJob('compaction');
  if (!job) return undefined;
  const inputs = inputsByLevel(plan).map(({ level, files }) => ({ level, files: files.map((f) => f.fileNumber) }));
  let inputBytes = 0;
  for (const f of allInputFiles(plan)) inputBytes += f.fileSize;
  const base = {
    jobId: job.jobId, reason: plan.reason, inputs, outputLevel: plan.outputLevel, inputBytes,
    trivialMove: plan.isTrivialMove,
  };
  events.emit('compaction', { phase: 'begin', ...base });
  return (o) => {
    const durationMs = performance.now() - job.t0;
    if (o.ok) {
      events.emit('compaction', {
        phase: 'end', ...base, bytesRead: o.stats.bytesRead, bytesWritten: o.stats.bytesWritten, outputs: o.outputs, durationMs,
      });
    } else {
      events.emit('compaction', {
        phase: 'end', ...base, bytesRead: 0, bytesWritten: 0, outputs: [], durationMs,
        error: o.error instanceof Error ? o.error : new Error(String(o.error)),
      });
    }
  };
}
