/**
 * `stratadb repair DIR [--json] [--key-file FILE | --key-env VAR]`: DB.repair(), for a database whose
 * MANIFEST or CURRENT is lost or damaged, or that does not open. Prints what was kept, what was set
 * aside in DIR/lost/ and why, and the last sequence; --json prints the RepairReport. Refused, changing
 * nothing, while the database is open anywhere (ERR_LOCKED, exit 2) and for a directory holding no
 * database files (exit 2). Exit 0 once the repaired database is written, even when tables were dropped:
 * the report says which.
 */
import type { Command } from 'commander';
import { DB, type RepairReport } from '../../src/index.js';
import { printJson } from '../output.js';
import { addKeyOptions, encryptionOption, type KeyOptions } from '../key-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('repair')
    .description('rebuild a database whose MANIFEST or CURRENT is lost or damaged from its good tables and WALs')
    .argument('<DIR>', 'the database directory')
    .option('--json', 'print the repair report as JSON')
    .addHelpText('after', `
Every table that verifies is kept, every WAL is replayed up to its first bad record, and a fresh
MANIFEST and CURRENT are written. Nothing is deleted: damaged tables, replayed WALs and old MANIFESTs
are moved to DIR/lost/ (remove it once the repaired database checks out: stratadb check DIR).
Examples:
  $ stratadb repair /data/db
  $ stratadb repair /data/db --json`);
  addKeyOptions(cmd, { writable: true })
    .action(async (dir: string, options: { json?: boolean } & KeyOptions) => {
      const report = await DB.repair(dir, encryptionOption(options, false));
      if (options.json) printJson(report);
      else process.stdout.write(reportText(report));
    });
}

function reportText(r: RepairReport): string {
  const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;
  const lines = [
    `kept ${plural(r.tablesKept, 'table')}, dropped ${r.tablesDropped.length}; ` +
      `replayed ${plural(r.walsReplayed, 'WAL')} (${plural(r.entriesRecovered, 'entry', 'entries')} recovered)`,
    `the database now holds ${plural(r.tablesInDatabase, 'table')} ` +
      `(${r.tablesMerged} overlapping merged into ${r.tablesWritten} written); last sequence ${r.lastSequence}`,
  ];
  for (const d of r.tablesDropped) lines.push(`dropped ${d.file}: ${d.reason}`);
  for (const w of r.walsStopped) lines.push(`WAL ${w.file} replayed up to offset ${w.offset}: ${w.reason}`);
  if (r.movedToLost.length > 0) lines.push(`moved to lost/: ${r.movedToLost.map((p) => p.replace(/^lost[/\\]/, '')).join(' ')}`);
  return lines.join('\n') + '\n';
}
