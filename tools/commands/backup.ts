/**
 * `stratadb backup create|list|verify|restore|purge` (DESIGN.md "Command line"): the backup
 * engine from the shell. Layout and metadata: src/backup/FORMAT.md.
 * - create DIR BACKUP_DIR: an incremental backup from a read-only open (no LOCK), so it runs beside
 *   a live writer: the backup holds everything committed up to the sequence that open replayed to
 *   (tools/live-backup.ts, which also starts over when the writer moves on underneath).
 * - list BACKUP_DIR [--json]: BackupInfo[] (the JSON is exactly that array).
 * - verify BACKUP_DIR [ID]: re-reads every file of one backup, or of every backup; damage is
 *   reported per backup and exits 1.
 * - restore BACKUP_DIR ID|latest TARGET [--to-sequence N | --to-time ISO]: into an empty or new TARGET.
 * - purge BACKUP_DIR --keep N: keeps the newest N.
 * Exit codes as tools/program.ts: 0 ok; 1 damage or a failed operation; 2 a usage mistake (a
 * BACKUP_DIR that does not exist, a bad ID, both --to-* options, a non-empty TARGET).
 * A progress bar (stderr) appears only when stdout and stderr are terminals; never in --json.
 * Encrypted backups: every subcommand takes --key-file/--key-env (tools/key-options.ts); list,
 * verify, restore and purge refuse an encrypted backup without them (exit 2, naming the key id).
 * Not here: anything about the format (BackupEngine does it all; this file uses src/index.ts only).
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { BackupEngine, InvalidArgumentError, isStrataError, type BackupInfo, type BackupProgress } from '../../src/index.js';
import { humanBytes, intOption, isoTime, table } from '../format.js';
import { EXIT_DAMAGED, printJson, setExitCode, startProgress, type Progress } from '../output.js';
import { addKeyOptions, encryptionOption, type KeyOptions } from '../key-options.js';
import { backupLiveDatabase } from '../live-backup.js';

interface JsonOption extends KeyOptions { json?: boolean }

/** A backup directory must exist: BackupEngine.open would create one, hiding a typo. */
async function openEngine(backupDir: string, keys: KeyOptions, extra: { walArchiveDir?: string } = {}): Promise<BackupEngine> {
  if (!existsSync(backupDir)) throw new InvalidArgumentError(`backup directory ${backupDir} does not exist`);
  // An encrypted backup needs the keys; plaintext metadata (older backups) is read too.
  return BackupEngine.open(backupDir, { ...extra, ...encryptionOption(keys, true) });
}

function parseId(text: string): number | 'latest' {
  if (text === 'latest') return 'latest';
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new InvalidArgumentError(`ID must be a backup id (a non-negative integer) or 'latest', got '${text}'`);
  }
  return Number(text);
}

function parseTime(text: string): Date {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`--to-time must be an ISO date and time (2024-01-31T12:00:00Z), got '${text}'`);
  return new Date(ms);
}

/**
 * Progress reporting for one operation: a bar sized by the first report's bytesTotal (the engine
 * knows the total only once it has read the metadata), advanced by bytes.
 */
function progressBar(label: string, json: boolean): { onProgress?: (p: BackupProgress) => void; stop(): Promise<void> } {
  if (json || !process.stdout.isTTY) return { stop: async () => {} };
  let bar: Promise<Progress> | undefined;
  let shown = 0;
  return {
    onProgress: (p) => {
      bar ??= startProgress(p.bytesTotal, label, false);
      const delta = p.bytesDone - shown;
      shown = p.bytesDone;
      void bar.then((b) => b.increment(delta));
    },
    stop: async () => { if (bar) (await bar).stop(); },
  };
}

function summary(b: BackupInfo): string {
  return `backup ${b.id} at sequence ${b.sequence}, ${isoTime(b.timestamp)}: ${b.files} tables, ${humanBytes(b.bytes)}`;
}

