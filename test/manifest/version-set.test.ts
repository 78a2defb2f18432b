import { describe, expect, it } from 'vitest';
import { makeInternalKey } from '../../src/base/internal-key.js';
import {
  CorruptionError, DatabaseClosedError, InternalError, InvalidArgumentError, NotSupportedError, ReadOnlyError,
} from '../../src/errors.js';
import { KeyRing } from '../../src/encryption/keyring.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { manifestBaseName, parseFileName } from '../../src/manifest/file-names.js';
import { encodeVersionEdit, Tag } from '../../src/manifest/version-edit.js';
import { VersionSet } from '../../src/manifest/version-set.js';
import type { Version } from '../../src/manifest/version.js';
import { RecordWriter } from '../../src/record/record-writer.js';
import { withSeed } from '../support/rng.js';
import { DIR, OPTIONS, randomEdit, stateOf } from './driver.js';
import { meta } from './fixtures.js';

async function freshFs(): Promise<MemFileSystem> {
  const fs = new MemFileSystem();
  await fs.mkdir(DIR);
  return fs;
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('VersionSet create and recover', () => {
  it('creates an empty database that recovers to the same state, rolling the MANIFEST at every open', async () => {
    const fs = await freshFs();
    const vs = await VersionSet.create(fs, DIR, OPTIONS);
    expect(vs.manifestFileNumber).toBe(1);
    expect(text(await fs.readFile(`${DIR}/CURRENT`))).toBe('MANIFEST-000001\n');
    expect(vs.current().totalFiles()).toBe(0);
    await vs.close();
    await expect(VersionSet.create(fs, DIR, OPTIONS)).rejects.toThrow(InvalidArgumentError);

    const again = await VersionSet.recover(fs, DIR, OPTIONS);
    expect(stateOf(again)).toEqual(stateOf(vs));
    expect(again.manifestFileNumber).toBeGreaterThan(1);
    expect(text(await fs.readFile(`${DIR}/CURRENT`))).toBe(`${manifestBaseName(again.manifestFileNumber)}\n`);
    expect(again.obsoleteFiles(await fs.list(DIR))).toEqual(['MANIFEST-000001']);
    await again.close();
  });

  it('recovers exactly the live state after many edits, across several reopens and roll-overs', async () => {
    await withSeed('recover after edits', async (rng) => {
      const fs = await freshFs();
      const opts = { ...OPTIONS, maxManifestFileSize: 2048 };
      let vs = await VersionSet.create(fs, DIR, opts);
      const manifests = new Set<number>([vs.manifestFileNumber]);
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 60; i++) {
          await vs.logAndApply(randomEdit(vs, rng));
          manifests.add(vs.manifestFileNumber);
          expect(vs.manifestFileSize).toBeLessThan(2048 + 4096);
        }
        const live = stateOf(vs);
        const used = vs.nextFileNumber;
        await vs.close();
        vs = await VersionSet.recover(fs, DIR, opts);
        expect(stateOf(vs)).toEqual(live);
        expect(vs.nextFileNumber).toBeGreaterThanOrEqual(used);
        manifests.add(vs.manifestFileNumber);
        // Everything but the current MANIFEST is obsolete; the DB would delete them.
        const names = await fs.list(DIR);
        const obsolete = vs.obsoleteFiles(names);
        expect(obsolete.every((n) => parseFileName(n)?.type === 'manifest')).toBe(true);
        expect(obsolete).not.toContain(manifestBaseName(vs.manifestFileNumber));
        for (const n of obsolete) await fs.remove(`${DIR}/${n}`);
      }
      // Rolled past 2 KiB many times, not only at the 4 reopens.
      expect(manifests.size).toBeGreaterThan(10);
      await vs.close();
    });
  });

  it('serialises concurrent logAndApply calls in call order', async () => {
    const fs = await freshFs();
    const vs = await VersionSet.create(fs, DIR, OPTIONS);
    const files = Array.from({ length: 20 }, (_, i) => meta(vs.newFileNumber(), `k${i}`, `k${i}`, i + 1, i + 1));
    await Promise.all(files.map((file, i) => vs.logAndApply({ newFiles: [{ level: 0, file }], lastSequence: i + 1 })));
    expect(vs.current().levels[0]!.map((f) => f.fileNumber)).toEqual(files.map((f) => f.fileNumber).reverse());
    expect(vs.lastSequence).toBe(20);
    await vs.close();
    const again = await VersionSet.recover(fs, DIR, OPTIONS);
    expect(stateOf(again)).toEqual(stateOf(vs));
  });

  it('keeps an old Version\'s files live while it is referenced', async () => {
    const fs = await freshFs();
    const released: Version[] = [];
    const vs = await VersionSet.create(fs, DIR, { ...OPTIONS, onVersionReleased: (v) => released.push(v) });
    const a = meta(vs.newFileNumber(), 'a', 'b', 1, 1);
    await vs.logAndApply({ newFiles: [{ level: 0, file: a }] });
    const pinned = vs.current();
    pinned.ref(); // an iterator
    const b = meta(vs.newFileNumber(), 'a', 'b', 2, 2);
    await vs.logAndApply({ deletedFiles: [{ level: 0, fileNumber: a.fileNumber }], newFiles: [{ level: 1, file: b }] });
    expect([...vs.liveFiles()].sort()).toEqual([a.fileNumber, b.fileNumber].sort());
    const names = [`00000${a.fileNumber}.sst`, `00000${b.fileNumber}.sst`, '000099.sst'];
    expect(vs.obsoleteFiles(names, new Set([99]))).toEqual([]);
    expect(released).not.toContain(pinned);
    pinned.unref();
    expect(released).toContain(pinned);
    expect([...vs.liveFiles()]).toEqual([b.fileNumber]);
    expect(vs.obsoleteFiles(names)).toEqual([`00000${a.fileNumber}.sst`, '000099.sst']);
    await vs.close();
  });

  it('obsolete WALs: below the log number and below the oldest WAL an unflushed memtable needs', async () => {
    const fs = await freshFs();
    const vs = await VersionSet.create(fs, DIR, OPTIONS);
    const w = [vs.newFileNumber(), vs.newFileNumber(), vs.newFileNumber()];
    await vs.logAndApply({ logNumber: w[2] });
    const pad = (n: number): string => `${String(n).padStart(6, '0')}.log`;
    const names = w.map(pad);
    expect(vs.obsoleteFiles(names)).toEqual([pad(w[0]!), pad(w[1]!)]);
    // A memtable still being flushed holds WAL w[1]: it stays until the memtable is gone.
    expect(vs.obsoleteFiles(names, new Set(), w[1])).toEqual([pad(w[0]!)]);
    // A memtable needing a WAL above the log number does not spare the ones below it.
    expect(vs.obsoleteFiles(names, new Set(), w[2]! + 5)).toEqual([pad(w[0]!), pad(w[1]!)]);
    await vs.close();
  });

  it('rejects bad live edits with InternalError and changes nothing', async () => {
    const fs = await freshFs();
    const vs = await VersionSet.create(fs, DIR, OPTIONS);
    const before = stateOf(vs);
    const size = vs.manifestFileSize;
    await expect(vs.logAndApply({ deletedFiles: [{ level: 1, fileNumber: 77 }] })).rejects.toThrow(InternalError);
    await expect(vs.logAndApply({ newFiles: [{ level: 0, file: meta(vs.nextFileNumber + 5, 'a', 'b') }] })).rejects.toThrow(/not allocated/);
    await expect(vs.logAndApply({ logNumber: vs.nextFileNumber + 1 })).rejects.toThrow(InternalError);
    await expect(vs.logAndApply({ comparatorName: 'x' })).rejects.toThrow(InternalError);
    expect(stateOf(vs)).toEqual(before);
    expect(vs.manifestFileSize).toBe(size);
    await vs.logAndApply({ logNumber: vs.newFileNumber() }); // still usable: not sticky
    await vs.close();
    await expect(vs.logAndApply({})).rejects.toThrow(DatabaseClosedError);
  });

  it('marks every file number in the directory used, so orphans are never overwritten', async () => {
    const fs = await freshFs();
    (await fs.openWritable(`${DIR}/000040.sst`)).append(Uint8Array.of(1));
    const vs = await VersionSet.create(fs, DIR, OPTIONS);
    expect(vs.manifestFileNumber).toBe(41);
    await vs.close();
    (await fs.openWritable(`${DIR}/000070.log`)).append(Uint8Array.of(1));
    const again = await VersionSet.recover(fs, DIR, OPTIONS);
    expect(again.newFileNumber()).toBeGreaterThan(70);
  });
});

