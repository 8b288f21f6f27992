/**
 * Capacity figures: what one rule costs in DynamoDB request units per 1,000 samples, per rule kind,
 * as `npm run bench` measures it against DynamoDB Local with the real evaluator handler (written to
 * docs/cost-figures.json). The cost model scales them to a deployment.
 *
 * A figure is per (rule, series) state item: 1,000 samples of a series that one rule of the kind
 * evaluates cost `rru` read units and `wru` write units. It is measured twice: with one sample of
 * each series per evaluator batch and with six (a 60 s batching window at 10 s samples), because
 * the state is read and written once per batch whatever the number of samples in it.
 */
import { PermanentError } from '../errors/index.ts';

/** The rule kinds of the cost table (issue 9), as the bench measures them. */
export const RULE_KINDS = ['threshold-for-1m', 'avg-5m', 'quantile-15m', 'avg-1h'] as const;
/** One of {@link RULE_KINDS}. */
export type RuleKind = (typeof RULE_KINDS)[number];

/** Samples of a series per evaluator batch at which the figures are measured. */
export const MEASURED_SAMPLES_PER_BATCH = [1, 6] as const;

/** Request units per 1,000 samples at 1 and at 6 samples per series per batch. */
export interface UnitsPer1000 {
  readonly batch1: number;
  readonly batch6: number;
}

/** What one rule of a kind costs per 1,000 samples, and the size of its state item. */
export interface KindFigures {
  /** Read request units per 1,000 samples. */
  readonly rru: UnitsPer1000;
  /** Write request units per 1,000 samples (table and indexes). */
  readonly wru: UnitsPer1000;
  /** Average size of the kind's state item at steady state, bytes (AWS's item size rules). */
  readonly itemBytes: number;
  /**
   * Write units per (rule, series) per hour whatever the samples (derived windows: the quiet
   * refresh of an inactive item every 30 minutes and its due-index moves); absent: none.
   */
  readonly wruPerSeriesHour?: number;
}

/**
 * The sample log of derived windows (docs/design.md): what a sample costs to log, and what a
 * partition's rebuild costs to read.
 */
export interface LogFigures {
  /** Stored bytes per sample of a segment (codec + item), at 1 and at 6 samples of each series per segment. */
  readonly bytesPerSample: UnitsPer1000;
  /** Bytes of a segment item besides its samples (keys, offsets, write id). */
  readonly segmentOverheadBytes: number;
  /** Read units per 1,000 samples read back by a rebuild (strongly consistent Query pages). */
  readonly rebuildRruPer1000Samples: number;
  /** Read units per (rule, series) after a rebuild: each state is read from the table once before use. */
  readonly rebuildStateRruPerSeriesRule: number;
}

/** Figures for every kind, and where they come from. */
export interface CapacityFigures {
  /** Where the figures come from (a file, or the defaults in code). */
  readonly source: string;
  /** When they were measured (ISO date), if known. */
  readonly measuredAt?: string;
  /** How each figure was obtained (e.g. reads measured by DynamoDB Local, transaction writes computed). */
  readonly method?: string;
  readonly kinds: Readonly<Record<RuleKind, KindFigures>>;
  /** Present for derived windows (the default layout): the sample log's figures. */
  readonly log?: LogFigures;
}

/**
 * Defaults used when docs/cost-figures.json is missing: the bench's figures of 2026-11-29 with
 * derived windows (see docs/cost.md). They describe the store as it was then; re-run
 * `npm run bench` after any change to the state layout.
 */
export const DEFAULT_FIGURES: CapacityFigures = {
  source: 'defaults in shared/core/cost/figures.ts (bench of 2026-11-29, derived windows)',
  measuredAt: '2026-11-29',
  method: 'derived windows; units measured (DynamoDB Local ConsumedCapacity); sample log bytes per sample from the codec',
  kinds: {
    'threshold-for-1m': { rru: { batch1: 0, batch6: 0 }, wru: { batch1: 0, batch6: 0 }, itemBytes: 338, wruPerSeriesHour: 4 },
    'avg-5m': { rru: { batch1: 0, batch6: 0 }, wru: { batch1: 0, batch6: 0 }, itemBytes: 320, wruPerSeriesHour: 4 },
    'quantile-15m': { rru: { batch1: 0, batch6: 0 }, wru: { batch1: 0, batch6: 0 }, itemBytes: 334, wruPerSeriesHour: 4 },
    'avg-1h': { rru: { batch1: 0, batch6: 0 }, wru: { batch1: 0, batch6: 0 }, itemBytes: 319, wruPerSeriesHour: 4 },
  },
  log: { bytesPerSample: { batch1: 7.15, batch6: 4.06 }, segmentOverheadBytes: 140, rebuildRruPer1000Samples: 2.61, rebuildStateRruPerSeriesRule: 1 },
};

