/**
 * How `stratadb sst-dump` shows a table: properties, blocks grouped by kind (count, stored and raw
 * bytes, compression ratio), every block on request, and one entry per line for --scan; as text or
 * as JSON-ready objects.
 * Keys of engine tables are internal keys and show as `'user key'@seq:kind` (the MANIFEST dump's
 * notation); keys of bare library tables show as printable text or 0x-hex.
 * Pure functions over a TableLayout from sstable/index.ts; no I/O (tools/commands/sst-dump.ts reads).
 */
import { inspect } from '../src/index.js';
import { BLOCK_TRAILER_SIZE, formatUniqueId, type TableLayout, type TableProperties } from '../sstable/index.js';
import { isoTime, printable, ratio, table, toHex } from './format.js';

/** How a key of this table is printed in text. */
export function keyFormatter(isEngine: boolean): (key: Uint8Array) => string {
  if (!isEngine) return (k) => printable(k);
  return (k) => {
    const p = inspect.parseInternalKey(k);
    return p ? `'${printable(p.userKey)}'@${p.seq}:${p.kind}` : `<bad internal key 0x${toHex(k)}>`;
  };
}

/** A key as JSON: the user key (printable or 0x-hex) and its hex, plus seq and type for engine keys. */
export function keyJson(key: Uint8Array, isEngine: boolean): Record<string, string | number> {
  const p = isEngine ? inspect.parseInternalKey(key) : undefined;
  if (!p) return { key: printable(key), keyHex: toHex(key) };
  return { key: printable(p.userKey), keyHex: toHex(p.userKey), seq: p.seq, type: p.kind };
}

/** One --scan line: `'apple'@5 put => 'red'`, `'pear'@9 del`, or `'apple' => 'red'` for library tables. */
export function entryLine(key: Uint8Array, value: Uint8Array, isEngine: boolean): string {
  const show = (b: Uint8Array, max = Infinity): string => {
    const s = printable(b, max);
    return s.startsWith('0x') ? s : `'${s}'`;
  };
  const p = isEngine ? inspect.parseInternalKey(key) : undefined;
  if (!p) return `${show(key)} => ${show(value, 100)}`;
  const head = `${show(p.userKey)}@${p.seq} ${p.kind}`;
  return p.kind === 'del' ? head : `${head} => ${show(value, 100)}`;
}

interface KindSummary { kind: string; count: number; storedBytes: number; rawBytes: number; ratio: number | null }

/** Blocks grouped by kind in file order of first appearance, then a total; storedBytes include trailers. */
export function summarizeBlocks(layout: TableLayout): KindSummary[] {
  const byKind = new Map<string, KindSummary>();
  const total: KindSummary = { kind: 'total', count: 0, storedBytes: 0, rawBytes: 0, ratio: null };
  let payloadTotal = 0;
  const payload = new Map<string, number>();
  for (const b of layout.blocks) {
    let s = byKind.get(b.kind);
    if (!s) { s = { kind: b.kind, count: 0, storedBytes: 0, rawBytes: 0, ratio: null }; byKind.set(b.kind, s); }
    const onDisk = b.storedSize + (b.kind === 'footer' ? 0 : BLOCK_TRAILER_SIZE);
    for (const t of [s, total]) { t.count++; t.storedBytes += onDisk; t.rawBytes += b.rawSize; }
    // The ratio compares block contents (raw / stored), trailers aside: what compression achieved.
    payload.set(b.kind, (payload.get(b.kind) ?? 0) + b.storedSize);
    payloadTotal += b.storedSize;
  }
  for (const s of byKind.values()) {
    const p = payload.get(s.kind) ?? 0;
    s.ratio = p > 0 ? Math.round((s.rawBytes / p) * 100) / 100 : null;
  }
  total.ratio = payloadTotal > 0 ? Math.round((total.rawBytes / payloadTotal) * 100) / 100 : null;
  return [...byKind.values(), total];
}

/** Properties in reading order (what, how big, which keys, how it was built); unknown names follow. */
const PROPERTY_ORDER: ReadonlyArray<keyof TableProperties> = [
  'formatVersion', 'comparatorName', 'numEntries', 'numDeletions', 'numRangeDeletions', 'rawKeyBytes', 'rawValueBytes',
  'numDataBlocks', 'dataSize', 'indexSize', 'filterSize', 'smallestKey', 'largestKey', 'smallestSeq', 'largestSeq',
  'compression', 'filterPolicy', 'bloomBitsPerKey', 'filterPrefixLength', 'blockSize', 'blockRestartInterval', 'creationTimeMs',
];

