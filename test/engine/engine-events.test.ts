/**
 * EngineEvents (src/engine/engine-events.ts) on a bare EventEmitter: nothing is listening before
 * attach() or after close(); beginJob() numbers jobs only when somebody listens; once() listeners
 * run once; a throwing listener does not stop the others and is re-emitted as 'error' on a later tick.
 */
import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { EngineEvents } from '../../src/engine/engine-events.js';

describe('EngineEvents', () => {
  it('listening, jobs, once, throwing listeners and close', async () => {
    const ev = new EngineEvents();
    const target = new EventEmitter();
    expect(ev.listening('flush')).toBe(false);
    ev.emit('close'); // nothing attached: a no-op
    ev.attach(target);
    expect(ev.listening('flush')).toBe(false);
    expect(ev.beginJob('flush')).toBeUndefined();
    const calls: string[] = [];
    target.once('stall', () => { calls.push('once'); });
    target.on('stall', () => { throw new Error('bad listener'); });
    target.on('stall', (e: { reason: string }) => { calls.push(e.reason); });
    const errors: unknown[] = [];
    const reported = new Promise<void>((resolve) => target.on('error', (e) => { errors.push(e); if (errors.length === 2) resolve(); }));
    expect(ev.listening('stall')).toBe(true);
    ev.emit('stall', { phase: 'begin', reason: 'l0-stop' });
    ev.emit('stall', { phase: 'end', reason: 'l0-stop', durationMs: 1 });
    expect(calls).toEqual(['once', 'l0-stop', 'l0-stop']);
    await reported; // one report per throw, begin and end
    expect(errors.map((e) => (e as Error).message)).toEqual(['bad listener', 'bad listener']);
    target.on('flush', () => undefined);
    const a = ev.beginJob('flush'), b = ev.beginJob('flush');
    expect(b!.jobId).toBe(a!.jobId + 1);
    let closed = 0;
    target.on('close', () => { closed++; });
    ev.close();
    ev.close();
    expect(closed).toBe(1);
    expect(ev.listening('flush')).toBe(false);
  });
});
