/**
 * Import direction, in the spirit of Pebble's lint_test.go. The rules live in ONE place, the
 * `layers` and `entries` blocks of ARCHITECTURE.md, read here:
 * - layers, bottom to top: a file may import its own node, a node on its own line, or any node on a
 *   lower line; nothing imports upward;
 * - entries: tools/ and bench/ import only these public entry points (plus their own folder);
 * - the node graph has no cycle (nodes on one line may import each other, but not in a circle).
 * Nodes: src/<sub>/ for each folder of src/, each file directly in src/ on its own (src/db.ts,
 * src/errors.ts, ...), and the top folders sstable/, compaction/, tools/, bench/; test/ may import anything.
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
 * Every exception is a decision to write down here, not a silent pass.
 */
const ALLOWED: ReadonlyMap<string, string> = new Map<string, string>([
  // Micro-benchmarks of the memtable, an internal structure with no public API: they measure it alone.
  ['bench/memtable.ts -> ../src/base/internal-key.js', 'memtable micro-benchmark'],
  ['bench/memtable.ts -> ../src/memtable/memtable.js', 'memtable micro-benchmark'],
  ['bench/memtable-skiplist.ts -> ../src/base/bytes.js', 'memtable design alternative, kept to re-measure the choice'],
  ['bench/memtable-skiplist.ts -> ../src/base/internal-key.js', 'memtable design alternative, kept to re-measure the choice'],
  ['bench/memtable-skiplist.ts -> ../src/memtable/arena.js', 'memtable design alternative, kept to re-measure the choice'],
  // The WAL alone (append vs overwrite of a reused file, then fdatasync): no public API writes a bare WAL.
  ['bench/wal-recycle.ts -> ../src/wal/wal-writer.js', 'WAL recycling micro-benchmark'],
  ['bench/wal-recycle.ts -> ../src/wal/wal-record.js', 'WAL recycling micro-benchmark'],
  ['bench/wal-recycle.ts -> ../src/wal/write-batch.js', 'WAL recycling micro-benchmark'],
  // range-delete gate: removed on merge (with the gate itself).
  ['bench/engine-stratadb.ts -> ../src/engine/range-delete-gate.js', 'range-delete gate: removed on merge'],
]);

/** The rules: layers bottom to top (each a list of nodes), and the public entry points. */
interface ImportRules { layers: string[][]; entries: string[] }

/** Reads the ```layers and ```entries blocks of a markdown text (ARCHITECTURE.md). */
function parseRules(markdown: string): ImportRules {
  const block = (name: string): string[] => {
    const m = new RegExp('```' + name + '\\n([\\s\\S]*?)```').exec(markdown);
    if (!m) throw new Error(`no \`\`\`${name} block`);
    return m[1]!.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  };
  return {
    layers: block('layers').map((l) => l.split(/\s+/).map((n) => n.replace(/\/$/, ''))),
    entries: block('entries').flatMap((l) => l.split(/\s+/)),
  };
}

interface Violation { rule: string; detail: string }

