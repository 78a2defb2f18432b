/**
 * Worker-thread entry for compactions (started by WorkerExecutor from the compiled dist/ build).
 * Receives a plan as plain data, runs runner.ts on the real file system, asks the main thread for
 * each output's file number, and posts back the outputs' metadata or a transferable error.
 * It posts 'ready' first: the executor treats a death before that as a failure to start (the
 * script or one of its imports missing), which it may recover from by running the job inline.
 */
import { parentPort } from 'node:worker_threads';
import { NodeFileSystem } from '../src/fs/node-fs.js';
import { runCompaction } from './runner.js';
import { toTransferable } from './errors-transfer.js';
import type { CompactionOutputOptions, CompactionPlan } from './plan.js';

interface RunMessage { type: 'run'; dir: string; plan: CompactionPlan; snapshots: number[]; options: CompactionOutputOptions }
interface AllocReply { type: 'alloc'; reqId: number; number: number }

const port = parentPort;
if (port) {
  const fs = new NodeFileSystem();
  const pending = new Map<number, (n: number) => void>();
  let nextReq = 1;
  port.on('message', (m: RunMessage | AllocReply) => {
    if (m.type === 'alloc') {
      pending.get(m.reqId)?.(m.number);
      pending.delete(m.reqId);
      return;
    }
    const allocateFileNumber = (): Promise<number> => new Promise((resolve) => {
      const reqId = nextReq++;
      pending.set(reqId, resolve);
      port.postMessage({ type: 'alloc', reqId });
    });
    runCompaction({ fs, dir: m.dir, allocateFileNumber }, m.plan, m.snapshots, m.options).then(
      (result) => port.postMessage({ type: 'done', result }),
      (e: unknown) => port.postMessage({ type: 'error', error: toTransferable(e) }),
    );
  });
  // Module code runs only after every import has loaded, so this also vouches for the imports.
  port.postMessage({ type: 'ready' });
}
