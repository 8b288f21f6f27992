/**
 * `klaxon cost --series N --rules-per-series M --interval 10s [--mix FILE] [--batching 60s]
 *  [--msk on-demand|provisioned] [--min-pollers N] [--alerts N] [--notifications N]
 *  [--figures FILE] [--json]`: the monthly cost of a deployment by component (shared/core/cost),
 * beside CloudWatch alarms and a self-hosted Prometheus + Alertmanager for the same rules.
 *
 * The per-rule-kind capacity figures come from docs/cost-figures.json (written by `npm run bench`)
 * or, when that file is missing, from the defaults in shared/core/cost/figures.ts; the output says
 * which. The deployment's shape (function memory, batch size, queues, secrets) comes from
 * infra/topology.ts.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { EXIT, type CliIo } from './index.ts';
import { FUNCTIONS, QUEUES, SECRETS } from '../infra/topology.ts';
import { CHANNELS } from '../shared/core/model/index.ts';
import { parseDuration } from '../shared/core/rules/index.ts';
import {
  CostInputError,
  DEFAULT_FIGURES,
  estimateMonthlyCost,
  ISSUE_MIX,
  MSK_MODES,
  parseCapacityFigures,
  RULE_KINDS,
  type CapacityFigures,
  type CostEstimate,
  type DeploymentShape,
  type MskMode,
  type RuleKind,
  type Scenario,
} from '../shared/core/cost/index.ts';

/** The figures file `npm run bench` writes, relative to the repository root. */
export const FIGURES_FILE = 'docs/cost-figures.json';
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Pipeline-level alarms: infra/constructs/observability.ts's 7 (evaluator errors, offset lag,
 * deadman, rejected records, skipped samples, series limited, timers backlog) and the
 * interactions endpoint's 3 (refused requests, Slack and PagerDuty requests dropped). Each queue
 * with a dead-letter queue adds one on it, and each delivery channel two (breaker open, dead
 * lettered: infra/constructs/channel.ts); test/infra/pipeline-stack.test.ts counts the same.
 */
const PIPELINE_ALARMS = 10;

const USAGE = `Usage: klaxon cost --series N --rules-per-series M --interval DURATION [options]

  --series N               series sending samples
  --rules-per-series M     rules evaluating each series
  --interval D             time between two samples of a series (10s, 1m)
  --mix FILE               YAML/JSON weights per rule kind (${RULE_KINDS.join(', ')}); default 2:1:1:1
  --batching D             the Kafka event source's batching window (default: the topology's, 1s)
  --batch-size N           records per evaluator invocation at most (default: the topology's, 1000)
  --partitions N           topic partitions, series keyed to them (default 10)
  --msk MODE               on-demand (default) | provisioned
  --min-pollers N          provisioned mode: minimum event pollers (default 1)
  --alerts N               alerts firing per month (default 300)
  --notifications N        notifications per month (default 2 per alert)
  --figures FILE           capacity figures (default ${FIGURES_FILE}; defaults in code if missing)
  --json                   print the estimate as JSON
`;

/** The deployed shape, from infra/topology.ts. */
export function deploymentShape(): DeploymentShape {
  const evaluatorTrigger = FUNCTIONS.evaluator.trigger;
  const sqsFunctions = Object.values(FUNCTIONS).flatMap((f) => (f.trigger.kind === 'sqs' ? [f.trigger.queue] : []));
  const deadLetterQueues = Object.values(QUEUES).filter((q) => 'deadLetter' in q).length;
  return {
    memoryMb: {
      evaluator: FUNCTIONS.evaluator.memoryMb,
      timers: FUNCTIONS.timers.memoryMb,
      dispatch: FUNCTIONS.dispatch.memoryMb,
      channel: FUNCTIONS.deliverSlack.memoryMb,
    },
    evaluatorBatchSize: evaluatorTrigger.batchSize,
    timersEveryMinutes: FUNCTIONS.timers.trigger.everyMinutes,
    polledQueues: sqsFunctions.length,
    secrets: Object.keys(SECRETS).length,
    alarms: PIPELINE_ALARMS + deadLetterQueues + 2 * CHANNELS.length,
    dashboards: 1,
  };
}

/** The figures: `file` if given, else docs/cost-figures.json (`defaultPath`), else the defaults in code. */
export async function loadFigures(file?: string, defaultPath = join(REPO_ROOT, FIGURES_FILE)): Promise<{ figures: CapacityFigures; note: string }> {
  const path = file ?? defaultPath;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (file !== undefined) throw new CostInputError('--figures', `cannot read ${file}: ${(e as Error).message}`);
    return { figures: DEFAULT_FIGURES, note: `${FIGURES_FILE} missing: using ${DEFAULT_FIGURES.source}` };
  }
  const name = file ?? FIGURES_FILE;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CostInputError(name, `not JSON: ${(e as Error).message}`);
  }
  const figures = parseCapacityFigures(json, name);
  return { figures, note: `figures from ${name}${figures.measuredAt ? ` (measured ${figures.measuredAt})` : ''}` };
}

async function loadMix(file: string): Promise<Partial<Record<RuleKind, number>>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CostInputError('--mix', `cannot read ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new CostInputError('--mix', `${file}: not YAML or JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new CostInputError('--mix', `${file}: expected a mapping of rule kind to weight`);
  const mix: Partial<Record<RuleKind, number>> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (!(RULE_KINDS as readonly string[]).includes(k)) throw new CostInputError('--mix', `${file}: unknown rule kind '${k}' (kinds: ${RULE_KINDS.join(', ')})`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new CostInputError('--mix', `${file}: ${k}: expected a weight >= 0, got ${JSON.stringify(v)}`);
    mix[k as RuleKind] = v;
  }
  return mix;
}