/** The folder node of a repo-relative path (see the header). */
function folderOf(rel: string): string {
  const parts = rel.split('/');
  if (parts[0] !== 'src') return parts[0]!;
  if (parts.length === 2) return rel;
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
function checkImportDirection(files: ReadonlyMap<string, string>, rules: ImportRules): Violation[] {
  const violations: Violation[] = [];
  const rank = new Map<string, number>();
  rules.layers.forEach((nodes, i) => { for (const n of nodes) rank.set(n, i + 1); });
  const edges = new Map<string, Map<string, string>>(); // node -> node -> first "file -> spec"
  for (const [rel, text] of files) {
    const from = folderOf(rel);
    if (from === 'test') continue;
    if (!rank.has(from)) violations.push({ rule: 'every node has a layer in ARCHITECTURE.md', detail: from });
    for (const { spec, target } of localImports(rel, text)) {
      const where = `${rel} -> ${spec}`;
      if (ALLOWED.has(where)) continue;
      const to = folderOf(target);
      if (from === 'tools' || from === 'bench') {
        if (!(rules.entries.includes(target) || isUnder(target, from))) {
          violations.push({ rule: `${from}/ uses only the public entry points`, detail: where });
        }
        continue;
      }
      if (from === to) continue;
      const rf = rank.get(from), rt = rank.get(to);
      if (rf !== undefined && rt !== undefined && rt > rf) {
        violations.push({ rule: `${from} (layer ${rf}) imports upward: ${to} (layer ${rt})`, detail: where });
      }
      let m = edges.get(from);
      if (!m) { m = new Map(); edges.set(from, m); }
      if (!m.has(to)) m.set(to, where);
    }
  }
  for (const cycle of findCycles(edges)) {
    const steps = cycle.map((f, i) => edges.get(f)!.get(cycle[(i + 1) % cycle.length]!)!);
    violations.push({ rule: 'no cycle between nodes', detail: `${[...cycle, cycle[0]].join(' -> ')}  (${steps.join('; ')})` });
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
const rulesOf = (v: Violation[]): string[] => v.map((x) => x.rule);
const SYNTHETIC = parseRules([
  '```layers', 'src/errors.ts src/base   # leaves', 'src/fs src/encryption', 'sstable', 'src/wal src/memtable src/record', 'compaction',
  'src/engine', 'src/db.ts', 'src/index.ts', 'tools bench', '```', '```entries', 'src/index.ts sstable/index.ts', '```',
].join('\n'));

describe('import direction', () => {
  it('reads its rules from the layers and entries blocks', () => {
    expect(SYNTHETIC.layers[0]).toEqual(['src/errors.ts', 'src/base']);
    expect(SYNTHETIC.layers.at(-1)).toEqual(['tools', 'bench']);
    expect(SYNTHETIC.entries).toEqual(['src/index.ts', 'sstable/index.ts']);
    expect(() => parseRules('no blocks here')).toThrow(/layers/);
  });

  it('the checker catches each kind of violation in a synthetic tree', () => {
    expect(checkImportDirection(tree({
      'tools/commands/x.ts': `import { DB } from '../../src/index.js';\nimport { Foo } from '../format.js';\nimport { T } from '../../sstable/index.js';`,
      'src/base/a.ts': `import { E } from '../errors.js';`,
      'sstable/t.ts': `import { a } from '../src/base/a.js';\nimport type { F } from '../src/fs/file-system.js';\nimport { c } from '../src/encryption/c.js';`,
      'src/encryption/c.ts': `import { a } from '../base/a.js';\nimport type { F } from '../fs/file-system.js';\nimport { E } from '../errors.js';\nimport { k } from './k.js';`,
      'src/encryption/k.ts': `import { a } from '../base/a.js';`,
      'src/db.ts': `import { a } from './base/a.js';\nimport { run } from '../compaction/runner.js';\nimport { E } from './engine/engine.js';`,
      'src/engine/engine.ts': `import { run } from '../../compaction/runner.js';`,
      'compaction/runner.ts': `import { t } from '../sstable/t.js';`,
    }), SYNTHETIC)).toEqual([]);
    expect(rulesOf(checkImportDirection(tree({ 'tools/x.ts': `import { Version } from '../src/manifest/version.js';` }), SYNTHETIC)))
      .toEqual(['tools/ uses only the public entry points']);
    expect(rulesOf(checkImportDirection(tree({ 'bench/x.ts': `// a comment\nconst m = await import('../sstable/bloom.js');` }), SYNTHETIC)))
      .toEqual(['bench/ uses only the public entry points']);
    expect(rulesOf(checkImportDirection(tree({ 'sstable/x.ts': `import type { V } from '../src/wal/version.js';` }), SYNTHETIC)))
      .toEqual(['sstable (layer 3) imports upward: src/wal (layer 4)']);
    expect(rulesOf(checkImportDirection(tree({ 'src/base/x.ts': `export * from '../fs/file-system.js';` }), SYNTHETIC)))
      .toEqual(['src/base (layer 1) imports upward: src/fs (layer 2)']);
    // src/encryption/ sits beside src/fs/: it imports only src/base/, src/fs/ and src/errors.ts, and
    // sstable/ and src/record/ (above it) seal what they write with it.
    expect(rulesOf(checkImportDirection(tree({ 'src/encryption/x.ts': `import { r } from '../record/r.js';` }), SYNTHETIC)))
      .toEqual(['src/encryption (layer 2) imports upward: src/record (layer 4)']);
    expect(rulesOf(checkImportDirection(tree({ 'src/encryption/x.ts': `import type { T } from '../../sstable/t.js';` }), SYNTHETIC)))
      .toEqual(['src/encryption (layer 2) imports upward: sstable (layer 3)']);
    expect(rulesOf(checkImportDirection(tree({ 'src/base/x.ts': `import type { K } from '../encryption/keyring.js';` }), SYNTHETIC)))
      .toEqual(['src/base (layer 1) imports upward: src/encryption (layer 2)']);
    expect(rulesOf(checkImportDirection(tree({ 'compaction/x.ts': `import type { DB } from '../src/db.js';` }), SYNTHETIC)))
      .toContain('compaction (layer 5) imports upward: src/db.ts (layer 7)');
    expect(rulesOf(checkImportDirection(tree({ 'src/engine/x.ts': `import type { DB } from '../db.js';` }), SYNTHETIC)))
      .toContain('src/engine (layer 6) imports upward: src/db.ts (layer 7)');
    expect(rulesOf(checkImportDirection(tree({ 'src/stray.ts': `import type { DB } from './db.js';` }), SYNTHETIC)))
      .toContain('every node has a layer in ARCHITECTURE.md');
  });

  it('the checker reports a cycle between nodes of one layer with the imports that make it, and ignores comments', () => {
    const v = checkImportDirection(tree({
      'src/wal/a.ts': `import { m } from '../memtable/m.js';`,
      'src/memtable/m.ts': `/* import { x } from '../fs/x.js' */ import { r } from '../record/r.js';`,
      'src/record/r.ts': `import { a } from '../wal/a.js';`,
    }), SYNTHETIC);
    expect(v).toEqual([{
      rule: 'no cycle between nodes',
      detail: 'src/memtable -> src/record -> src/wal -> src/memtable  ' +
        '(src/memtable/m.ts -> ../record/r.js; src/record/r.ts -> ../wal/a.js; src/wal/a.ts -> ../memtable/m.js)',
    }]);
  });

  it('the repository follows the import rules of ARCHITECTURE.md', () => {
    const files = readTree();
    expect(files.size).toBeGreaterThan(50);
    const rules = parseRules(readFileSync(path.join(ROOT, 'ARCHITECTURE.md'), 'utf8'));
    const report = checkImportDirection(files, rules).map((x) => `${x.rule}: ${x.detail}`);
    expect(report, 'import direction violations (ARCHITECTURE.md "Import rules"):\n' + report.join('\n')).toEqual([]);
  });
});
