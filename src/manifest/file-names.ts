/**
 * The names of every file in a database directory (LevelDB/RocksDB names, so users recognise them):
 * `CURRENT`, `MANIFEST-000005`, `000007.log` (WAL), `000008.sst`, `LOCK`, `LOG`, `LOG.old`,
 * `OPTIONS-000009`, `000010.dbtmp` (a temp file renamed over CURRENT).
 * Format: src/manifest/FORMAT.md "File names". One counter (VersionSet.newFileNumber) numbers
 * MANIFESTs, WALs, tables, OPTIONS and temp files, so a number names at most one file.
 * Contract: make functions join `dir` with node:path; parseFileName takes a bare entry name (no
 * directory) and answers undefined for anything that is not ours (editor backups, user files), so
 * the obsolete-file sweep never touches a stranger's file.
 * Not here: deciding which files are obsolete (version-set.ts) or deleting them (the DB).
 */
import * as path from 'node:path';
import { invariant } from '../base/invariant.js';

export type FileType =
  | 'current' | 'manifest' | 'wal' | 'table' | 'lock' | 'info-log' | 'info-log-old' | 'options' | 'temp';

export interface ParsedFileName {
  readonly type: FileType;
  /** The file number; 0 for the unnumbered files (CURRENT, LOCK, LOG, LOG.old). */
  readonly number: number;
}

/** Numbers print with at least this many digits; longer numbers just grow (LevelDB's %06llu). */
const NUMBER_WIDTH = 6;
/** 16 digits keep every number below 2^53 (Number.MAX_SAFE_INTEGER has 16 digits). */
const MAX_NUMBER_DIGITS = 16;

function pad(n: number): string {
  invariant(Number.isSafeInteger(n) && n >= 0, `file number must be a non-negative safe integer, got ${n}`);
  return String(n).padStart(NUMBER_WIDTH, '0');
}

export function currentFileName(dir: string): string { return path.join(dir, 'CURRENT'); }
export function lockFileName(dir: string): string { return path.join(dir, 'LOCK'); }
export function infoLogFileName(dir: string): string { return path.join(dir, 'LOG'); }
export function oldInfoLogFileName(dir: string): string { return path.join(dir, 'LOG.old'); }

/** The bare name `MANIFEST-000005`, as CURRENT stores it. */
export function manifestBaseName(n: number): string { return `MANIFEST-${pad(n)}`; }
export function manifestFileName(dir: string, n: number): string { return path.join(dir, manifestBaseName(n)); }
export function walFileName(dir: string, n: number): string { return path.join(dir, `${pad(n)}.log`); }
export function tableFileName(dir: string, n: number): string { return path.join(dir, `${pad(n)}.sst`); }
export function optionsFileName(dir: string, n: number): string { return path.join(dir, `OPTIONS-${pad(n)}`); }
export function tempFileName(dir: string, n: number): string { return path.join(dir, `${pad(n)}.dbtmp`); }

/** Parses a decimal file number: digits only, at most 16 of them, below 2^53. */
function parseNumber(s: string): number | undefined {
  if (s.length === 0 || s.length > MAX_NUMBER_DIGITS) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

const SUFFIX_TYPES: ReadonlyArray<readonly [string, FileType]> = [
  ['.log', 'wal'], ['.sst', 'table'], ['.dbtmp', 'temp'],
];

/**
 * What a directory entry is, or undefined if it is not a StrataDB file. Accepts numbers of any
 * width (`7.log` as well as `000007.log`), as LevelDB's ParseFileName does.
 */
export function parseFileName(name: string): ParsedFileName | undefined {
  switch (name) {
    case 'CURRENT': return { type: 'current', number: 0 };
    case 'LOCK': return { type: 'lock', number: 0 };
    case 'LOG': return { type: 'info-log', number: 0 };
    case 'LOG.old': return { type: 'info-log-old', number: 0 };
  }
  if (name.startsWith('MANIFEST-')) {
    const n = parseNumber(name.slice('MANIFEST-'.length));
    return n === undefined ? undefined : { type: 'manifest', number: n };
  }
  if (name.startsWith('OPTIONS-')) {
    const n = parseNumber(name.slice('OPTIONS-'.length));
    return n === undefined ? undefined : { type: 'options', number: n };
  }
  for (const [suffix, type] of SUFFIX_TYPES) {
    if (name.endsWith(suffix)) {
      const n = parseNumber(name.slice(0, name.length - suffix.length));
      return n === undefined ? undefined : { type, number: n };
    }
  }
  return undefined;
}
