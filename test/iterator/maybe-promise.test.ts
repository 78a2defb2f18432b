import { describe, expect, it } from 'vitest';
import { runSteps, settleAll, type Steps } from '../../src/iterator/maybe-promise.js';

describe('runSteps', () => {
  it('runs synchronously, passing each yielded value back, when nothing is a Promise', () => {
    const seen: unknown[] = [];
    function* steps(): Steps {
      seen.push(yield 1);
      seen.push(yield undefined);
      seen.push(yield 'x');
    }
    expect(runSteps(steps())).toBeUndefined();
    expect(seen).toEqual([1, undefined, 'x']);
  });

  it('continues asynchronously after the first Promise, resolving values in order', async () => {
    const seen: unknown[] = [];
    function* steps(): Steps {
      seen.push(yield 1);
      seen.push(yield Promise.resolve(2));
      seen.push(yield 3);
      seen.push(yield Promise.resolve(4));
    }
    const r = runSteps(steps());
    expect(r).toBeInstanceOf(Promise);
    expect(seen).toEqual([1]);
    await r;
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('throws a rejection into the generator, so it can catch it or clean up', async () => {
    const log: string[] = [];
    function* caught(): Steps {
      try {
        yield Promise.reject(new Error('boom'));
      } catch (e) {
        log.push(`caught ${(e as Error).message}`);
      }
      yield Promise.resolve();
      log.push('after');
    }
    await runSteps(caught());
    function* cleanup(): Steps {
      try {
        yield Promise.resolve();
        yield Promise.reject(new Error('late'));
        log.push('never');
      } finally {
        log.push('finally');
      }
    }
    await expect(async () => runSteps(cleanup())).rejects.toThrow('late');
    function* syncThrow(): Steps {
      yield 1;
      throw new Error('sync');
    }
    expect(() => runSteps(syncThrow())).toThrow('sync');
    expect(log).toEqual(['caught boom', 'after', 'finally']);
  });
});

describe('settleAll', () => {
  it('waits for every promise before rethrowing the first failure', async () => {
    let isSlowDone = false;
    const slow = new Promise<void>((resolve) => setImmediate(() => { isSlowDone = true; resolve(); }));
    await expect(settleAll([Promise.reject(new Error('first')), slow, Promise.reject(new Error('second'))])).rejects.toThrow('first');
    expect(isSlowDone).toBe(true);
    await expect(settleAll([Promise.resolve(1), Promise.resolve(2)])).resolves.toBeUndefined();
  });
});
