/**
 * Child process for the SIGKILL torture (test/torture/latency-process-kill.test.ts); runs from
 * dist/test/support/torture-writer.js (npm run build first).
 * argv: root, seed, writers. The database lives in <root>/db, checkpoints in <root>/cp-N, backups in
 * <root>/bk. Keys for an encrypted run come by environment (STRATA_TORTURE_KEYS, a JSON object of
 * key id -> 64 hex digits; never in argv, where ps would show them); rotateKey() then alternates them.
 *
 * The real file system is wrapped in a FaultFileSystem with seeded latency, so syncs, renames and
 * removes complete late and out of order. Runs torture-workload.ts's writers (write i's content is
 * writeFor(seed, i), so the parent rebuilds it from i) and its maintenance loop until killed, and
 * reports over IPC: { ready }, then per write { ack: i } | { conflict: i } | { failed: i, error },
 * and { error } when a writer or maintenance call fails.
 */
import { DB, NodeFileSystem, staticKeyProvider, type Options } from '../../src/index.js';
import { FaultFileSystem, seededLatency } from '../../src/fs/fault-fs.js';
import { makeRng } from './rng.js';
import { maintenanceLoop, writerLoop, type WriteSink } from './torture-workload.js';
import { openRangeDeletes } from './range-deletes.js';

openRangeDeletes();

const [root, seedText, writersText] = process.argv.slice(2);
const seed = Number(seedText);
const writers = Number(writersText ?? '3');
const keysJson = process.env['STRATA_TORTURE_KEYS'];

const send = (m: object): void => { process.send!(m); };

async function main(): Promise<void> {
  const keys = keysJson ? (JSON.parse(keysJson) as Record<string, string>) : undefined;
  const ids = keys ? Object.keys(keys) : [];
  const provider = keys ? staticKeyProvider(keys, ids[0]!) : undefined;
  const fs = new FaultFileSystem(new NodeFileSystem(), {
    latency: seededLatency(seed ^ 0x1a7e, { probability: 0.5, maxMs: 20 }),
  });
  const options: Options = {
    fs, writeBufferSize: 8 * 1024, blockSize: 512, level0CompactionTrigger: 2,
    ...(provider ? { encryption: { keyProvider: provider } } : {}),
  };
  const db = await DB.open(`${root}/db`, options);
  send({ ready: true });
  let next = 0;
  const sink: WriteSink = {
    nextIndex: () => next++,
    submit: (index, _spec, p) => {
      p.then(() => send({ ack: index }), (e: { code?: string; message?: string }) => {
        if (e?.code === 'ERR_TXN_CONFLICT') send({ conflict: index });
        else send({ failed: index, error: `${e?.code ?? ''} ${e?.message ?? e}` });
      });
    },
  };
  const report = (what: string) => (e: unknown): void => { send({ error: `${what}: ${(e as Error)?.stack ?? e}` }); };
  const loops = Array.from({ length: writers }, (_, w) =>
    writerLoop(db, seed, makeRng(seed + 1 + w), sink, Infinity).catch(report(`writer ${w}`)));
  loops.push(maintenanceLoop(db, makeRng(seed + 100), () => false, {
    ...(provider ? { rotate: { setCurrent: (id: string) => provider.setCurrent(id), ids } } : {}),
    checkpointDir: (n) => `${root}/cp-${n}`,
    maxCheckpoints: 2,
    backupDir: `${root}/bk`,
  }).catch(report('maintenance')));
  await Promise.all(loops);
}

if (process.send) main().catch((e: unknown) => { send({ error: `open: ${(e as Error)?.stack ?? e}` }); process.exit(1); });
