/**
 * The sustained-load benchmarks' probes (bench/sustained-probes.ts) that do not depend on time:
 * dirBytes sums the regular files of a directory and nothing else, and runJsonChild resolves with
 * the last stdout line of a child as JSON and rejects, naming the run, when the child fails or
 * prints no JSON.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dirBytes, runJsonChild } from '../../bench/sustained-probes.js';
import { tempDir } from '../support/tmpdir.js';
import { withSeed } from '../support/rng.js';

describe('dirBytes', () => {
  it('sums the sizes of the regular files, not a subdirectory\'s', async () => {
    const dir = await tempDir('strata-probes-');
    await withSeed('dirBytes sizes', (rng) => {
      let total = 0;
      for (let i = 0; i < 5; i++) {
        const n = rng.int(10_000);
        writeFileSync(join(dir, `f${i}`), Buffer.alloc(n));
        total += n;
      }
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'inner'), Buffer.alloc(123));
      expect(dirBytes(dir)).toBe(total);
    });
  });
});

describe('runJsonChild', () => {
  async function script(body: string): Promise<string> {
    const f = join(await tempDir('strata-probes-child-'), 'child.mjs');
    writeFileSync(f, body);
    return f;
  }

  it('resolves with the JSON of the last stdout line, passing the arguments', async () => {
    const f = await script("console.log('progress'); console.log(JSON.stringify({ args: process.argv.slice(2) }));");
    await expect(runJsonChild(f, ['--x', '1'], 'ok')).resolves.toEqual({ args: ['--x', '1'] });
  });

  it('rejects naming the run when the child exits non-zero or prints no JSON', async () => {
    await expect(runJsonChild(await script('process.exit(3);'), [], 'tiered')).rejects.toThrow('tiered child exited with 3');
    await expect(runJsonChild(await script("console.log('not json');"), [], 'fifo')).rejects.toThrow(/fifo child printed no JSON result/);
  });
});
