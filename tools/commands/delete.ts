/**
 * `stratadb delete DIR KEY [--hex]`: one synced delete through a read-write open (ERR_LOCKED,
 * exit 2, when another process holds the database). Deleting a missing key is not an error.
 */
import type { Command } from 'commander';
import { parseBytesArg } from '../format.js';
import { withWritableDb } from '../open-db.js';
import { addKeyOptions, type KeyOptions } from '../key-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('delete')
    .description('delete one key (read-write open: fails with ERR_LOCKED while another process has the database open)')
    .argument('<DIR>', 'the database directory')
    .argument('<KEY>', 'the key, as UTF-8 text (or hex digits with --hex)')
    .option('--hex', 'KEY is hex')
    .addHelpText('after', `
Examples:
  $ stratadb delete /data/db user:42
  $ stratadb delete /data/db 00ff --hex`);
  addKeyOptions(cmd, { writable: true })
    .action(async (dir: string, keyText: string, options: { hex?: boolean } & KeyOptions) => {
      const key = parseBytesArg('KEY', keyText, options.hex === true);
      await withWritableDb(dir, false, (db) => db.delete(key, { sync: true }), options);
    });
}
