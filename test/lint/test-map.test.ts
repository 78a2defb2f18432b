/**
 * Keeps test/README.md's map true: every source file under src/, sstable/ and compaction/ has a line,
 * no line names a source file that is gone, and every test file the map names exists. The map is
 * generated from the import graph (test/support/test-map.ts); after adding or moving files, rewrite
 * it with `UPDATE_TEST_MAP=1 npx vitest run test/lint/test-map.test.ts` (only the part below the
 * "## Map" heading is replaced). The parser is checked on a small sample first, so a broken parser
 * cannot pass silently.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTestMap, renderTestMap, sourceFiles } from '../support/test-map.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const README = path.join(ROOT, 'test/README.md');
const MARK = '## Map\n';

/** The problems with a map, given what exists. */
function checkMap(markdown: string, sources: readonly string[], testExists: (t: string) => boolean): string[] {
  const { sources: listed, tests } = parseTestMap(markdown);
  const problems: string[] = [];
  const have = new Set(listed);
  for (const s of sources) if (!have.has(s)) problems.push(`missing from the map: ${s}`);
  const real = new Set(sources);
  for (const s of listed) if (!real.has(s)) problems.push(`the map names a source file that does not exist: ${s}`);
  for (const t of new Set(tests)) if (!testExists(t)) problems.push(`the map names a test that does not exist: ${t}`);
  return problems;
}

describe('test/README.md map', () => {
  it('the checker finds a missing source, a stale source and a missing test', () => {
    const sample = [
      '### src/engine/',
      '',
      '- `write-path.ts`: engine/write-path.test.ts, db/gone.test.ts and others',
      '- `old.ts`: through db/model.test.ts',
      '',
    ].join('\n');
    expect(parseTestMap(sample)).toEqual({
      sources: ['src/engine/write-path.ts', 'src/engine/old.ts'],
      tests: ['engine/write-path.test.ts', 'db/gone.test.ts', 'db/model.test.ts'],
    });
    const problems = checkMap(sample, ['src/engine/write-path.ts', 'src/engine/new.ts'], (t) => t !== 'db/gone.test.ts');
    expect(problems).toEqual([
      'missing from the map: src/engine/new.ts',
      'the map names a source file that does not exist: src/engine/old.ts',
      'the map names a test that does not exist: db/gone.test.ts',
    ]);
  });

  it('lists every source file and names only tests that exist', () => {
    let text = readFileSync(README, 'utf8');
    if (process.env['UPDATE_TEST_MAP']) {
      const at = text.indexOf(MARK);
      expect(at, `test/README.md has a "${MARK.trim()}" heading`).toBeGreaterThanOrEqual(0);
      text = `${text.slice(0, at + MARK.length)}\n${renderTestMap(ROOT)}`;
      writeFileSync(README, text);
    }
    const problems = checkMap(text, sourceFiles(ROOT), (t) => existsSync(path.join(ROOT, 'test', t)));
    expect(problems, 'regenerate with UPDATE_TEST_MAP=1 npx vitest run test/lint/test-map.test.ts').toEqual([]);
  });
});
