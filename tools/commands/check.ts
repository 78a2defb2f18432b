/**
 * `stratadb check DIR [--json]`: is this database healthy? Four looks, each reported, none stopping
 * the others: the MANIFEST reads to its end (inspect.manifest); every table it lists exists with
 * the recorded size; every live WAL reads to its end (a torn tail is allowed on the newest only, as
 * point-in-time recovery allows it); and a read-only open succeeds and db.verifyChecksums() checks
 * every table (every block's CRC and every table's whole-file CRC32C), listing each damaged one.
 * Exit: 0 healthy; 1 damaged (every problem printed); 2 when DIR holds no database (no CURRENT);
 * 75 when a live writer kept changing the files so that no look could be trusted (try again).
 * Writes nothing and takes no LOCK: safe beside a live process. A bad checksum in a table the open
 * view holds is damage whatever the writer does (tables never change); anything else (a table or WAL
 * missing, a torn record) counts only when the directory held still across the whole pass
 * (tools/steady-read.ts); otherwise the pass runs again. The newest WAL may show a record still
 * being written as a torn tail: a note, not damage.
 */
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { DB, InvalidArgumentError, inspect, isStrataError } from '../../src/index.js';
import { EXIT_DAMAGED, printJson, setExitCode } from '../output.js';
import { steadyRead } from '../steady-read.js';
import { humanBytes } from '../format.js';
import { addKeyOptions, encryptionOption, type KeyOptions } from '../key-options.js';

interface Problem {
  check: string; message: string; code?: string; file?: string; offset?: number;
  /** Damage no writer can cause: a bad checksum in a table file held open. */
  certain?: boolean;
}

interface CheckReport {
  dir: string;
  healthy: boolean;
  manifest: string | null;
  tables: number;
  tableBytes: number;
  wals: { file: string; records: number; status: 'ok' | 'torn-tail' | 'corrupt' }[];
  checksumsVerified: boolean;
  problems: Problem[];
  notes: string[];
}

