/**
 * Per-test temporary directories on the real file system, removed after the test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const made: string[] = [];

afterEach(async () => {
  // maxRetries: a directory emptied while a just-closed handle finishes can report ENOTEMPTY once.
  while (made.length) await rm(made.pop()!, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
});

/** A fresh empty directory, deleted after the current test. */
export async function tempDir(prefix = 'strata-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
