/**
 * Small fakes shared by the engine unit tests (test/engine/): each engine file is tested alone behind
 * its narrow host, so these stand in for what the Engine would wire. A recording event log, options
 * with test-sized defaults, and RecordingFileSystem, which writes down every file operation in order
 * ("sync 000001.log", "append 000002.log") so a test can assert what happened before what.
 */
import * as path from 'node:path';
import type { FileSystem, WritableFile } from '../../src/fs/file-system.js';
import type { EventLog } from '../../src/engine/event-log.js';
import { validateOptions, type Options, type ResolvedOptions } from '../../src/options.js';
import { PassThroughFileSystem } from '../support/pass-through-fs.js';

/** An EventLog stand-in that keeps its lines. */
export interface RecordingLog extends EventLog { readonly lines: string[] }

export function recordingLog(): RecordingLog {
  const lines: string[] = [];
  return { lines, write: (line: string) => { lines.push(line); } } as unknown as RecordingLog;
}

/** Resolved options, with a small write buffer unless told otherwise. */
export function testOptions(o: Options = {}): ResolvedOptions {
  return validateOptions({ writeBufferSize: 4096, ...o });
}

/** Passes everything through and records file operations as "<op> <base name>", in order. */
export class RecordingFileSystem extends PassThroughFileSystem {
  readonly ops: string[] = [];

  constructor(inner: FileSystem) { super(inner); }

  protected override wrapWritable(p: string, f: WritableFile): WritableFile {
    const name = path.basename(p);
    this.ops.push(`open ${name}`);
    const ops = this.ops;
    return {
      get path() { return f.path; },
      get size() { return f.size; },
      append: (d) => { ops.push(`append ${name}`); f.append(d); },
      sync: async () => { ops.push(`sync ${name}`); await f.sync(); },
      close: async () => { ops.push(`close ${name}`); await f.close(); },
    };
  }

  override async link(a: string, b: string): Promise<void> {
    this.ops.push(`link ${path.basename(a)}`);
    return this.inner.link(a, b);
  }

  override async remove(p: string): Promise<void> {
    this.ops.push(`remove ${path.basename(p)}`);
    return this.inner.remove(p);
  }

  /** The index of the first op equal to `op`, or -1. */
  indexOf(op: string): number { return this.ops.indexOf(op); }
}

/** A promise with its resolve/reject outside, for a fake step the test completes when it chooses. */
export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}
