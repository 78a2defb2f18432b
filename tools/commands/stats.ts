/**
 * `stratadb stats DIR [--json] [--property NAME]`: db.stats() from a read-only open, the levels as a
 * table like RocksDB's compaction stats (level, files, size, score) and then the other counters; with
 * --property, one db.getProperty() value alone (an unknown name is a usage mistake, exit 2).
 * NB: a read-only open is a separate instance: the level shape and sequence are the database's,
 * but the work counters (flushes, compactions, bytes written, cache) are this instance's, which
 * did no work. A running process reports its own through db.stats(). The compaction style shown is
 * the one in the database's newest OPTIONS file (the read-only open's own options are the defaults).
 */
import type { Command } from 'commander';
import { ErrorCode, StrataError, inspect, type DBStats } from '../../src/index.js';
import { humanBytes, table } from '../format.js';
import { withReadOnlyDb } from '../open-db.js';
import { printJson } from '../output.js';
import { addKeyOptions, encryptionOption, type KeyOptions } from '../key-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('stats')
    .description('show db.stats(): levels (files, size, score) and counters (read-only open)')
    .argument('<DIR>', 'the database directory')
    .option('--json', 'print the DBStats object as JSON')
    .option('--property <NAME>', 'print one db.getProperty() value, e.g. stratadb.estimate-num-keys')
    .addHelpText('after', `
Examples:
  $ stratadb stats /data/db
  $ stratadb stats /data/db --property stratadb.num-files-at-level0
  $ stratadb stats /data/db --json | jq .levels`);
  addKeyOptions(cmd)
    .action(async (dir: string, options: { json?: boolean; property?: string } & KeyOptions) => {
      const name = options.property;
      if (name !== undefined) {
        const value = await withReadOnlyDb(dir, async (db) => db.getProperty(name), options);
        if (value === undefined) throw new StrataError(ErrorCode.INVALID_ARGUMENT, `--property: ${JSON.stringify(name)} is not a property (see README "API")`);
        if (options.json) printJson({ dir, property: name, value });
        else process.stdout.write(value.endsWith('\n') ? value : value + '\n');
        return;
      }
      const opened = await withReadOnlyDb(dir, async (db) => db.stats(), options);
      // The read-only open compacts nothing and runs with default options: the style is the one the
      // database was last opened with, from its OPTIONS file.
      const last = await inspect.options(dir, encryptionOption(options, true)).catch(() => undefined);
      const style = last?.values['compactionStyle'] as DBStats['compactionStyle'] | undefined;
      const s: DBStats = { ...opened, compactionStyle: style ?? opened.compactionStyle };
      if (options.json) printJson({ dir, ...s });
      else process.stdout.write(statsText(dir, s).join('\n') + '\n');
    });
}

export function statsText(dir: string, s: DBStats): string[] {
  const rows = [['Level', 'Files', 'Size', 'Bytes', 'Score']];
  let files = 0;
  let bytes = 0;
  for (const l of s.levels) {
    rows.push([`L${l.level}`, String(l.files), humanBytes(l.bytes), String(l.bytes), l.score.toFixed(2)]);
    files += l.files;
    bytes += l.bytes;
  }
  rows.push(['Sum', String(files), humanBytes(bytes), String(bytes), '']);
  const kv: Array<[string, string]> = [
    ['memtable', `${s.memtable.entries} entries, ${humanBytes(s.memtable.bytes)} (+${s.immutableMemtables} immutable)`],
    ['memory', `memtables ${humanBytes(s.memory.memtables)}, cache ${humanBytes(s.memory.cache)}, table readers ${humanBytes(s.memory.tableReaders)}`],
    ['flushes', `${s.flushes.count} (${humanBytes(s.flushes.bytes)})`],
    ['compactions', `${s.compactions.count}, read ${humanBytes(s.compactions.bytesRead)}, written ${humanBytes(s.compactions.bytesWritten)}, ${s.compactions.ms} ms`],
    ['user bytes written', humanBytes(s.userBytesWritten)],
    ['WAL bytes written', humanBytes(s.walBytesWritten)],
    ['write amplification', s.writeAmplification.toFixed(2)],
    ['stalls', `slowdown ${s.stalls.slowdownMs} ms, stop ${s.stalls.stopMs} ms`],
    ['block cache', `capacity ${humanBytes(s.cache.capacity)}, usage ${humanBytes(s.cache.usage)}, hits ${s.cache.hits}, misses ${s.cache.misses}`],
    ['bloom filter', `checks ${s.filter.checks}, negatives ${s.filter.negatives}`],
    ['snapshots', String(s.snapshots)],
    ['range tombstones', `memtables ${s.rangeDeletions.memtables}, tables ${s.rangeDeletions.tables} (${s.rangeDeletions.tableEntries} entries)`],
    ['open tables', String(s.openTables)],
    ['estimated keys', String(s.estimatedKeys)],
    ['pending compaction', humanBytes(s.pendingCompactionBytes)],
    ['compaction style', `${s.compactionStyle}, ${s.sortedRuns} sorted runs` +
      (s.fifoDrops.count > 0 ? `, FIFO drops ${s.fifoDrops.count} (${s.fifoDrops.files} tables, ${humanBytes(s.fifoDrops.bytes)})` : '')],
    ['background errors', String(s.backgroundErrors)],
  ];
  if (s.readOnlyReason !== undefined) kv.push(['read-only because', s.readOnlyReason]);
  kv.push(['encryption', encryptionText(s.encryption)]);
  const w = Math.max(...kv.map(([k]) => k.length));
  return [
    `database ${dir}  (read-only open: counters below count this inspection, not the owning process)`,
    `sequence ${s.sequence}`,
    '',
    ...table(rows, new Set([1, 2, 3, 4])),
    '',
    ...kv.map(([k, v]) => `${k.padEnd(w)}  ${v}`),
  ];
}

/** Key ids only, never keys: `aes-256-gcm, current key id "k2", tables per key id: "k1" 3, "k2" 5`. */
export function encryptionText(e: DBStats['encryption'] | undefined): string {
  if (!e?.enabled) return 'off';
  const uses = Object.entries(e.keyIdsInUse).map(([id, n]) => `${id === '(plaintext)' ? id : JSON.stringify(id)} ${n}`);
  return `aes-256-gcm, current key id ${e.currentKeyId === undefined ? '(unavailable)' : JSON.stringify(e.currentKeyId)}` +
    `, tables per key id: ${uses.length ? uses.join(', ') : 'none'}`;
}
