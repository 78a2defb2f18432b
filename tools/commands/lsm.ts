/**
 * `stratadb lsm DIR [--html FILE] [--json] [--max-steps N]`: the LSM tree's shape over time, replayed
 * edit by edit from the MANIFEST (Pebble's `pebble lsm`): a text summary by default, the history as
 * JSON, or one self-contained HTML page that steps through it (tools/lsm/).
 * Reads through inspect.manifest() like `stratadb manifest`: no lock, nothing written in DIR, safe
 * beside a live writer (a MANIFEST rolled mid-read is read again: tools/steady-read.ts; exit 75 if
 * it never holds still). Exit codes as `stratadb manifest`: 0 (also with a torn tail), 1 damaged
 * before its end (the history stops there; the page and JSON are still written), 2 not a database.
 */
import * as path from 'node:path';
import { Buffer } from 'node:buffer';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { inspect } from '../../src/index.js';
import { EXIT_DAMAGED, Output, printJson, setExitCode } from '../output.js';
import { humanBytes, intOption } from '../format.js';
import { addKeyOptions, encryptionOption, type KeyOptions } from '../key-options.js';
import { steadyRead } from '../steady-read.js';
import { checkDatabaseDir } from '../db-dir.js';
import { buildLsmHistory } from '../lsm/lsm-history.js';
import { renderLsmPage } from '../lsm/lsm-page.js';
import { lsmSummary } from '../lsm/lsm-summary.js';

/** Steps embedded by default: keeps the page of a long history to a few MB. */
export const DEFAULT_MAX_STEPS = 2000;

interface LsmOptions extends KeyOptions { json?: boolean; html?: string; maxSteps: number }

export function register(program: Command): void {
  const cmd = program
    .command('lsm')
    .description('show the LSM tree\'s shape over time (every MANIFEST edit): text, JSON or an HTML page')
    .argument('<DIR>', 'the database directory')
    .option('--html <FILE>', 'write a self-contained HTML page (no network) that steps through the history')
    .option('--json', 'print the history as JSON (the data the page embeds)')
    .option('--max-steps <N>', 'steps to keep, sampled evenly (always the first and the last)', intOption(2), DEFAULT_MAX_STEPS)
    .addHelpText('after', `
The history starts at the snapshot that began the current MANIFEST (a MANIFEST rolls over to a new
one starting with such a snapshot; older ones are not read). The MANIFEST records no reason for an
edit, so each step's kind (flush, compaction, trivial move, ingest, deletion) is inferred.
Examples:
  $ stratadb lsm /data/db
  $ stratadb lsm /data/db --html lsm.html
  $ stratadb lsm /data/db --json | jq '.steps[] | select(.kind == "compaction") | .reason'`);
  addKeyOptions(cmd)
    .action((dir: string, options: LsmOptions) => lsm(dir, options));
}

async function lsm(dir: string, options: LsmOptions): Promise<void> {
  await checkDatabaseDir(dir);
  const encryption = encryptionOption(options, true);
  const m = await steadyRead(dir, () => inspect.manifest(dir, encryption), (x) => x.problem !== undefined);
  if (m.problem) setExitCode(EXIT_DAMAGED);
  const history = buildLsmHistory(m, { maxSteps: options.maxSteps });
  if (options.html !== undefined) {
    const page = renderLsmPage(history, path.resolve(dir));
    await writeFile(options.html, page);
    if (!options.json) {
      process.stdout.write(`wrote ${options.html} (${humanBytes(Buffer.byteLength(page))}, ${history.shownSteps} of ${history.totalSteps} steps)\n`);
    }
  }
  if (options.json) {
    printJson(history);
    return;
  }
  if (options.html !== undefined) return;
  const out = new Output();
  for (const l of lsmSummary(history, path.join(dir, m.manifest))) {
    const p = out.line(l);
    if (p) await p;
  }
  await out.flush();
}
