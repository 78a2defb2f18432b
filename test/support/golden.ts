/**
 * Golden ("datadriven") test files, after Pebble's datadriven package. A file is a list of cases:
 *
 *     # comments and blank lines between cases are kept as they are
 *     command arg1 key=value
 *     input line
 *     ----
 *     expected output
 *
 * A case ends at the first blank line after `----`. Output that itself contains blank lines is
 * written between `----` / `----` pairs (Pebble's double separator). Run with REWRITE=1 to replace
 * every expected output with what the handler returns now, then review the diff.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';

export interface GoldenCase {
  /** First word of the command line. */
  command: string;
  /** The rest of the command line split on spaces; `key=value` words are also in `kv`. */
  args: string[];
  kv: Map<string, string>;
  input: string[];
  expected: string;
  /** 1-based line of the command, for messages. */
  line: number;
}

interface Parsed { cases: GoldenCase[]; chunks: Array<string | GoldenCase> }

function parse(text: string): Parsed {
  const lines = text.split('\n');
  const chunks: Array<string | GoldenCase> = [];
  const cases: GoldenCase[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.trim() === '' || l.startsWith('#')) { chunks.push(l); i++; continue; }
    const line = i + 1;
    const words = l.trim().split(/\s+/);
    const kv = new Map<string, string>();
    for (const w of words.slice(1)) {
      const eq = w.indexOf('=');
      if (eq > 0) kv.set(w.slice(0, eq), w.slice(eq + 1));
    }
    i++;
    const input: string[] = [];
    while (i < lines.length && lines[i] !== '----') input.push(lines[i++]!);
    if (i >= lines.length) throw new Error(`golden case at line ${line} has no ---- separator`);
    i++;
    const out: string[] = [];
    if (lines[i] === '----') {
      i++;
      while (i < lines.length && !(lines[i] === '----' && lines[i + 1] === '----')) out.push(lines[i++]!);
      i += 2;
    } else {
      while (i < lines.length && lines[i]!.trim() !== '') out.push(lines[i++]!);
    }
    const c: GoldenCase = { command: words[0]!, args: words.slice(1), kv, input, expected: out.join('\n'), line };
    cases.push(c);
    chunks.push(c);
  }
  return { cases, chunks };
}

function render(c: GoldenCase, output: string): string {
  const head = [[c.command, ...c.args].join(' '), ...c.input, '----'];
  const body = output.split('\n').some((l) => l.trim() === '') ? ['----', output, '----', '----'] : [output];
  return [...head, ...body].join('\n');
}

/**
 * Runs every case of `path` through `handler` and compares with the expected text (trailing
 * whitespace of the whole output ignored). With REWRITE=1 the file is rewritten instead.
 */
export async function runGolden(path: string, handler: (c: GoldenCase) => string | Promise<string>): Promise<void> {
  const { cases, chunks } = parse(readFileSync(path, 'utf8'));
  const outputs = new Map<GoldenCase, string>();
  for (const c of cases) outputs.set(c, (await handler(c)).trimEnd());
  if (process.env['REWRITE'] === '1') {
    const text = chunks.map((ch) => (typeof ch === 'string' ? ch : render(ch, outputs.get(ch)!))).join('\n');
    writeFileSync(path, text);
    return;
  }
  for (const c of cases) {
    expect(outputs.get(c), `${path}:${c.line} (${c.command}); run with REWRITE=1 to regenerate`).toBe(c.expected.trimEnd());
  }
}
