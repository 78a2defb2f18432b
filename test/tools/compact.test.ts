/** `stratadb compact DIR`: compacts a fixture database to one level and keeps every key. */
import { describe, expect, it } from 'vitest';
import { DB } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { runCli, hasStackTrace } from './cli-helpers.js';

describe('stratadb compact', () => {
  it('compacts L0 tables down, prints JSON, and refuses a missing database', async () => {
    const dir = await tempDir();
    const db = await DB.open(dir);
    for (let t = 0; t < 3; t++) {
      for (let i = 0; i < 50; i++) await db.put(`k${String(i).padStart(3, '0')}`, `v${t}-${i}`);
      await db.flush();
    }
    await db.close();
    const r = await runCli(['compact', dir, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { before: number[]; after: number[] };
    expect(out.before[0]).toBeGreaterThanOrEqual(3);
    expect(out.after[0]).toBe(0);
    const check = await DB.open(dir, { readOnly: true });
    expect((await check.get('k049'))?.toString()).toBe('v2-49');
    await check.close();
    const missing = await runCli(['compact', `${dir}/nope`]);
    expect(missing.code).toBe(2);
    expect(hasStackTrace(missing.stderr)).toBe(false);
  });
});
