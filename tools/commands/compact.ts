/**
 * `stratadb compact DIR [--start K] [--end K] [--hex] [--json]`: db.compactRange() through a read-write
 * open (ERR_LOCKED, exit 2, while another process holds the database): everything overlapping the
 * range (all by default) is compacted down to the last level. Prints the level table before and after.
 */
import type { Command } from 'commander';
import { parseBytesArg } from '../format.js';
import { withWritableDb } from '../open-db.js';
import { addKeyOptions, type KeyOptions } from '../key-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('compact')
    .description('compact a key range (default: everything) down to the last level, and wait')
    .argument('<DIR>', 'the database directory')
    .option('--start <KEY>', 'first key of the range (inclusive)')
    .option('--end <KEY>', 'last key of the range (inclusive)')
    .option('--hex', 'keys are hex')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
Examples:
  $ stratadb compact /data/db
  $ stratadb compact /data/db --start user: --end user~ --json`);
  addKeyOptions(cmd, { writable: true })
    .action(async (dir: string, options: { start?: string; end?: string; hex?: boolean; json?: boolean } & KeyOptions) => {
      const isHex = options.hex === true;
      const start = options.start === undefined ? undefined : parseBytesArg('--start', options.start, isHex);
      const end = options.end === undefined ? undefined : parseBytesArg('--end', options.end, isHex);
      await withWritableDb(dir, false, async (db) => {
        const files = (): number[] => db.stats().levels.map((l) => l.files);
        const before = files();
        const t0 = performance.now();
        await db.compactRange(start, end);
        const after = files();
        const ms = Math.round(performance.now() - t0);
        if (options.json) {
          process.stdout.write(JSON.stringify({ before, after, ms, compactions: db.stats().compactions }) + '\n');
        } else {
          const row = (f: number[]): string => f.map((n, l) => `L${l}:${n}`).join(' ');
          process.stdout.write(`files per level before: ${row(before)}\nfiles per level after:  ${row(after)}\ncompacted in ${ms} ms\n`);
        }
      }, options);
    });
}
