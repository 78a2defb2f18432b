/**
 * writeFileAtomic: the target is the old file or the complete new one, whatever step fails, and the
 * default durability survives a power cut (MemFileSystem.crashClone keeps synced bytes and entries only).
 */
import { describe, expect, it } from 'vitest';
import { FaultFileSystem, failKind, isInjected, type FaultKind, type FaultOp } from '../../src/fs/fault-fs.js';
import type { FileSystem } from '../../src/fs/file-system.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { writeFileAtomic } from '../../src/fs/atomic-write.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** /d/T holding "old", durably. */
async function seeded(): Promise<MemFileSystem> {
  const mem = new MemFileSystem();
  await mem.mkdir('/d', { recursive: true });
  await mem.syncDir('/');
  await writeFileAtomic(mem, '/d/T', bytes('old'), { tempPath: '/d/T.tmp' });
  return mem;
}

/** Runs fn over `inner` wrapped in a FaultFileSystem that records every operation (and fails none). */
async function recorded(inner: FileSystem, fn: (fs: FileSystem) => Promise<void>): Promise<FaultOp[]> {
  const ops: FaultOp[] = [];
  await fn(new FaultFileSystem(inner, { injector: (op) => { ops.push(op); return undefined; } }));
  return ops;
}

describe('writeFileAtomic', () => {
  it('fills a temp file, syncs it, renames it over the target, syncs the directory', async () => {
    const mem = await seeded();
    const ops = await recorded(mem, (fs) => writeFileAtomic(fs, '/d/T', bytes('new'), { tempPath: '/d/T.tmp' }));
    expect(ops.map((o) => `${o.kind} ${o.path}${o.target ? ` ${o.target}` : ''}`)).toEqual([
      'open /d/T.tmp', 'append /d/T.tmp', 'sync /d/T.tmp', 'close /d/T.tmp', 'rename /d/T.tmp /d/T', 'syncDir /d',
    ]);
    expect(text(await mem.readFile('/d/T'))).toBe('new');
    expect(await mem.list('/d')).toEqual(['T']);
    // A power cut right after: the new content is there, whole.
    expect(text(await mem.crashClone().readFile('/d/T'))).toBe('new');
  });

  it('streams through a fill function', async () => {
    const mem = await seeded();
    await writeFileAtomic(mem, '/d/T', async (f) => { f.append(bytes('ne')); await Promise.resolve(); f.append(bytes('w')); }, { tempPath: '/d/T.tmp' });
    expect(text(await mem.crashClone().readFile('/d/T'))).toBe('new');
  });

  it('leaves the directory sync to the caller with syncDir: false (a power cut may keep the old file)', async () => {
    const mem = await seeded();
    const ops = await recorded(mem, (fs) => writeFileAtomic(fs, '/d/T', bytes('new'), { tempPath: '/d/T.tmp', syncDir: false }));
    expect(ops.map((o) => o.kind)).not.toContain('syncDir');
    expect(text(await mem.readFile('/d/T'))).toBe('new');
    expect(text(await mem.crashClone().readFile('/d/T'))).toBe('old');
    await mem.syncDir('/d');
    expect(text(await mem.crashClone().readFile('/d/T'))).toBe('new');
  });

  it('skips the file sync with syncFile: false', async () => {
    const mem = await seeded();
    const ops = await recorded(mem, (fs) => writeFileAtomic(fs, '/d/T', bytes('new'), { tempPath: '/d/T.tmp', syncFile: false }));
    expect(ops.map((o) => o.kind)).toEqual(['open', 'append', 'close', 'rename', 'syncDir']);
    // The rename is durable, the bytes are not: what the option's doc warns about.
    expect(text(await mem.crashClone().readFile('/d/T'))).toBe('');
  });

  const steps: FaultKind[] = ['open', 'append', 'sync', 'close', 'rename'];
  for (const kind of steps) {
    it(`keeps the old target and removes the temp file when ${kind} fails`, async () => {
      const mem = await seeded();
      const fs = new FaultFileSystem(mem, { injector: failKind(kind, { path: '/d/T.tmp' }) });
      const err = await writeFileAtomic(fs, '/d/T', bytes('new'), { tempPath: '/d/T.tmp' }).then(() => undefined, (e: unknown) => e);
      expect(isInjected(err)).toBe(true);
      expect(text(await mem.readFile('/d/T'))).toBe('old');
      expect(await mem.list('/d')).toEqual(['T']);
    });
  }

  it('rejects with the rename done when the directory sync fails', async () => {
    const mem = await seeded();
    const fs = new FaultFileSystem(mem, { injector: failKind('syncDir') });
    await expect(writeFileAtomic(fs, '/d/T', bytes('new'), { tempPath: '/d/T.tmp' })).rejects.toSatisfy(isInjected);
    expect(text(await mem.readFile('/d/T'))).toBe('new');
  });

  it('keeps the old target when the fill function throws, and rethrows its error', async () => {
    const mem = await seeded();
    const boom = new Error('fill failed');
    await expect(writeFileAtomic(mem, '/d/T', (f) => { f.append(bytes('half')); throw boom; }, { tempPath: '/d/T.tmp' })).rejects.toBe(boom);
    expect(text(await mem.readFile('/d/T'))).toBe('old');
    expect(await mem.list('/d')).toEqual(['T']);
  });
});
