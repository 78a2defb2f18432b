/**
 * The worked example of sstable/FORMAT.md §6, byte for byte: the test builds the same table and
 * compares it with the hex dump in the document itself, so the spec cannot drift from the code.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { b, dec, fsWith, hex, openTable, scanForward, tableBytes } from './table-helpers.js';

const FORMAT_MD = new URL('../../sstable/FORMAT.md', import.meta.url);

/** The bytes of the ```hexdump block: "offset  hex bytes  |ascii|" lines. */
function documentedBytes(): Uint8Array {
  const text = readFileSync(FORMAT_MD, 'utf8');
  const start = text.indexOf('```hexdump\n');
  expect(start).toBeGreaterThan(0);
  const end = text.indexOf('```', start + 10);
  const out: number[] = [];
  for (const line of text.slice(start + 11, end).split('\n')) {
    const m = /^([0-9a-f]{8})  ((?:[0-9a-f]{2} ?)+?)\s*\|/.exec(line);
    if (!m) continue;
    expect(Number.parseInt(m[1]!, 16)).toBe(out.length);
    for (const h of m[2]!.trim().split(/\s+/)) out.push(Number.parseInt(h, 16));
  }
  return Uint8Array.from(out);
}

const example = (): Promise<Uint8Array> => tableBytes(
  [[b('apple'), b('red')], [b('apricot'), b('orange')], [b('banana'), b('yellow')]],
  { blockSize: 32, blockRestartInterval: 2, compression: 'none', bloomBitsPerKey: 0, creationTimeMs: 1_700_000_000_000 },
);

describe('FORMAT.md worked example', () => {
  it('matches the table the writer builds, byte for byte', async () => {
    const documented = documentedBytes();
    const built = await example();
    expect(documented.length).toBe(626);
    expect(hex(built)).toBe(hex(documented));
  });

  it('reads back as documented', async () => {
    const r = await openTable(await fsWith(documentedBytes()), '/t.sst');
    expect((await scanForward(r.newIterator())).map(([k, v]) => `${dec.decode(k)}=${dec.decode(v)}`))
      .toEqual(['apple=red', 'apricot=orange', 'banana=yellow']);
    expect(r.footer).toEqual({ metaindex: { offset: 502, size: 31 }, index: { offset: 538, size: 35 }, formatVersion: 1 });
    expect(r.properties.creationTimeMs).toBe(1_700_000_000_000);
    expect(r.dataBlockHandles()).toEqual([{ offset: 0, size: 33 }, { offset: 38, size: 23 }]);
  });
});
