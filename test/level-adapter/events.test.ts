/**
 * StrataLevel and events: abstract-level's own ('opening', 'open', 'write', 'closing', 'closed') fire
 * as before; the engine's 'flush' (and 'compaction', 'stall', 'background-error') are re-emitted on
 * the level once it has a listener, including one added before open, and again after a reopen; the
 * engine's 'close' is not (abstract-level's 'closed' says it).
 */
import { describe, expect, it } from 'vitest';
import { StrataLevel } from '../../src/level-adapter/index.js';
import { MemFileSystem, type FlushEvent } from '../../src/index.js';

describe('StrataLevel events', () => {
  it("keeps abstract-level's events and forwards the engine's, across a reopen", async () => {
    const db = new StrataLevel<string, string>('/db', { compression: 'none', fs: new MemFileSystem() });
    const seen: string[] = [];
    for (const name of ['opening', 'open', 'write', 'closing', 'closed', 'close']) db.on(name, () => { seen.push(name); });
    db.on('flush', (e: FlushEvent) => { seen.push(`flush ${e.phase}`); });
    await db.open();
    await db.put('a', '1');
    await db.strata.flush();
    await db.close();
    // The flush at close has nothing left to write.
    expect(seen).toEqual(['opening', 'open', 'write', 'flush begin', 'flush end', 'closing', 'closed']);

    seen.length = 0;
    await db.open();
    const compactions: string[] = [];
    db.on('compaction', (e: { phase: string }) => { compactions.push(e.phase); });
    await db.put('b', '2');
    await db.strata.compactRange();
    await db.close();
    expect(seen).toEqual(['opening', 'open', 'write', 'flush begin', 'flush end', 'closing', 'closed']);
    expect(compactions.length).toBeGreaterThan(0);
    expect(compactions[0]).toBe('begin');
    expect(compactions.at(-1)).toBe('end');
  });
});
