/**
 * Child process for the readers-beside-a-writer test (run from dist/test/support/live-writer.js).
 * argv: dir, seed, writeBufferSize, JSON of further DB options. Opens the database read-write and
 * commits, one after another, batches of `w0-<i>` -> valueFor(0, i, 10..309 bytes) with its companion
 * `c0-<i>` -> valueFor(0, i, 7) (crash-values.ts), reporting { w: 0, i } to the parent after each
 * commit resolves. It yields to a 1 ms timer every few commits so that flushes and compactions keep
 * pace and the database stays small enough to read whole many times a second. Runs until killed.
 */
import { DB, WriteBatch, type Options } from '../../src/index.js';
import { makeRng } from './rng.js';
import { valueFor } from './crash-values.js';

const [dir, seedText, wbsText, optionsJson] = process.argv.slice(2);
const COMMITS_PER_PAUSE = 4;

async function main(): Promise<void> {
  const options = (optionsJson ? JSON.parse(optionsJson) : {}) as Options;
  const db = await DB.open(dir!, { writeBufferSize: Number(wbsText), blockSize: 1024, ...options });
  process.send!({ ready: true });
  const rng = makeRng(Number(seedText));
  for (let i = 0; ; i++) {
    const k = String(i).padStart(8, '0');
    await db.write(new WriteBatch().put(`w0-${k}`, valueFor(0, i, 10 + rng.int(300))).put(`c0-${k}`, valueFor(0, i, 7)));
    process.send!({ w: 0, i });
    if (i % COMMITS_PER_PAUSE === 0) await new Promise((r) => setTimeout(r, 1));
  }
}

if (process.send) {
  main().catch((e: unknown) => {
    process.send!({ error: String((e as Error)?.stack ?? e) });
    process.exit(1);
  });
}
