/**
 * A headless Chromium, for tests that open a generated page in a real browser. None comes from
 * package.json (the npm builds that bundle one did not run headless here: @sparticuz/chromium 131, 71 MB,
 * crashed its network service), so `browserSupport` looks for one on the machine: $CHROMIUM, else
 * chromium, chromium-browser, google-chrome on PATH (Debian: `apt-get install chromium`). Tests use
 * `it.skipIf(!browserSupport.ok)` and the reason is printed once at load.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

function find(): { ok: boolean; path: string; reason: string } {
  const env = process.env['CHROMIUM'];
  const candidates = env ? [env] : ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']
    .flatMap((name) => (process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, name)));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return { ok: true, path: c, reason: '' };
    } catch { /* next */ }
  }
  return { ok: false, path: '', reason: env ? `$CHROMIUM (${env}) is not executable` : 'no chromium, chromium-browser or google-chrome on PATH (set $CHROMIUM)' };
}

export const browserSupport = find();
if (!browserSupport.ok) console.log(`real-browser checks skip: ${browserSupport.reason}; the pages are still checked in node:vm`);

/**
 * The DOM of `url` after its scripts ran, serialised by headless Chromium (--dump-dom), and what the
 * browser logged on stderr (console messages and uncaught errors, with --enable-logging=stderr).
 */
export function dumpDom(url: string): { dom: string; log: string } {
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions',
    '--enable-logging=stderr', '--v=0', '--dump-dom', url];
  const r = spawnSync(browserSupport.path, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${browserSupport.path} exited with ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
  return { dom: r.stdout, log: r.stderr };
}
