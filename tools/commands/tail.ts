/**
 * `stratadb tail DIR [--from SEQ] [--archive DIR] [--hex] [--json]`: the committed batches from sequence
 * SEQ on (default 1), read back from the write-ahead logs (db.getUpdatesSince) through a read-only
 * open, so it runs on a closed database or beside a live writer. It prints up to the sequence the
 * writer had published when the command started. With --archive (the writer's walArchiveDir) WALs
 * already flushed and deleted are read from the archive.
 * Text output: a `#SEQ TIME` line per batch, then one `put KEY VALUE`, `del KEY` or
 * `delete-range START END` line per operation (UTF-8, or hex with --hex); --json is one array of
 * {sequence, commitTime, ops}. Both stream: memory stays at about one WAL file.
 */
import type { Command } from 'commander';
import { DB, type WalUpdate } from '../../src/index.js';
import { intOption, isoTime, showBytes } from '../format.js';
import { Output } from '../output.js';
import { checkDatabaseDir } from '../db-dir.js';
import { addKeyOptions, encryptionOption, type KeyOptions } from '../key-options.js';

interface TailOptions extends KeyOptions { from?: number; archive?: string; hex?: boolean; json?: boolean }

export function register(program: Command): void {
  const cmd = program
    .command('tail')
    .description('print the committed batches from a sequence number on, read from the write-ahead logs (read-only open)')
    .argument('<DIR>', 'the database directory')
    .option('--from <seq>', 'start at the batch holding sequence SEQ', intOption(0))
    .option('--archive <dir>', 'the WAL archive directory (walArchiveDir) for WALs no longer in DIR')
    .option('--hex', 'print keys and values as hex')
    .option('--json', 'print a JSON array of {sequence, commitTime, ops}')
    .addHelpText('after', `
A sequence no WAL holds any more (flushed and deleted) is ERR_INVALID_ARGUMENT.
Examples:
  $ stratadb tail /data/db --from 1200
  $ stratadb tail /data/db --archive /backups/wal-archive --json | jq '.[].sequence'`);
  addKeyOptions(cmd)
    .action((dir: string, options: TailOptions) => tail(dir, options));
}

async function tail(dir: string, o: TailOptions): Promise<void> {
  const isHex = o.hex === true;
  await checkDatabaseDir(dir);
  const db = await DB.open(dir, {
    readOnly: true, ...encryptionOption(o, true), ...(o.archive !== undefined ? { walArchiveDir: o.archive } : {}),
  });
  const out = new Output();
  try {
    let count = 0;
    if (o.json) out.line('[');
    for await (const u of db.getUpdatesSince(o.from ?? 1)) {
      for (const line of o.json ? [`${count === 0 ? '' : ','}${JSON.stringify(jsonOf(u, isHex))}`] : textOf(u, isHex)) {
        const p = out.line(line);
        if (p) await p;
      }
      count++;
    }
    if (o.json) out.line(']');
    await out.flush();
  } finally {
    await db.close();
  }
}

function textOf(u: WalUpdate, isHex: boolean): string[] {
  const show = (b: Uint8Array): string => showBytes(b, isHex);
  return [`#${u.sequence} ${isoTime(u.commitTime)}`, ...u.ops.map((op) =>
    op.type === 'put' ? `put ${show(op.key)} ${show(op.value)}`
      : op.type === 'del' ? `del ${show(op.key)}` : `delete-range ${show(op.key)} ${show(op.end)}`)];
}

function jsonOf(u: WalUpdate, isHex: boolean): unknown {
  const show = (b: Uint8Array): string => showBytes(b, isHex);
  return {
    sequence: u.sequence,
    commitTime: u.commitTime,
    ops: u.ops.map((op) => op.type === 'put' ? { type: 'put', key: show(op.key), value: show(op.value) }
      : op.type === 'del' ? { type: 'del', key: show(op.key) } : { type: 'deleteRange', key: show(op.key), end: show(op.end) }),
  };
}