function count(flag: string, text: string, allowZero: boolean): number {
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(n) || (!allowZero && n === 0)) throw new CostInputError(flag, `expected a ${allowZero ? 'number >= 0' : 'positive number'}, got '${text}'`);
  return n;
}

function seconds(flag: string, text: string): number {
  try {
    return parseDuration(text) / 1000;
  } catch {
    throw new CostInputError(flag, `expected a duration like 10s, 1m or 1h30m, got '${text}'`);
  }
}

interface CostArgs {
  readonly scenario: Scenario;
  readonly figures?: string;
  readonly json: boolean;
}

async function parseArgs(args: readonly string[]): Promise<CostArgs> {
  const flags = new Map<string, string>();
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') {
      json = true;
      continue;
    }
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    if (!/^--(series|rules-per-series|interval|mix|batching|batch-size|partitions|msk|min-pollers|alerts|notifications|figures)$/.test(flag)) throw new CostInputError(flag, 'unknown option');
    const v = inline ?? args[++i];
    if (v === undefined) throw new CostInputError(flag, 'needs a value');
    flags.set(flag, v);
  }
  const required = (flag: string): string => {
    const v = flags.get(flag);
    if (v === undefined) throw new CostInputError(flag, 'is required');
    return v;
  };
  const msk = flags.get('--msk') ?? 'on-demand';
  if (!(MSK_MODES as readonly string[]).includes(msk)) throw new CostInputError('--msk', `expected ${MSK_MODES.join(' or ')}, got '${msk}'`);
  const alertsPerMonth = flags.has('--alerts') ? count('--alerts', flags.get('--alerts')!, true) : 300;
  const mixFile = flags.get('--mix');
  const minPollers = flags.get('--min-pollers');
  const batchSize = flags.get('--batch-size');
  const partitions = flags.get('--partitions');
  const scenario: Scenario = {
    series: count('--series', required('--series'), false),
    rulesPerSeries: count('--rules-per-series', required('--rules-per-series'), false),
    sampleIntervalSeconds: seconds('--interval', required('--interval')),
    batchingWindowSeconds: flags.has('--batching') ? seconds('--batching', flags.get('--batching')!) : FUNCTIONS.evaluator.trigger.maxBatchingWindowSeconds,
    alertsPerMonth,
    notificationsPerMonth: flags.has('--notifications') ? count('--notifications', flags.get('--notifications')!, true) : alertsPerMonth * 2,
    msk: msk as MskMode,
    mix: mixFile ? await loadMix(mixFile) : ISSUE_MIX,
    ...(minPollers !== undefined ? { mskMinimumPollers: count('--min-pollers', minPollers, false) } : {}),
    ...(batchSize !== undefined ? { evaluatorBatchSize: count('--batch-size', batchSize, false) } : {}),
    ...(partitions !== undefined ? { partitions: count('--partitions', partitions, false) } : {}),
  };
  if (scenario.sampleIntervalSeconds <= 0) throw new CostInputError('--interval', `expected a positive duration, got '${flags.get('--interval')}'`);
  return { scenario, json, ...(flags.has('--figures') ? { figures: flags.get('--figures')! } : {}) };
}

const money = (n: number): string => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** The estimate as a table: one line per component, totals, comparisons. */
export function formatEstimate(e: CostEstimate, note: string): string {
  const rows = e.lines.map((l) => `${l.component.padEnd(22)}${money(l.monthly).padStart(12)}${money(l.fixed).padStart(12)}  ${l.detail}`);
  const cw = e.comparisons.cloudWatchAlarms;
  const prom = e.comparisons.selfHostedPrometheus;
  return [
    `${'COMPONENT'.padEnd(22)}${'MONTHLY'.padStart(12)}${'FIXED'.padStart(12)}  DETAIL`,
    ...rows,
    `${'total'.padEnd(22)}${money(e.total).padStart(12)}${money(e.fixedTotal).padStart(12)}  (fixed: charged with no traffic)`,
    '',
    `${e.quantities.samplesPerSeriesPerBatch.toFixed(1)} samples per series per evaluator batch, ${Math.round(e.quantities.evaluatorInvocations).toLocaleString('en-US')} evaluator invocations a month`,
    `CloudWatch alarms:      ${money(cw.total)} (${money(cw.alarms)} for ${e.quantities.seriesRules.toLocaleString('en-US')} alarms + ${money(cw.seriesMetrics)} custom metrics; ${cw.note})`,
    `Prometheus self-hosted: ${money(prom.monthly)} (${prom.instance}${prom.fits ? '' : '; TOO SMALL for this many series'}; ${prom.note})`,
    '',
    `${note}; prices us-east-1 on-demand, list prices looked up 2026-11-29, free tiers not applied (docs/cost.md)`,
    '',
  ].join('\n');
}

/** Entry point (see the module comment). */
export async function run(args: readonly string[], io: CliIo): Promise<number> {
  if (args.length === 0 || args[0] === '--help' || args[0] === '-h') {
    io.stdout.write(USAGE);
    return args.length === 0 ? EXIT.usage : EXIT.ok;
  }
  try {
    const parsed = await parseArgs(args);
    const { figures, note } = await loadFigures(parsed.figures);
    const estimate = estimateMonthlyCost(parsed.scenario, figures, deploymentShape());
    io.stdout.write(parsed.json ? `${JSON.stringify({ ...estimate, note })}\n` : formatEstimate(estimate, note));
    return EXIT.ok;
  } catch (e) {
    if (!(e instanceof CostInputError)) throw e;
    io.stderr.write(`klaxon cost: ${e.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
}
