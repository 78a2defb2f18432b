/**
 * The scale run's curves as self-contained SVG: one file per figure, one panel per measure, user data
 * on x and one line per engine (plot.ts's colours, number labels and round scales). x is logarithmic
 * when the steps span a factor of 8 or more (1, 5, 10, 50 GiB would crowd the left edge otherwise),
 * with a tick at each step; one legend under the title. Pure: figures in, SVG text out.
 */
import { COLORS, esc, niceCeil, short } from './plot.js';
import {
  cumulativeWriteAmp, loadOpsPerSec, opsPerSec, spaceAmp, type StepResult,
} from './scale-report.js';
import { MiB } from './scale-args.js';
import { sizeText } from './scale-plan.js';

const WIDTH = 760;
const PANEL_H = 190;
const LEFT = 80;
const RIGHT = 24;
const TOP = 30;
const BOTTOM = 30;
/** The figure's title and legend above the first panel. */
const HEAD = 44;

export interface Series { engine: string; points: [number, number][] }
export interface Panel { title: string; series: Series[] }

/** Maps x (bytes) to [0, 1]: log10 when the range spans 8x or more, else linear from 0. */
export function xScale(xs: readonly number[]): (x: number) => number {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  if (!(hi > 0)) return () => 0;
  if (lo > 0 && hi / lo >= 8) {
    const a = Math.log10(lo);
    const b = Math.log10(hi);
    return (x) => (Math.log10(x) - a) / (b - a);
  }
  return (x) => x / hi;
}

function panel(p: Panel, y0: number, xs: readonly number[]): string[] {
  const w = WIDTH - LEFT - RIGHT;
  const h = PANEL_H - TOP - BOTTOM;
  const fx = xScale(xs);
  const maxY = niceCeil(Math.max(0, ...p.series.flatMap((s) => s.points.map((q) => q[1]))));
  const px = (x: number): number => LEFT + fx(x) * w;
  const py = (v: number): number => y0 + TOP + h - (v / maxY) * h;
  const out = [`<text x="${LEFT}" y="${y0 + 18}" font-weight="bold">${esc(p.title)}</text>`];
  for (let i = 0; i <= 5; i++) {
    const v = (maxY * i) / 5;
    const y = py(v).toFixed(1);
    out.push(`<line x1="${LEFT}" y1="${y}" x2="${LEFT + w}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${LEFT - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${maxY < 10 ? v.toFixed(1) : short(v)}</text>`);
  }
  for (const x of new Set(xs)) {
    out.push(`<text x="${px(x).toFixed(1)}" y="${y0 + TOP + h + 16}" text-anchor="middle">${esc(sizeText(x))}</text>`);
  }
  out.push(`<rect x="${LEFT}" y="${y0 + TOP}" width="${w}" height="${h}" fill="none" stroke="#888"/>`);
  for (const ser of p.series) {
    if (ser.points.length === 0) continue;
    const color = COLORS[ser.engine] ?? '#333';
    const d = ser.points.map(([x, v]) => `${px(x).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${d}"/>`);
    for (const [x, v] of ser.points) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(v).toFixed(1)}" r="3" fill="${color}"/>`);
  }
  return out;
}

/** The engines' colours, once under the figure's title (panel titles are long). */
function legend(engines: readonly string[]): string[] {
  return engines.flatMap((e, i) => {
    const x = LEFT + i * 160;
    return [`<rect x="${x}" y="30" width="12" height="3" fill="${COLORS[e] ?? '#333'}"/>`, `<text x="${x + 16}" y="35">${esc(e)}</text>`];
  });
}

/** One SVG of stacked panels sharing the x values (every step any engine reached). */
export function renderCurves(title: string, panels: readonly Panel[]): string {
  const xs = [...new Set(panels.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q[0]))))].sort((a, b) => a - b);
  const engines = [...new Set(panels.flatMap((p) => p.series.map((s) => s.engine)))];
  const height = Math.max(1, panels.length) * PANEL_H + HEAD;
  const body = [`<text x="${LEFT}" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`, ...legend(engines)];
  panels.forEach((p, i) => body.push(...panel(p, HEAD + i * PANEL_H, xs.length > 0 ? xs : [1])));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** One series per engine of f(row, index within the engine's rows) against the row's user data. */
export function seriesOf(results: readonly StepResult[], f: (r: StepResult, i: number, rows: StepResult[]) => number): Series[] {
  const engines = [...new Set(results.map((r) => r.engine))];
  return engines.map((engine) => {
    const rows = results.filter((r) => r.engine === engine);
    return { engine, points: rows.map((r, i) => [r.targetBytes, f(r, i, rows)] as [number, number]) };
  });
}

/** The figures of the report: file name (no directory) to SVG text. */
export function scaleFigures(results: readonly StepResult[]): Record<string, string> {
  const s = (f: (r: StepResult, i: number, rows: StepResult[]) => number): Series[] => seriesOf(results, f);
  return {
    'scale-throughput.svg': renderCurves('Throughput as the database grows (x: user data)', [
      { title: 'load (fillbatch + fillrandom), ops/s', series: s(loadOpsPerSec) },
      { title: 'readrandom, ops/s (32 gets in flight)', series: s((r) => opsPerSec(r.readrandom)) },
      { title: 'seekrandom (seek + 10 next), ops/s', series: s((r) => opsPerSec(r.seekrandom)) },
    ]),
    'scale-latency.svg': renderCurves('Latency and open time as the database grows', [
      { title: 'readrandom p99, µs', series: s((r) => r.readrandom.p99Us) },
      { title: 'seekrandom p99, µs', series: s((r) => r.seekrandom.p99Us) },
      { title: 'open after close, ms', series: s((r) => r.openMs) },
    ]),
    'scale-memory.svg': renderCurves('Memory as the database grows', [
      { title: 'peak RSS of the step (load, reads, reopen), MiB', series: s((r) => r.peakRssBytes / MiB) },
      { title: 'RSS after close, MiB', series: s((r) => r.rssAfterCloseBytes / MiB) },
    ]),
    'scale-amplification.svg': renderCurves('Write and space amplification as the database grows', [
      { title: 'write amplification, whole run so far (/proc io write_bytes / user bytes)', series: s((_r, i, rows) => cumulativeWriteAmp(rows, i)) },
      { title: 'space amplification (directory bytes / live user bytes)', series: s(spaceAmp) },
    ]),
  };
}
