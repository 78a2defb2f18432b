/**
 * `stratadb lsm`: a database driven through flushes, an L0 compaction, a trivial move and a
 * compactRange (inline executor, small levels, so each happens when the test says), then the
 * command's --json checked against what happened (the DB's flush and compaction events, in order),
 * the final levels against `stratadb manifest`, the write amplification against stats(); the HTML
 * page's embedded JSON against --json and the page against any external reference; --max-steps
 * sampling (the steps still add up to the final shape); a reopened database (the history starts at
 * the new MANIFEST's snapshot); an encrypted MANIFEST. The CLI runs as a child process.
 * The page's script runs in node:vm against a small stand-in for the DOM (the ids it uses), stepped
 * forward and back through every step; where a Chromium is installed (test/support/browser.ts) the page
 * is also opened in it, headless, and the DOM it drew is checked against the last step.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { DB, keyProviderFromFile, type DBEventMap, type Options } from '../../src/index.js';
import { tempDir } from '../support/tmpdir.js';
import { flipByte, hasStackTrace, runCli } from './cli-helpers.js';
import { browserSupport, dumpDom } from '../support/browser.js';
import { replaySteps } from '../support/lsm-replay.js';
import { pathToFileURL } from 'node:url';
import type { LsmHistory, LsmStep } from '../../tools/lsm/lsm-history.js';

/** Each compaction happens when the test causes it: one job at a time, in this thread, never idle. */
const DRIVEN: Options = {
  compactionExecutor: 'inline', maxBackgroundJobs: 1, idleCompactionDelayMs: 0,
  level0CompactionTrigger: 2, targetFileSize: 4096, maxBytesForLevelBase: 4096, levelCompactionDynamicLevelBytes: false,
};

/** What happened, from the DB's events, in the shape of a step: sorted file numbers. */
interface Happened { kind: string; deleted: number[]; added: number[]; moved: number[] }

interface Driven { dir: string; happened: Happened[]; stats: ReturnType<DB['stats']> }

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

function stepShape(s: LsmStep): Happened {
  return { kind: s.kind, deleted: sorted(s.deleted.map(([, f]) => f)), added: sorted(s.added.map(([, f]) => f)), moved: sorted(s.moved.map(([f]) => f)) };
}

/**
 * Flushes of disjoint ranges (a, c) -> an L0 compaction; two flushes of b -> L0+L1 compaction, L1
 * over its 4 KiB target -> a trivial move to L2; binary keys and d -> one more L0 table; then
 * compactRange over everything. Returns the events seen, and stats() before the close.
 */
async function drive(dir: string, extra: Options = {}): Promise<Driven> {
  const db = await DB.open(dir, { ...DRIVEN, ...extra });
  const happened: Happened[] = [];
  const waiters: { until: () => boolean; resolve: () => void }[] = [];
  const seen = (h: Happened): void => {
    happened.push(h);
    for (const w of waiters.splice(0)) if (w.until()) w.resolve(); else waiters.push(w);
  };
  const until = (cond: () => boolean): Promise<void> =>
    cond() ? Promise.resolve() : new Promise((resolve) => { waiters.push({ until: cond, resolve }); });
  db.on('flush', (e: DBEventMap['flush'][0]) => {
    if (e.phase === 'end' && e.fileNumber !== undefined && !e.error) seen({ kind: 'flush', deleted: [], added: [e.fileNumber], moved: [] });
  });
  db.on('compaction', (e: DBEventMap['compaction'][0]) => {
    if (e.phase !== 'end' || e.error) return;
    const inputs = sorted(e.inputs.flatMap((i) => i.files));
    seen(e.trivialMove
      ? { kind: 'trivial-move', deleted: [], added: [], moved: inputs }
      : { kind: 'compaction', deleted: inputs, added: sorted(e.outputs), moved: [] });
  });
  const count = (kind: string): number => happened.filter((h) => h.kind === kind).length;
  const fill = async (prefix: string | ((i: number) => Uint8Array), n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      await db.put(typeof prefix === 'string' ? `${prefix}${String(i).padStart(4, '0')}` : prefix(i), `${'v'.repeat(50)}${i}`);
    }
    await db.flush();
  };
  try {
    await fill('a', 100);
    await fill('c', 100);
    await until(() => count('compaction') >= 1);
    await fill('b', 100);
    await fill('b', 100);
    await until(() => count('trivial-move') >= 1);
    await fill((i) => new Uint8Array([0x00, 0xff, i]), 30);
    await db.compactRange();
    return { dir, happened, stats: db.stats() };
  } finally {
    await db.close();
  }
}

