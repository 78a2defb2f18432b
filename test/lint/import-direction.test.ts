/**
 * Import direction (DESIGN.md "Layout", STYLE.md "Module map"), in the spirit of Pebble's
 * lint_test.go: reads the import specifiers of every .ts file and checks
 * - tools/ and bench/ import only src/index.ts and sstable/index.ts (plus their own folder,
 *   node: modules and packages): never deep paths;
 * - sstable/ imports only sstable/, src/base/, src/fs/ and src/errors.ts;
 * - src/base/ imports only src/base/ and src/errors.ts;
 * - compaction/ never imports src/db.ts;
 * - the folder graph has no cycle (a folder may import itself). Folders are src/<sub>/, sstable/,
 *   compaction/, tools/, bench/, test/ and "src/" for the files directly in src/, except
 *   src/errors.ts, the leaf every layer may import, which is a node of its own.
 * Specifiers come from TypeScript's own scanner (ts.preProcessFile): static imports and exports,
 * `import type`, side-effect imports, import() calls and import('...') types, never text inside
 * comments or strings. Type-only imports count: they are dependencies of the design all the same.
 * The checker runs on small synthetic trees first, so a broken checker cannot pass silently.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOP_FOLDERS = ['src', 'sstable', 'compaction', 'tools', 'bench', 'test'];

/**
 * Imports the lead has decided to permit, as `from-file -> specifier` with the reason beside it.
 * Empty: every exception is a decision to write down here, not a silent pass.
 */
const ALLOWED: ReadonlyMap<string, string> = new Map<string, string>([
  // Micro-benchmarks of the memtable, an internal structure with no public API: they measure it alone.
  ['bench/memtable.ts -> ../src/base/internal-key.js', 'memtable micro-benchmark'],
  ['bench/memtable.ts -> ../src/memtable/memtable.js', 'memtable micro-benchmark'],
  ['bench/memtable-skiplist.ts -> ../src/base/bytes.js', 'memtable design alternative, kept to re-measure the choice'],
  ['bench/memtable-skiplist.ts -> ../src/base/internal-key.js', 'memtable design alternative, kept to re-measure the choice'],
  ['bench/memtable-skiplist.ts -> ../src/memtable/arena.js', 'memtable design alternative, kept to re-measure the choice'],
]);

interface Violation { rule: string; detail: string }

/** The folder node of a repo-relative path (see the header). */
function folderOf(rel: string): string {
  const parts = rel.split('/');
  if (parts[0] !== 'src') return parts[0]!;
  if (parts.length === 2) return rel === 'src/errors.ts' ? 'src/errors.ts' : 'src';
  return `src/${parts[1]}`;
}

function isUnder(rel: string, folder: string): boolean {
  return rel.startsWith(`${folder}/`);
}

/** Relative specifiers resolved to repo-relative .ts paths; packages and node: modules are left out. */
function localImports(rel: string, text: string): Array<{ spec: string; target: string }> {
  const out: Array<{ spec: string; target: string }> = [];
  for (const f of ts.preProcessFile(text, true, true).importedFiles) {
    const spec = f.fileName;
    if (!spec.startsWith('.')) continue;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec)).replace(/\.js$/, '.ts');
    out.push({ spec, target });
  }
  return out;
}

/** Every rule over a tree given as repo-relative path -> source text. */
function checkImportDirection(files: ReadonlyMap<string, string>): Violation[] {
  const violations: Violation[] = [];
  const edges = new Map<string, Map<string, string>>(); // folder -> folder -> first "file -> spec"
  for (const [rel, text] of files) {
    for (const { spec, target } of localImports(rel, text)) {
      const where = `${rel} -> ${spec}`;
      if (ALLOWED.has(where)) continue;
      const from = folderOf(rel);
      const to = folderOf(target);
      if (from === 'tools' || from === 'bench') {
        const ok = target === 'src/index.ts' || target === 'sstable/index.ts' || target === 'src/level/index.ts' || isUnder(target, from);
        if (!ok) violations.push({ rule: `${from}/ uses only src/index.ts and sstable/index.ts`, detail: where });
      }
      if (from === 'sstable') {
        const ok = ['sstable', 'src/base', 'src/fs'].some((f) => isUnder(target, f)) || target === 'src/errors.ts';
        if (!ok) violations.push({ rule: 'sstable/ imports only sstable/, src/base/, src/fs/, src/errors.ts', detail: where });
      }
      if (from === 'src/base' && !(isUnder(target, 'src/base') || target === 'src/errors.ts')) {
        violations.push({ rule: 'src/base/ imports only src/base/ and src/errors.ts', detail: where });
      }
      if (from === 'compaction' && target === 'src/db.ts') {
        violations.push({ rule: 'compaction/ never imports src/db.ts', detail: where });
      }
      if (from !== to) {
        let m = edges.get(from);
        if (!m) { m = new Map(); edges.set(from, m); }
        if (!m.has(to)) m.set(to, where);
      }
    }
  }
  for (const cycle of findCycles(edges)) {
    const steps = cycle.map((f, i) => edges.get(f)!.get(cycle[(i + 1) % cycle.length]!)!);
    violations.push({ rule: 'no cycle between folders', detail: `${[...cycle, cycle[0]].join(' -> ')}  (${steps.join('; ')})` });
  }
  return violations;
}

