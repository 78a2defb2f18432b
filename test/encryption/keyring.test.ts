/**
 * KeyRing (src/encryption/keyring.ts, issue #9), the engine's view of the user's KeyProvider. Proves:
 * sync and async providers both work; the provider is asked once per key id and the key is cached;
 * a provider failure (throws, rejects, returns nothing, or a key of the wrong size) and a failing
 * currentKeyId() are ERR_INVALID_ARGUMENT naming the key id (and the file that needs it), never the
 * key, and are not cached; the ring keeps its own copy of each key (a provider zeroing its buffer
 * does not break it); fromKeys/snapshot/newFileCipher work; JSON.stringify(ring) prints no key.
 */
import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { FileCipher, FileKind, type KeyProvider } from '../../src/encryption/file-cipher.js';
import { KeyRing } from '../../src/encryption/keyring.js';
import { StrataError } from '../../src/errors.js';

const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
const key = (fill: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (fill + i * 7) & 0xff);
const K1 = key(0x11);
const K2 = key(0x22);

/** A provider over a map that counts getKey calls per id; `async` answers through a Promise. */
function counting(keys: Record<string, Uint8Array | undefined>, current = 'k1', async = false): KeyProvider & { calls: Map<string, number> } {
  const calls = new Map<string, number>();
  return {
    calls,
    currentKeyId: () => current,
    getKey: (id) => {
      calls.set(id, (calls.get(id) ?? 0) + 1);
      const k = keys[id];
      if (!k) throw new Error(`unknown key ${id}`);
      return async ? new Promise<Uint8Array>((resolve) => setImmediate(() => resolve(k))) : k;
    },
  };
}

async function rejection(p: Promise<unknown>): Promise<StrataError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StrataError);
    return e as StrataError;
  }
  throw new Error('expected a rejection');
}

function throwing(fn: () => unknown): StrataError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StrataError);
    return e as StrataError;
  }
  throw new Error('expected a throw');
}

function expectNoKeyIn(text: string, ...keys: Uint8Array[]): void {
  for (const k of keys) {
    expect(text.toLowerCase()).not.toContain(hex(k));
    expect(text).not.toContain(Buffer.from(k).toString('base64'));
    // Decimal bytes, as util.inspect prints a Uint8Array (whitespace and line breaks removed).
    expect(text.replace(/\s+/g, '')).not.toContain(Array.from(k).slice(0, 12).join(','));
  }
}

