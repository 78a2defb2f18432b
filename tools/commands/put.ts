/**
 * `stratadb put DIR KEY VALUE [--hex] [--create-if-missing]`: one synced write through a
 * read-write open (takes the LOCK: ERR_LOCKED, exit 2, when another process holds the database).
 * Without --create-if-missing a DIR that holds no database is refused, so a typo creates nothing.
 */
import type { Command } from 'commander';
import { parseBytesArg } from '../format.js';
import { withWritableDb } from '../open-db.js';
import { addKeyOptions, type KeyOptions } from '../key-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('put')
    .description('write one key (read-write open: fails with ERR_LOCKED while another process has the database open)')
    .argument('<DIR>', 'the database directory')
    .argument('<KEY>', 'the key, as UTF-8 text (or hex digits with --hex)')
    .argument('<VALUE>', 'the value, as UTF-8 text (or hex digits with --hex)')
    .option('--hex', 'KEY and VALUE are hex')
    .option('--create-if-missing', 'create the database when DIR holds none')
    .addHelpText('after', `
Examples:
  $ stratadb put /data/db user:42 '{"name":"Ada"}'
  $ stratadb put /tmp/newdb greeting hello --create-if-missing
  $ stratadb put /data/db 00ff 0102 --hex`);
  addKeyOptions(cmd, { writable: true })
    .action(async (dir: string, keyText: string, valueText: string, options: { hex?: boolean; createIfMissing?: boolean } & KeyOptions) => {
      const isHex = options.hex === true;
      const key = parseBytesArg('KEY', keyText, isHex);
      const value = parseBytesArg('VALUE', valueText, isHex);
      await withWritableDb(dir, options.createIfMissing === true, (db) => db.put(key, value, { sync: true }), options);
    });
}