export function register(program: Command): void {
  const backup = program
    .command('backup')
    .description('incremental backups: create, list, verify, restore (to a sequence or a time), purge')
    .addHelpText('after', `
Examples:
  $ stratadb backup create /data/db /backups/db
  $ stratadb backup list /backups/db --json
  $ stratadb backup verify /backups/db
  $ stratadb backup restore /backups/db latest /data/db-restored --to-time 2024-01-31T12:00:00Z
  $ stratadb backup purge /backups/db --keep 7`);

  addKeyOptions(backup
    .command('create')
    .description('take an incremental backup of the database in DIR (a read-only open: works beside a live writer)')
    .argument('<DIR>', 'the database directory')
    .argument('<BACKUP_DIR>', 'the backup directory (created if missing)')
    .option('--json', 'print the new BackupInfo (with bytesCopied) as JSON')
    .addHelpText('after', `
The backup holds everything committed up to the sequence the read-only open replayed to
(printed as "at sequence N"); writes after that go in the next backup.
Examples:
  $ stratadb backup create /data/db /backups/db
  $ stratadb backup create /data/db /backups/db --json | jq .bytesCopied
  $ stratadb backup create /data/db /backups/db --key-file /etc/stratadb/keys`), { writable: true })
    .action(async (dir: string, backupDir: string, options: JsonOption) => {
      const bar = progressBar('backup', options.json === true);
      let info: BackupInfo & { bytesCopied: number };
      try {
        info = await backupLiveDatabase(dir, backupDir, encryptionOption(options, false), bar.onProgress);
      } finally {
        await bar.stop();
      }
      if (options.json) printJson(info);
      else process.stdout.write(`${summary(info)} (${humanBytes(info.bytesCopied)} copied)\n`);
    });

  addKeyOptions(backup
    .command('list')
    .description('list the backups in BACKUP_DIR, oldest first')
    .argument('<BACKUP_DIR>', 'the backup directory')
    .option('--json', 'print BackupInfo[] as JSON')
    .addHelpText('after', `
Examples:
  $ stratadb backup list /backups/db
  $ stratadb backup list /backups/db --json | jq '.[-1].sequence'`))
    .action(async (backupDir: string, options: JsonOption) => {
      const list = await (await openEngine(backupDir, options)).list();
      if (options.json) { printJson(list); return; }
      const rows = [['ID', 'Sequence', 'Time', 'Tables', 'Size']];
      for (const b of list) rows.push([String(b.id), String(b.sequence), isoTime(b.timestamp), String(b.files), humanBytes(b.bytes)]);
      process.stdout.write(list.length ? table(rows, new Set([0, 1, 3])).join('\n') + '\n' : `no backups in ${backupDir}\n`);
    });

  addKeyOptions(backup
    .command('verify')
    .description('re-read every file of backup ID (default: every backup): sizes, every block (GCM tags when encrypted) and CRC32C (exit 1 on damage)')
    .argument('<BACKUP_DIR>', 'the backup directory')
    .argument('[ID]', "a backup id or 'latest' (default: all)")
    .option('--json', 'print [{ id, ok, error? }] as JSON')
    .addHelpText('after', `
Examples:
  $ stratadb backup verify /backups/db
  $ stratadb backup verify /backups/db latest && echo sound
  $ stratadb backup verify /backups/db 3 --json`))
    .action(async (backupDir: string, idText: string | undefined, options: JsonOption) => {
      const engine = await openEngine(backupDir, options);
      const ids = idText === undefined ? (await engine.list()).map((b) => b.id) : [parseId(idText)];
      const results: { id: number | 'latest'; ok: boolean; backup?: BackupInfo; error?: { code: string; message: string; file?: string } }[] = [];
      for (const id of ids) {
        const bar = progressBar(`verify ${id}`, options.json === true);
        try {
          const info = await engine.verify(id, bar.onProgress ? { onProgress: bar.onProgress } : {});
          results.push({ id: info.id, ok: true, backup: info });
        } catch (e) {
          // Damage in one backup must not hide the state of the others; usage mistakes still stop.
          if (!isStrataError(e) || (e.code !== 'ERR_CORRUPTION' && e.code !== 'ERR_NOT_SUPPORTED')) throw e;
          const file = (e as { file?: unknown }).file;
          results.push({ id, ok: false, error: { code: e.code, message: e.message, ...(typeof file === 'string' ? { file } : {}) } });
          setExitCode(EXIT_DAMAGED);
        } finally {
          await bar.stop();
        }
      }
      if (options.json) { printJson(results); return; }
      if (results.length === 0) process.stdout.write(`no backups in ${backupDir}\n`);
      for (const r of results) {
        process.stdout.write(r.ok ? `${summary(r.backup!)}: ok\n` : `backup ${r.id}: DAMAGED: ${r.error!.code}: ${r.error!.message}\n`);
      }
    });

  addKeyOptions(backup
    .command('restore')
    .description('restore backup ID (or latest) into TARGET (must not exist or be empty), optionally replaying the WAL archive')
    .argument('<BACKUP_DIR>', 'the backup directory')
    .argument('<ID>', "a backup id or 'latest'")
    .argument('<TARGET>', 'the directory to restore into')
    .option('--to-sequence <N>', 'replay the WAL archive up to sequence N (whole batches)', intOption(0))
    .option('--to-time <ISO>', 'replay the WAL archive up to this commit time (whole batches)')
    .option('--wal-archive <DIR>', 'the WAL archive (default: BACKUP_DIR/wal-archive)')
    .option('--json', 'print the restored BackupInfo with restoredSequence as JSON')
    .addHelpText('after', `
Examples:
  $ stratadb backup restore /backups/db latest /data/db-restored
  $ stratadb backup restore /backups/db 3 /data/db-restored --to-sequence 120000
  $ stratadb backup restore /backups/db latest /data/db-restored --to-time 2024-01-31T12:00:00Z`))
    .action(async (backupDir: string, idText: string, target: string,
      options: JsonOption & { toSequence?: number; toTime?: string; walArchive?: string }) => {
      const id = parseId(idText);
      if (options.toSequence !== undefined && options.toTime !== undefined) {
        throw new InvalidArgumentError('give --to-sequence or --to-time, not both');
      }
      const engine = await openEngine(backupDir, options, options.walArchive ? { walArchiveDir: options.walArchive } : {});
      const bar = progressBar('restore', options.json === true);
      let r: BackupInfo & { restoredSequence: number };
      try {
        r = await engine.restore(id, target, {
          ...(options.toSequence !== undefined ? { toSequence: options.toSequence } : {}),
          ...(options.toTime !== undefined ? { toTime: parseTime(options.toTime) } : {}),
          ...(bar.onProgress ? { onProgress: bar.onProgress } : {}),
        });
      } finally {
        await bar.stop();
      }
      if (options.json) printJson({ ...r, target });
      else process.stdout.write(`restored ${summary(r)}\n  into ${target} at sequence ${r.restoredSequence}\n`);
    });

  addKeyOptions(backup
    .command('purge')
    .description('delete all but the newest N backups, and every shared table no remaining backup uses')
    .argument('<BACKUP_DIR>', 'the backup directory')
    .requiredOption('--keep <N>', 'how many of the newest backups to keep', intOption(0))
    .option('--json', 'print { deleted: ids, kept: ids } as JSON')
    .addHelpText('after', `
Examples:
  $ stratadb backup purge /backups/db --keep 7
  $ stratadb backup purge /backups/db --keep 1 --json`))
    .action(async (backupDir: string, options: JsonOption & { keep: number }) => {
      const engine = await openEngine(backupDir, options);
      const deleted = await engine.purge({ keepLast: options.keep });
      const kept = (await engine.list()).map((b) => b.id);
      if (options.json) printJson({ deleted, kept });
      else process.stdout.write(`deleted ${deleted.length ? deleted.join(', ') : 'nothing'}; kept ${kept.length ? kept.join(', ') : 'nothing'}\n`);
    });
}
