/**
 * The scale run's command line (bench/scale.ts): sizes such as 1g or 500m, the steps of user data,
 * the load mix, the engines, classic-level's time budget and StrataDB's memoryBudget. Pure, so that
 * test/bench/scale-args.test.ts checks what it accepts and refuses without loading anything.
 * Contract: parseScaleArgs throws an Error whose message names the flag and what it expected; an
 * unknown flag is refused, never ignored (a mistyped --step would otherwise run the 50 GiB default).
 * Not here: what fits on the disk and in the budget (scale-plan.ts), running (scale.ts).
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** How each step's new keys are written: fillbatch then fillrandom (half each), or one of them. */
export type LoadMode = 'mixed' | 'batch' | 'random';
export const LOAD_MODES: readonly LoadMode[] = ['mixed', 'batch', 'random'];
export const SCALE_ENGINES = ['stratadb', 'classic-level'] as const;
export type ScaleEngineName = (typeof SCALE_ENGINES)[number];

export interface ScaleConfig {
  /** Cumulative user bytes (keys + values of live keys) at the end of each step, increasing. */
  steps: number[];
  keySize: number;
  valueSize: number;
  load: LoadMode;
  /** Keys per fillbatch batch. */
  batchSize: number;
  /** Awaited operations in flight for fillrandom, readrandom and seekrandom. */
  concurrency: number;
  /** readrandom gets per step. */
  reads: number;
  /** seekrandom seeks (each seek + 10 next) per step. */
  seeks: number;
  engines: ScaleEngineName[];
  /** classic-level's whole run, in minutes: a step that would end past it is not started. */
  budgetMin: number;
  /** Passed to StrataDB as Options.memoryBudget when given (and when the option exists). */
  memoryBudget: number | undefined;
  /** More StrataDB options (--strata-options, a JSON object), e.g. {"partitionedMetadata":false}. */
  strataOptions: Record<string, unknown>;
  /** Disk a step may need, as a multiple of the user bytes at its end (scale-plan.ts). */
  spaceAllowance: number;
  seed: number;
  /** Parent directory of the databases (default: the OS temp directory). */
  dir: string | undefined;
  /** Where RESULTS-scale.md, the SVG files and the JSON go; '-' prints the markdown only. */
  out: string;
  /** Says which run this is in the report (e.g. "small check run"). */
  label: string;
  /** Redraw the report from a run's scale-results.json instead of running (the other flags are unused). */
  fromJson: string | undefined;
}

export const DEFAULT_STEPS = [1 * GiB, 5 * GiB, 10 * GiB, 50 * GiB];

/**
 * A byte count: digits with an optional fraction and an optional binary unit k, m, g or t (KiB, MiB,
 * GiB, TiB; a trailing b, ib or iB is accepted), e.g. 4096, 500m, 1.5g, 10GiB. Whole bytes result.
 */
export function parseBytes(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  const unit = m ? ' kmgt'.indexOf((m[2] || ' ').toLowerCase()) : -1;
  const n = m ? Math.round(Number(m[1]) * 1024 ** unit) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new Error(`${flag}: expected a positive byte count like 4096, 500m or 1.5g, got '${text}'`);
  }
  return n;
}

/** A comma list of sizes, each larger than the one before: the cumulative user data of each step. */
export function parseSteps(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new Error(`--steps: expected a comma list of sizes like 1g,5g,10g, got '${text}'`);
  const steps = parts.map((p) => parseBytes('--steps', p));
  for (let i = 1; i < steps.length; i++) {
    if (steps[i]! <= steps[i - 1]!) {
      throw new Error(`--steps: each step is the total data after it, so sizes must increase ('${parts[i]}' after '${parts[i - 1]}')`);
    }
  }
  return steps;
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${flag}: expected a positive integer, got '${text}'`);
  return n;
}

function positiveNumber(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: expected a positive number, got '${text}'`);
  return n;
}

function engines(text: string): ScaleEngineName[] {
  const out: ScaleEngineName[] = [];
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (!(SCALE_ENGINES as readonly string[]).includes(name)) {
      throw new Error(`--engines: unknown engine '${name}' (known: ${SCALE_ENGINES.join(', ')})`);
    }
    if (!out.includes(name as ScaleEngineName)) out.push(name as ScaleEngineName);
  }
  return out;
}

export function defaultScaleConfig(): ScaleConfig {
  return {
    steps: [...DEFAULT_STEPS], keySize: 16, valueSize: 100, load: 'mixed', batchSize: 1000, concurrency: 32,
    reads: 100_000, seeks: 20_000, engines: [...SCALE_ENGINES], budgetMin: 60, memoryBudget: undefined, strataOptions: {},
    spaceAllowance: 2, seed: 1, dir: undefined, out: 'bench', label: '', fromJson: undefined,
  };
}

/** Parses the flags after the script name; throws a readable Error on an unknown flag or a bad value. */
export function parseScaleArgs(argv: readonly string[]): ScaleConfig {
  const cfg = defaultScaleConfig();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    if (!flag.startsWith('--')) throw new Error(`unexpected argument '${flag}' (flags are --name value)`);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag}: missing value`);
    switch (flag) {
      case '--steps': cfg.steps = parseSteps(v); break;
      case '--key-size': cfg.keySize = positiveInt(flag, v); break;
      case '--value-size': cfg.valueSize = positiveInt(flag, v); break;
      case '--load':
        if (!(LOAD_MODES as readonly string[]).includes(v)) throw new Error(`--load: expected ${LOAD_MODES.join(', ')}, got '${v}'`);
        cfg.load = v as LoadMode;
        break;
      case '--batch-size': cfg.batchSize = positiveInt(flag, v); break;
      case '--concurrency': cfg.concurrency = positiveInt(flag, v); break;
      case '--reads': cfg.reads = positiveInt(flag, v); break;
      case '--seeks': cfg.seeks = positiveInt(flag, v); break;
      case '--engines': cfg.engines = engines(v); break;
      case '--budget-min': cfg.budgetMin = positiveNumber(flag, v); break;
      case '--memory-budget': cfg.memoryBudget = parseBytes(flag, v); break;
      case '--strata-options': {
        let o: unknown;
        try { o = JSON.parse(v); } catch { o = undefined; }
        if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error(`--strata-options: expected a JSON object, got '${v}'`);
        cfg.strataOptions = o as Record<string, unknown>;
        break;
      }
      case '--space-allowance': cfg.spaceAllowance = positiveNumber(flag, v); break;
      case '--seed': cfg.seed = positiveInt(flag, v); break;
      case '--dir': cfg.dir = v; break;
      case '--out': cfg.out = v; break;
      case '--label': cfg.label = v; break;
      case '--from-json': cfg.fromJson = v; break;
      default: throw new Error(`unknown flag ${flag} (known: --steps --key-size --value-size --load --batch-size --concurrency --reads --seeks --engines --budget-min --memory-budget --strata-options --space-allowance --seed --dir --out --label --from-json)`);
    }
  }
  // Keys are a 4-byte hash then the 4-byte key number (scale-keys.ts): 8 bytes keep them distinct.
  if (cfg.keySize < 8) throw new Error(`--key-size: at least 8 bytes (a hash and the key number), got ${cfg.keySize}`);
  if (cfg.engines.length === 0) throw new Error('--engines: no engine named');
  const maxKeys = Math.floor(cfg.steps[cfg.steps.length - 1]! / (cfg.keySize + cfg.valueSize));
  if (maxKeys >= 2 ** 32) throw new Error(`--steps: ${maxKeys} keys would not fit the 32-bit key numbers; use larger values`);
  return cfg;
}