/** Invalid cost input (a flag, a scenario field or a figures file), naming what was wrong and where. */
export class CostInputError extends PermanentError {
  constructor(
    /** Where: a flag (`--series`) or a path in a file (`cost-figures.json: kinds.avg-5m.rru.batch1`). */
    readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
  }
}

function finiteNonNegative(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new CostInputError(where, `expected a finite number >= 0, got ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

function object(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CostInputError(where, 'expected an object');
  return v as Record<string, unknown>;
}

/**
 * Validates parsed JSON as {@link CapacityFigures} (every kind of {@link RULE_KINDS} required).
 * @param origin the file name, used in error messages and as `source`
 * @throws CostInputError naming the path of the first bad field
 */
export function parseCapacityFigures(json: unknown, origin: string): CapacityFigures {
  const root = object(json, origin);
  const kindsIn = object(root.kinds, `${origin}: kinds`);
  const kinds = {} as Record<RuleKind, KindFigures>;
  for (const kind of RULE_KINDS) {
    const at = `${origin}: kinds.${kind}`;
    const k = object(kindsIn[kind], at);
    const units = (name: 'rru' | 'wru'): UnitsPer1000 => {
      const u = object(k[name], `${at}.${name}`);
      return { batch1: finiteNonNegative(u.batch1, `${at}.${name}.batch1`), batch6: finiteNonNegative(u.batch6, `${at}.${name}.batch6`) };
    };
    kinds[kind] = {
      rru: units('rru'),
      wru: units('wru'),
      itemBytes: finiteNonNegative(k.itemBytes, `${at}.itemBytes`),
      ...(k.wruPerSeriesHour !== undefined ? { wruPerSeriesHour: finiteNonNegative(k.wruPerSeriesHour, `${at}.wruPerSeriesHour`) } : {}),
    };
  }
  let log: LogFigures | undefined;
  if (root.log !== undefined) {
    const at = `${origin}: log`;
    const l = object(root.log, at);
    const b = object(l.bytesPerSample, `${at}.bytesPerSample`);
    log = {
      bytesPerSample: { batch1: finiteNonNegative(b.batch1, `${at}.bytesPerSample.batch1`), batch6: finiteNonNegative(b.batch6, `${at}.bytesPerSample.batch6`) },
      segmentOverheadBytes: finiteNonNegative(l.segmentOverheadBytes, `${at}.segmentOverheadBytes`),
      rebuildRruPer1000Samples: finiteNonNegative(l.rebuildRruPer1000Samples, `${at}.rebuildRruPer1000Samples`),
      rebuildStateRruPerSeriesRule: finiteNonNegative(l.rebuildStateRruPerSeriesRule ?? 1, `${at}.rebuildStateRruPerSeriesRule`),
    };
  }
  return {
    source: origin,
    ...(typeof root.measuredAt === 'string' ? { measuredAt: root.measuredAt } : {}),
    ...(typeof root.method === 'string' ? { method: root.method } : {}),
    kinds,
    ...(log ? { log } : {}),
  };
}

/**
 * Units one rule of a kind costs per sample when a batch carries `samplesPerBatch` samples of each
 * series. The cost of one batch per state item is taken as linear in the samples it carries
 * (fitted through the two measured points: one read and one write of the item, plus what the
 * window's growth adds), then divided by the samples.
 */
export function unitsPerSample(u: UnitsPer1000, samplesPerBatch: number): number {
  const k = Math.max(1, samplesPerBatch);
  const perBatch1 = u.batch1 / 1000;
  const perBatch6 = (6 * u.batch6) / 1000;
  const perBatch = Math.max(0, perBatch1 + ((perBatch6 - perBatch1) * (k - 1)) / 5);
  return perBatch / k;
}
