/**
 * `klaxon routes test [--routes FILE] [--severity S] [--json] label=value ...`: which receivers and
 * channels an alert with these labels reaches, and the route path that took it (like
 * `amtool config routes test`). Without --routes, ROUTES_FILE is used when set, else the built-in
 * defaults (everything to the `default` receiver by the severity matrix). DEFAULT_EMAIL_RECIPIENTS
 * fills the default receiver's email, as in the function.
 */
import { EXIT, type CliIo } from './index.ts';
import { compileRoutes, DEFAULT_RECEIVER_SETTINGS, RoutesConfigError, type DefaultReceiverSettings } from '../shared/core/dispatch/route/routes-config.ts';
import { routeAlert, type RoutingConfig } from '../shared/core/dispatch/route/routing.ts';
import { loadRoutesFile } from '../shared/adapters/routes/routes-source.ts';
import { SEVERITIES, type Labels, type Severity } from '../shared/core/model/index.ts';

const USAGE = `Usage: klaxon routes test [--routes FILE] [--severity critical|high|medium|low] [--json] label=value ...

Prints the receivers and channels an alert with these labels reaches, and the route that took it.
  --routes FILE   routes YAML (default: $ROUTES_FILE, else the built-in defaults)
  --severity S    the alert's severity (default: the 'severity' label, else critical)
  --json          print JSON instead of text
`;

interface TestArgs {
  readonly routesFile?: string;
  readonly severity?: Severity;
  readonly json: boolean;
  readonly labels: Labels;
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
    } else if (a === '--json') json = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else {
      const m = /^([a-zA-Z_][a-zA-Z0-9_]*)=(.*)$/s.exec(a);
      if (!m) throw new UsageError(`expected label=value, got '${a}'`);
      labels[m[1]!] = m[2]!;
    }
  }
  return { ...(routesFile !== undefined ? { routesFile } : {}), ...(severity ? { severity } : {}), json, labels };
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

  const file = a.routesFile ?? (process.env.ROUTES_FILE || undefined);
  let config: RoutingConfig;
  try {
    config = file ? await loadRoutesFile(file, defaultsFromEnv()) : compileRoutes(undefined, 'built-in defaults', defaultsFromEnv());
  } catch (err) {
    if (!(err instanceof RoutesConfigError)) throw err;
    io.stderr.write(`klaxon routes test: ${err.message}\n`);
    return EXIT.failed;
  }

  const labelSeverity = a.labels.severity;
  const severity: Severity = a.severity ?? ((SEVERITIES as readonly string[]).includes(labelSeverity ?? '') ? (labelSeverity as Severity) : 'critical');
  const result = routeAlert(a.labels, severity, config);

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
    return EXIT.ok;
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
  return EXIT.ok;
}
