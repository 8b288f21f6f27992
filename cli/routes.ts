/**
 * `klaxon routes test [--routes FILE] [--severity S] [--verify-receivers a,b] [--json] label=value ...`:
 * which receivers and channels an alert with these labels reaches, and the route path that took it
 * (like `amtool config routes test`; with --verify-receivers, exit 1 when the receivers reached are
 * not exactly those, as amtool's --verify.receivers). `klaxon routes show [--routes FILE] [--json]`:
 * the loaded route tree and receivers (like `amtool config routes show`). Without --routes, ROUTES_FILE is used when set, else the built-in
 * defaults (everything to the `default` receiver by the severity matrix). DEFAULT_EMAIL_RECIPIENTS
 * fills the default receiver's email, as in the function.
 */
import { EXIT, type CliIo } from './index.ts';
import { compileRoutes, DEFAULT_RECEIVER_SETTINGS, RoutesConfigError, type DefaultReceiverSettings } from '../shared/core/dispatch/route/routes-config.ts';
import { routeAlert, type RouteNode, type RoutingConfig } from '../shared/core/dispatch/route/routing.ts';
import { loadRoutesFile } from '../shared/adapters/routes/routes-source.ts';
import { importAlertmanager } from '../shared/core/dispatch/route/import-alertmanager.ts';
import { readFile, writeFile } from 'node:fs/promises';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { SEVERITIES, type Labels, type Severity } from '../shared/core/model/index.ts';

const USAGE = `Usage: klaxon routes test [--routes FILE] [--severity critical|high|medium|low] [--verify-receivers a,b] [--json] label=value ...
       klaxon routes show [--routes FILE] [--json]
       klaxon routes import ALERTMANAGER_YML [--out FILE]

test: prints the receivers and channels an alert with these labels reaches, and the route that took it.
show: prints the route tree (matchers, receivers, continue) and the receivers with their channels.
import: converts an Alertmanager configuration into a Klaxon routes file (stdout, or --out FILE),
        and lists on stderr what it could not convert and the secrets to create.
  --routes FILE              routes YAML (default: $ROUTES_FILE, else the built-in defaults)
  --severity S               the alert's severity (default: the 'severity' label, else critical)
  --verify-receivers a,b     exit 1 unless the receivers reached are exactly these (any order)
  --json                     print JSON instead of text
`;

interface TestArgs {
  readonly routesFile?: string;
  readonly severity?: Severity;
  readonly json: boolean;
  readonly labels: Labels;
  /** Expected receivers (--verify-receivers), sorted, without repeats. */
  readonly verify?: readonly string[];
}

class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

function parseArgs(args: readonly string[]): TestArgs {
  let routesFile: string | undefined;
  let severity: Severity | undefined;
  let json = false;
  let verify: string[] | undefined;
  const labels: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const takeValue = (flag: string): string => {
      const eq = a.indexOf('=');
      if (a.startsWith(`${flag}=`)) return a.slice(eq + 1);
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (a === '--routes' || a.startsWith('--routes=')) routesFile = takeValue('--routes');
    else if (a === '--severity' || a.startsWith('--severity=')) {
      const v = takeValue('--severity');
      if (!(SEVERITIES as readonly string[]).includes(v)) throw new UsageError(`--severity must be one of ${SEVERITIES.join(', ')}, got '${v}'`);
      severity = v as Severity;
    } else if (a === '--verify-receivers' || a.startsWith('--verify-receivers=')) {
      const names = takeValue('--verify-receivers')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (names.length === 0) throw new UsageError('--verify-receivers needs at least one receiver name');
      verify = [...new Set(names)].sort();
    } else if (a === '--json') json = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else {
      const m = /^([a-zA-Z_][a-zA-Z0-9_]*)=(.*)$/s.exec(a);
      if (!m) throw new UsageError(`expected label=value, got '${a}'`);
      labels[m[1]!] = m[2]!;
    }
  }
  return { ...(routesFile !== undefined ? { routesFile } : {}), ...(severity ? { severity } : {}), json, labels, ...(verify ? { verify } : {}) };
}

