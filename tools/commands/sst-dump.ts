/**
 * `stratadb sst-dump FILE [--scan] [--verify] [--blocks] [--json]`: one table file, read without
 * opening its database (RocksDB's sst_dump). By default the properties and the blocks grouped by
 * kind; --blocks lists every block; --scan lists every entry; --verify reads every block, checks
 * every checksum and entry encoding, and that the entry count matches the properties.
 * Exit: 0 sound; 1 with the file and offset of the first bad block (ERR_CORRUPTION from the table
 * library, printed by tools/cli.ts); 2 for a missing file or one that is not a table at all (shorter
 * than a footer, or no table magic at its end: the user named the wrong file).
 * Not here: rendering (tools/table-view.ts); the table format itself (sstable/).
 */
import type { Command } from 'commander';
import { CorruptionError, InvalidArgumentError, inspect } from '../../src/index.js';
import { readTableLayout, type TableReader } from '../../sstable/index.js';
import { Output, printJson, startProgress } from '../output.js';
import { entryLine, keyJson, layoutJson, layoutText } from '../table-view.js';
import { printable, toHex } from '../format.js';
import { addKeyOptions, encryptionOption, type KeyOptions } from '../key-options.js';

interface SstDumpOptions extends KeyOptions { scan?: boolean; verify?: boolean; blocks?: boolean; json?: boolean }

export function register(program: Command): void {
  const cmd = program
    .command('sst-dump')
    .description('show a table file: properties and blocks, every entry (--scan), or a full check (--verify)')
    .argument('<FILE>', 'a table file (NNNNNN.sst); the database need not be open or closed')
    .option('--scan', 'list every entry (engine tables: user key, sequence and put/del)')
    .option('--verify', 'read every block and check its checksum; exit 1 at the first bad block')
    .option('--blocks', 'also list every block: offset, sizes, compression, entries, key range')
    .option('--json', 'print JSON instead of text')
    .addHelpText('after', `
Examples:
  $ stratadb sst-dump /data/db/000012.sst
  $ stratadb sst-dump /data/db/000012.sst --scan | head
  $ stratadb sst-dump /data/db/000012.sst --verify && echo sound`);
  addKeyOptions(cmd)
    .action((file: string, options: SstDumpOptions) => sstDump(file, options));
}

/** The table library's two footer refusals that mean "this is some other file", not "a damaged table". */
const NOT_A_TABLE = /too short for a table|bad table magic/;

async function openTable(file: string, options: SstDumpOptions): Promise<TableReader> {
  try {
    return await inspect.openTable(file, encryptionOption(options, true));
  } catch (e) {
    if (e instanceof CorruptionError && NOT_A_TABLE.test(e.message)) {
      throw new InvalidArgumentError(`${file} is not a StrataDB table: ${e.message.replace(/^.*?corruption at offset \d+: /, '')}`);
    }
    throw e;
  }
}

async function sstDump(file: string, options: SstDumpOptions): Promise<void> {
  const reader = await openTable(file, options);
  try {
    const isEngine = inspect.isEngineTable(reader);
    const json: Record<string, unknown> = {};
    if (!options.scan && !options.verify) {
      const layout = await readTableLayout(reader);
      if (options.json) printJson(layoutJson(layout, isEngine));
      else await writeLines(layoutText(layout, isEngine, options.blocks === true));
      return;
    }
    if (options.verify) {
      try {
        json['verify'] = await verify(reader, options.scan !== true);
      } catch (e) {
        if (options.json && e instanceof CorruptionError) {
          printJson({ file, verify: { ok: false, file: e.file, offset: e.offset, message: e.message } });
        }
        throw e;
      }
      if (!options.json) {
        const v = json['verify'] as VerifyResult;
        process.stdout.write(`verify ${file}: ok, ${v.blocks} blocks, ${v.entries} entries, every checksum matches\n`);
      }
    }
    if (options.scan) await scan(reader, file, isEngine, options.json === true, json);
    else if (options.json) printJson({ file, ...json });
  } finally {
    await reader.close();
  }
}

