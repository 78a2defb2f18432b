/**
 * Turns a BenchReport into what a person reads: a header (machine, sizes, engine versions), one
 * small table per workload (ops/s, MB/s, latency percentiles, event-loop delay, write amplification,
 * stalls) with each peer's row (classic-level, lmdb), a ratio line per peer under ours and the
 * workload's extra figures per engine (deleterange, clear), and a
 * closing markdown summary that can be pasted into bench/RESULTS.md as it is. Also computes the
 * comparisons (ours / each peer's) the JSON carries.
 * Pure functions of the report: no I/O.
 */
import type { BenchReport, Comparison, EngineRun, WorkloadResult } from './result.js';

const OURS = 'stratadb';

export function computeComparisons(engines: EngineRun[]): Comparison[] {
  const ours = engines.find((e) => e.engine === OURS);
  if (!ours) return [];
  const out: Comparison[] = [];
  for (const theirs of engines.filter((e) => e.engine !== OURS && e.available)) {
    const peer = theirs.engine;
    for (const a of ours.results) {
      const b = theirs.results.find((r) => r.id === a.id);
      if (!b) continue;
      if (a.workload === 'open') {
        out.push({ id: a.id, peer, metric: 'open ms', ours: a.openMs ?? 0, theirs: b.openMs ?? 0, ratio: ratio(a.openMs, b.openMs) });
        out.push({ id: a.id, peer, metric: 'disk bytes', ours: a.diskBytes ?? 0, theirs: b.diskBytes ?? 0, ratio: ratio(a.diskBytes, b.diskBytes) });
      } else {
        out.push({ id: a.id, peer, metric: 'ops/s', ours: a.opsPerSec, theirs: b.opsPerSec, ratio: ratio(a.opsPerSec, b.opsPerSec) });
        out.push({ id: a.id, peer, metric: 'ops/cpu-s', ours: a.opsPerCpuSec, theirs: b.opsPerCpuSec, ratio: ratio(a.opsPerCpuSec, b.opsPerCpuSec) });
      }
    }
  }
  return out;
}

/** The peers that have comparisons, in the order they ran. */
function peersOf(cmp: Comparison[]): string[] {
  return [...new Set(cmp.map((c) => c.peer))];
}

function ratio(a: number | undefined, b: number | undefined): number {
  return a !== undefined && b !== undefined && b > 0 ? a / b : 0;
}

