/**
 * Worker-thread entry for block reads (started by BlockReadWorker from the compiled dist/ build): a
 * batch of cache misses arrives as one message of (id, path, offset, size) requests; each is read with
 * pread, its CRC checked and its payload decompressed here, off the main thread, and the decoded bytes
 * go back transferred (no copy). Anything this worker cannot do exactly as the main thread would (a
 * file that will not open, a short read, a bad CRC, a codec with no synchronous decoder) answers
 * "fallback": the main thread then reads the block itself and reports whatever it finds, with file and
 * offset, exactly as a synchronous miss does. So this file never decides an error and never a value
 * the main thread could not have read.
 * File descriptors are cached by path (a table's path names one immutable file: numbers are never
 * reused) and closed when the main thread says the table is gone, or when a read of them fails.
 * Posts 'ready' first, like the compaction worker: a death before it is a failure to start.
 */
import * as fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { getFixed32 } from '../src/base/coding.js';
import { crc32c, unmaskCrc } from '../src/base/crc32c.js';
import { decodeBlockSync } from './compression.js';
import { BLOCK_TRAILER_SIZE } from './format.js';

export interface BlockReadRequest { id: number; path: string; offset: number; size: number; verify: boolean }
/** Requests packed 4 numbers each (id, file id, offset, size): cheaper to clone than objects. */
export interface BlockReadBatch { type: 'read'; reqs: Float64Array; verify: boolean }
/** Names a file id (sent once, before its first request). */
export interface BlockFileName { type: 'file'; fileId: number; path: string }
export interface BlockForget { type: 'forget'; paths: string[] }
/** data undefined: read it on the main thread. */
export interface BlockReadReply { type: 'blocks'; ids: number[]; data: (Uint8Array | undefined)[] }

const REPLY_GROUP = Number(process.env.STRATA_REPLY_GROUP ?? 8);

const fds = new Map<string, number>();

function fdOf(path: string): number | undefined {
  let fd = fds.get(path);
  if (fd !== undefined) return fd;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return undefined;
  }
  fds.set(path, fd);
  return fd;
}

function forget(path: string): void {
  const fd = fds.get(path);
  if (fd === undefined) return;
  fds.delete(path);
  try { fs.closeSync(fd); } catch { /* already gone: nothing to release */ }
}

let scratch = new Uint8Array(64 * 1024);

/** The decoded block, or undefined for "let the main thread read it". */
function readBlock(r: BlockReadRequest): Uint8Array | undefined {
  const fd = fdOf(r.path);
  if (fd === undefined) return undefined;
  const n = r.size + BLOCK_TRAILER_SIZE;
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  const buf = scratch.subarray(0, n);
  try {
    let got = 0;
    while (got < n) {
      const k = fs.readSync(fd, buf, got, n - got, r.offset + got);
      if (k === 0) return undefined;
      got += k;
    }
    if (r.verify && unmaskCrc(getFixed32(buf, r.size + 1)) !== crc32c(buf.subarray(0, r.size + 1))) return undefined;
    const raw = decodeBlockSync(buf[r.size]!, buf.subarray(0, r.size), r.path, r.offset);
    if (raw === undefined) return undefined;
    // A stored (uncompressed) payload is a view of the scratch buffer: it leaves as its own copy.
    return raw.buffer === scratch.buffer ? raw.slice() : raw;
  } catch {
    forget(r.path);
    return undefined;
  }
}

const port = parentPort;
if (port) {
  const names = new Map<number, string>();
  port.on('message', (m: BlockReadBatch | BlockForget | BlockFileName) => {
    if (m.type === 'file') { names.set(m.fileId, m.path); return; }
    if (m.type === 'forget') {
      for (const p of m.paths) forget(p);
      return;
    }
    // Answers go back in small groups: the main thread finishes the first gets while this reads on.
    let ids: number[] = [];
    let data: (Uint8Array | undefined)[] = [];
    let transfer: ArrayBuffer[] = [];
    const q = m.reqs;
    for (let i = 0; i < q.length; i += 4) {
      const r: BlockReadRequest = { id: q[i]!, path: names.get(q[i + 1]!) ?? '', offset: q[i + 2]!, size: q[i + 3]!, verify: m.verify };
      const d = r.path === '' ? undefined : readBlock(r);
      ids.push(r.id);
      data.push(d);
      // Only a buffer the block owns whole can move; a view of a shared pool is copied by the clone.
      if (d !== undefined && d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer) {
        transfer.push(d.buffer);
      }
      if (ids.length >= REPLY_GROUP) {
        port.postMessage({ type: 'blocks', ids, data } satisfies BlockReadReply, transfer);
        ids = []; data = []; transfer = [];
      }
    }
    if (ids.length > 0) port.postMessage({ type: 'blocks', ids, data } satisfies BlockReadReply, transfer);
  });
  port.postMessage({ type: 'ready' });
}