async function writeLines(lines: string[]): Promise<void> {
  const out = new Output();
  for (const l of lines) {
    const p = out.line(l);
    if (p) await p;
  }
  await out.flush();
}

interface VerifyResult { ok: true; blocks: number; entries: number }

/**
 * The table library's full check (every block's CRC and entry encoding), then a walk over every
 * entry that must find exactly the count the properties promise.
 */
async function verify(reader: TableReader, showProgress: boolean): Promise<VerifyResult> {
  await reader.verifyChecksums();
  const expected = reader.properties.numEntries;
  const progress = await startProgress(showProgress ? expected : 0, 'verify', false);
  let entries = 0;
  const it = reader.newIterator();
  try {
    let p = it.seekToFirst();
    if (p) await p;
    while (it.valid()) {
      entries++;
      if ((entries & 1023) === 0) progress.increment(1024);
      p = it.next();
      if (p) await p;
    }
  } finally {
    progress.stop();
    const c = it.close();
    if (c) await c;
  }
  if (entries !== expected) {
    throw new CorruptionError(reader.fileName, 0, `the properties promise ${expected} entries, the data blocks hold ${entries}`);
  }
  // + partitions, metaindex, index, footer
  const blocks = reader.dataBlockHandles().length + reader.partitionHandles().length + reader.metaHandles.size + 3;
  return { ok: true, blocks, entries };
}

/** Streams every entry: one line each, or a JSON document whose `entries` array is written as it goes. */
async function scan(reader: TableReader, file: string, isEngine: boolean, asJson: boolean, head: Record<string, unknown>): Promise<void> {
  const out = new Output();
  const progress = await startProgress(reader.properties.numEntries, 'scan', true);
  let count = 0;
  const emit = (line: string): Promise<void> | undefined => out.line(line);
  if (asJson) {
    const start = JSON.stringify({ file, keys: isEngine ? 'internal' : 'bytewise', ...head });
    out.line(`${start.slice(0, -1)},"entries":[`);
  }
  const it = reader.newIterator();
  try {
    let p = it.seekToFirst();
    if (p) await p;
    while (it.valid()) {
      const k = it.key();
      const v = it.value();
      let w: Promise<void> | undefined;
      if (asJson) {
        const entry = { ...keyJson(k, isEngine), value: printable(v), valueHex: toHex(v) };
        w = emit(`${count === 0 ? '' : ','}${JSON.stringify(entry)}`);
      } else {
        w = emit(entryLine(k, v, isEngine));
      }
      if (w) await w;
      count++;
      if ((count & 1023) === 0) progress.increment(1024);
      p = it.next();
      if (p) await p;
    }
  } catch (e) {
    // What was printed stays printed; the error (with file and offset) follows on stderr.
    await out.flush();
    throw e;
  } finally {
    progress.stop();
    const c = it.close();
    if (c) await c;
  }
  // Range tombstones live in their own block: listed after the entries, only when the table has any.
  const rd = reader.newRangeDelIterator();
  const dels: { key: Uint8Array; end: Uint8Array }[] = [];
  if (rd) for (rd.seekToFirst(); rd.valid(); rd.next()) dels.push({ key: rd.keyCopy(), end: rd.value().slice() });
  if (asJson) {
    const list = dels.map((d) => JSON.stringify({ ...keyJson(d.key, isEngine), end: printable(d.end), endHex: toHex(d.end) }));
    out.line(`],"count":${count}${dels.length > 0 ? `,"rangeDeletions":[${list.join(',')}]` : ''}}`);
  } else {
    out.line(`${count} entries`);
    if (dels.length > 0) {
      out.line(`${dels.length} range deletions (start@seq => exclusive end):`);
      for (const d of dels) out.line(`  ${entryLine(d.key, d.end, isEngine)}`);
    }
  }
  await out.flush();
}