async function lsmJson(dir: string, ...args: string[]): Promise<LsmHistory> {
  const r = await runCli(['lsm', dir, '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as LsmHistory;
}

interface ManifestLevels { levels: { level: number; bytes: number; files: { fileNumber: number }[] }[] }

async function manifestLevels(dir: string): Promise<Map<number, number>> {
  const r = await runCli(['manifest', dir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const m = JSON.parse(r.stdout) as ManifestLevels;
  return new Map(m.levels.flatMap((l) => l.files.map((f) => [f.fileNumber, l.level] as [number, number])));
}

/** The few DOM members the page's script touches, recording what it writes. */
class FakeElement {
  innerHTML = '';
  textContent = '';
  value = '0';
  max = '0';
  onclick: (() => void) | null = null;
  readonly attributes = new Map<string, string>();
  readonly listeners = new Map<string, (e: unknown) => void>();
  setAttribute(name: string, value: string): void { this.attributes.set(name, value); }
  addEventListener(type: string, f: (e: unknown) => void): void { this.listeners.set(type, f); }
}

/** Runs the page's scripts on a stand-in DOM; returns its elements by id. */
function runPage(html: string): Map<string, FakeElement> {
  const elements = new Map<string, FakeElement>();
  const scripts = [...html.matchAll(/<script(?: type="application\/json")?(?: id="([^"]+)")?>([\s\S]*?)<\/script>/g)];
  const data = new FakeElement();
  data.textContent = scripts[0]![2]!;
  const byId = (id: string): FakeElement | null => {
    if (id === 'lsm-data') return data;
    // The cursor line lives inside the sparkline's markup: present once that was drawn.
    if (id === 'cursor' && !elements.get('spark')?.innerHTML.includes('id="cursor"')) return null;
    if (!elements.has(id)) elements.set(id, new FakeElement());
    return elements.get(id)!;
  };
  const document = new FakeElement() as FakeElement & { getElementById: typeof byId };
  document.getElementById = byId;
  elements.set('#document', document);
  runInNewContext(scripts[1]![2]!, { document, setInterval, clearInterval });
  return elements;
}

/** Per level, the files the tree draws in that row (from its state) and the side table's counts (from the data). */
function drawn(el: Map<string, FakeElement>): { rows: number[]; rects: number; table: number[] } {
  const tree = el.get('tree')!.innerHTML;
  const rows: number[] = [];
  for (const m of tree.matchAll(/class="lvl">L(\d+)<\/text><text [^>]*class="cnt">(\d+) files<\/text>/g)) rows[Number(m[1])] = Number(m[2]);
  const rects = (tree.match(/<rect class="(?:file|added|moved)"/g) ?? []).length;
  const table = [...el.get('levels')!.innerHTML.matchAll(/<tr><td>L\d+<\/td><td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
  return { rows, rects, table };
}

const byNumber = (m: Map<number, number>): [number, number][] => [...m].sort((a, b) => a[0] - b[0]);

describe('stratadb lsm', () => {
  it('--json: one step per flush, compaction and trivial move, in order; final shape and write amp as the engine saw them', async () => {
    const { dir, happened, stats } = await drive(await tempDir('strata-lsm-'));
    const h = await lsmJson(dir);
    expect(h.format).toBe('stratadb-lsm');
    expect(h.steps[0]).toMatchObject({ edit: 0, kind: 'snapshot', added: [], deleted: [] });
    expect(h.steps[0]!.reason).toMatch(/^state when this MANIFEST began/);
    expect(h.steps.slice(1).map(stepShape)).toEqual(happened);
    expect(h.counts['trivial-move']).toBeGreaterThanOrEqual(1);
    expect(h.counts.compaction).toBeGreaterThanOrEqual(3); // the L0 one, L0+L1, and compactRange's
    expect(h.counts.flush).toBe(5);
    expect(h.totalSteps).toBe(h.steps.length);
    expect(h.steps.find((s) => s.kind === 'trivial-move')!.reason).toMatch(/^trivial move \d{6} L1 -> L2$/);

    const current = await manifestLevels(dir);
    expect(byNumber(replaySteps(h))).toEqual(byNumber(current));
    const finalFiles = h.final.levels.flatMap((l) => l.files.map((f) => [f, l.level] as [number, number]));
    expect(finalFiles.sort((a, b) => a[0] - b[0])).toEqual(byNumber(current));
    const last = h.steps[h.steps.length - 1]!;
    expect(last.levels.map(([files]) => files)).toEqual(h.final.levels.map((l) => l.files.length));

    expect(h.final.flushedBytes).toBe(stats.flushes.bytes);
    expect(h.final.compactedBytes).toBe(stats.compactions.bytesWritten);
    const engineRatio = (stats.flushes.bytes + stats.compactions.bytesWritten) / stats.flushes.bytes;
    expect(h.final.writeAmp).toBeCloseTo(engineRatio, 9);
    expect(last.writeAmp).toBe(h.final.writeAmp);

    // Keys: printable as themselves, binary ones as hex.
    expect(h.keys).toContain('a0000');
    expect(h.keys.some((k) => k.startsWith('0x00ff'))).toBe(true);
    const text = await runCli(['lsm', dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/5 flush, \d+ compaction, \d+ trivial-move/);
    expect(text.stdout).toContain(`write amp so far ${engineRatio.toFixed(2)}`);
  });

  it('--html: one page, its embedded JSON equal to --json, nothing fetched from outside', async () => {
    const { dir } = await drive(await tempDir('strata-lsm-'));
    const out = path.join(dir, '..', `lsm-${path.basename(dir)}.html`);
    const [page, json] = await Promise.all([runCli(['lsm', dir, '--html', out]), lsmJson(dir)]);
    expect(page.code, page.stderr).toBe(0);
    expect(page.stdout).toMatch(/^wrote .*\.html \(.+, \d+ of \d+ steps\)\n$/);
    const html = readFileSync(out, 'utf8');
    const m = /<script type="application\/json" id="lsm-data">([\s\S]*?)<\/script>/.exec(html);
    expect(m).not.toBeNull();
    expect(JSON.parse(m![1]!)).toEqual(json);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/\s(?:src|href)\s*=/i);
    expect(html).not.toMatch(/@import|<link\b|\bimport\s*\(|^\s*import\s/im);
    expect(html).not.toMatch(/\b(?:fetch|XMLHttpRequest|WebSocket|EventSource)\b/);
    expect(html.match(/<script\b/g)).toHaveLength(2);

    // The script, stepped to every step forward and then back: what it draws is that step's shape.
    const el = runPage(html);
    const at = (i: number): void => {
      const want = json.steps[i]!;
      const got = drawn(el);
      const counts = want.levels.map(([files]) => files);
      expect(got.table, `step ${i}`).toEqual(counts);
      expect(got.rows, `step ${i}`).toEqual([...counts, ...new Array<number>(got.rows.length - counts.length).fill(0)]);
      expect(got.rects, `step ${i}`).toBe(counts.reduce((t, n) => t + n, 0));
      expect(el.get('reason')!.textContent).toBe(`#${want.edit} @${want.offset}  ${want.kind}: ${want.reason}`);
      expect(el.get('slider')!.value).toBe(String(i));
    };
    at(json.steps.length - 1); // the page opens on the last step
    expect(el.get('wamp')!.textContent).toBe(json.final.writeAmp!.toFixed(2));
    el.get('first')!.onclick!();
    for (let i = 0; i < json.steps.length; i++) {
      at(i);
      el.get('next')!.onclick!();
    }
    for (let i = json.steps.length - 1; i >= 0; i--) {
      at(i);
      el.get('prev')!.onclick!();
    }
    const slider = el.get('slider')!;
    slider.value = '2';
    slider.listeners.get('input')!({});
    at(2);
  });

  it.skipIf(!browserSupport.ok)('--html in a real headless Chromium: the page draws the last step, and no script error is logged', async () => {
    const { dir } = await drive(await tempDir('strata-lsm-'));
    const out = path.join(dir, '..', `lsm-browser-${path.basename(dir)}.html`);
    const [page, json] = await Promise.all([runCli(['lsm', dir, '--html', out]), lsmJson(dir)]);
    expect(page.code, page.stderr).toBe(0);
    const { dom, log } = dumpDom(pathToFileURL(out).href);
    expect(log).not.toMatch(/Uncaught|CONSOLE.*(?:Error|error)/);
    const want = json.steps[json.steps.length - 1]!;
    const counts = want.levels.map(([files]) => files);
    const rows: number[] = [];
    for (const m of dom.matchAll(/class="lvl">L(\d+)<\/text><text [^>]*class="cnt">(\d+) files<\/text>/g)) rows[Number(m[1])] = Number(m[2]);
    expect(rows).toEqual([...counts, ...new Array<number>(rows.length - counts.length).fill(0)]);
    expect((dom.match(/<rect class="(?:file|added|moved)"/g) ?? []).length).toBe(counts.reduce((t, n) => t + n, 0));
    expect([...dom.matchAll(/<tr><td>L\d+<\/td><td>(\d+)<\/td>/g)].map((m) => Number(m[1]))).toEqual(counts);
    const text = (id: string): string => {
      const m = new RegExp(`id="${id}">([^<]*)<`).exec(dom);
      expect(m, id).not.toBeNull();
      return m![1]!.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
    };
    expect(text('reason')).toBe(`#${want.edit} @${want.offset}  ${want.kind}: ${want.reason}`);
    expect(text('wamp')).toBe(json.final.writeAmp!.toFixed(2));
  });

  it('a key that looks like markup stays inside the embedded JSON', async () => {
    const dir = await tempDir('strata-lsm-');
    const db = await DB.open(dir);
    try {
      await db.put('</script><script>alert(1)</script>', 'x');
      await db.put('<!--', 'y');
      await db.flush();
    } finally {
      await db.close();
    }
    const out = path.join(dir, 'page.html');
    const r = await runCli(['lsm', dir, '--html', out]);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html.match(/<script\b/g)).toHaveLength(2);
    expect(html).not.toContain('<!--');
    const m = /<script type="application\/json" id="lsm-data">([\s\S]*?)<\/script>/.exec(html);
    expect((JSON.parse(m![1]!) as LsmHistory).keys).toEqual(['<!--', '</script><script>alert(1)</script>']); // bytewise: '!' < '/'
  });

  it('--max-steps keeps the first and the last step, and the gaps still add up to the final shape', async () => {
    const { dir } = await drive(await tempDir('strata-lsm-'));
    const all = await lsmJson(dir);
    const few = await lsmJson(dir, '--max-steps', '3');
    expect(few.totalSteps).toBe(all.totalSteps);
    expect(few.shownSteps).toBe(3);
    expect(few.steps).toHaveLength(3);
    expect(few.steps[0]!.edit).toBe(0);
    expect(few.steps[2]).toMatchObject({ edit: all.steps[all.steps.length - 1]!.edit, writeAmp: all.final.writeAmp });
    expect(few.steps.filter((s) => s.gap).length).toBeGreaterThan(0);
    expect(few.notes.join(' ')).toContain(`${all.totalSteps} steps, 3 shown`);
    expect(byNumber(replaySteps(few))).toEqual(byNumber(replaySteps(all)));
    expect(few.counts).toEqual(all.counts);
    const bad = await runCli(['lsm', dir, '--max-steps', '1']);
    expect(bad.code).toBe(2);
    expect(hasStackTrace(bad.stderr)).toBe(false);
  });

  it('after a reopen the history starts at the new MANIFEST\'s snapshot of every live table', async () => {
    const { dir } = await drive(await tempDir('strata-lsm-'));
    const before = await manifestLevels(dir);
    await (await DB.open(dir, DRIVEN)).close();
    const h = await lsmJson(dir);
    const first = h.steps[0]!;
    expect(first.kind).toBe('snapshot');
    expect(sorted(first.added.map(([, f]) => f))).toEqual(sorted([...before.keys()]));
    expect(first.reason).toMatch(new RegExp(`^state when this MANIFEST began: ${before.size} files`));
    expect(h.notes[0]).toContain(`when ${h.manifest} began`);
    expect(byNumber(replaySteps(h))).toEqual(byNumber(before));
  });

  it('an encrypted MANIFEST is read with --key-file and refused cleanly without', async () => {
    const root = await tempDir('strata-lsm-');
    const keyFile = path.join(root, 'keys');
    writeFileSync(keyFile, `k1=${randomBytes(32).toString('hex')}\n`);
    const dir = path.join(root, 'db');
    const { happened } = await drive(dir, { encryption: { keyProvider: keyProviderFromFile(keyFile) } });
    const refused = await runCli(['lsm', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: .*key id "k1"/);
    expect(hasStackTrace(refused.stderr)).toBe(false);
    const h = await lsmJson(dir, '--key-file', keyFile);
    expect(h.steps.slice(1).map(stepShape)).toEqual(happened);
  });

  it('a MANIFEST damaged half-way: exit 1, the history up to the damage, the page says so', async () => {
    const { dir } = await drive(await tempDir('strata-lsm-'));
    const manifest = path.join(dir, readdirSync(dir).find((n) => n.startsWith('MANIFEST-'))!);
    const whole = await lsmJson(dir);
    await flipByte(manifest, Math.floor(statSync(manifest).size / 2));
    const out = path.join(dir, '..', 'damaged.html');
    const [json, page] = await Promise.all([runCli(['lsm', dir, '--json']), runCli(['lsm', dir, '--html', out])]);
    expect(json.code).toBe(1);
    expect(page.code).toBe(1);
    const h = JSON.parse(json.stdout) as LsmHistory;
    expect(h.problem).toMatchObject({ code: 'ERR_CORRUPTION' });
    expect(h.steps.length).toBeGreaterThan(0);
    expect(h.steps.length).toBeLessThan(whole.steps.length);
    expect(h.steps.map(stepShape)).toEqual(whole.steps.slice(0, h.steps.length).map(stepShape));
    const el = runPage(readFileSync(out, 'utf8'));
    expect(el.get('notes')!.innerHTML).toContain(`MANIFEST damaged at offset ${h.problem!.offset}`);
    const text = await runCli(['lsm', dir]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`DAMAGED at offset ${h.problem!.offset} (ERR_CORRUPTION)`);
  });

  it('beside a live writer whose MANIFEST keeps rolling over: each look is whole, or exit 75', async () => {
    const dir = await tempDir('strata-lsm-');
    const db = await DB.open(dir, { ...DRIVEN, writeBufferSize: 4096, maxManifestFileSize: 4096 });
    let stop = false;
    let written = 0;
    const writer = (async () => {
      while (!stop) {
        await db.put(`k${String(written % 500).padStart(4, '0')}`, 'v'.repeat(64));
        written++;
      }
    })();
    const current = (): string => readFileSync(path.join(dir, 'CURRENT'), 'utf8');
    const first = current();
    try {
      for (let i = 0; i < 4; i++) {
        const r = await runCli(['lsm', dir, '--json']);
        expect([0, 75], r.stderr).toContain(r.code);
        if (r.code !== 0) continue;
        const h = JSON.parse(r.stdout) as LsmHistory;
        expect(h.problem).toBeUndefined();
        expect(h.steps[0]!.kind).toBe('snapshot');
        const finalFiles = h.final.levels.flatMap((l) => l.files.map((f) => [f, l.level] as [number, number]));
        expect(byNumber(replaySteps(h))).toEqual(finalFiles.sort((a, b) => a[0] - b[0]));
      }
      expect(current(), 'the MANIFEST rolled over while the tool read it').not.toBe(first);
    } finally {
      stop = true;
      await writer;
      await db.close();
    }
  });

  it('a directory without a database exits 2', async () => {
    const root = await tempDir('strata-lsm-');
    const r = await runCli(['lsm', path.join(root, 'nothing-here')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error ERR_INVALID_ARGUMENT: .*nothing-here does not exist\n$/);
  });
});