export function register(program: Command): void {
  const cmd = program
    .command('check')
    .description('check a database: MANIFEST, table files, WALs and every checksum (exit 0 healthy, 1 damaged, 75 changed underneath: retry)')
    .argument('<DIR>', 'the database directory')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
Examples:
  $ stratadb check /data/db && echo healthy
  $ stratadb check /data/db --json | jq .problems`);
  addKeyOptions(cmd)
    .action(async (dir: string, options: { json?: boolean } & KeyOptions) => {
      const encryption = encryptionOption(options, true);
      if (!existsSync(path.join(dir, 'CURRENT'))) {
        throw new InvalidArgumentError(`${dir} holds no StrataDB database (no CURRENT file)`);
      }
      // ERR_BUSY (exit 75) when the writer never held still long enough to believe a problem.
      const report = await steadyRead(dir, () => check(dir, encryption), (r) => r.problems.some((p) => p.certain !== true));
      if (!report.healthy) setExitCode(EXIT_DAMAGED);
      if (options.json) printJson({ ...report, problems: report.problems.map(({ certain: _, ...p }) => p) });
      else process.stdout.write(reportText(report).join('\n') + '\n');
    });
}

/** A StrataError found while checking becomes a problem; anything else (a bug, EIO) propagates. */
function problemOf(check: string, e: unknown): Problem {
  // ERR_BUSY is the writer moving on, never damage: steadyRead looks again, or the command exits 75.
  if (!isStrataError(e) || e.code === 'ERR_INTERNAL' || e.code === 'ERR_BUSY') throw e;
  // A key the user did not give (or a key file that cannot be read) is a usage mistake, not damage.
  if (e.code === 'ERR_INVALID_ARGUMENT' && /\bkey (id|file)\b|key provider|environment variable/.test(e.message)) throw e;
  const p: Problem = { check, message: e.message, code: e.code };
  const where = e as { file?: unknown; offset?: unknown };
  if (typeof where.file === 'string') p.file = where.file;
  if (typeof where.offset === 'number') p.offset = where.offset;
  return p;
}

async function check(dir: string, encryption: ReturnType<typeof encryptionOption>): Promise<CheckReport> {
  const r: CheckReport = {
    dir, healthy: false, manifest: null, tables: 0, tableBytes: 0, wals: [], checksumsVerified: false, problems: [], notes: [],
  };
  let logNumber = 0;
  try {
    const m = await inspect.manifest(dir, encryption);
    r.manifest = m.manifest;
    logNumber = m.logNumber ?? 0;
    if (m.problem) {
      r.problems.push({ check: 'manifest', message: `${m.manifest} is damaged at offset ${m.problem.offset}: ${m.problem.detail}`,
        code: m.problem.code, file: path.join(dir, m.manifest), offset: m.problem.offset });
    }
    if (m.tornTail) r.notes.push(`${m.manifest} ends in a torn record at offset ${m.tornTail.offset} (a crash mid-append; ignored by open)`);
    for (const level of m.levels) {
      for (const f of level.files) {
        r.tables++;
        r.tableBytes += f.fileSize;
        const file = inspect.tableFileName(dir, f.fileNumber);
        const size = await stat(file).then((s) => s.size, (e: NodeJS.ErrnoException) => e);
        if (size instanceof Error) {
          const what = size.code === 'ENOENT' ? 'is missing' : `cannot be read (${size.message})`;
          r.problems.push({ check: 'tables', message: `${path.basename(file)} ${what} (the MANIFEST lists it in L${level.level}, ${f.fileSize} bytes)`, file });
        } else if (size !== f.fileSize) {
          r.problems.push({ check: 'tables', message: `${path.basename(file)} is ${size} bytes, the MANIFEST records ${f.fileSize}`, file });
        }
      }
    }
  } catch (e) {
    r.problems.push(problemOf('manifest', e));
  }
  await checkWals(dir, logNumber, r, encryption);
  try {
    const db = await DB.open(dir, { readOnly: true, ...encryption });
    try {
      await db.verifyChecksums({
        onCorruption: (e) => { r.problems.push({ ...problemOf('checksums', e), certain: true }); },
      });
      r.checksumsVerified = true;
    } finally {
      await db.close();
    }
  } catch (e) {
    r.problems.push(problemOf('open and verify checksums', e));
  }
  r.healthy = r.problems.length === 0;
  return r;
}

/** WALs at or above the MANIFEST's log number are the ones an open replays. */
async function checkWals(dir: string, logNumber: number, r: CheckReport, encryption: Parameters<typeof inspect.wal>[1]): Promise<void> {
  const wals = (await readdir(dir))
    .map((name) => ({ name, parsed: inspect.parseFileName(name) }))
    .filter((x) => x.parsed?.type === 'wal' && x.parsed.number >= logNumber)
    .sort((a, b) => a.parsed!.number - b.parsed!.number);
  for (const [i, { name }] of wals.entries()) {
    const file = path.join(dir, name);
    try {
      const w = await inspect.wal(file, encryption);
      const isNewest = i === wals.length - 1;
      const status = w.problem === undefined ? 'ok' : w.problem.atTail ? 'torn-tail' : 'corrupt';
      r.wals.push({ file: name, records: w.records.length, status });
      if (w.problem && (!w.problem.atTail || !isNewest)) {
        const what = w.problem.atTail ? 'a torn record in a WAL that is not the newest' : 'corruption';
        r.problems.push({ check: 'wal', message: `${name}: ${what} at offset ${w.problem.offset}: ${w.problem.detail}`,
          code: 'ERR_CORRUPTION', file, offset: w.problem.offset });
      } else if (w.problem) {
        r.notes.push(`${name} ends in a torn record at offset ${w.problem.offset} (a crash mid-write, or a write in progress; recovery drops it)`);
      }
    } catch (e) {
      r.problems.push(problemOf('wal', e));
    }
  }
}

function reportText(r: CheckReport): string[] {
  const lines = [`check ${r.dir}`];
  lines.push(`  manifest  ${r.manifest ?? '-'}`);
  lines.push(`  tables    ${r.tables} listed, ${humanBytes(r.tableBytes)}`);
  for (const w of r.wals) lines.push(`  wal       ${w.file}: ${w.records} records, ${w.status}`);
  lines.push(`  checksums ${r.checksumsVerified ? 'every block and every table file verified' : 'not verified'}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  if (r.healthy) {
    lines.push('healthy');
  } else {
    lines.push(`DAMAGED: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`);
    for (const p of r.problems) lines.push(`  - [${p.check}] ${p.code ? `${p.code}: ` : ''}${p.message}`);
  }
  return lines;
}
