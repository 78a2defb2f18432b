/**
 * No `.slice()` on bytes in engine code. On a Node Buffer, slice() is a view of the same memory (it
 * is Buffer#subarray), not Uint8Array#slice's copy: a "copy" made that way of a caller's key changes
 * when the caller reuses its Buffer, and writing into it writes into theirs (a prefix successor once
 * incremented a byte of a user's iterator bound). Engine code copies with copyBytes()/copyToBuffer()
 * (src/base/bytes.ts) and takes views with subarray(), which mean one thing on both types.
 * Found with TypeScript's checker: every call `x.slice(...)` whose receiver's type is a Uint8Array
 * (Buffer included) in src/, sstable/ and compaction/. The checker is tried on a synthetic file first,
 * so a broken checker cannot pass silently.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCANNED = ['src', 'sstable', 'compaction'].map((d) => path.join(ROOT, d) + path.sep);

function byteSlices(program: ts.Program, include: (file: string) => boolean): string[] {
  const checker = program.getTypeChecker();
  const out: string[] = [];
  for (const sf of program.getSourceFiles()) {
    if (sf.isDeclarationFile || !include(sf.fileName)) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'slice') {
        const t = checker.getTypeAtLocation(node.expression.expression);
        const name = checker.typeToString(checker.getApparentType(t));
        if (/^(Uint8Array|Buffer)(<[^>]*>)?$/.test(name)) {
          const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
          out.push(`${path.relative(ROOT, sf.fileName)}:${line + 1}: ${node.getText(sf)}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

function programOf(files: string[], options: ts.CompilerOptions): ts.Program {
  return ts.createProgram(files, { ...options, noEmit: true, incremental: false });
}

describe('bytes are copied with copyBytes, never with slice()', () => {
  it('the checker finds slice() on a Uint8Array and on a Buffer, and not on an array', () => {
    const file = path.join(ROOT, 'test/lint/__byte-slice-probe.ts');
    const source = [
      "import { Buffer } from 'node:buffer';",
      'export const a = new Uint8Array(4).slice();',
      "export const b = Buffer.from('x').slice(0, 1);",
      'export const c = [1, 2].slice();',
    ].join('\n');
    const host = ts.createCompilerHost({});
    const read = host.readFile.bind(host);
    host.readFile = (f) => (f === file ? source : read(f));
    const exists = host.fileExists.bind(host);
    host.fileExists = (f) => f === file || exists(f);
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (f, v) => (f === file ? ts.createSourceFile(f, source, v) : getSourceFile(f, v));
    const program = ts.createProgram([file], { types: ['node'], lib: ['lib.es2023.d.ts'], strict: true, noEmit: true }, host);
    const found = byteSlices(program, (f) => f === file);
    expect(found.map((s) => s.split(': ')[1])).toEqual(['new Uint8Array(4).slice()', "Buffer.from('x').slice(0, 1)"]);
  });

  it('src/, sstable/ and compaction/ hold none', () => {
    const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.json'), {}, {
      ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(String(d.messageText)); },
    });
    if (!config) throw new Error('tsconfig.json did not parse');
    const roots = config.fileNames.filter((f) => SCANNED.some((d) => path.resolve(f).startsWith(d)));
    const found = byteSlices(programOf(roots, config.options), (f) => SCANNED.some((d) => path.resolve(f).startsWith(d)));
    expect(found, 'use copyBytes()/copyToBuffer() for a copy, subarray() for a view').toEqual([]);
  }, 60_000);
});
