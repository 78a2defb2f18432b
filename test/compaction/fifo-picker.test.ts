/**
 * Golden tests of the FIFO picker (compaction/fifo-picker.ts), in the style of picker.test.ts: each
 * case in test/testdata/compaction/fifo-picker.txt defines a level shape and asks for a decision.
 * Regenerate with: REWRITE=1 npx vitest run test/compaction/fifo-picker.test.ts (review the diff).
 *
 * Commands (the shape carries from case to case until the next `define`):
 *   define [cap=N] [ttl=N] [compact] [trigger=N] [merge=N] [levels=N]
 *     input lines in test/support/level-shape.ts syntax (`time=` sets a table's newest write time).
 *     Prints the drop order, oldest first.
 *   pick [now=N] [busy=12,13]   pickFifo
 * Defaults: cap=100 ttl=0 (off) trigger=4 merge=1000 levels=7, compaction off.
 */
import { describe, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { FileMetadata } from '../../src/manifest/file-metadata.js';
import { fifoDropOrder, pickFifo, type FifoOptions } from '../../compaction/fifo-picker.js';
import { runGolden } from '../support/golden.js';
import { busySet, describeFull, num, pad, parseLevels } from '../support/level-shape.js';

const FILE = fileURLToPath(new URL('../testdata/compaction/fifo-picker.txt', import.meta.url));

describe('FIFO picker (golden)', () => {
  it('matches test/testdata/compaction/fifo-picker.txt', async () => {
    let state: { levels: FileMetadata[][]; options: FifoOptions } | undefined;
    await runGolden(FILE, (c) => {
      if (c.command === 'define') {
        const options: FifoOptions = {
          maxTableFilesSize: num(c, 'cap', 100), ttlMs: num(c, 'ttl', 0), allowCompaction: c.args.includes('compact'),
          level0CompactionTrigger: num(c, 'trigger', 4), maxMergeBytes: num(c, 'merge', 1000),
        };
        const levels = parseLevels(c, num(c, 'levels', 7));
        state = { levels, options };
        return 'drop order: ' + fifoDropOrder(levels).map(({ level, file }) => `L${level}:${pad(file.fileNumber)}`).join(' ');
      }
      if (!state) throw new Error(`line ${c.line}: ${c.command} before define`);
      if (c.command !== 'pick') throw new Error(`line ${c.line}: unknown command ${c.command}`);
      const plan = pickFifo({ levels: state.levels, options: state.options, busy: busySet(c), nowMs: num(c, 'now', 0) });
      return describeFull(plan).join('\n');
    });
  });
});
