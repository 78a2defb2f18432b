/**
 * The `stratadb` program (DESIGN.md "Command line"): the commander setup, one subcommand per file
 * in tools/commands/ (each exports register(program)), and the one place where errors become
 * messages and exit codes. tools/cli.ts is the executable that runs main(); tests build the
 * program in-process to read every command's help.
 * Contract:
 * - Exit codes (tools/output.ts): 0 ok; 1 damage found or an operation failed; 2 a user mistake
 *   (bad argument, unknown option, missing file, not a database, ERR_LOCKED); 3 a bug; 75 try again
 *   (ERR_BUSY, or ERR_IO for a file that vanished inside a directory the user named: a live writer
 *   replaced it while a read-only command read the database).
 * - A StrataError prints `error <code>: <message>` on stderr, never a stack trace, its engine option
 *   names reworded for the shell (tools/db-dir.ts); commander's own
 *   usage errors are reworded the same way (ERR_INVALID_ARGUMENT). Only unexpected errors and
 *   ERR_INTERNAL print a stack.
 * - Commands use only the public entry points (src/index.ts, sstable/index.ts); a lint test checks it.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { ErrorCode, isStrataError } from '../src/index.js';
import { register as registerBackup } from './commands/backup.js';
import { register as registerBench } from './commands/bench.js';
import { register as registerCheck } from './commands/check.js';
import { register as registerCompact } from './commands/compact.js';
import { register as registerDelete } from './commands/delete.js';
import { register as registerDestroy } from './commands/destroy.js';
import { register as registerGet } from './commands/get.js';
import { register as registerHas } from './commands/has.js';
import { register as registerIngest } from './commands/ingest.js';
import { register as registerLsm } from './commands/lsm.js';
import { register as registerManifest } from './commands/manifest.js';
import { register as registerPut } from './commands/put.js';
import { register as registerRepair } from './commands/repair.js';
import { register as registerRotateKey } from './commands/rotate-key.js';
import { register as registerScan } from './commands/scan.js';
import { register as registerSstDump } from './commands/sst-dump.js';
import { register as registerStats } from './commands/stats.js';
import { register as registerTail } from './commands/tail.js';
import { register as registerWalDump } from './commands/wal-dump.js';
import { plainMessage } from './db-dir.js';
import { EXIT_DAMAGED, EXIT_INTERNAL, EXIT_RETRY, EXIT_USAGE, exitQuietlyOnBrokenPipe, setExitCode } from './output.js';

/** The package version: package.json is two levels up from dist/tools/ (one from tools/ under a TS runner). */
function packageVersion(): string {
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'stratadb' && pkg.version) return pkg.version;
    } catch {
      // Not at this level: try the next one.
    }
  }
  return '0.0.0-unknown';
}

export function buildProgram(): Command {
  const program = new Command('stratadb');
  program
    .description('Inspect, query and benchmark StrataDB databases and table files.')
    .version(packageVersion(), '-V, --version')
    // Settings made here are inherited by the subcommands the register() calls add.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      // "error: missing required argument 'FILE'" -> the same shape as every other error.
      outputError: (str, write) => write(str.replace(/^error: /, `error ${ErrorCode.INVALID_ARGUMENT}: `)),
    })
    .addHelpText('after', `
Exit codes: 0 ok, 1 damage found or the operation failed, 2 a usage mistake, 3 a bug,
75 try again (a live writer changed the database underneath a read-only command).
Examples:
  $ stratadb sst-dump /data/db/000012.sst --verify
  $ stratadb scan /data/db --gte user: --lt 'user;' --limit 10
  $ stratadb check /data/db`);
  for (const register of [
    registerGet, registerHas, registerPut, registerDelete, registerScan, registerStats, registerCheck, registerCompact,
    registerManifest, registerWalDump, registerSstDump, registerBench, registerBackup, registerRotateKey,
    registerDestroy, registerTail,
    registerIngest,
    registerRepair,
    registerLsm,
  ]) register(program);
  return program;
}

/** True for OS errors that mean "you named something that is not there / not yours". */
function isUserFileMistake(e: unknown): boolean {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur; i++) {
    const code = (cur as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EACCES' || code === 'EPERM') return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

/** The path of the missing file an error is about (ENOENT somewhere in its cause chain), if it says. */
function missingPath(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur; i++) {
    const c = cur as { code?: unknown; path?: unknown; cause?: unknown };
    if (c.code === 'ENOENT' && typeof c.path === 'string') return c.path;
    cur = c.cause;
  }
  return undefined;
}

/**
 * True when `file` lies inside a database directory the user named (one holding a CURRENT), and is
 * not that CURRENT: a file of a live database vanished. A missing CURRENT means "not a database".
 */
function isInsideNamedDatabase(file: string, named: readonly string[]): boolean {
  return named.some((p) => {
    const dir = path.resolve(p);
    const rel = path.relative(dir, path.resolve(file));
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel) || rel === 'CURRENT') return false;
    return existsSync(path.join(dir, 'CURRENT'));
  });
}

const RETRY_HINT = '  hint: a live writer changed the database while it was being read: run the command again\n';

/**
 * Prints an error and returns the exit code it deserves. `named`: the command line's arguments, so a
 * file that vanished inside a named database directory (a writer's doing) is told apart from a
 * file the user named that does not exist (a usage mistake).
 */
export function reportError(e: unknown, named: readonly string[] = []): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE; // commander already printed it
  if (isStrataError(e)) {
    process.stderr.write(`error ${e.code}: ${plainMessage(e.message)}\n`);
    // The engine says "open it with the encryption key provider": say how, on the command line.
    if (e.code === ErrorCode.INVALID_ARGUMENT && /is encrypted \(key id /.test(e.message)) {
      process.stderr.write('  hint: give the keys with --key-file FILE or --key-env VAR\n');
    }
    const cause = e.cause instanceof Error ? e.cause.message : undefined;
    if (cause && !e.message.includes(cause)) process.stderr.write(`  cause: ${cause}\n`);
    switch (e.code) {
      case ErrorCode.INVALID_ARGUMENT:
      case ErrorCode.LOCKED:
        return EXIT_USAGE;
      case ErrorCode.BUSY:
        process.stderr.write(RETRY_HINT);
        return EXIT_RETRY;
      case ErrorCode.IO: {
        const missing = missingPath(e);
        if (missing !== undefined && isInsideNamedDatabase(missing, named)) {
          process.stderr.write(RETRY_HINT);
          return EXIT_RETRY;
        }
        return isUserFileMistake(e) ? EXIT_USAGE : EXIT_DAMAGED;
      }
      case ErrorCode.INTERNAL:
        process.stderr.write(`${e.stack ?? ''}\n`);
        return EXIT_INTERNAL;
      default:
        return EXIT_DAMAGED;
    }
  }
  process.stderr.write('error: unexpected failure (a bug in stratadb, please report it with this output)\n');
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  return EXIT_INTERNAL;
}

export async function main(argv: string[]): Promise<void> {
  exitQuietlyOnBrokenPipe();
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    setExitCode(reportError(e, argv.slice(2)));
  }
}

