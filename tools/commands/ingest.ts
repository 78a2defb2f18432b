/**
 * `stratadb ingest DIR FILE... [--move] [--create-if-missing] [--json]`: db.ingest() through a
 * read-write open (ERR_LOCKED, exit 2, while another process holds the database). The FILEs are
 * external tables (README "Ingesting external tables"); refusals (overlapping files, a file that is
 * not an external table, damage) change nothing and exit 2 or 1 like every other error. Prints the
 * sequence the ingest took and the level each file went to.
 */
import type { Command } from 'commander';
import { withWritableDb } from '../open-db.js';
import { addKeyOptions, type KeyOptions } from '../key-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('ingest')
    .description('bulk-load external tables (written with ExternalTableWriter) as one atomic write')
    .argument('<DIR>', 'the database directory')
    .argument('<FILE...>', 'external table files; their key ranges must not overlap')
    .option('--move', 'remove the FILEs once the ingest is installed')
    .option('--create-if-missing', 'create the database when DIR holds none')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
Examples:
  $ stratadb ingest /data/db /load/part-000.sst /load/part-001.sst
  $ stratadb ingest /data/db /load/*.sst --move --json`);
  addKeyOptions(cmd, { writable: true })
    .action(async (dir: string, files: string[], options: { move?: boolean; createIfMissing?: boolean; json?: boolean } & KeyOptions) => {
      await withWritableDb(dir, options.createIfMissing === true, async (db) => {
        const t0 = performance.now();
        const r = await db.ingest(files, { move: options.move === true });
        const ms = Math.round(performance.now() - t0);
        if (options.json) {
          process.stdout.write(JSON.stringify({ ...r, ms }) + '\n');
          return;
        }
        const lines = r.files.map((f) => `  ${f.path}: ${f.entries} entries -> L${f.level} (${f.tables.length} table(s))`);
        process.stdout.write(r.entries === 0
          ? 'nothing ingested (every file is empty)\n'
          : `ingested ${r.entries} entries at sequence ${r.sequence} in ${ms} ms\n${lines.join('\n')}\n`);
      }, options);
    });
}