export function int(x: number): string {
  return Math.round(x).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Two or three significant digits: 0.84, 7.3, 123, 4,567. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  if (a >= 100) return int(x);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

const mb = (bytes: number): string => num(bytes / 1e6);
const pad = (s: string, w: number): string => (s.length >= w ? s : ' '.repeat(w - s.length) + s);
const padEnd = (s: string, w: number): string => (s.length >= w ? s : s + ' '.repeat(w - s.length));

function describe(r: WorkloadResult): string {
  if (r.workload === 'open') return 'close, then open (first open counts; three in all); directory size after close';
  const unit = r.opUnit ? ` (1 op = ${r.opUnit})` : '';
  const parts = [`${int(r.ops)} ops${unit}`, `${r.concurrency} in flight`];
  if (r.found !== undefined) parts.push(`${int(r.found)} found`);
  if (r.writerOps !== undefined) parts.push(`${int(r.writerOps)} puts by the writer meanwhile`);
  if (r.prefilled !== undefined) parts.push(`${int(r.prefilled)} keys loaded untimed first`);
  return parts.join(', ');
}

function workloadTable(id: string, rows: WorkloadResult[], cmp: Comparison[]): string[] {
  const first = rows[0]!;
  const lines = [`${id}  ${describe(first)}`];
  if (first.workload === 'open') {
    lines.push(`  ${padEnd('engine', 15)}${pad('open ms', 10)}${pad('1st / 2nd / 3rd ms', 26)}${pad('disk MB', 10)}`);
    for (const r of rows) {
      const runs = (r.openRunsMs ?? []).map((x) => num(x)).join(' / ');
      lines.push(`  ${padEnd(r.engine, 15)}${pad(num(r.openMs ?? 0), 10)}${pad(runs, 26)}${pad(mb(r.diskBytes ?? 0), 10)}`);
    }
    for (const peer of peersOf(cmp)) {
      const o = cmp.find((c) => c.id === id && c.peer === peer && c.metric === 'open ms');
      const d = cmp.find((c) => c.id === id && c.peer === peer && c.metric === 'disk bytes');
      if (o && d) lines.push(`  ${padEnd(`ours/${peer}`, 15)}${pad(num(o.ratio) + 'x', 10)}${pad('', 26)}${pad(num(d.ratio) + 'x', 10)}`);
    }
    return lines;
  }
  const head = ['ops/s', 'ops/cpu-s', 'MB/s', 'p50 µs', 'p99 µs', 'p99.9 µs', 'max µs', 'loop p99', 'loop max', 'w-amp', 'io w-amp', 'stall ms', 'secs'];
  const width = (i: number): number => (i < 2 ? 11 : 9);
  lines.push(`  ${padEnd('engine', 19)}${head.map((h, i) => pad(h, width(i))).join('')}`);
  for (const r of rows) {
    const l = r.latencyUs;
    const cells = [
      int(r.opsPerSec), int(r.opsPerCpuSec), num(r.mbPerSec), num(l.p50), num(l.p99), num(l.p999), num(l.max),
      r.eventLoopDelayMs ? num(r.eventLoopDelayMs.p99) : '-', r.eventLoopDelayMs ? num(r.eventLoopDelayMs.max) : '-',
      r.writeAmp !== undefined ? num(r.writeAmp) : '-',
      r.ioWriteAmp !== undefined ? num(r.ioWriteAmp) : '-',
      r.stallMs !== undefined ? int(r.stallMs) : '-',
      num(r.seconds),
    ];
    lines.push(`  ${padEnd(r.engine, 19)}${cells.map((c, i) => pad(c, width(i))).join('')}`);
  }
  for (const peer of peersOf(cmp)) {
    const c = cmp.find((x) => x.id === id && x.peer === peer && x.metric === 'ops/s');
    const cc = cmp.find((x) => x.id === id && x.peer === peer && x.metric === 'ops/cpu-s');
    if (c && cc) lines.push(`  ${padEnd(`ours/${peer}`, 19)}${pad(num(c.ratio) + 'x', 11)}${pad(num(cc.ratio) + 'x', 11)}`);
  }
  for (const r of rows) {
    if (r.figures?.length) lines.push(`  ${padEnd(r.engine, 19)}${r.figures.map((f) => `${f.label} ${num(f.value)} ${f.unit}`).join('; ')}`);
  }
  return lines;
}

/** The markdown summary: one row per workload, ours beside each peer, and a ratio column per peer. */
export function summaryMarkdown(report: BenchReport): string {
  const engines = report.engines.filter((e) => e.available);
  const names = engines.map((e) => e.engine);
  const peers = peersOf(report.comparisons);
  const lines = [
    `| workload | metric | ${names.join(' | ')}${peers.map((p) => ` | ours / ${p}`).join('')} |`,
    `|---|---|${names.map(() => '---:|').join('')}${peers.map(() => '---:|').join('')}`,
  ];
  const ids = [...new Set(engines.flatMap((e) => e.results.map((r) => r.id)))];
  const row = (id: string, label: string, metric: string, vals: (number | undefined)[], fmt: (x: number) => string, key?: string): void => {
    const cells = vals.map((v) => (v === undefined ? '-' : fmt(v)));
    const ratios = peers.map((p) => {
      const c = key ? report.comparisons.find((x) => x.id === id && x.peer === p && x.metric === key) : undefined;
      return ` | ${c ? num(c.ratio) + 'x' : '-'}`;
    });
    lines.push(`| ${label} | ${metric} | ${cells.join(' | ')}${ratios.join('')} |`);
  };
  for (const id of ids) {
    const rs = engines.map((e) => e.results.find((r) => r.id === id));
    if (rs.find((r) => r)?.workload === 'open') {
      row(id, id, 'open ms', rs.map((r) => r?.openMs), num, 'open ms');
      row(id, 'disk size', 'MB after close', rs.map((r) => r?.diskBytes), (x) => mb(x), 'disk bytes');
    } else {
      row(id, id, 'ops/s', rs.map((r) => r?.opsPerSec), int, 'ops/s');
      row(id, '', 'ops/cpu-s', rs.map((r) => r?.opsPerCpuSec), int, 'ops/cpu-s');
      row(id, '', 'p99 µs', rs.map((r) => r?.latencyUs.p99), num);
      const labels = [...new Set(rs.flatMap((r) => (r?.figures ?? []).map((f) => `${f.label} ${f.unit}`)))];
      for (const l of labels) row(id, '', l, rs.map((r) => r?.figures?.find((f) => `${f.label} ${f.unit}` === l)?.value), num);
      lines.push(`| | loop p99 / max ms | ${rs.map((r) => (r?.eventLoopDelayMs ? `${num(r.eventLoopDelayMs.p99)} / ${num(r.eventLoopDelayMs.max)}` : '-')).join(' | ')}${peers.map(() => ' | -').join('')} |`);
    }
  }
  lines.push(`| peak RSS | MB | ${engines.map((e) => (e.peakRssBytes ? mb(e.peakRssBytes) : '-')).join(' | ')}${peers.map(() => ' | -').join('')} |`);
  return lines.join('\n');
}

export function formatReport(report: BenchReport): string {
  const c = report.config;
  const m = report.machine;
  const out = [
    `stratadb bench  ${report.date}  Node ${m.node}, ${m.cpus} CPUs (${m.cpuModel}), ${m.platform}`,
    `num ${int(c.num)}  reads ${int(c.reads)}  keys ${c.keySize} B  values ${c.valueSize} B (half compressible)  seed ${c.seed}`,
  ];
  for (const e of report.engines) {
    const opts = Object.keys(e.appliedOptions).length ? JSON.stringify(e.appliedOptions) : 'defaults';
    out.push(e.available
      ? `engine ${e.engine} ${e.version}: options ${opts}${e.peakRssBytes ? `, peak RSS ${mb(e.peakRssBytes)} MB` : ''}${e.error ? `; FAILED: ${e.error}` : ''}`
      : `engine ${e.engine}: not available, comparison skipped (${e.error ?? 'unknown reason'})`);
  }
  out.push('');
  const engines = report.engines.filter((e) => e.available);
  const ids = [...new Set(engines.flatMap((e) => e.results.map((r) => r.id)))];
  for (const id of ids) {
    const rows = engines.map((e) => e.results.find((r) => r.id === id)).filter((r): r is WorkloadResult => !!r);
    out.push(...workloadTable(id, rows, report.comparisons), '');
  }
  out.push('ops/cpu-s: entries per second of CPU time used by the whole engine process (all threads);',
    'w-amp: bytes the engine wrote (WAL + flush + compaction) / user bytes, from db.stats();',
    'io w-amp: the process\'s write_bytes (/proc/<pid>/io) / user bytes, measured outside the engine;',
    'loop p99/max: event-loop delay in ms during the timed part (monitorEventLoopDelay, 1 ms resolution).', '');
  out.push('Summary', '', summaryMarkdown(report));
  return out.join('\n');
}
