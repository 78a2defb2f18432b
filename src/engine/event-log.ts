/**
 * The human-readable LOG file in the database directory (LevelDB/RocksDB's info log): a header with the
 * StrataDB, Node and OS versions and the options in force, then one timestamped line per event
 * (open, recovery, flush, compaction, error). The previous LOG is kept as LOG.old.
 * Writes are best effort: a failing LOG never fails a user operation (it is diagnostics, not data).
 * Never log key material, keys or values.
 */
import * as os from 'node:os';
import type { FileSystem, WritableFile } from '../fs/file-system.js';
import { infoLogFileName, oldInfoLogFileName } from '../manifest/file-names.js';

export const STRATADB_VERSION = '0.1.0';

const encoder = new TextEncoder();
const neverRead = (): number => 0;

export class EventLog {
  private file: WritableFile | undefined;
  /** The handle a failed write gave up on, kept only to be closed. */
  private failedFile: WritableFile | undefined;
  private constructor(private readonly clock: () => number) {}

  /** A log that drops everything (read-only opens write nothing): it never reads a clock. */
  static disabled(): EventLog {
    return new EventLog(neverRead);
  }

  static async open(fs: FileSystem, dir: string, clock: () => number, optionsText: string): Promise<EventLog> {
    const log = new EventLog(clock);
    try {
      const p = infoLogFileName(dir);
      if (await fs.exists(p)) await fs.rename(p, oldInfoLogFileName(dir));
      log.file = await fs.openWritable(p);
      log.write(`StrataDB ${STRATADB_VERSION}, Node ${process.version}, ${os.type()} ${os.release()} ${os.arch()}`);
      log.write(`options:\n  ${optionsText.split('\n').join('\n  ')}`);
    } catch {
      log.file = undefined;
    }
    return log;
  }

  /** One event line, timestamped in ISO-8601 UTC. */
  write(message: string): void {
    if (!this.file) return;
    try {
      this.file.append(encoder.encode(`${new Date(this.clock()).toISOString()} ${message}\n`));
    } catch {
      // A full disk must not turn diagnostics into failures; the handle is still closed by close().
      this.failedFile = this.file;
      this.file = undefined;
    }
  }

  async close(): Promise<void> {
    const files = [this.file, this.failedFile];
    this.file = this.failedFile = undefined;
    for (const f of files) if (f) await f.close().catch(() => undefined);
  }
}