describe('VersionSet refusals', () => {
  async function withDb(): Promise<MemFileSystem> {
    const fs = await freshFs();
    const vs = await VersionSet.create(fs, DIR, OPTIONS);
    await vs.logAndApply({ newFiles: [{ level: 3, file: meta(vs.newFileNumber(), 'a', 'b') }] });
    await vs.close();
    return fs;
  }

  it('refuses another comparator and too few levels with InvalidArgumentError', async () => {
    const fs = await withDb();
    await expect(VersionSet.recover(fs, DIR, { ...OPTIONS, comparatorName: 'other' })).rejects.toThrow(/comparator mismatch/);
    await expect(VersionSet.recover(fs, DIR, { ...OPTIONS, numLevels: 3 })).rejects.toThrow(InvalidArgumentError);
    const more = await VersionSet.recover(fs, DIR, { ...OPTIONS, numLevels: 7 });
    expect(more.current().numLevels).toBe(7);
  });

  it('opens read-only without writing anything, and refuses edits', async () => {
    const fs = await withDb();
    const before = await fs.list(DIR);
    const current = await fs.readFile(`${DIR}/CURRENT`);
    const ro = await VersionSet.recover(fs, DIR, { ...OPTIONS, readOnly: true });
    expect(ro.current().numFiles(3)).toBe(1);
    await expect(ro.logAndApply({})).rejects.toThrow(ReadOnlyError);
    expect(await fs.list(DIR)).toEqual(before);
    expect(await fs.readFile(`${DIR}/CURRENT`)).toEqual(current);
  });

  it('reports a CURRENT naming a missing MANIFEST, and a malformed CURRENT, as corruption', async () => {
    const fs = await withDb();
    const w = await fs.openWritable(`${DIR}/CURRENT`);
    w.append(new TextEncoder().encode('MANIFEST-000999\n'));
    await expect(VersionSet.recover(fs, DIR, OPTIONS)).rejects.toThrow(/CURRENT names MANIFEST-000999, which does not exist/);
    for (const bad of ['', 'MANIFEST-000002', 'garbage\n', '000002.log\n', 'MANIFEST-0000\x01\n', 'x'.repeat(100)]) {
      const f = await fs.openWritable(`${DIR}/CURRENT`);
      f.append(new TextEncoder().encode(bad));
      await expect(VersionSet.recover(fs, DIR, OPTIONS), JSON.stringify(bad)).rejects.toThrow(CorruptionError);
    }
  });

  it('refuses a MANIFEST from a newer format with NotSupportedError, and one without a header', async () => {
    const fs = await freshFs();
    const write = async (payload: Uint8Array): Promise<void> => {
      const w = new RecordWriter(await fs.openWritable(`${DIR}/MANIFEST-000001`));
      w.addRecord(payload);
      (await fs.openWritable(`${DIR}/CURRENT`)).append(new TextEncoder().encode('MANIFEST-000001\n'));
    };
    await write(Uint8Array.of(Tag.FORMAT_VERSION, 2));
    await expect(VersionSet.recover(fs, DIR, OPTIONS)).rejects.toThrow(NotSupportedError);
    await write(encodeVersionEdit({ logNumber: 1, nextFileNumber: 2, lastSequence: 0, comparatorName: 'strata.BytewiseComparator' }));
    await expect(VersionSet.recover(fs, DIR, OPTIONS)).rejects.toThrow(/no format version/);
    await write(encodeVersionEdit({ formatVersion: 1, comparatorName: 'strata.BytewiseComparator' }));
    await expect(VersionSet.recover(fs, DIR, OPTIONS)).rejects.toThrow(/no record sets logNumber, nextFileNumber, lastSequence/);
    await write(encodeVersionEdit({
      formatVersion: 1, comparatorName: 'strata.BytewiseComparator', logNumber: 1, nextFileNumber: 2, lastSequence: 0,
      compactPointers: [{ level: 2, key: makeInternalKey(Uint8Array.of(1), 1, 1) }],
    }));
    const ok = await VersionSet.recover(fs, DIR, OPTIONS);
    expect(ok.compactPointer(2)).toEqual(makeInternalKey(Uint8Array.of(1), 1, 1));
  });
});

describe('VersionSet roll-over under encryption', () => {
  it('leaves no empty MANIFEST behind when the current key cannot be had, and keeps the old one', async () => {
    const fs = await freshFs();
    let current = 'k1';
    const keys = new KeyRing({
      currentKeyId: () => current,
      getKey: (id) => { if (id !== 'k1') throw new Error(`no key ${id}`); return new Uint8Array(32).fill(7); },
    });
    // A MANIFEST this small rolls at every edit.
    const vs = await VersionSet.create(fs, DIR, { ...OPTIONS, keys, maxManifestFileSize: 1 });
    const before = await fs.list(DIR);
    current = 'k2';
    await expect(vs.roll()).rejects.toThrow();
    expect(await fs.list(DIR)).toEqual(before);
    expect(text(await fs.readFile(`${DIR}/CURRENT`))).toBe(`${manifestBaseName(vs.manifestFileNumber)}\n`);
    current = 'k1';
    await vs.close();
  });
});
