/**
 * `stratadb destroy DIR [--json]`: DB.destroy(), removing a database's own files (and the directory
 * when nothing else is left in it). Refuses, changing nothing, a directory that holds no database
 * (exit 2) and a database open in any process (ERR_LOCKED, exit 2). Files that are not the
 * database's are kept and listed as kept.
 */
import type { Command } from 'commander';
import { DB } from '../../src/index.js';

export function register(program: Command): void {
  program
    .command('destroy')
    .description('remove a database\'s files (refused while it is open anywhere, or when DIR holds no database)')
    .argument('<DIR>', 'the database directory')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `
Only the database's own files are removed (CURRENT, MANIFEST-*, *.log, *.sst, LOCK, LOG*, OPTIONS-*);
other files are left alone, and so is the directory then.
Examples:
  $ stratadb destroy /data/old-db
  $ stratadb destroy /data/old-db --json`)
    .action(async (dir: string, options: { json?: boolean }) => {
      const r = await DB.destroy(dir);
      if (options.json) {
        process.stdout.write(JSON.stringify(r) + '\n');
      } else {
        process.stdout.write(`removed ${r.removed.length} file(s)` +
          (r.removedDir ? ` and the directory ${dir}\n` : `; ${dir} kept (it holds other files)\n`));
      }
    });
}
