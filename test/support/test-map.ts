/**
 * The facts behind test/README.md ("where the tests for each source file live"), computed from the
 * import graph so the map is generated, not remembered. A test covers a source file when it imports
 * it, directly or through a helper module of test/ (support/, fakes, fixtures); imports between
 * source files are not followed, or every DB-level suite would cover everything. A source file no
 * test imports is covered "through" the suites whose text names it (their header says what they
 * exercise), or else through the tests of the nearest source files above it in the import graph
 * (for engine files: the DB-level suites, which reach them through src/index.ts).
 * renderTestMap() writes the markdown; parseTestMap() reads it back for test/lint/test-map.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

/** The folders whose source files the map must list. */
export const SOURCE_ROOTS = ['src', 'sstable', 'compaction'] as const;
/** At most this many test files are named per source file (the best matches first). */
const MAX_NAMED = 5;

/** Repo-relative paths of every .ts file under `dir` (repo-relative), sorted. */
export function listTs(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'testdata') walk(r); }
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(r);
    }
  };
  walk(dir);
  return out.sort();
}

/** Every source file the map covers. */
export function sourceFiles(root: string): string[] {
  return SOURCE_ROOTS.flatMap((d) => listTs(root, d));
}

/**
 * Relative imports of a file that load code at run time, resolved to repo-relative .ts paths:
 * `import type`, `export type` and import('...') types are left out (they cover nothing) unless
 * `types` asks for them.
 */
