/**
 * `stratadb wal-dump FILE [--json]`: a write-ahead log's records (one per write group), the batches
 * in each with their sequence numbers and put/delete counts, and the first problem found.
 * Reads through inspect.wal(); writes nothing, so it runs on the live WAL of an open database.
 * Exit: 0 for a sound log, and also for a torn tail (the last record cut short: what a crash
 * mid-write leaves, and what recovery drops); 1 for damage with valid records after it (corruption
 * that recovery refuses or stops at) or a file with no valid header record; 2 for a missing file.
 */
import type { Command } from 'commander';
import { inspect } from '../../src/index.js';
import { EXIT_DAMAGED, Output, printJson, setExitCode } from '../output.js';
import { isoTime } from '../format.js';
import { addKeyOptions, encryptionOption, type KeyOptions } from '../key-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('wal-dump')
    .description('show a write-ahead log: records, batches, sequence numbers, and any torn or corrupt record')
    .argument('<FILE>', 'a WAL file (NNNNNN.log)')
    .option('--json', 'print JSON instead of text')
    .addHelpText('after', `
Examples:
  $ stratadb wal-dump /data/db/000004.log
  $ stratadb wal-dump /data/db/000004.log --json | jq '.records | length'`);
  addKeyOptions(cmd)
    .action((file: string, options: { json?: boolean } & KeyOptions) => walDump(file, options.json === true, options));
}

const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;

async function walDump(file: string, asJson: boolean, keys: KeyOptions): Promise<void> {
  const w = await inspect.wal(file, encryptionOption(keys, true));
  // Without a valid header the file is not a WAL at all (or lost its start): never "just torn". A
  // recyclable WAL ends where its own records stop (a reused file that got no write has none).
  const ended = w.problem?.endOfRecyclable === true;
  const damaged = w.problem !== undefined && !ended && (!w.problem.atTail || w.header === undefined);
  if (damaged) setExitCode(EXIT_DAMAGED);
  let batches = 0;
  let puts = 0;
  let deletes = 0;
  let rangeDeletes = 0;
  for (const r of w.records) {
    for (const b of r.batches) { batches++; puts += b.puts; deletes += b.deletes; rangeDeletes += b.rangeDeletes; }
  }
  // Range deletes are named only where there are some: older dumps read the same.
  const counts = (p: number, d: number, rd: number): string => `${p} put, ${d} del${rd > 0 ? `, ${rd} range del` : ''}`;
  const first = w.records[0]?.firstSeq;
  const last = w.records[w.records.length - 1]?.lastSeq;
  if (asJson) {
    const status = w.problem === undefined || ended ? 'ok' : damaged ? 'corrupt' : 'torn-tail';
    printJson({ ...w, status, summary: { records: w.records.length, batches, puts, deletes, rangeDeletes, firstSeq: first ?? null, lastSeq: last ?? null } });
    return;
  }
  const out = new Output();
  const emit = async (line: string): Promise<void> => {
    const p = out.line(line);
    if (p) await p;
  };
  const header = (w.header ? `format ${w.header.version}, log number ${w.header.logNumber}` : 'no header record') +
    (w.recyclable ? ', recyclable framing' : '');
  await emit(`wal ${w.path}  (${w.size} bytes, ${header})`);
  for (const r of w.records) {
    await emit(`  @${r.offset}  seq ${r.firstSeq}..${r.lastSeq}  ${r.length} bytes  ${isoTime(r.commitTimeMs)}  ${plural(r.batches.length, 'batch', 'batches')}`);
    for (const b of r.batches) {
      await emit(`      batch seq ${b.firstSeq}..${b.lastSeq}  ${plural(b.ops, 'op')} (${counts(b.puts, b.deletes, b.rangeDeletes)})`);
    }
  }
  const range = first === undefined ? 'no sequence numbers' : `sequence ${first}..${last}`;
  await emit(`${plural(w.records.length, 'record')}, ${plural(batches, 'batch', 'batches')}, ${plural(puts + deletes + rangeDeletes, 'op')} (${counts(puts, deletes, rangeDeletes)}), ${range}`);
  if (w.problem && ended) {
    await emit(`end of log at offset ${w.problem.offset}: ${w.problem.detail}`);
    await emit('  (a recyclable WAL: what follows is left by an earlier use of the file, or an unsynced write cut short; recovery ends here)');
  } else if (w.problem && !damaged) {
    await emit(`torn tail at offset ${w.problem.offset}: ${w.problem.detail}`);
    await emit('  (the last write was cut short, as a crash leaves it: recovery drops it; nothing valid follows)');
  } else if (w.problem) {
    await emit(`CORRUPT at offset ${w.problem.offset}: ${w.problem.detail}`);
    await emit(w.header === undefined
      ? '  (no valid header record: not a StrataDB WAL, or one damaged at its start)'
      : '  (valid data may follow this point: recovery stops here or refuses the log, as walRecoveryMode says)');
  }
  await out.flush();
}
