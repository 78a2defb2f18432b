/**
 * What every `stratadb` command shares about output: exit codes, a buffered stdout writer that
 * respects back-pressure (a scan of millions of entries must not build one giant string), JSON
 * printing, and the progress bar shown on a terminal.
 * Contract: commands write results to stdout only through Output (or printJson); errors go to
 * stderr from tools/cli.ts alone. A command that finds damage without throwing calls
 * setExitCode(EXIT_DAMAGED) and returns, so its report is printed in full before the exit.
 * Main thread. Not here: how keys and values are rendered (tools/format.ts).
 */

/** The command did what was asked and found nothing wrong. */
export const EXIT_OK = 0;
/** Damage found (check, sst-dump --verify, a corrupt WAL or MANIFEST), a failed operation, or get's "not found". */
export const EXIT_DAMAGED = 1;
/** A user mistake: bad argument or option, missing file, not a database, database locked. */
export const EXIT_USAGE = 2;
/** A bug: an unexpected exception or ERR_INTERNAL (the stack is printed). */
export const EXIT_INTERNAL = 3;
/**
 * Try again (sysexits.h EX_TEMPFAIL): a live writer changed the files underneath a read-only command
 * (ERR_BUSY, or a database file that vanished). Nothing was found damaged; the same command run
 * again usually succeeds.
 */
export const EXIT_RETRY = 75;

/**
 * Raises the process exit code (never lowers it: damage found earlier is not forgotten). The codes
 * rank by number, except try-again (75), which ranks just above ok: any real finding beats it.
 */
export function setExitCode(code: number): void {
  const cur = typeof process.exitCode === 'number' ? process.exitCode : 0;
  if (severity(code) > severity(cur)) process.exitCode = code;
}

function severity(code: number): number {
  switch (code) {
    case EXIT_OK: return 0;
    case EXIT_RETRY: return 1;
    default: return code + 1;
  }
}

const FLUSH_AT = 64 * 1024;

/**
 * Line-oriented stdout with a 64 KiB buffer. line() returns a Promise only when the buffer was
 * handed to a stdout that asked us to wait ('drain'): callers in loops await it when present.
 */
export class Output {
  private chunks: string[] = [];
  private pending = 0;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout) {}

  line(text = ''): Promise<void> | undefined {
    this.chunks.push(text, '\n');
    this.pending += text.length + 1;
    return this.pending >= FLUSH_AT ? this.flush() : undefined;
  }

  /** Writes what is buffered; resolves when the stream can take more. */
  flush(): Promise<void> | undefined {
    if (this.pending === 0) return undefined;
    const data = this.chunks.join('');
    this.chunks = [];
    this.pending = 0;
    if (this.stream.write(data)) return undefined;
    return new Promise((resolve) => this.stream.once('drain', () => resolve()));
  }
}

/** Prints one JSON document (2-space indent) to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** `stratadb scan | head` closes the pipe early: that is the reader's choice, not an error. */
export function exitQuietlyOnBrokenPipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

export interface Progress {
  increment(n?: number): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { increment() {}, stop() {} };

/**
 * A progress bar on stderr for long work, only when a person is watching: stderr is a terminal,
 * and stdout is not streaming lines onto that same terminal (the bar would tear them apart).
 * Child processes in tests have no terminal, so they never see one.
 */
export async function startProgress(total: number, label: string, streamsToStdout: boolean): Promise<Progress> {
  if (!process.stderr.isTTY || (streamsToStdout && process.stdout.isTTY) || total <= 0) return NO_PROGRESS;
  // Loaded only for a terminal: every command start would otherwise pay for it.
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} | eta {eta_formatted}`,
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  }, Presets.shades_classic);
  bar.start(total, 0);
  let done = 0;
  return {
    increment(n = 1) {
      done += n;
      // Redrawing per entry would cost more than the scan; the bar throttles its own redraws.
      bar.update(Math.min(done, total));
    },
    stop() { bar.stop(); },
  };
}