function localImports(rel: string, text: string, types = false): string[] {
  const specs: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      if (types || !n.importClause?.isTypeOnly) specs.push(n.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      if (types || !n.isTypeOnly) specs.push(n.moduleSpecifier.text);
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const a = n.arguments[0];
      if (a && ts.isStringLiteral(a)) specs.push(a.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(ts.createSourceFile(rel, text, ts.ScriptTarget.Latest, false));
  return specs.filter((x) => x.startsWith('.'))
    .map((x) => path.posix.normalize(path.posix.join(path.posix.dirname(rel), x)).replace(/\.js$/, '.ts'));
}

/** Files loaded by path rather than imported (a worker's entry), with the file that loads them. */
const LOADED_BY: ReadonlyMap<string, string> = new Map([['compaction/worker.ts', 'compaction/executor.ts']]);

export interface Coverage {
  /** Test files (relative to test/) importing the source file, best match first. */
  direct: string[];
  /** When `direct` is empty: test files whose text names the source file, or the tests of the nearest files above it. */
  through: string[];
  /** When both are empty (a file of types only): test files importing its types. */
  types: string[];
}

/** For each source file, the tests that cover it (see the header). */
export function computeTestMap(root: string): Map<string, Coverage> {
  const sources = sourceFiles(root);
  const testTree = listTs(root, 'test');
  const text = new Map(testTree.map((f) => [f, readFileSync(path.join(root, f), 'utf8')]));
  const imports = new Map(testTree.map((f) => [f, localImports(f, text.get(f)!)]));
  const isSource = (f: string): boolean => SOURCE_ROOTS.some((d) => f.startsWith(`${d}/`));

  /** Source files a test-tree file reaches through test-tree helpers (memoised, cycle-safe). */
  const reach = new Map<string, Set<string>>();
  const reached = (f: string): Set<string> => {
    let r = reach.get(f);
    if (r) return r;
    r = new Set();
    reach.set(f, r);
    for (const t of imports.get(f) ?? []) {
      if (isSource(t)) r.add(t);
      else if (t.startsWith('test/') && imports.has(t)) for (const s of reached(t)) r.add(s);
    }
    return r;
  };

  const tests = testTree.filter((f) => f.endsWith('.test.ts'));
  const typeImports = new Map(tests.map((t) => [t, localImports(t, text.get(t)!, true)]));
  const importers = new Map<string, string[]>(sources.map((s) => [s, []]));
  for (const t of tests) for (const s of reached(t)) importers.get(s)?.push(t);

  const uniqueBase = new Map<string, number>();
  for (const s of sources) uniqueBase.set(path.posix.basename(s), (uniqueBase.get(path.posix.basename(s)) ?? 0) + 1);
  const names = (t: string, s: string): boolean => {
    const body = text.get(t)!;
    if (body.includes(s)) return true;
    const base = path.posix.basename(s);
    // A bare file name counts when no other source file has it, and the suite names it as a file.
    return uniqueBase.get(base) === 1 && new RegExp(`[^\\w.-]${base.replace(/\./g, '\\.')}\\b`).test(body);
  };

  // Who imports each source file, among source files: a file no test imports is covered by the
  // tests of the nearest files above it that have tests.
  const importedBy = new Map<string, string[]>(sources.map((f) => [f, []]));
  for (const f of sources) {
    for (const t of localImports(f, readFileSync(path.join(root, f), 'utf8'))) importedBy.get(t)?.push(f);
  }
  for (const [f, by] of LOADED_BY) importedBy.get(f)?.push(by);
  const nearestAbove = (s: string): string[] => {
    const seen = new Set([s]);
    let level = [s];
    while (level.length > 0) {
      const next: string[] = [];
      for (const f of level) for (const up of importedBy.get(f)!) if (!seen.has(up)) { seen.add(up); next.push(up); }
      const found = new Set(next.flatMap((f) => importers.get(f)!));
      if (found.size > 0) return [...found];
      level = next;
    }
    return [];
  };

  const out = new Map<string, Coverage>();
  for (const s of sources) {
    const stem = path.posix.basename(s, '.ts');
    const ownStem = uniqueBase.get(path.posix.basename(s)) === 1;
    const mirror = `test/${s.replace(/^src\//, '').replace(/\.ts$/, '')}`;
    const mirrorDir = path.posix.dirname(mirror);
    const score = (t: string): number =>
      (t.startsWith(mirror) ? 0 : ownStem && path.posix.basename(t).startsWith(stem) ? 1 : names(t, s) ? 2
        : mirrorDir !== 'test' && t.startsWith(`${mirrorDir}/`) ? 3 : /^test\/(db|crash)\//.test(t) ? 4 : 5);
    const best = (xs: string[]): string[] => xs.sort((a, b) => score(a) - score(b) || a.localeCompare(b)).map(rel);
    const direct = best([...importers.get(s)!]);
    const naming = tests.filter((t) => !t.startsWith('test/lint/') && names(t, s));
    const through = direct.length > 0 ? [] : best(naming.length > 0 ? naming : nearestAbove(s));
    const types = direct.length + through.length > 0 ? [] : best(tests.filter((t) => typeImports.get(t)!.includes(s)));
    out.set(s, { direct, through, types });
  }
  return out;
}

const rel = (t: string): string => t.replace(/^test\//, '');

function cell(c: Coverage): string {
  const list = (xs: string[]): string => {
    const shown = xs.slice(0, MAX_NAMED).join(', ');
    // No count of the rest: it would change with every new suite and make the map churn.
    return xs.length > MAX_NAMED ? `${shown} and others` : shown;
  };
  if (c.direct.length > 0) return list(c.direct);
  if (c.through.length > 0) return `through ${list(c.through)}`;
  return c.types.length > 0 ? `types only, used by ${list(c.types)}` : 'types only, checked by tsc';
}

/** The "## Map" part of test/README.md: one heading per folder, one line per source file. */
export function renderTestMap(root: string): string {
  const map = computeTestMap(root);
  const byFolder = new Map<string, string[]>();
  for (const [s, c] of map) {
    const folder = path.posix.dirname(s);
    let lines = byFolder.get(folder);
    if (!lines) { lines = []; byFolder.set(folder, lines); }
    lines.push(`- \`${path.posix.basename(s)}\`: ${cell(c)}`);
  }
  const parts: string[] = [];
  for (const [folder, lines] of [...byFolder].sort(([a], [b]) => a.localeCompare(b))) {
    parts.push(`### ${folder}/\n\n${lines.join('\n')}\n`);
  }
  return parts.join('\n');
}

/** What test/README.md's map names: source files (repo-relative) and test files (relative to test/). */
export function parseTestMap(markdown: string): { sources: string[]; tests: string[] } {
  const sources: string[] = [];
  const tests: string[] = [];
  let folder: string | undefined;
  for (const line of markdown.split('\n')) {
    const h = /^### (\S+)\/\s*$/.exec(line);
    if (h) { folder = h[1]; continue; }
    const m = /^- `([^`]+)`: (.*)$/.exec(line);
    if (!m || !folder) continue;
    sources.push(`${folder}/${m[1]}`);
    for (const t of m[2]!.matchAll(/[\w./-]+\.test\.ts/g)) tests.push(t[0]);
  }
  return { sources, tests };
}
