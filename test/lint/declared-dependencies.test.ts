/**
 * Every package the shipped code imports is one package.json declares in "dependencies". npm's
 * default layout hoists transitive packages, so an undeclared import works in a checkout and with
 * `npm install`, then fails under pnpm, Yarn PnP or `--install-strategy=linked`, where a package
 * sees only what it declares (test/package/ installs the tarball that way).
 * Shipped code: src/, sstable/, compaction/, tools/, and the part of bench/ that `stratadb bench`
 * runs (the files reachable from bench/driver.ts and bench/child.ts, which it starts by path).
 * Specifiers come from TypeScript's scanner (ts.preProcessFile): static, type-only and dynamic
 * imports alike, since a type-only import of an undeclared package breaks a user's type check.
 * The checker runs on a synthetic tree first, so a broken checker cannot pass silently.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHIPPED_FOLDERS = ['src', 'sstable', 'compaction', 'tools'];
const BENCH_ENTRIES = ['bench/driver.ts', 'bench/child.ts'];

/**
 * devDependencies shipped code may load anyway, with the reason: each is imported with import()
 * and its absence is handled (reported, not a crash).
 */
const OPTIONAL: ReadonlyMap<string, string> = new Map([
  ['classic-level', 'bench --compare only; StrataDB runs alone, saying so, when it is not installed'],
  ['lmdb', 'bench --compare only, like classic-level (bench/engine-lmdb.ts imports it with import())'],
]);

interface Manifest { dependencies?: Record<string, string>; devDependencies?: Record<string, string> }

/** The package a bare specifier names ('@scope/name/sub' -> '@scope/name'); undefined for relative and built-in modules. */
export function packageOf(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) return undefined;
  if (builtinModules.includes(spec) || builtinModules.includes(spec.split('/')[0]!)) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function specifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** "file -> specifier" for every import of a package the manifest does not allow. */
function undeclared(files: ReadonlyMap<string, string>, manifest: Manifest): string[] {
  const deps = new Set(Object.keys(manifest.dependencies ?? {}));
  const dev = new Set(Object.keys(manifest.devDependencies ?? {}));
  const out: string[] = [];
  for (const [rel, text] of files) {
    for (const spec of specifiers(text)) {
      const pkg = packageOf(spec);
      if (pkg === undefined || deps.has(pkg)) continue;
      if (OPTIONAL.has(pkg) && dev.has(pkg)) continue;
      out.push(`${rel} -> ${spec}`);
    }
  }
  return out.sort();
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...listTs(rel));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** bench/ files reachable from the entries through relative imports. */
function benchRuntime(): string[] {
  const seen = new Set<string>();
  const todo = [...BENCH_ENTRIES];
  while (todo.length) {
    const rel = todo.pop()!;
    if (seen.has(rel) || !rel.startsWith('bench/')) continue;
    seen.add(rel);
    for (const spec of specifiers(readFileSync(path.join(ROOT, rel), 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      todo.push(path.posix.normalize(path.posix.join(path.posix.dirname(rel), spec)).replace(/\.js$/, '.ts'));
    }
  }
  return [...seen];
}

describe('declared dependencies', () => {
  it('the checker flags undeclared packages and passes declared, built-in and relative ones', () => {
    const files = new Map([
      ['src/a.ts', "import ModuleError from 'module-error';\nimport { x } from './x.js';\nimport fs from 'node:fs';\nimport path from 'path';"],
      ['src/b.ts', "import type { T } from '@scope/pkg/deep/file.js';\n// import 'in-a-comment';\nconst s = \"import 'in-a-string'\";"],
      ['tools/c.ts', "const m = await import('classic-level');\nexport * from 'dev-only';"],
    ]);
    expect(undeclared(files, { dependencies: {}, devDependencies: { 'classic-level': '1' } })).toEqual([
      "src/a.ts -> module-error", 'src/b.ts -> @scope/pkg/deep/file.js', 'tools/c.ts -> dev-only',
    ]);
    expect(undeclared(files, { dependencies: { 'module-error': '1', '@scope/pkg': '1', 'dev-only': '1' } })).toEqual([
      'tools/c.ts -> classic-level', // optional only as a devDependency that is really declared
    ]);
    expect(undeclared(files, {
      dependencies: { 'module-error': '1', '@scope/pkg': '1', 'dev-only': '1' }, devDependencies: { 'classic-level': '1' },
    })).toEqual([]);
  });

  it('every package imported by shipped code is declared in dependencies', () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
    const rels = [...SHIPPED_FOLDERS.flatMap(listTs), ...benchRuntime()];
    expect(rels.length).toBeGreaterThan(100);
    expect(rels).toContain('bench/engine-classic-level.ts');
    const files = new Map(rels.map((r) => [r, readFileSync(path.join(ROOT, r), 'utf8')]));
    expect(undeclared(files, manifest)).toEqual([]);
  });
});
