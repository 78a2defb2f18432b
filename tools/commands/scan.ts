/**
 * `stratadb scan DIR [--prefix P] [--gte K] [--gt K] [--lt K] [--lte K] [--limit N] [--reverse] [--hex] [--json]`:
 * the entries of a range (keys starting with P, within the bounds), in key order (or reversed), from a read-only open at one snapshot.
 * Text output is `key<TAB>value` per line (UTF-8, or hex with --hex); --json is one array of
 * {key, value}. Both stream: memory stays flat however many entries match.
 */
import type { Command } from 'commander';
import type { IteratorOptions } from '../../src/index.js';
import { intOption, parseBytesArg, showBytes } from '../format.js';
import { withReadOnlyDb } from '../open-db.js';
import { Output } from '../output.js';
import { addKeyOptions, type KeyOptions } from '../key-options.js';

interface ScanOptions extends KeyOptions {
  prefix?: string; gte?: string; gt?: string; lt?: string; lte?: string;
  limit?: number; reverse?: boolean; hex?: boolean; json?: boolean;
}

const BATCH = 1000;

export function register(program: Command): void {
  const cmd = program
    .command('scan')
    .description('list the entries of a key range (read-only open: safe beside a live process)')
    .argument('<DIR>', 'the database directory')
    .option('--prefix <bytes>', 'only keys starting with BYTES (with bounds: within both)')
    .option('--gte <key>', 'start at KEY (inclusive)')
    .option('--gt <key>', 'start after KEY')
    .option('--lt <key>', 'stop before KEY')
    .option('--lte <key>', 'stop at KEY (inclusive)')
    .option('--limit <n>', 'at most N entries (-1: no limit)', intOption(-1))
    .option('--reverse', 'from the end of the range backwards')
    .option('--hex', 'bounds are hex, and keys and values are printed as hex')
    .option('--json', 'print a JSON array of {key, value}')
    .addHelpText('after', `
Output: one "key<TAB>value" line per entry.
Examples:
  $ stratadb scan /data/db --gte user: --lt 'user;' --limit 10
  $ stratadb scan /data/db --prefix user: --limit 10
  $ stratadb scan /data/db --reverse --limit 1 --hex`);
  addKeyOptions(cmd)
    .action((dir: string, options: ScanOptions) => scan(dir, options));
}

async function scan(dir: string, o: ScanOptions): Promise<void> {
  const isHex = o.hex === true;
  const range: IteratorOptions = {};
  for (const bound of ['prefix', 'gte', 'gt', 'lt', 'lte'] as const) {
    const text = o[bound];
    if (text !== undefined) range[bound] = parseBytesArg(`--${bound}`, text, isHex);
  }
  if (o.limit !== undefined) range.limit = o.limit;
  if (o.reverse) range.reverse = true;
  const out = new Output();
  await withReadOnlyDb(dir, async (db) => {
    const it = db.iterator(range);
    let count = 0;
    if (o.json) out.line('[');
    try {
      for (;;) {
        const batch = await it.nextv(BATCH);
        for (const [k, v] of batch) {
          const line = o.json
            ? `${count === 0 ? '' : ','}${JSON.stringify({ key: showBytes(k, isHex), value: showBytes(v, isHex) })}`
            : `${showBytes(k, isHex)}\t${showBytes(v, isHex)}`;
          count++;
          const p = out.line(line);
          if (p) await p;
        }
        if (batch.length < BATCH) break;
      }
    } finally {
      await it.close();
    }
    if (o.json) out.line(']');
    await out.flush();
  }, o);
}
