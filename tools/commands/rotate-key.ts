/**
 * `stratadb rotate-key DIR (--key-file FILE | --key-env VAR) [--json]`: key rotation now (issue #9).
 * The provider names the new current key (the last key in the file or variable: append a line to
 * rotate); the database is opened read-write with it (ERR_LOCKED, exit 2, beside a live process,
 * which should call db.rotateKey() itself) and db.rotateKey({ rewrite: true }) rolls the WAL and the
 * MANIFEST and rewrites every table sealed with another key (or none, with --allow-plaintext), and
 * waits. Prints the current key id and the number of tables rewritten; old keys can be dropped from
 * the key file once `stratadb stats` lists no table under them. Never prints a key.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../../src/index.js';
import { withWritableDb } from '../open-db.js';
import { printJson } from '../output.js';
import { addKeyOptions, type KeyOptions } from '../key-options.js';
import { encryptionText } from './stats.js';

export function register(program: Command): void {
  const cmd = program
    .command('rotate-key')
    .description("make every file use the key provider's current key now: rolls the WAL and MANIFEST, rewrites old tables")
    .argument('<DIR>', 'the database directory')
    .option('--json', 'print { keyId, rewritten, encryption } as JSON')
    .addHelpText('after', `
Rotation: add the new key as the LAST line of the key file (keep the old ones until this finishes),
then run rotate-key; afterwards \`stratadb stats\` shows which key ids tables still use.
Examples:
  $ echo "k2=$(openssl rand -hex 32)" >> /etc/stratadb/keys && stratadb rotate-key /data/db --key-file /etc/stratadb/keys
  $ stratadb rotate-key /data/db --key-env STRATADB_KEY --json`);
  addKeyOptions(cmd, { writable: true })
    .action(async (dir: string, options: { json?: boolean } & KeyOptions) => {
      if (options.keyFile === undefined && options.keyEnv === undefined) {
        throw new InvalidArgumentError('rotate-key needs the keys: give --key-file FILE or --key-env VAR');
      }
      await withWritableDb(dir, false, async (db) => {
        const r = await db.rotateKey({ rewrite: true });
        const encryption = db.stats().encryption;
        if (options.json) {
          printJson({ dir, keyId: r.keyId, rewritten: r.rewritten, encryption });
        } else {
          process.stdout.write(`current key id ${JSON.stringify(r.keyId)}; ${r.rewritten} table${r.rewritten === 1 ? '' : 's'} rewritten\n` +
            `encryption ${encryptionText(encryption)}\n`);
        }
      }, options);
    });
}