/** One cycle per strongly connected component of more than one folder (Tarjan), as a folder path. */
function findCycles(edges: ReadonlyMap<string, ReadonlyMap<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const nodes = new Set<string>([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])]);
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do { w = stack.pop()!; onStack.delete(w); scc.push(w); } while (w !== v);
    if (scc.length > 1) cycles.push(cyclePath(new Set(scc), edges));
  };
  for (const v of [...nodes].sort()) if (!index.has(v)) visit(v);
  return cycles;
}

/** A simple cycle inside one strongly connected component (breadth-first back to its first node). */
function cyclePath(scc: ReadonlySet<string>, edges: ReadonlyMap<string, ReadonlyMap<string, string>>): string[] {
  const start = [...scc].sort()[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!scc.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return path;
      }
      if (!prev.has(w)) { prev.set(w, v); queue.push(w); }
    }
  }
  return [...scc];
}

function readTree(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(path.join(ROOT, dir), { withFileTypes: true });
    } catch {
      return; // a top folder that does not exist yet (compaction/ before its issue)
    }
    for (const e of entries) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts')) files.set(rel, readFileSync(path.join(ROOT, rel), 'utf8'));
    }
  };
  for (const top of TOP_FOLDERS) walk(top);
  return files;
}

const tree = (entries: Record<string, string>): Map<string, string> => new Map(Object.entries(entries));
const rules = (v: Violation[]): string[] => v.map((x) => x.rule);

describe('import direction', () => {
  it('the checker catches each kind of violation in a synthetic tree', () => {
    expect(checkImportDirection(tree({
      'tools/commands/x.ts': `import { DB } from '../../src/index.js';\nimport { Foo } from '../format.js';\nimport { T } from '../../sstable/index.js';`,
      'src/base/a.ts': `import { E } from '../errors.js';`,
      'sstable/t.ts': `import { a } from '../src/base/a.js';\nimport type { F } from '../src/fs/file-system.js';`,
      'src/db.ts': `import { a } from './base/a.js';\nimport { run } from '../compaction/runner.js';`,
      'compaction/runner.ts': `import { t } from '../sstable/t.js';`,
    }))).toEqual([]);
    expect(rules(checkImportDirection(tree({ 'tools/x.ts': `import { Version } from '../src/manifest/version.js';` }))))
      .toEqual(['tools/ uses only src/index.ts and sstable/index.ts']);
    expect(rules(checkImportDirection(tree({ 'bench/x.ts': `// a comment\nconst m = await import('../sstable/bloom.js');` }))))
      .toEqual(['bench/ uses only src/index.ts and sstable/index.ts']);
    expect(rules(checkImportDirection(tree({ 'sstable/x.ts': `import type { V } from '../src/manifest/version.js';` }))))
      .toEqual(['sstable/ imports only sstable/, src/base/, src/fs/, src/errors.ts']);
    expect(rules(checkImportDirection(tree({ 'src/base/x.ts': `export * from '../fs/file-system.js';` }))))
      .toEqual(['src/base/ imports only src/base/ and src/errors.ts']);
    expect(rules(checkImportDirection(tree({ 'compaction/x.ts': `import type { DB } from '../src/db.js';` }))))
      .toContain('compaction/ never imports src/db.ts');
  });

  it('the checker reports a cycle between folders with the imports that make it, and ignores comments', () => {
    const v = checkImportDirection(tree({
      'src/wal/a.ts': `import { m } from '../memtable/m.js';`,
      'src/memtable/m.ts': `/* import { x } from '../fs/x.js' */ import { r } from '../record/r.js';`,
      'src/record/r.ts': `import { a } from '../wal/a.js';`,
      'src/fs/x.ts': `import { a } from '../wal/a.js';`,
    }));
    expect(v).toEqual([{
      rule: 'no cycle between folders',
      detail: 'src/memtable -> src/record -> src/wal -> src/memtable  ' +
        '(src/memtable/m.ts -> ../record/r.js; src/record/r.ts -> ../wal/a.js; src/wal/a.ts -> ../memtable/m.js)',
    }]);
  });

  it('the repository follows DESIGN.md\'s import direction', () => {
    const files = readTree();
    expect(files.size).toBeGreaterThan(50);
    const report = checkImportDirection(files).map((x) => `${x.rule}: ${x.detail}`);
    expect(report, 'import direction violations (DESIGN.md "Layout"):\n' + report.join('\n')).toEqual([]);
  });
});