function orderedProperties(p: TableProperties): Array<[string, unknown]> {
  const all = Object.entries(p);
  const rank = (k: string): number => {
    const i = PROPERTY_ORDER.indexOf(k as keyof TableProperties);
    return i < 0 ? PROPERTY_ORDER.length : i;
  };
  return all.sort((a, b) => rank(a[0]) - rank(b[0]));
}

function propertyText(name: string, v: unknown, fk: (k: Uint8Array) => string): string {
  if (name === 'uniqueId' && v instanceof Uint8Array) return formatUniqueId(v);
  if (v instanceof Uint8Array) return fk(v);
  if (v === undefined || v === '') return '-';
  if (name === 'creationTimeMs' && typeof v === 'number' && v > 0) return `${v} (${isoTime(v)})`;
  return String(v);
}

/** The default sst-dump text: a heading, the properties, and the blocks grouped by kind. */
export function layoutText(layout: TableLayout, isEngine: boolean, listBlocks: boolean): string[] {
  const fk = keyFormatter(isEngine);
  const lines = [
    `table ${layout.fileName}`,
    `  ${layout.fileSize} bytes, format ${layout.formatVersion}${layout.keyId !== undefined ? ` (encrypted, key id ${JSON.stringify(layout.keyId)})` : ''}, ${layout.blocks.length} blocks, ` +
      (isEngine ? 'engine table (internal keys: user key @ sequence : kind)' : 'library table (bytewise keys)'),
    '',
    'properties',
  ];
  const props = orderedProperties(layout.properties);
  const width = Math.max(...props.map(([k]) => k.length));
  for (const [k, v] of props) lines.push(`  ${k.padEnd(width)}  ${propertyText(k, v, fk)}`);
  lines.push('', 'blocks');
  const rows = [['kind', 'count', 'stored', 'raw', 'ratio']];
  for (const s of summarizeBlocks(layout)) {
    rows.push([s.kind, String(s.count), String(s.storedBytes), String(s.rawBytes), s.ratio === null ? '-' : s.ratio.toFixed(2)]);
  }
  lines.push(...table(rows, new Set([1, 2, 3, 4])).map((l) => `  ${l}`));
  if (listBlocks) {
    lines.push('', 'every block (stored bytes exclude the 5-byte trailer)');
    const all = [['offset', 'kind', 'stored', 'raw', 'ratio', 'compression', 'entries', 'keys']];
    for (const b of layout.blocks) {
      const keys = b.firstKey && b.lastKey ? `${fk(b.firstKey)} .. ${fk(b.lastKey)}` : b.name ?? '';
      all.push([String(b.offset), b.kind, String(b.storedSize), String(b.rawSize), ratio(b.rawSize, b.storedSize),
        b.compression, b.entries === undefined ? '-' : String(b.entries), keys]);
    }
    lines.push(...table(all, new Set([0, 2, 3, 4, 6])).map((l) => `  ${l}`));
  }
  return lines;
}

/** The default sst-dump --json document. */
export function layoutJson(layout: TableLayout, isEngine: boolean): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [k, v] of orderedProperties(layout.properties)) {
    properties[k] = k === 'uniqueId' && v instanceof Uint8Array ? formatUniqueId(v)
      : v instanceof Uint8Array ? keyJson(v, isEngine) : v ?? null;
  }
  return {
    file: layout.fileName,
    fileSize: layout.fileSize,
    formatVersion: layout.formatVersion,
    keys: isEngine ? 'internal' : 'bytewise',
    properties,
    summary: summarizeBlocks(layout),
    blocks: layout.blocks.map((b) => ({
      kind: b.kind, offset: b.offset, storedSize: b.storedSize, rawSize: b.rawSize, compression: b.compression,
      entries: b.entries ?? null,
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.firstKey ? { firstKey: keyJson(b.firstKey, isEngine) } : {}),
      ...(b.lastKey ? { lastKey: keyJson(b.lastKey, isEngine) } : {}),
    })),
  };
}
