/**
 * ObsoleteFileScheduler: when passes run. schedule() never touches the host on the caller's turn,
 * requests coalesce, passes never overlap, collect() waits for a pass that started after it, failures
 * are logged, stop() ends it. The host is a fake whose listing can be held open by a gate.
 */
import { describe, expect, it } from 'vitest';
import { ObsoleteFileScheduler, type ObsoleteFileHost } from '../../src/engine/file-gc.js';

class FakeHost implements ObsoleteFileHost {
  passes = 0;
  concurrent = 0;
  maxConcurrent = 0;
  files = new Set<string>();
  removed: string[] = [];
  logged: string[] = [];
  failListing = false;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  private entered: (() => void) | undefined;

  /** The next listing waits until open() is called; resolves once a pass is inside it. */
  hold(): Promise<void> {
    this.gate = new Promise((resolve) => { this.openGate = resolve; });
    return new Promise((resolve) => { this.entered = resolve; });
  }

  open(): void {
    this.gate = undefined;
    this.openGate?.();
  }

  async obsoleteFiles(): Promise<string[]> {
    this.passes++;
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      this.entered?.();
      this.entered = undefined;
      if (this.gate) await this.gate;
      if (this.failListing) throw new Error('EIO listing');
      return [...this.files];
    } finally {
      this.concurrent--;
    }
  }

  async remove(name: string): Promise<void> {
    if (!this.files.delete(name)) throw new Error(`ENOENT ${name}`);
    this.removed.push(name);
  }

  log(message: string): void { this.logged.push(message); }
}

describe('ObsoleteFileScheduler', () => {
  it('schedule() does nothing on the caller\'s turn, and any number of requests make one pass', async () => {
    const host = new FakeHost();
    host.files.add('000001.sst');
    const gc = new ObsoleteFileScheduler(host);
    for (let i = 0; i < 1000; i++) gc.schedule();
    expect(host.passes).toBe(0);
    await gc.whenIdle();
    expect(host.passes).toBe(1);
    expect(host.removed).toEqual(['000001.sst']);
    await gc.stop();
  });

  it('requests during a pass make exactly one more pass, after it: passes never overlap', async () => {
    const host = new FakeHost();
    const gc = new ObsoleteFileScheduler(host);
    const inside = host.hold();
    gc.schedule();
    await inside;
    host.files.add('000002.sst'); // appears after the running pass listed the directory
    for (let i = 0; i < 50; i++) gc.schedule();
    const collected = gc.collect();
    host.open();
    await collected;
    expect(host.passes).toBe(2);
    expect(host.maxConcurrent).toBe(1);
    expect(host.removed).toEqual(['000002.sst']);
    await gc.whenIdle();
    expect(host.passes).toBe(2);
    await gc.stop();
  });

  it('collect() resolves only after a pass that started after the call', async () => {
    const host = new FakeHost();
    const gc = new ObsoleteFileScheduler(host);
    const inside = host.hold();
    const first = gc.collect();
    await inside;
    let isSecondDone = false;
    const second = gc.collect().then(() => { isSecondDone = true; });
    host.open();
    await first;
    expect(host.passes).toBeLessThanOrEqual(2);
    await second;
    expect(isSecondDone).toBe(true);
    expect(host.passes).toBe(2);
    await gc.stop();
  });

  it('a failed listing or deletion is logged; collect() still resolves and the next pass tries again', async () => {
    const host = new FakeHost();
    const gc = new ObsoleteFileScheduler(host);
    host.failListing = true;
    await gc.collect();
    expect(host.logged.join('\n')).toMatch(/EIO listing/);
    host.failListing = false;
    host.files.add('000003.sst');
    await gc.collect();
    expect(host.removed).toEqual(['000003.sst']);
    await gc.stop();
  });

  it('stop() waits for the running pass; afterwards nothing runs and collect() resolves at once', async () => {
    const host = new FakeHost();
    const gc = new ObsoleteFileScheduler(host);
    const inside = host.hold();
    const pending = gc.collect();
    await inside;
    gc.schedule();
    const stopped = gc.stop();
    host.open();
    await stopped;
    await pending;
    const passes = host.passes;
    gc.schedule();
    await gc.collect();
    await gc.whenIdle();
    expect(host.passes).toBe(passes);
    await gc.stop(); // idempotent
  });
});
