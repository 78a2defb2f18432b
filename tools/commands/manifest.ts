/**
 * `stratadb manifest DIR [--json]`: the MANIFEST that CURRENT names, as the version history (every
 * edit, in order, with its offset) and the levels it adds up to (LevelDB's dumpfile on a MANIFEST).
 * Reads through inspect.manifest(): no lock, nothing written, safe beside a live process (a MANIFEST
 * rolled between reading CURRENT and opening it is read again: tools/steady-read.ts; exit 75 if it
 * never holds still).
 * Exit: 0, also with a torn tail (what a crash mid-append leaves; an open ignores it); 1 when the
 * MANIFEST is damaged before its end (the problem is printed after everything readable); 2 when DIR
 * is missing, a file, or has no CURRENT (said in those words, tools/db-dir.ts).
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { inspect } from '../../src/index.js';
import { EXIT_DAMAGED, Output, printJson, setExitCode } from '../output.js';
import { table } from '../format.js';
import { addKeyOptions, encryptionOption, type KeyOptions } from '../key-options.js';
import { steadyRead } from '../steady-read.js';
import { checkDatabaseDir } from '../db-dir.js';

type FileJson = inspect.ManifestInspection['levels'][number]['files'][number];

export function register(program: Command): void {
  const cmd = program
    .command('manifest')
    .description('show the version history (every edit) and the current levels of a database')
    .argument('<DIR>', 'the database directory')
    .option('--json', 'print JSON instead of text')
    .addHelpText('after', `
Examples:
  $ stratadb manifest /data/db
  $ stratadb manifest /data/db --json | jq '.levels[] | {level, bytes}'`);
  addKeyOptions(cmd)
    .action((dir: string, options: { json?: boolean } & KeyOptions) => manifest(dir, options.json === true, options));
}

function fileLine(f: FileJson): string {
  return `${String(f.fileNumber).padStart(6, '0')}  ${f.fileSize} bytes  [${f.smallest} .. ${f.largest}]  ` +
    `seq ${f.smallestSeq}..${f.largestSeq}  entries ${f.numEntries} (${f.numDeletions} del)  crc ${f.crc32c}` +
    (f.numRangeDeletions !== undefined ? `  range dels ${f.numRangeDeletions}` : '') +
    (f.keyId !== undefined ? `  key id ${JSON.stringify(f.keyId)}` : '') +
    (f.uniqueId !== undefined ? `  id ${f.uniqueId}` : '') +
    (f.newestWriteTimeMs !== undefined ? `  written ${new Date(f.newestWriteTimeMs).toISOString()}` : '');
}

async function manifest(dir: string, asJson: boolean, keys: KeyOptions): Promise<void> {
  await checkDatabaseDir(dir);
  const encryption = encryptionOption(keys, true);
  const m = await steadyRead(dir, () => inspect.manifest(dir, encryption), (x) => x.problem !== undefined);
  if (m.problem) setExitCode(EXIT_DAMAGED);
  // The style is an option, not MANIFEST state: the newest OPTIONS file says how it was last opened.
  const last = await inspect.options(dir, encryption).catch(() => undefined);
  const compactionStyle = last?.values['compactionStyle'] ?? (last ? 'leveled' : undefined);
  const sortedRuns = m.levels.reduce((n, l) => n + (l.level === 0 ? l.files.length : l.files.length > 0 ? 1 : 0), 0);
  if (asJson) {
    printJson({ dir, ...m, compactionStyle, sortedRuns });
    return;
  }
  const out = new Output();
  const lines: string[] = [
    `manifest ${path.join(dir, m.manifest)}  (${m.bytes} bytes, ${m.records} records)`,
    `  format ${m.formatVersion ?? '-'}, comparator ${m.comparatorName ?? '-'}`,
    `  log number ${m.logNumber ?? '-'}, next file number ${m.nextFileNumber ?? '-'}, last sequence ${m.lastSequence ?? '-'}`,
    `  compaction style ${compactionStyle ?? '-'}${last ? ` (${last.file})` : ''}, ${sortedRuns} sorted runs`,
    '',
    `edits (${m.edits.length})`,
  ];
  m.edits.forEach((e, i) => {
    lines.push(`  #${i + 1} @${e.offset}`);
    for (const t of e.text) lines.push(`    ${t}`);
  });
  lines.push('', 'levels');
  const rows = [['level', 'files', 'bytes']];
  for (const l of m.levels) rows.push([`L${l.level}`, String(l.files.length), String(l.bytes)]);
  rows.push(['total', String(m.levels.reduce((s, l) => s + l.files.length, 0)), String(m.levels.reduce((s, l) => s + l.bytes, 0))]);
  lines.push(...table(rows, new Set([1, 2])).map((l) => `  ${l}`));
  for (const l of m.levels) {
    if (l.files.length === 0) continue;
    lines.push('', `L${l.level}`);
    for (const f of l.files) lines.push(`  ${fileLine(f)}`);
  }
  if (m.tornTail) {
    lines.push('', `torn tail at offset ${m.tornTail.offset}: ${m.tornTail.detail}`,
      '  (an append cut short by a crash: an open ignores it; the edits above are complete)');
  }
  if (m.problem) {
    lines.push('', `DAMAGED at offset ${m.problem.offset} (${m.problem.code}): ${m.problem.detail}`,
      '  nothing after this offset could be read; the history and levels above stop there');
  }
  for (const l of lines) {
    const p = out.line(l);
    if (p) await p;
  }
  await out.flush();
}