describe('KeyRing', () => {
  for (const async of [false, true]) {
    it(`resolves keys from a ${async ? 'n async' : ' sync'} provider and asks once per id`, async () => {
      const p = counting({ k1: K1, k2: K2 }, 'k1', async);
      const ring = new KeyRing(p);
      expect(ring.currentKeyId()).toBe('k1');
      expect(hex(await ring.keyFor('k1', '000001.sst'))).toBe(hex(K1));
      expect(hex(await ring.keyFor('k1', '000002.sst'))).toBe(hex(K1));
      expect(hex(await ring.keyFor('k2'))).toBe(hex(K2));
      for (let i = 0; i < 10; i++) await ring.keyFor(i % 2 ? 'k1' : 'k2');
      expect(Object.fromEntries(p.calls)).toEqual({ k1: 1, k2: 1 });
      expect(ring.resolvedIds().sort()).toEqual(['k1', 'k2']);
      expect(hex(ring.resolved('k2')!)).toBe(hex(K2));
      expect(ring.resolved('k3')).toBeUndefined();
    });
  }

  // Callers asking for one id at once (a DB open opening many files) share one provider call.
  it('asks an async provider once per id even when callers ask at the same time', async () => {
    const p = counting({ k1: K1 }, 'k1', true);
    const ring = new KeyRing(p);
    const got = await Promise.all([ring.keyFor('k1', 'a.sst'), ring.keyFor('k1', 'b.sst'), ring.keyFor('k1', 'c.log')]);
    for (const k of got) expect(hex(k)).toBe(hex(K1));
    expect(p.calls.get('k1')).toBe(1);
  });

  it('a provider that throws, rejects or returns undefined is ERR_INVALID_ARGUMENT naming the id and the file', async () => {
    const providers: KeyProvider[] = [
      { currentKeyId: () => 'k1', getKey: (id) => { throw new Error(`no such key ${id}`); } },
      { currentKeyId: () => 'k1', getKey: async (id) => { throw new Error(`KMS says no to ${id}`); } },
      { currentKeyId: () => 'k1', getKey: () => undefined as unknown as Uint8Array },
      { currentKeyId: () => 'k1', getKey: async () => undefined as unknown as Uint8Array },
      { currentKeyId: () => 'k1', getKey: () => 'not bytes' as unknown as Uint8Array },
    ];
    for (const p of providers) {
      const e = await rejection(new KeyRing(p).keyFor('missing-key-7', '000012.sst'));
      expect(e.code).toBe('ERR_INVALID_ARGUMENT');
      expect(e.message).toContain('"missing-key-7"');
      expect(e.message).toContain('000012.sst');
    }
    // The provider's own error is kept as the cause.
    const cause = new Error('boom');
    const e = await rejection(new KeyRing({ currentKeyId: () => 'k1', getKey: () => { throw cause; } }).keyFor('x'));
    expect(e.cause).toBe(cause);
    expect(e.message).toContain('boom');
  });

  it('a provider that throws a non-Error is still ERR_INVALID_ARGUMENT naming the id', async () => {
    const e = await rejection(new KeyRing({ currentKeyId: () => 'k1', getKey: () => { throw 'plain string'; } }).keyFor('k9'));
    expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e.message).toContain('"k9"');
  });

  it('a key of the wrong size is ERR_INVALID_ARGUMENT naming the id and both sizes, not the key', async () => {
    for (const n of [0, 16, 31, 33, 64]) {
      const bad = Uint8Array.from({ length: n }, (_, i) => (0x5c + i * 13) & 0xff);
      const p = counting({ big: bad });
      const ring = new KeyRing(p);
      const e = await rejection(ring.keyFor('big', 'MANIFEST-000003'));
      expect(e.code).toBe('ERR_INVALID_ARGUMENT');
      expect(e.message).toContain('"big"');
      expect(e.message).toContain(`${n} bytes`);
      expect(e.message).toContain('32');
      expect(e.message).toContain('MANIFEST-000003');
      if (n > 0) expectNoKeyIn(`${e.message} ${e.stack}`, bad);
      expect(ring.resolvedIds()).toEqual([]);
    }
  });

  it('a failure is not cached: the next call asks again and can succeed', async () => {
    let fail = true;
    let calls = 0;
    const ring = new KeyRing({
      currentKeyId: () => 'k1',
      getKey: async () => { calls++; if (fail) throw new Error('KMS unreachable'); return K1; },
    });
    expect((await rejection(ring.keyFor('k1'))).code).toBe('ERR_INVALID_ARGUMENT');
    fail = false;
    expect(hex(await ring.keyFor('k1'))).toBe(hex(K1));
    await ring.keyFor('k1');
    expect(calls).toBe(2);
  });

  it('currentKeyId() throwing or returning a bad id is ERR_INVALID_ARGUMENT', async () => {
    const cause = new Error('config file unreadable');
    const ring = new KeyRing({ currentKeyId: () => { throw cause; }, getKey: () => K1 });
    const e = throwing(() => ring.currentKeyId());
    expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e.message).toContain('currentKeyId()');
    expect(e.message).toContain('config file unreadable');
    expect(e.cause).toBe(cause);
    // newFileCipher rejects (it is async), newFileCipherSync throws.
    expect((await rejection(ring.newFileCipher(FileKind.WAL))).code).toBe('ERR_INVALID_ARGUMENT');
    expect(throwing(() => ring.newFileCipherSync(FileKind.WAL)).code).toBe('ERR_INVALID_ARGUMENT');
    for (const bad of ['', 42, undefined, 'x'.repeat(256)]) {
      const r = new KeyRing({ currentKeyId: () => bad as string, getKey: () => K1 });
      expect(throwing(() => r.currentKeyId()).code).toBe('ERR_INVALID_ARGUMENT');
    }
  });

  it('asks currentKeyId() every time (rotation is the provider\'s word)', async () => {
    let current = 'k1';
    const p = counting({ k1: K1, k2: K2 });
    const ring = new KeyRing({ currentKeyId: () => current, getKey: p.getKey });
    expect((await ring.newFileCipher(FileKind.TABLE)).keyId).toBe('k1');
    current = 'k2';
    expect(ring.currentKeyId()).toBe('k2');
    expect(ring.newFileCipherSync(FileKind.TABLE)).toBeUndefined(); // k2 not resolved yet
    const c = await ring.newFileCipher(FileKind.TABLE);
    expect(c.keyId).toBe('k2');
    expect(ring.newFileCipherSync(FileKind.TABLE)!.keyId).toBe('k2');
    // A cipher made through the ring opens with the provider's key.
    const sealed = c.seal(3, [Uint8Array.of(1, 2, 3)]);
    expect([...FileCipher.forHeader(c.header, K2).open(3, sealed, 'f', 0)]).toEqual([1, 2, 3]);
  });

  it('keeps its own copy: a provider zeroing or reusing its buffer afterwards changes nothing', async () => {
    const scratch = Uint8Array.from(K1);
    const ring = new KeyRing({ currentKeyId: () => 'k1', getKey: async () => scratch });
    const got = await ring.keyFor('k1');
    const c = await ring.newFileCipher(FileKind.WAL);
    const sealed = c.seal(0, [Uint8Array.of(9, 9)]);
    scratch.fill(0);
    expect(hex(got)).toBe(hex(K1));
    expect(hex((await ring.keyFor('k1')))).toBe(hex(K1));
    expect(got).not.toBe(scratch);
    // A new file made after the zeroing still uses the real key.
    const c2 = ring.newFileCipherSync(FileKind.WAL)!;
    const sealed2 = c2.seal(0, [Uint8Array.of(7)]);
    expect([...FileCipher.forHeader(c.header, K1).open(0, sealed, 'w', 0)]).toEqual([9, 9]);
    expect([...FileCipher.forHeader(c2.header, K1).open(0, sealed2, 'w', 0)]).toEqual([7]);
  });

  it('fromKeys: a worker\'s ring serves the keys it was handed and names an id it was not', async () => {
    const main = new KeyRing(counting({ k1: K1, k2: K2 }));
    await main.keyFor('k1');
    await main.keyFor('k2');
    const snap = main.snapshot(['k2', 'k3']);
    expect([...snap.keys()]).toEqual(['k2']);
    const worker = KeyRing.fromKeys('k2', snap, true);
    expect(worker.allowPlaintext).toBe(true);
    expect(worker.currentKeyId()).toBe('k2');
    expect(hex(await worker.keyFor('k2'))).toBe(hex(K2));
    expect(worker.newFileCipherSync(FileKind.TABLE)!.keyId).toBe('k2');
    const e = await rejection(worker.keyFor('k1', '000077.sst'));
    expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e.message).toContain('"k1"');
  });

  it('allowPlaintext defaults to false', () => {
    expect(new KeyRing(counting({})).allowPlaintext).toBe(false);
    expect(new KeyRing(counting({}), true).allowPlaintext).toBe(true);
  });

  it('JSON.stringify prints no key, alone or inside another object', async () => {
    const ring = new KeyRing(counting({ k1: K1, k2: K2 }));
    await ring.keyFor('k1');
    await ring.keyFor('k2');
    expect(JSON.stringify(ring)).toBe('"[KeyRing]"');
    const text = JSON.stringify({ options: { encryption: { ring } }, list: [ring] });
    expectNoKeyIn(text, K1, K2);
  });

  // A debug log of an options object or an error holding a ring must not leak keys.
  it('util.inspect (console.log) prints no key', async () => {
    const ring = new KeyRing(counting({ k1: K1 }));
    await ring.keyFor('k1');
    expectNoKeyIn(inspect(ring, { depth: 10, maxArrayLength: 1000 }), K1);
    expectNoKeyIn(inspect({ nested: { ring } }, { depth: 10, maxArrayLength: 1000 }), K1);
  });
});
