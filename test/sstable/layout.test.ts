/**
 * Golden layout dumps (test/testdata/sstable/layout.txt) of small fixture tables: the block list a
 * tool like `stratadb sst-dump` shows. REWRITE=1 regenerates the expected text.
 */
import { describe, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { internalKeyComparator, internalKeyToUserKey, kindOf, makeInternalKey, seqOf, userKeyOf } from '../../src/base/internal-key.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { runGolden, type GoldenCase } from '../support/golden.js';
import { formatTableLayout, readTableLayout } from '../../sstable/layout.js';
import type { CompressionName } from '../../sstable/compression.js';
import { b, dec, openTable, writeTable, type Entry } from './table-helpers.js';

const FILE = fileURLToPath(new URL('../testdata/sstable/layout.txt', import.meta.url));

/** Input lines: `key value`; a value `c*N` is the character c repeated N times; `key@seq:kind value` for internal keys. */
function parseEntries(c: GoldenCase, internal: boolean): Entry[] {
  return c.input.filter((l) => l.trim() !== '').map((l) => {
    const [k = '', v = ''] = l.trim().split(/\s+/);
    const rep = /^(.)\*(\d+)$/.exec(v);
    const value = rep ? b(rep[1]!.repeat(Number(rep[2]))) : b(v);
    if (!internal) return [b(k), value] as const;
    const m = /^(.*)@(\d+):(put|del)$/.exec(k);
    if (!m) throw new Error(`bad internal key ${k}`);
    return [makeInternalKey(b(m[1]!), Number(m[2]), m[3] === 'del' ? 0 : 1), value] as const;
  });
}

async function handle(c: GoldenCase): Promise<string> {
  if (c.command !== 'build') throw new Error(`unknown command ${c.command}`);
  const internal = c.kv.get('internal') === 'true';
  const fs = new MemFileSystem();
  await writeTable(fs, '/fixture.sst', parseEntries(c, internal), {
    blockSize: Number(c.kv.get('block-size') ?? 4096),
    blockRestartInterval: Number(c.kv.get('restart') ?? 16),
    compression: (c.kv.get('compression') ?? 'none') as CompressionName,
    bloomBitsPerKey: Number(c.kv.get('bloom') ?? 0),
    creationTimeMs: 1_700_000_000_000,
    ...(internal ? { comparator: internalKeyComparator, filterKeyTransform: internalKeyToUserKey, keysAreInternal: true } : {}),
  });
  const r = await openTable(fs, '/fixture.sst', internal ? { comparator: internalKeyComparator } : {});
  const formatKey = (k: Uint8Array): string => `${dec.decode(userKeyOf(k))}@${seqOf(k)}:${kindOf(k) === 0 ? 'del' : 'put'}`;
  return formatTableLayout(await readTableLayout(r), internal ? { formatKey } : {});
}

describe('table layout (golden)', () => {
  it('matches test/testdata/sstable/layout.txt', async () => {
    await runGolden(FILE, handle);
  });
});
