/**
 * Small real tmpfs mounts, for tests that need a genuine ENOSPC from the kernel (a full disk) rather
 * than an injected one. Mounting needs privileges: `tmpfsSupport` probes once at load, and tests use
 * `it.skipIf(!tmpfsSupport.ok)` and print `tmpfsSupport.reason`. Mounts are unmounted after each test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

function probe(): { ok: boolean; reason: string } {
  let d: string | undefined;
  try {
    d = mkdtempSync(join(tmpdir(), 'strata-tmpfs-probe-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d], { stdio: 'pipe' });
    execFileSync('umount', [d], { stdio: 'pipe' });
    return { ok: true, reason: '' };
  } catch (e) {
    return { ok: false, reason: `cannot mount a tmpfs here (${String((e as Error).message).split('\n')[0]})` };
  } finally {
    if (d) try { rmdirSync(d); } catch { /* left for the OS */ }
  }
}

export const tmpfsSupport = probe();
if (!tmpfsSupport.ok) console.log(`full-disk tests skip: ${tmpfsSupport.reason}`);

const mounted: string[] = [];
afterEach(() => {
  while (mounted.length) {
    const d = mounted.pop()!;
    execFileSync('umount', [d], { stdio: 'pipe' });
    rmdirSync(d);
  }
});

/** A fresh tmpfs of `sizeBytes`, unmounted after the current test. */
export function smallTmpfs(sizeBytes: number): string {
  const d = mkdtempSync(join(tmpdir(), 'strata-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', d], { stdio: 'pipe' });
  mounted.push(d);
  return d;
}

/** Fills the file system holding `dir` with one file at `dir/name` until the kernel says ENOSPC. */
export function fillDisk(dir: string, name = 'filler'): string {
  const p = join(dir, name);
  const fd = openSync(p, 'w');
  const chunk = Buffer.alloc(4096, 0x5a);
  try {
    for (;;) {
      try {
        writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw e;
      }
    }
    // A page may remain for a partial write: use that up too.
    for (;;) {
      try { if (writeSync(fd, chunk, 0, 1) === 0) break; } catch { break; }
    }
  } finally {
    closeSync(fd);
  }
  return p;
}
