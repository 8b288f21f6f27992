/**
 * Connection options shared by every `klaxon` command that talks to AWS or the local emulators:
 * --endpoint (local mode's emulators), --region, --profile, and --prefix (local mode's resource
 * name prefix), plus each command's own flags.
 */
/** Thrown for a bad command line; the command prints it with the usage and exits 2. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Parsed connection options plus the remaining arguments. */
export interface AwsOptions {
  readonly endpoint?: string;
  readonly region: string;
  readonly profile?: string;
  readonly prefix?: string;
  /** Flags with values other than the common ones, by name without dashes. */
  readonly flags: Readonly<Record<string, string>>;
  /** Boolean flags given. */
  readonly switches: ReadonlySet<string>;
  readonly positionals: readonly string[];
}

/**
 * Parses `args`. `valueFlags` lists the command's own flags that take a value, `switchFlags` the
 * ones that do not. Region defaults to AWS_REGION / AWS_DEFAULT_REGION, then us-east-1.
 */
export function parseAwsOptions(args: readonly string[], env: NodeJS.ProcessEnv, valueFlags: readonly string[] = [], switchFlags: readonly string[] = []): AwsOptions {
  const common = ['endpoint', 'region', 'profile', 'prefix'];
  const values: Record<string, string> = {};
  const switches = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (switchFlags.includes(name)) {
      switches.add(name);
      continue;
    }
    if (!common.includes(name) && !valueFlags.includes(name)) throw new CliUsageError(`unknown option --${name}`);
    const v = inline ?? args[++i];
    if (v === undefined || v.startsWith('--')) throw new CliUsageError(`--${name} needs a value`);
    values[name] = v;
  }
  const { endpoint, region, profile, prefix, ...flags } = values;
  return {
    region: region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(profile ? { profile } : {}),
    ...(prefix ? { prefix } : {}),
    flags,
    switches,
    positionals,
  };
}

/** SDK client configuration from the options; the emulators take any credentials. */
export function clientConfig(o: AwsOptions, env: NodeJS.ProcessEnv): {
  region: string;
  endpoint?: string;
  profile?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
} {
  const local = o.endpoint !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(o.endpoint);
  return {
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    ...(o.profile ? { profile: o.profile } : {}),
    // Local emulators check no signature; do not make people configure credentials for them.
    ...(local && !env.AWS_ACCESS_KEY_ID && !o.profile ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  };
}

