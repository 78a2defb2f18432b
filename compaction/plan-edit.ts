/**
 * The plan -> VersionEdit step: what installing a finished compaction changes in the MANIFEST.
 * Pure, plain data in, an edit out, no I/O (the picker's generate step has this as its apply twin),
 * so golden tests (test/testdata/compaction/plan-edit.txt) can check every kind of plan.
 * Contract: one edit deletes every input from its level (inputs[0] from `level`, inputs[1] from
 * `outputLevel`), adds every output at `outputLevel` and, when the plan carries one, moves the
 * round-robin pointer of `level`. A trivial move has no outputs: its single input is relinked one
 * level down (the VersionBuilder applies deletions before additions, so the same number may leave
 * L and join L+1 in one edit). A rewrite (level === outputLevel) replaces its input in place. A
 * tiered plan's middle levels lose their files too; a FIFO drop has no outputs at all.
 * Outputs carry their own newest write time (FileMetadata.newestWriteTimeMs, the age FIFO's TTL
 * reads), which the runner bounds from the inputs' times (write-time.ts), so a merge never makes old
 * data look new; a trivial move keeps its file's.
 * Not here: the scalars the VersionSet fills in (log number, next file, last sequence).
 */
import { invariant } from '../src/base/invariant.js';
import type { FileMetadata } from '../src/manifest/file-metadata.js';
import type { VersionEdit } from '../src/manifest/version-edit.js';
import { inputsByLevel, type CompactionPlan } from './plan.js';

/**
 * The edit that installs `plan` once its `outputs` are written and synced. For a trivial move,
 * pass no outputs: the input file itself is the output.
 */
export function editForPlan(plan: CompactionPlan, outputs: readonly FileMetadata[]): VersionEdit {
  invariant(!plan.isTrivialMove || outputs.length === 0, 'a trivial move writes no outputs');
  invariant(plan.reason !== 'fifo-drop' || outputs.length === 0, 'a FIFO drop writes no outputs');
  const added = plan.isTrivialMove ? plan.inputs[0] : outputs;
  return {
    deletedFiles: inputsByLevel(plan).flatMap(({ level, files }) => files.map((f) => ({ level, fileNumber: f.fileNumber }))),
    newFiles: added.map((file) => ({ level: plan.outputLevel, file })),
    ...(plan.compactPointer ? { compactPointers: [{ level: plan.level, key: plan.compactPointer }] } : {}),
  };
}
