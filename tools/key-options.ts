/**
 * The key options every command that opens a database or a file shares (issue #9, encryption at
 * rest): `--key-file FILE` and `--key-env VAR`, the built-in key providers (src/encryption/
 * key-providers.ts: one key per line, `ID=KEY` or a bare 64-hex-digit / base64 key; the last one is
 * the current key), and `--allow-plaintext` for read-write opens of a database that is half-way
 * through being encrypted (read-only commands always read plaintext files too).
 * Contract: key material is never printed (the providers never echo a key; errors name key ids and
 * the file or variable only). Not here: opening (tools/open-db.ts), printing errors (program.ts).
 */
import type { Command } from 'commander';
import { InvalidArgumentError, keyProviderFromEnv, keyProviderFromFile, type EncryptionOptions } from '../src/index.js';

export interface KeyOptions { keyFile?: string; keyEnv?: string; allowPlaintext?: boolean }

export const KEY_HELP = `
Encrypted databases and files: --key-file FILE reads the keys from FILE, --key-env VAR from the
environment variable VAR (one key per line, or separated by ';' in a variable: 64 hex digits or the
base64 of 32 bytes, optionally named ID=KEY; the last one listed is the current key). Without them
an encrypted database or file is refused with the key id it needs. Keys are never printed.`;

/** Adds --key-file, --key-env (and, for read-write opens, --allow-plaintext) and their help. */
export function addKeyOptions(cmd: Command, options: { writable?: boolean } = {}): Command {
  cmd
    .option('--key-file <FILE>', 'encryption keys from FILE (for an encrypted database or file)')
    .option('--key-env <VAR>', 'encryption keys from the environment variable VAR');
  if (options.writable) cmd.option('--allow-plaintext', 'also read files written before encryption was turned on');
  return cmd.addHelpText('after', KEY_HELP);
}

/**
 * The `encryption` option for DB.open / inspect / BackupEngine.open, or undefined without key
 * options. Read-only looks (`readOnly`) read plaintext files too.
 */
export function encryptionFrom(o: KeyOptions, readOnly: boolean): EncryptionOptions | undefined {
  if (o.keyFile !== undefined && o.keyEnv !== undefined) throw new InvalidArgumentError('give --key-file or --key-env, not both');
  if (o.keyFile === undefined && o.keyEnv === undefined) {
    if (o.allowPlaintext) throw new InvalidArgumentError('--allow-plaintext needs --key-file or --key-env');
    return undefined;
  }
  if (o.keyEnv !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.keyEnv)) {
    throw new InvalidArgumentError(`--key-env must name an environment variable, got '${o.keyEnv}'`);
  }
  const keyProvider = o.keyFile !== undefined ? keyProviderFromFile(o.keyFile) : keyProviderFromEnv(o.keyEnv);
  // The provider reads lazily: read it once now, so a bad key file is a clean usage error up front.
  keyProvider.currentKeyId();
  return { keyProvider, allowPlaintext: readOnly || o.allowPlaintext === true };
}

/** `{ encryption }` to spread into open options (nothing without key options). */
export function encryptionOption(o: KeyOptions, readOnly: boolean): { encryption?: EncryptionOptions } {
  const e = encryptionFrom(o, readOnly);
  return e ? { encryption: e } : {};
}
