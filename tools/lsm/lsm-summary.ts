/**
 * The text `stratadb lsm DIR` prints by default: the steps by kind, the last steps, the final shape
 * per level and the write amplification so far. Pure (history in, lines out).
 * Not here: the data (lsm-history.ts), the page (lsm-page.ts).
 */
import { humanBytes, table } from '../format.js';
import type { LsmHistory } from './lsm-history.js';

/** How many of the last steps the summary lists (the rest: --json or --html). */
export const SUMMARY_LAST_STEPS = 20;

export function lsmSummary(h: LsmHistory, manifestPath: string): string[] {
  const kinds = Object.entries(h.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');
  const lines = [
    `lsm ${manifestPath}  (${h.manifestBytes} bytes, ${h.edits} edits, ${h.totalSteps} steps: ${kinds || 'none'})`,
    `  ${h.metaEdits} edits changed no file (log number or sequence only) and are not steps`,
    '  history starts at the snapshot that began this MANIFEST (older MANIFESTs are not read); kinds are inferred',
    '',
  ];
  const last = h.steps.slice(-SUMMARY_LAST_STEPS);
  lines.push(last.length < h.steps.length || h.shownSteps < h.totalSteps
    ? `last ${last.length} steps (all: --json or --html)` : `steps (${last.length})`);
  for (const s of last) lines.push(`  #${s.edit}  ${s.reason}`);
  lines.push('', 'final shape');
  const rows = [['level', 'files', 'bytes', '']];
  for (const l of h.final.levels) rows.push([`L${l.level}`, String(l.files.length), String(l.bytes), humanBytes(l.bytes)]);
  const files = h.final.levels.reduce((s, l) => s + l.files.length, 0);
  const bytes = h.final.levels.reduce((s, l) => s + l.bytes, 0);
  rows.push(['total', String(files), String(bytes), humanBytes(bytes)]);
  lines.push(...table(rows, new Set([1, 2])).map((l) => `  ${l}`));
  const wa = h.final.writeAmp;
  lines.push('', `flushed ${h.final.flushedBytes} bytes, written by compactions ${h.final.compactedBytes} bytes, ` +
    `write amp so far ${wa === null ? '- (nothing flushed)' : wa.toFixed(2)}`);
  if (h.tornTail) lines.push('', `torn tail at offset ${h.tornTail.offset}: ${h.tornTail.detail} (ignored, as an open does)`);
  if (h.problem) {
    lines.push('', `DAMAGED at offset ${h.problem.offset} (${h.problem.code}): ${h.problem.detail}`,
      '  the history above stops there');
  }
  return lines;
}
