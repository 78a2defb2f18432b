/**
 * `--plot FILE.svg`: throughput over time, one panel per workload, one line per engine, from the
 * 100 ms samples each workload records. Hand-written SVG (no plotting library): a frame, five
 * y gridlines labelled in ops/s, seconds on x, and a legend. Each panel has its own scales, so a
 * stall or a flush shows as a dip whatever the engines' speeds. Pure: returns the SVG text.
 */
import type { BenchReport, WorkloadResult } from './result.js';

const WIDTH = 760;
const PANEL_H = 170;
const LEFT = 80;
const RIGHT = 20;
const TOP = 28;
const BOTTOM = 26;
export const COLORS: Record<string, string> = { 'stratadb': '#d6336c', 'classic-level': '#1c7ed6', 'lmdb': '#2f9e44' };

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function short(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(x >= 1e7 ? 0 : 1)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(x >= 1e4 ? 0 : 1)}K`;
  return String(Math.round(x));
}

/** A round number just above max: 1, 2 or 5 times a power of ten. */
export function niceCeil(max: number): number {
  if (max <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function panel(id: string, rows: WorkloadResult[], y0: number): string[] {
  const w = WIDTH - LEFT - RIGHT;
  const h = PANEL_H - TOP - BOTTOM;
  const maxT = Math.max(0.1, ...rows.flatMap((r) => r.series.map((s) => s[0])));
  const maxY = niceCeil(Math.max(1, ...rows.flatMap((r) => r.series.map((s) => s[1]))));
  const px = (t: number): number => LEFT + (t / maxT) * w;
  const py = (v: number): number => y0 + TOP + h - (v / maxY) * h;
  const out = [`<text x="${LEFT}" y="${y0 + 18}" font-weight="bold">${esc(id)}</text>`];
  for (let i = 0; i <= 5; i++) {
    const v = (maxY * i) / 5;
    const y = py(v).toFixed(1);
    out.push(`<line x1="${LEFT}" y1="${y}" x2="${LEFT + w}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${LEFT - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${short(v)}</text>`);
  }
  out.push(`<rect x="${LEFT}" y="${y0 + TOP}" width="${w}" height="${h}" fill="none" stroke="#888"/>`,
    `<text x="${LEFT + w}" y="${y0 + TOP + h + 16}" text-anchor="end">${maxT.toFixed(1)} s</text>`,
    `<text x="${LEFT}" y="${y0 + TOP + h + 16}">0</text>`);
  let legendX = LEFT + 200;
  for (const r of rows) {
    const color = COLORS[r.engine] ?? '#333';
    // Each sample is the rate over the interval since the previous one, so draw steps: a stall
    // (one long interval with few operations) shows as a long low step, not as a diagonal.
    const pts: [number, number][] = [];
    let prevT = 0;
    for (const [t, v] of r.series) {
      pts.push([prevT, v], [t, v]);
      prevT = t;
    }
    if (pts.length > 0) {
      const d = pts.map(([t, v]) => `${px(t).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${d}"/>`);
    }
    out.push(`<rect x="${legendX}" y="${y0 + 9}" width="12" height="3" fill="${color}"/>`,
      `<text x="${legendX + 16}" y="${y0 + 14}">${esc(r.engine)} (${short(r.opsPerSec)} ops/s avg)</text>`);
    legendX += 230;
  }
  return out;
}

export function renderPlot(report: BenchReport): string {
  const engines = report.engines.filter((e) => e.available);
  const ids = [...new Set(engines.flatMap((e) => e.results.filter((r) => r.workload !== 'open').map((r) => r.id)))];
  const height = Math.max(1, ids.length) * PANEL_H + 30;
  const body: string[] = [
    `<text x="${LEFT}" y="18" font-size="14" font-weight="bold">stratadb bench: throughput over time (ops/s, 100 ms samples), num ${report.config.num}</text>`,
  ];
  ids.forEach((id, i) => {
    const rows = engines.map((e) => e.results.find((r) => r.id === id)).filter((r): r is WorkloadResult => !!r);
    body.push(...panel(id, rows, 30 + i * PANEL_H));
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
