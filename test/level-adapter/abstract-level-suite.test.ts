/**
 * abstract-level's exported conformance suite against StrataLevel, run in a child process (the suite is
 * CommonJS and tape-based). Fails when any assertion fails, and prints the suite's totals.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../dist/test/support/level-suite.js', import.meta.url));

describe('abstract-level conformance suite', () => {
  it('passes every assertion (database and sublevel runs)', async () => {
    expect(existsSync(SCRIPT), `${SCRIPT} missing: run npm run build`).toBe(true);
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    const pass = Number(/^# pass\s+(\d+)/m.exec(out.stdout)?.[1] ?? NaN);
    const fail = Number(/^# fail\s+(\d+)/m.exec(out.stdout)?.[1] ?? 0);
    const failures = out.stdout.split('\n').filter((l) => l.startsWith('not ok')).slice(0, 20);
    console.log(`abstract-level suite: ${pass} assertions passed, ${fail} failed`);
    expect(failures, `${failures.join('\n')}\n${out.stderr.slice(0, 2000)}`).toEqual([]);
    expect(fail).toBe(0);
    expect(pass).toBeGreaterThan(1000);
    expect(out.code).toBe(0);
  }, 240_000);
});
