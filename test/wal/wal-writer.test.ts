import { describe, expect, it } from 'vitest';
import { ValueKind } from '../../src/base/internal-key.js';
import { IOError } from '../../src/errors.js';
import type { WritableFile } from '../../src/fs/file-system.js';
import { MemFileSystem } from '../../src/fs/mem-fs.js';
import { HEADER_SIZE } from '../../src/record/format.js';
import { RecordReader } from '../../src/record/record-reader.js';
import { WAL_HEADER_SIZE } from '../../src/wal/format.js';
import { WalGroupEncoder, decodeWalHeader, decodeWalRecord } from '../../src/wal/wal-record.js';
import { WalWriter } from '../../src/wal/wal-writer.js';

const enc = new TextEncoder();

function group(e: WalGroupEncoder, seq: number, key: string): Uint8Array {
  e.begin(seq, 1000 + seq, 1);
  e.addOp(ValueKind.Put, enc.encode(key), enc.encode(`v${seq}`));
  return e.finish();
}

describe('WalWriter', () => {
  it('writes the header record with the first group, and groups after it', async () => {
    const fs = new MemFileSystem();
    const w = new WalWriter(await fs.openWritable('/000004.log'), 4);
    expect(w.logNumber).toBe(4);
    expect(w.size).toBe(0); // nothing until the first group: an unused WAL stays empty
    const e = new WalGroupEncoder();
    const rec = group(e, 1, 'a');
    w.appendGroup(rec);
    expect(w.size).toBe(2 * HEADER_SIZE + WAL_HEADER_SIZE + rec.length);
    await w.sync();
    await w.close();
    const r = new RecordReader(await fs.readFile('/000004.log'), '000004.log');
    expect(decodeWalHeader(r.read()!, '000004.log', 0).logNumber).toBe(4);
    expect(decodeWalRecord(r.read()!, '000004.log', 0).firstSeq).toBe(1);
    expect(r.read()).toBeUndefined();
  });

  it('continues an existing WAL without a second header', async () => {
    const fs = new MemFileSystem();
    const e = new WalGroupEncoder();
    const w1 = new WalWriter(await fs.openWritable('/000004.log'), 4);
    w1.appendGroup(group(e, 1, 'a'));
    await w1.close();
    const w2 = new WalWriter(await fs.openWritable('/000004.log', { append: true }), 4);
    w2.appendGroup(group(e, 2, 'b'));
    await w2.close();
    const r = new RecordReader(await fs.readFile('/000004.log'), '000004.log');
    r.read();
    expect(decodeWalRecord(r.read()!, 'f', 0).firstSeq).toBe(1);
    expect(decodeWalRecord(r.read()!, 'f', 0).firstSeq).toBe(2);
    expect(r.read()).toBeUndefined();
  });

  it('throws IOError for a failed append and refuses every later one', async () => {
    const fs = new MemFileSystem();
    const file = await fs.openWritable('/000004.log');
    let failing = false;
    const faulty: WritableFile = {
      path: file.path,
      get size() { return file.size; },
      append(d) { if (failing) throw new IOError('injected EIO'); file.append(d); },
      sync: () => file.sync(),
      close: () => file.close(),
    };
    const w = new WalWriter(faulty, 4);
    const e = new WalGroupEncoder();
    failing = true; // the header's append fails first
    expect(() => w.appendGroup(group(e, 1, 'a'))).toThrow(/injected EIO/);
    failing = false;
    expect(() => w.appendGroup(group(e, 2, 'b'))).toThrow(IOError);
    expect(w.size).toBe(0);
  });
});
