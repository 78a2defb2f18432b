/**
 * Read-only tools beside a live writer: a look at a database directory whose files the writer keeps
 * replacing can find a "problem" that is only the writer moving on (a table deleted by a compaction
 * between reading the MANIFEST and opening it, a WAL removed after a flush, a MANIFEST rolled
 * between reading CURRENT and opening it). steadyRead() runs a look and believes a problem only when
 * the directory held still across it: CURRENT, the MANIFEST's size, and the names and sizes of the
 * WALs and table files were the same before and after. Otherwise it looks again, a bounded number of
 * times, then rejects with ERR_BUSY (the tools exit 75: try again).
 * Not here: the looks themselves (the commands), exit codes (program.ts).
 */
import * as path from 'node:path';
import { readdir, readFile, stat } from 'node:fs/promises';
import { BusyError, inspect, isStrataError } from '../src/index.js';

export const STEADY_ATTEMPTS = 5;

/**
 * Runs `look` until its result is trusted: `suspect(result)` false (nothing to doubt), or the
 * directory did not change across it. A StrataError thrown by the look is a result too: believed
 * (rethrown) only when nothing changed. The last result's doubt is reported as BusyError.
 */
export async function steadyRead<T>(dir: string, look: () => Promise<T>, suspect: (r: T) => boolean): Promise<T> {
  let lastDoubt: unknown;
  for (let attempt = 1; attempt <= STEADY_ATTEMPTS; attempt++) {
    const before = await fingerprint(dir);
    let result: { ok: T } | { error: unknown };
    try {
      result = { ok: await look() };
    } catch (e) {
      if (!isStrataError(e) || e.code === 'ERR_INTERNAL' || e.code === 'ERR_INVALID_ARGUMENT') throw e;
      result = { error: e };
    }
    if ('ok' in result && !suspect(result.ok)) return result.ok;
    if (await fingerprint(dir) === before) {
      if ('ok' in result) return result.ok;
      throw result.error;
    }
    lastDoubt = 'error' in result ? result.error : undefined;
    await new Promise((r) => setTimeout(r, 5 * attempt));
  }
  throw new BusyError(`${dir} changed underneath ${STEADY_ATTEMPTS} times while it was being read ` +
    '(a live writer replacing files): nothing found is known to be damage; try again', lastDoubt === undefined ? {} : { cause: lastDoubt });
}

/** CURRENT, the MANIFEST's size, and every WAL and table file with its size. */
export async function fingerprint(dir: string): Promise<string> {
  const parts: string[] = [];
  parts.push(await readFile(path.join(dir, 'CURRENT'), 'utf8').catch(() => '-'));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return parts.join('|');
  }
  for (const name of names.sort()) {
    const t = inspect.parseFileName(name)?.type;
    if (t !== 'wal' && t !== 'table' && t !== 'manifest') continue;
    const size = await stat(path.join(dir, name)).then((s) => s.size, () => -1);
    parts.push(`${name}:${size}`);
  }
  return parts.join('|');
}
