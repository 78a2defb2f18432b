/**
 * `stratadb manifest` and `stratadb stats` name the compaction style (from the database's newest
 * OPTIONS file: their own read-only open uses default options) and count the sorted runs. The CLI
 * runs as a child process on a tiered database in a temp directory.
 */
import { describe, expect, it } from 'vitest';
import { DB } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { runCli } from './cli-helpers.js';

describe('tools name the compaction style', () => {
  it('manifest and stats print the style and the sorted runs, as text and as JSON', async () => {
    const dir = await tempDir('strata-style-tools-');
    const db = await DB.open(dir, {
      compactionStyle: 'tiered', compactionExecutor: 'inline', level0CompactionTrigger: 10, level0SlowdownTrigger: 20, level0StopTrigger: 30,
    });
    for (let t = 0; t < 3; t++) {
      await db.put(`k${t}`, `v${t}`);
      await db.flush();
    }
    await db.close();
    const [manifest, manifestJson, stats, statsJson] = await Promise.all([
      runCli(['manifest', dir]), runCli(['manifest', dir, '--json']), runCli(['stats', dir]), runCli(['stats', dir, '--json']),
    ]);
    expect(manifest.code).toBe(0);
    expect(manifest.stdout).toMatch(/^ {2}compaction style tiered \(OPTIONS-\d{6}\), 3 sorted runs$/m);
    expect(JSON.parse(manifestJson.stdout)).toMatchObject({ compactionStyle: 'tiered', sortedRuns: 3 });
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/^compaction style +tiered, 3 sorted runs$/m);
    expect(JSON.parse(statsJson.stdout)).toMatchObject({ compactionStyle: 'tiered', sortedRuns: 3, fifoDrops: { count: 0 } });
  });
});