function defaultsFromEnv(): DefaultReceiverSettings {
  const to = (process.env.DEFAULT_EMAIL_RECIPIENTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return { ...DEFAULT_RECEIVER_SETTINGS, emailRecipients: to };
}

/** The `routes` command group. */
export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (sub === 'show') return await show(rest, io);
  if (sub === 'import') return await importCommand(rest, io);
  if (sub !== 'test') {
    io.stderr.write(`klaxon routes: ${sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`}\n\n${USAGE}`);
    return EXIT.usage;
  }
  let a: TestArgs;
  try {
    a = parseArgs(rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`klaxon routes test: ${err.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (Object.keys(a.labels).length === 0) {
    io.stderr.write(`klaxon routes test: give at least one label=value\n\n${USAGE}`);
    return EXIT.usage;
  }

  const config = await loadConfig(a.routesFile, io, 'test');
  if (!config) return EXIT.failed;

  const labelSeverity = a.labels.severity;
  const severity: Severity = a.severity ?? ((SEVERITIES as readonly string[]).includes(labelSeverity ?? '') ? (labelSeverity as Severity) : 'critical');
  const result = routeAlert(a.labels, severity, config);
  const reached = [...new Set(result.receivers)].sort();
  const mismatch = a.verify !== undefined && (a.verify.length !== reached.length || a.verify.some((r, i) => r !== reached[i]));
  if (mismatch) io.stderr.write(`klaxon routes test: receivers did not match: expected ${a.verify!.join(',')}, got ${reached.join(',') || '(none)'}\n`);

  if (a.json) {
    io.stdout.write(
      `${JSON.stringify(
        {
          source: config.source,
          severity,
          routes: result.routes.map((r) => ({ path: r.path, matchers: r.matchers.map((m) => m.text), receivers: r.receivers })),
          receivers: result.receivers,
          targets: result.targets.map((t) => ({ receiver: t.receiver, channel: t.channel, destinationId: t.destinationId, route: t.routePath })),
        },
        null,
        2,
      )}\n`,
    );
    return mismatch ? EXIT.failed : EXIT.ok;
  }

  const lines: string[] = [`routes: ${config.source}`, `severity: ${severity}`];
  for (const r of result.routes) {
    lines.push(`matched ${r.path}${r.matchers.length ? ` {${r.matchers.map((m) => m.text).join(', ')}}` : ''} -> ${r.receivers.join(', ')}`);
  }
  for (const name of result.receivers) {
    const ts = result.targets.filter((t) => t.receiver === name);
    lines.push(`  ${name}: ${ts.length ? ts.map((t) => `${t.channel} (${t.destinationId})`).join(', ') : 'no channel for this severity (recorded only)'}`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return mismatch ? EXIT.failed : EXIT.ok;
}

/** Loads the routes (--routes, else $ROUTES_FILE, else the built-in defaults); reports a bad file and returns undefined. */
async function loadConfig(routesFile: string | undefined, io: CliIo, sub: string): Promise<RoutingConfig | undefined> {
  const file = routesFile ?? (process.env.ROUTES_FILE || undefined);
  try {
    return file ? await loadRoutesFile(file, defaultsFromEnv()) : compileRoutes(undefined, 'built-in defaults', defaultsFromEnv());
  } catch (err) {
    if (!(err instanceof RoutesConfigError)) throw err;
    io.stderr.write(`klaxon routes ${sub}: ${err.message}\n`);
    return undefined;
  }
}

/** A route node as JSON (matchers as written, children nested). */
function nodeJson(n: RouteNode): unknown {
  return {
    path: n.path,
    matchers: n.matchers.map((m) => m.text),
    receivers: n.receivers,
    continue: n.continue,
    ...(n.muteTimeIntervals ? { muteTimeIntervals: n.muteTimeIntervals } : {}),
    ...(n.activeTimeIntervals ? { activeTimeIntervals: n.activeTimeIntervals } : {}),
    ...(n.lowerSeverityOutside ? { lowerSeverityOutside: n.lowerSeverityOutside } : {}),
    routes: n.routes.map(nodeJson),
  };
}

/** A route's time intervals and lowering as `routes show` prints them (nothing when it has none). */
function intervalsText(n: RouteNode): string {
  const parts: string[] = [];
  if (n.muteTimeIntervals) parts.push(`muted in ${n.muteTimeIntervals.join(', ')}`);
  if (n.activeTimeIntervals) parts.push(`active in ${n.activeTimeIntervals.join(', ')}`);
  // Shown where it is declared (children inherit it).
  if (n.lowerSeverityOutside && n.lowerSeverityOutside.declaredAt === n.path && n.lowerSeverityOutside.by > 0) parts.push(`severity -${n.lowerSeverityOutside.by} outside ${n.lowerSeverityOutside.timeIntervals.join(', ')}`);
  return parts.length ? ` [${parts.join('; ')}]` : '';
}

/** `routes show`: the tree, indented, and the receivers. */
async function show(args: readonly string[], io: CliIo): Promise<number> {
  let routesFile: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') json = true;
    else if (a === '--routes') {
      routesFile = args[++i];
      if (routesFile === undefined) {
        io.stderr.write(`klaxon routes show: --routes needs a value\n\n${USAGE}`);
        return EXIT.usage;
      }
    } else if (a.startsWith('--routes=')) routesFile = a.slice('--routes='.length);
    else {
      io.stderr.write(`klaxon routes show: unexpected argument '${a}'\n\n${USAGE}`);
      return EXIT.usage;
    }
  }
  const config = await loadConfig(routesFile, io, 'show');
  if (!config) return EXIT.failed;
  const receivers = [...config.receivers.entries()].map(([name, r]) => ({ name, channels: (['slack', 'email', 'pagerduty'] as const).filter((c) => r[c] !== undefined) }));
  if (json) {
    io.stdout.write(`${JSON.stringify({ source: config.source, root: nodeJson(config.root), receivers }, null, 2)}\n`);
    return EXIT.ok;
  }
  const lines: string[] = [`routes: ${config.source}`];
  const walk = (n: RouteNode, depth: number): void => {
    const m = n.matchers.length ? `{${n.matchers.map((x) => x.text).join(', ')}}` : '{}';
    lines.push(`${'  '.repeat(depth)}${n.path} ${m} -> ${n.receivers.join(', ') || '(inherited)'}${n.continue ? ' continue' : ''}${intervalsText(n)}`);
    for (const c of n.routes) walk(c, depth + 1);
  };
  walk(config.root, 0);
  lines.push('receivers:');
  for (const r of receivers) lines.push(`  ${r.name}: ${r.channels.join(', ') || 'no channel'}`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

/** `routes import`: alertmanager.yml → a Klaxon routes file (see shared/core/dispatch/route/import-alertmanager.ts). */
async function importCommand(args: readonly string[], io: CliIo): Promise<number> {
  let file: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--out') {
      out = args[++i];
      if (out === undefined) {
        io.stderr.write(`klaxon routes import: --out needs a value\n\n${USAGE}`);
        return EXIT.usage;
      }
    } else if (a.startsWith('--out=')) out = a.slice('--out='.length);
    else if (!a.startsWith('-') && file === undefined) file = a;
    else {
      io.stderr.write(`klaxon routes import: unexpected argument '${a}'\n\n${USAGE}`);
      return EXIT.usage;
    }
  }
  if (!file) {
    io.stderr.write(`klaxon routes import: give the Alertmanager configuration file\n\n${USAGE}`);
    return EXIT.usage;
  }
  let am: unknown;
  try {
    am = parseYaml(await readFile(file, 'utf8'), { maxAliasCount: 100 });
  } catch (err) {
    io.stderr.write(`klaxon routes import: ${file}: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
  let result: ReturnType<typeof importAlertmanager>;
  try {
    result = importAlertmanager(am);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    io.stderr.write(`klaxon routes import: ${file}: ${err.message}\n`);
    return EXIT.failed;
  }
  // The result must be a routes file Klaxon accepts: compile it before writing it anywhere.
  try {
    compileRoutes(result.document, `${file} (converted)`, defaultsFromEnv());
  } catch (err) {
    if (!(err instanceof RoutesConfigError)) throw err;
    io.stderr.write(`klaxon routes import: the converted routes are not valid (please report this): ${err.message}\n`);
    return EXIT.failed;
  }
  const yaml = `# Converted from ${file} by klaxon routes import; see docs/routing.md.\n${toYaml(result.document)}`;
  if (out) await writeFile(out, yaml);
  else io.stdout.write(yaml);
  const report = [
    ...(result.secrets.length ? ['secrets to create (never copied into the routes file):', ...result.secrets.map((s) => `  ${s}`)] : []),
    ...(result.notConverted.length ? ['not converted:', ...result.notConverted.map((s) => `  ${s}`)] : ['everything was converted']),
    ...(result.notes.length ? ['notes:', ...result.notes.map((s) => `  ${s}`)] : []),
  ];
  io.stderr.write(`${report.join('\n')}\n`);
  return EXIT.ok;
}
