/**
 * Child process for the backup crash test (run from dist/test/support/backup-writer.js; Node runs no
 * TypeScript). argv: dir, backupDir.
 * Opens the database on the real file system, runs two writer loops (writer w commits keys
 * `w<w>-<i>`, i increasing, sometimes in a batch with a companion key `c<w>-<i>` that must appear
 * atomically with it) and, at the same time, takes backups into backupDir in a loop. It reports
 * { ready }, then { progress } on each backup progress call and { backup, sequence } when a backup
 * completes. Runs until killed: the parent SIGKILLs it, usually in the middle of a backup.
 */
import { DB, WriteBatch } from '../../src/index.js';
import { valueFor } from './crash-values.js';
import { backupValueLength } from './backup-values.js';

const [dir, backupDir] = process.argv.slice(2);

async function main(): Promise<void> {
  const db = await DB.open(dir!, { writeBufferSize: 32 * 1024, blockSize: 1024 });
  process.send!({ ready: true });
  const loops: Promise<void>[] = [];
  for (let w = 0; w < 2; w++) {
    loops.push((async () => {
      for (let i = 0; ; i++) {
        const key = `w${w}-${String(i).padStart(8, '0')}`;
        const value = valueFor(w, i, backupValueLength(i));
        if (i % 3 === 0) await db.put(key, value);
        else await db.write(new WriteBatch().put(key, value).put(`c${w}-${String(i).padStart(8, '0')}`, valueFor(w, i, 7)));
      }
    })());
  }
  loops.push((async () => {
    for (;;) {
      const info = await db.backup(backupDir!, { onProgress: () => process.send!({ progress: true }) });
      process.send!({ backup: info.id, sequence: info.sequence });
    }
  })());
  await Promise.all(loops);
}

if (process.send) {
  main().catch((e: unknown) => {
    process.send!({ error: String((e as Error)?.stack ?? e) });
    process.exit(1);
  });
}
