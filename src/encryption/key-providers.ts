/**
 * Built-in key providers (issue #9): keys from a file, from an environment variable, or from a map
 * in memory. A KMS plugs in by implementing KeyProvider itself ({ currentKeyId, getKey }; getKey may
 * return a Promise, the engine asks once per key id and keeps the key).
 *
 * Text format shared by the file and the variable: one key per line (`;` also separates keys in a
 * variable), `#` starts a comment. A key is 64 hex digits or the base64 of 32 bytes, optionally
 * named: `ID=KEY` or `ID:KEY`. The LAST key listed is the current one (new files use it); earlier
 * ones are kept for files still written with them. Rotation = append a line. An unnamed key gets the
 * id `fp-` + 16 hex digits of SHA-256("StrataDB key id v1" + key): stable, and no help in guessing it.
 * Files and variables are read again on every currentKeyId()/getKey() call (they are tiny, and
 * called once per new file), so an edited key file takes effect without a restart.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KEY_SIZE, checkKeyId, type KeyProvider } from './file-cipher.js';
import { InvalidArgumentError } from '../errors.js';

export interface ParsedKeys {
  keys: Map<string, Uint8Array>;
  current: string;
}

/** The fingerprint id of an unnamed key. */
export function keyFingerprint(key: Uint8Array): string {
  return 'fp-' + createHash('sha256').update('StrataDB key id v1').update(key).digest('hex').slice(0, 16);
}

function decodeKey(text: string, where: string, line: number): Uint8Array {
  const t = text.trim();
  let bytes: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(t)) bytes = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(t)) bytes = Buffer.from(t, 'base64');
  if (!bytes || bytes.length !== KEY_SIZE) {
    // Never echo the text: it may be (most of) a key.
    throw new InvalidArgumentError(`${where}, entry ${line}: a key must be 64 hex digits or the base64 of ${KEY_SIZE} bytes`);
  }
  return new Uint8Array(bytes);
}

/** Parses the key text format (see the header). */
export function parseKeys(text: string, where: string, separators: RegExp = /\r?\n/): ParsedKeys {
  const keys = new Map<string, Uint8Array>();
  let current: string | undefined;
  let n = 0;
  for (const raw of text.split(separators)) {
    const line = raw.replace(/#.*$/, '').trim();
    n++;
    if (line === '') continue;
    const m = /^([^=:\s]+)\s*[=:]\s*(\S+)$/.exec(line);
    let id: string;
    let key: Uint8Array;
    if (m && !/^[0-9a-fA-F]{64}$/.test(line)) {
      id = checkKeyId(m[1]);
      key = decodeKey(m[2]!, where, n);
    } else {
      key = decodeKey(line, where, n);
      id = keyFingerprint(key);
    }
    const had = keys.get(id);
    if (had && Buffer.compare(had, key) !== 0) throw new InvalidArgumentError(`${where}: key id ${JSON.stringify(id)} is listed twice with different keys`);
    keys.set(id, key);
    current = id;
  }
  if (current === undefined) throw new InvalidArgumentError(`${where} holds no key`);
  return { keys, current };
}

function providerOver(read: () => ParsedKeys, where: string): KeyProvider {
  return {
    currentKeyId: () => read().current,
    getKey: (id) => {
      const k = read().keys.get(id);
      if (!k) throw new InvalidArgumentError(`key id ${JSON.stringify(id)} is not in ${where}`);
      return k;
    },
  };
}

/** Keys from a file (see the header for its format). */
export function keyProviderFromFile(file: string): KeyProvider {
  const where = `key file ${file}`;
  return providerOver(() => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new InvalidArgumentError(`cannot read ${where}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
    return parseKeys(text, where);
  }, where);
}

/** Keys from an environment variable (default STRATADB_KEY); `;` separates keys too. */
export function keyProviderFromEnv(variable = 'STRATADB_KEY'): KeyProvider {
  const where = `environment variable ${variable}`;
  return providerOver(() => {
    const text = process.env[variable];
    if (text === undefined || text.trim() === '') throw new InvalidArgumentError(`${where} is not set`);
    return parseKeys(text, where, /\r?\n|;/);
  }, where);
}

/**
 * Keys held in memory: `{ id: key }` (Uint8Array, or hex/base64 text) and the current id. The
 * current id can be changed later with setCurrent() (rotation from code).
 */
export function staticKeyProvider(keys: Record<string, Uint8Array | string>, current: string): KeyProvider & { setCurrent(id: string): void; add(id: string, key: Uint8Array | string): void } {
  const map = new Map<string, Uint8Array>();
  const add = (id: string, k: Uint8Array | string): void => {
    checkKeyId(id);
    const key = typeof k === 'string' ? decodeKey(k, `key ${JSON.stringify(id)}`, 1) : new Uint8Array(k);
    if (key.length !== KEY_SIZE) throw new InvalidArgumentError(`key ${JSON.stringify(id)} is ${key.length} bytes, expected ${KEY_SIZE}`);
    map.set(id, key);
  };
  for (const [id, k] of Object.entries(keys)) add(id, k);
  let cur = checkKeyId(current);
  if (!map.has(cur)) throw new InvalidArgumentError(`the current key id ${JSON.stringify(cur)} is not among the keys given`);
  return {
    currentKeyId: () => cur,
    getKey: (id) => {
      const k = map.get(id);
      if (!k) throw new InvalidArgumentError(`key id ${JSON.stringify(id)} is not among the keys given`);
      return k;
    },
    setCurrent: (id: string) => {
      if (!map.has(id)) throw new InvalidArgumentError(`key id ${JSON.stringify(id)} is not among the keys given`);
      cur = id;
    },
    add,
  };
}
