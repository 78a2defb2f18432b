/**
 * `stratadb get DIR KEY [--hex]`: prints one value (UTF-8 text, or hex with --hex), read from a
 * read-only open, so it works beside the process that owns the database. It sees what that
 * process had synced to its WAL and tables when the open happened.
 * Exit: 0 found; 1 not found (a note on stderr, nothing on stdout, as grep does); 2 a usage mistake.
 */
import type { Command } from 'commander';
import { parseBytesArg, showBytes } from '../format.js';
import { withReadOnlyDb } from '../open-db.js';
import { EXIT_DAMAGED, setExitCode } from '../output.js';
import { addKeyOptions, type KeyOptions } from '../key-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('get')
    .description('print the value of one key (read-only open: safe beside a live process)')
    .argument('<DIR>', 'the database directory')
    .argument('<KEY>', 'the key, as UTF-8 text (or hex digits with --hex)')
    .option('--hex', 'KEY is hex, and the value is printed as hex')
    .addHelpText('after', `
Exit code 1 when the key is not found.
Examples:
  $ stratadb get /data/db user:42
  $ stratadb get /data/db 00ff10 --hex`);
  addKeyOptions(cmd)
    .action(async (dir: string, keyText: string, options: { hex?: boolean } & KeyOptions) => {
      const isHex = options.hex === true;
      const key = parseBytesArg('KEY', keyText, isHex);
      const value = await withReadOnlyDb(dir, (db) => db.get(key), options);
      if (value === undefined) {
        process.stderr.write(`not found: ${keyText}\n`);
        setExitCode(EXIT_DAMAGED);
        return;
      }
      process.stdout.write(`${showBytes(value, isHex)}\n`);
    });
}
