/** The `klaxon` command table: each group in its own module, loaded on demand. */

/** Streams a command writes to (injected so tests can capture them). */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
}

/** A command group module. */
export interface CommandModule {
  /** Runs the group with its arguments; resolves to the exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Exit codes, the same for every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2, external: 3 } as const;

interface CommandEntry {
  readonly summary: string;
  load(): Promise<CommandModule>;
}

/** Every command group. */
export const COMMANDS: Record<string, CommandEntry> = {
  rules: {
    summary: 'rules validate FILE | test FILE | push --to dynamodb|ssm FILE | list | diff FILE | backtest --rules FILE --routes FILE --samples FILE',
    load: () => import('./rules.ts'),
  },
  replay: {
    summary: 'replay --rules FILE --samples FILE|- [--until TIME] [--format json|table]',
    load: () => import('./replay.ts'),
  },
  routes: { summary: 'routes test [--routes FILE] [--verify-receivers a,b] label=value ... | show [--routes FILE] | import ALERTMANAGER_YML', load: () => import('./routes.ts') },
  notify: { summary: 'notify test --routes FILE --alerts FILE.jsonl [--silences FILE] [--at TIME] [--json]', load: () => import('./notify.ts') },
  alerts: { summary: 'alerts list', load: () => import('./alerts.ts') },
  errors: { summary: 'errors list | resolve FINGERPRINT --by NAME', load: () => import('./errors.ts') },
  remediations: { summary: 'remediations list [--fingerprint FP] [--status S] [--format table|json]', load: () => import('./remediations.ts') },
  report: { summary: 'report [--since 7d] [--until TIME] [--rule ID] [--team T] [--format table|json|csv]', load: () => import('./report.ts') },
  classify: {
    summary: 'classify [--rules FILE] [--fingerprints FILE] --events FILE.jsonl [--json] | test FILE... | --print-defaults',
    load: () => import('./classify.ts'),
  },
  silence: {
    summary: 'silence add --comment TEXT [--duration 2h] [--author A] matcher... | query [--expired] [matcher...] | expire ID... | import FILE | export FILE',
    load: () => import('./silence.ts'),
  },
  dlq: { summary: 'dlq list | redrive [QUEUE]', load: () => import('./dlq.ts') },
  cost: {
    summary: 'cost --series N --rules-per-series M --interval 10s [--mix FILE] [--batching 60s] [--msk on-demand|provisioned] [--json]',
    load: () => import('./cost.ts'),
  },
};

/** The usage text. */
export function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  klaxon ${c.summary}`);
  return `Usage:\n${lines.join('\n')}\n\nExit codes: 0 ok, 1 check failed, 2 usage error, 3 external system failed.\n`;
}
