/**
 * Runs abstract-level's own test suite (CommonJS, tape) against StrataLevel, in full: the manifest
 * decides what runs, nothing is skipped or patched. Started as a child process from the compiled
 * dist/test/support/level-suite.js by test/level-adapter/abstract-level-suite.test.ts, which reads tape's
 * totals. Each database gets its own temporary directory, removed at the end.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StrataLevel } from '../../src/level-adapter/index.js';
import './range-delete-writable.js';

const require = createRequire(import.meta.url);
const tape = require('tape') as { onFinish(cb: () => void): void };
const suite = require('abstract-level/test/index.js') as (o: unknown) => void;

const root = mkdtempSync(join(tmpdir(), 'strata-level-suite-'));
let n = 0;
tape.onFinish(() => rmSync(root, { recursive: true, force: true }));

suite({
  test: tape,
  // Exactly the caller's options: the suite checks that hooks see them unchanged. Flushes and tables
  // under the adapter are covered by test/level-adapter/ecosystem.test.ts.
  factory: (options?: Record<string, unknown>) => new StrataLevel(join(root, String(n++)), options),
});
