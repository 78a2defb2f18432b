/**
 * `stratadb has DIR KEY... [--hex] [--json]`: whether each key exists, answered by db.hasMany (the
 * bloom filter and index first, no value copied), from a read-only open, so it works beside the
 * process that owns the database. Prints `KEY<TAB>yes|no` per key in the order given (or a JSON array).
 * Exit: 0 every key exists; 1 at least one does not (as `get` for a missing key); 2 a usage mistake.
 */
import type { Command } from 'commander';
import { parseBytesArg } from '../format.js';
import { withReadOnlyDb } from '../open-db.js';
import { EXIT_DAMAGED, setExitCode } from '../output.js';
import { addKeyOptions, type KeyOptions } from '../key-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('has')
    .description('tell whether keys exist, without reading their values (read-only open: safe beside a live process)')
    .argument('<DIR>', 'the database directory')
    .argument('<KEY...>', 'the keys, as UTF-8 text (or hex digits with --hex)')
    .option('--hex', 'the KEYs are hex')
    .option('--json', 'print [{ "key": ..., "exists": true|false }]')
    .addHelpText('after', `
Exit code 1 when any key does not exist.
Examples:
  $ stratadb has /data/db user:42 user:43
  $ stratadb has /data/db 00ff10 --hex --json`);
  addKeyOptions(cmd)
    .action(async (dir: string, keyTexts: string[], options: { hex?: boolean; json?: boolean } & KeyOptions) => {
      const keys = keyTexts.map((t) => parseBytesArg('KEY', t, options.hex === true));
      const found = await withReadOnlyDb(dir, (db) => db.hasMany(keys), options);
      if (options.json === true) {
        process.stdout.write(`${JSON.stringify(keyTexts.map((key, i) => ({ key, exists: found[i] })))}\n`);
      } else {
        process.stdout.write(keyTexts.map((key, i) => `${key}\t${found[i] ? 'yes' : 'no'}\n`).join(''));
      }
      if (found.includes(false)) setExitCode(EXIT_DAMAGED);
    });
}
