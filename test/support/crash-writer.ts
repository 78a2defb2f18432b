/**
 * Child process for crash tests (run from dist/test/support/crash-writer.js; Node runs no TypeScript).
 * argv: dir, seed, writers, syncMode ('sync' | 'nosync' | 'mixed'), writeBufferSize, and optionally a
 * JSON object of further DB options (test/crash/compaction-crash.test.ts passes compaction-heavy ones:
 * tiny targets, level0CompactionTrigger 2, the worker executor); it overrides the defaults above.
 * Opens the database, then runs `writers` concurrent writer loops; writer w commits batches of
 * keys `w<w>-<i>` (i increasing) and, after each commit resolves, reports { w, i } to the parent
 * over IPC. Runs until killed. The parent SIGKILLs it and checks every acknowledged write.
 */
import { DB, WriteBatch, staticKeyProvider, type Options } from '../../src/index.js';
import { makeRng } from './rng.js';
import { valueFor } from './crash-values.js';

const [dir, seedText, writersText, syncMode, wbsText, optionsJson] = process.argv.slice(2);
const seed = Number(seedText);
const writers = Number(writersText ?? '4');
const writeBufferSize = Number(wbsText ?? String(64 * 1024));
const extraOptions = (optionsJson ? JSON.parse(optionsJson) : {}) as Options;
// Encrypted runs: the key comes by environment (never in argv, where ps would show it).
const crashKey = process.env['STRATA_CRASH_KEY'];
if (crashKey) extraOptions.encryption = { keyProvider: staticKeyProvider({ crash: crashKey }, 'crash') };


async function main(): Promise<void> {
  const db = await DB.open(dir!, { writeBufferSize, blockSize: 1024, ...extraOptions });
  process.send!({ ready: true });
  const loops: Promise<void>[] = [];
  for (let w = 0; w < writers; w++) {
    const rng = makeRng(seed + w);
    loops.push((async () => {
      for (let i = 0; ; i++) {
        const sync = syncMode === 'sync' || (syncMode === 'mixed' && w % 2 === 0);
        const len = 10 + rng.int(300);
        if (rng.int(4) === 0) {
          await db.put(`w${w}-${String(i).padStart(8, '0')}`, valueFor(w, i, len), { sync });
        } else {
          // a batch: the key itself plus a companion key that must appear atomically with it
          const b = new WriteBatch()
            .put(`w${w}-${String(i).padStart(8, '0')}`, valueFor(w, i, len))
            .put(`c${w}-${String(i).padStart(8, '0')}`, valueFor(w, i, 7));
          await db.write(b, { sync });
        }
        process.send!({ w, i });
      }
    })());
  }
  await Promise.all(loops);
}

if (process.send) {
  main().catch((e: unknown) => {
    process.send!({ error: String((e as Error)?.stack ?? e) });
    process.exit(1);
  });
}
