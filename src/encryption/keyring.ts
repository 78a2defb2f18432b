/**
 * KeyRing: the engine's view of the user's KeyProvider (issue #9). It asks the provider once per key
 * id and keeps the 32-byte keys it was given (the provider may be a remote KMS: one round trip per
 * id, not per file), checks their size, and turns a provider failure into an error that says which
 * key id is needed and why, never what a key is. Key material never leaves this object except into
 * FileCipher (and, as plain bytes, to compaction workers through a structured clone in-process).
 * Low-level code, beside file-cipher.ts (sstable/ and compaction/ take one).
 */
import { FileCipher, KEY_SIZE, checkKeyId, type FileKindValue, type KeyProvider, type KeyResolver } from './file-cipher.js';
import { inspect } from 'node:util';
import { InvalidArgumentError, StrataError } from '../errors.js';

export class KeyRing implements KeyResolver {
  private readonly keys = new Map<string, Uint8Array>();
  /** Lookups in flight: callers asking for the same id at once share one provider call. */
  private readonly pending = new Map<string, Promise<Uint8Array>>();

  /** `allowPlaintext`: readers also accept files written without encryption. */
  constructor(private readonly provider: KeyProvider, readonly allowPlaintext = false) {}

  /** A ring over keys already resolved (a compaction worker's copy). */
  static fromKeys(current: string, keys: ReadonlyMap<string, Uint8Array>, allowPlaintext = false): KeyRing {
    const r = new KeyRing({
      currentKeyId: () => current,
      getKey: (id) => {
        const k = keys.get(id);
        if (!k) throw new InvalidArgumentError(`key id ${JSON.stringify(id)} was not handed to this worker`);
        return k;
      },
    }, allowPlaintext);
    for (const [id, k] of keys) r.keys.set(id, k);
    return r;
  }

  /** The key id new files use now (asked of the provider each time: rotation is the provider's word). */
  currentKeyId(): string {
    let id: unknown;
    try {
      id = this.provider.currentKeyId();
    } catch (e) {
      throw new InvalidArgumentError(`the encryption key provider's currentKeyId() failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    return checkKeyId(id);
  }

  /** The key of `id`; rejects with ERR_INVALID_ARGUMENT naming the id (and the file that needs it). */
  keyFor(id: string, fileName?: string): Promise<Uint8Array> {
    const have = this.keys.get(id);
    if (have) return Promise.resolve(have);
    let p = this.pending.get(id);
    if (!p) {
      p = this.fetch(id, fileName).finally(() => this.pending.delete(id));
      this.pending.set(id, p);
    }
    return p;
  }

  private async fetch(id: string, fileName: string | undefined): Promise<Uint8Array> {
    const where = fileName ? ` (needed by ${fileName})` : '';
    let k: unknown;
    try {
      k = await this.provider.getKey(id);
    } catch (e) {
      if (e instanceof StrataError && /key id/.test(e.message)) throw e;
      throw new InvalidArgumentError(`encryption key id ${JSON.stringify(id)} is not available from the key provider${where}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    if (!(k instanceof Uint8Array)) throw new InvalidArgumentError(`the key provider returned no key for key id ${JSON.stringify(id)}${where}`);
    if (k.length !== KEY_SIZE) throw new InvalidArgumentError(`the key provider returned ${k.length} bytes for key id ${JSON.stringify(id)}, expected ${KEY_SIZE}${where}`);
    const own = new Uint8Array(k); // the provider may reuse or zero its buffer
    this.keys.set(id, own);
    return own;
  }

  /** A key already resolved, or undefined (synchronous paths). */
  resolved(id: string): Uint8Array | undefined {
    return this.keys.get(id);
  }

  /** Ids of the keys resolved so far. */
  resolvedIds(): string[] { return [...this.keys.keys()]; }

  /** The resolved keys (for handing to a compaction worker). */
  snapshot(ids: Iterable<string>): Map<string, Uint8Array> {
    const m = new Map<string, Uint8Array>();
    for (const id of ids) {
      const k = this.keys.get(id);
      if (k) m.set(id, k);
    }
    return m;
  }

  /** A cipher for a new file under the current key. */
  async newFileCipher(kind: FileKindValue): Promise<FileCipher> {
    const id = this.currentKeyId();
    return FileCipher.create(kind, id, await this.keyFor(id));
  }

  /** Synchronous twin of newFileCipher() when the current key is resolved; undefined otherwise. */
  newFileCipherSync(kind: FileKindValue): FileCipher | undefined {
    const id = this.currentKeyId();
    const k = this.keys.get(id);
    return k ? FileCipher.create(kind, id, k) : undefined;
  }

  /** Never print keys: not as JSON, not through console.log / util.inspect. */
  toJSON(): string { return '[KeyRing]'; }
  [inspect.custom](): string { return `[KeyRing: ${this.keys.size} key id(s)]`; }
}
