/**
 * `klaxon rules push|list|diff`: the rules as deployed, in the DynamoDB rules table or under an SSM
 * parameter path. Called by cli/rules.ts as `runRemote(sub, args, io)`.
 *
 *   klaxon rules push --to dynamodb|ssm FILE [--table T | --path P] [--prune]
 *   klaxon rules list [--from dynamodb|ssm] [--table T | --path P]
 *   klaxon rules diff FILE [--from dynamodb|ssm] [--table T | --path P]
 *   common: [--endpoint URL] [--region R] [--profile P]
 *
 * Without flags, the source comes from the functions' own variables (RULES_SOURCE, RULES_TABLE,
 * RULES_SSM_PATH) and the AWS settings from the usual AWS_* variables. `push` validates the file
 * first and writes nothing if any rule is invalid. Layout: DynamoDB items `{ id, definition (YAML
 * of the rule), updatedAt }`; SSM one parameter per rule, `<path>/<id>`, holding a one-rule YAML
 * document (SSM caps a standard parameter at 4 KB, an advanced one at 8 KB:
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html).
 * `diff` exits 0 when the file and the remote rules are the same, 1 when they differ.
 */
import { readFile } from 'node:fs/promises';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteParametersCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { stringify as toYaml } from 'yaml';
import { parseRule, parseRules, parseYamlText, RulesValidationError, formatIssue } from '../shared/core/rules/index.ts';
import { DynamoRuleSource, ruleItem, SsmRuleSource, type RuleSource } from '../shared/adapters/rules/sources.ts';
import { EXIT, type CliIo } from './index.ts';
import { CliUsageError, clientConfig, parseAwsOptions, type AwsOptions } from './aws-options.ts';

/** The remote rule subcommands. */
export type RemoteSubcommand = 'push' | 'list' | 'diff';

interface Options {
  kind?: 'dynamodb' | 'ssm';
  table?: string;
  path?: string;
  prune: boolean;
  files: string[];
  aws: AwsOptions;
}

function parseArgs(args: readonly string[], env: NodeJS.ProcessEnv): Options {
  const aws = parseAwsOptions(args, env, ['to', 'from', 'source', 'table', 'path'], ['prune']);
  const o: Options = { prune: aws.switches.has('prune'), files: [...aws.positionals], aws };
  for (const flag of ['to', 'from', 'source'] as const) {
    const v = aws.flags[flag];
    if (v === undefined) continue;
    if (v !== 'dynamodb' && v !== 'ssm') throw new CliUsageError(`--${flag} must be dynamodb or ssm, got '${v}'`);
    o.kind = v;
  }
  if (aws.flags.table !== undefined) o.table = aws.flags.table;
  if (aws.flags.path !== undefined) o.path = aws.flags.path;
  if (!o.kind) {
    if (o.table) o.kind = 'dynamodb';
    else if (o.path) o.kind = 'ssm';
    else if (env.RULES_SOURCE === 'dynamodb' || env.RULES_SOURCE === 'ssm') o.kind = env.RULES_SOURCE;
  }
  if (o.kind === 'dynamodb') o.table ??= env.RULES_TABLE;
  if (o.kind === 'ssm') o.path ??= env.RULES_SSM_PATH;
  if (!o.kind) throw new CliUsageError('say where the rules are: --to/--from dynamodb|ssm (or set RULES_SOURCE)');
  if (o.kind === 'dynamodb' && !o.table) throw new CliUsageError('--table is required for dynamodb (or set RULES_TABLE)');
  if (o.kind === 'ssm' && !o.path) throw new CliUsageError('--path is required for ssm (or set RULES_SSM_PATH)');
  if (o.path) o.path = `/${o.path.replace(/^\/+|\/+$/g, '')}`;
  return o;
}

/** A rule as written (raw YAML value), by id, with a canonical text to compare. */
interface RawRule {
  readonly id: string;
  readonly value: unknown;
  readonly canonical: string;
  readonly origin: string;
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}

/** Reads and validates a local rules file; returns its raw rules by id. @throws RulesValidationError */
async function localRules(file: string): Promise<Map<string, RawRule>> {
  const text = await readFile(file, 'utf8');
  parseRules(text, file); // validation: throws with every issue
  const data = parseYamlText(text, file) as { rules: { id: string }[] };
  return new Map(data.rules.map((r) => [r.id, { id: r.id, value: r, canonical: canonical(r), origin: file }]));
}

/** Reads the remote rules; invalid ones are returned in `invalid` with their messages. */
async function remoteRules(source: RuleSource): Promise<{ rules: Map<string, RawRule>; invalid: string[] }> {
  const rules = new Map<string, RawRule>();
  const invalid: string[] = [];
  for (const doc of await source.fetch()) {
    try {
      const data = parseYamlText(doc.text, doc.origin);
      const values = doc.kind === 'document' ? ((data as { rules?: unknown[] } | null)?.rules ?? []) : [data];
      if (!Array.isArray(values)) throw new RulesValidationError([{ source: doc.origin, path: 'rules', message: 'expected a list' }]);
      for (const v of values) {
        const rule = parseRule(v, doc.origin);
        rules.set(rule.id, { id: rule.id, value: v, canonical: canonical(v), origin: doc.origin });
      }
    } catch (err) {
      invalid.push(err instanceof RulesValidationError ? err.issues.map(formatIssue).join('\n') : `${doc.origin}: ${(err as Error).message}`);
    }
  }
  return { rules, invalid };
}

/**
 * Runs `rules push|list|diff`.
 * @returns an exit code from {@link EXIT}: ok, failed (invalid rules, or `diff` found differences), usage, external (AWS failed)
 */
export async function runRemote(sub: RemoteSubcommand, args: readonly string[], io: CliIo): Promise<number> {
  let o: Options;
  try {
    o = parseArgs(args, process.env);
    if ((sub === 'push' || sub === 'diff') && o.files.length !== 1) throw new CliUsageError(`rules ${sub} needs exactly one FILE`);
    if (sub === 'list' && o.files.length > 0) throw new CliUsageError('rules list takes no FILE');
    if (sub === 'push' && o.aws.flags.to === undefined) throw new CliUsageError('rules push needs --to dynamodb|ssm');
  } catch (err) {
    if (!(err instanceof CliUsageError)) throw err;
    io.stderr.write(`klaxon rules ${sub}: ${err.message}\n`);
    return EXIT.usage;
  }

  let local: Map<string, RawRule> | undefined;
  if (o.files[0]) {
    try {
      local = await localRules(o.files[0]);
    } catch (err) {
      if (err instanceof RulesValidationError) {
        io.stderr.write(`${err.issues.map(formatIssue).join('\n')}\n${sub === 'push' ? 'nothing pushed: ' : ''}${err.issues.length} problem(s)\n`);
        return EXIT.failed;
      }
      io.stderr.write(`klaxon rules ${sub}: cannot read ${o.files[0]}: ${(err as Error).message}\n`);
      return EXIT.usage;
    }
  }

  const cfg = clientConfig(o.aws, process.env);
  const dynamodb = o.kind === 'dynamodb' ? new DynamoDBClient(cfg) : undefined;
  const ssm = o.kind === 'ssm' ? new SSMClient(cfg) : undefined;
  const source: RuleSource = dynamodb ? new DynamoRuleSource({ client: dynamodb, table: o.table! }) : new SsmRuleSource({ client: ssm!, path: o.path! });
  try {
    const remote = await remoteRules(source);
    if (sub === 'list') {
      for (const r of [...remote.rules.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
        const v = r.value as { severity?: string; metric?: string };
        io.stdout.write(`${r.id}\t${v.severity ?? ''}\t${v.metric ?? ''}\t${r.origin}\n`);
      }
      for (const msg of remote.invalid) io.stdout.write(`INVALID\t${msg.replace(/\n/g, '\n\t')}\n`);
      io.stderr.write(`${remote.rules.size} rule(s) in ${source.name}${remote.invalid.length ? `, ${remote.invalid.length} invalid` : ''}\n`);
      return remote.invalid.length ? EXIT.failed : EXIT.ok;
    }
    const added = [...local!.values()].filter((r) => !remote.rules.has(r.id));
    const changed = [...local!.values()].filter((r) => remote.rules.has(r.id) && remote.rules.get(r.id)!.canonical !== r.canonical);
    const removed = [...remote.rules.values()].filter((r) => !local!.has(r.id));
    if (sub === 'diff') {
      for (const r of added) io.stdout.write(`+ ${r.id}\n`);
      for (const r of changed) io.stdout.write(`~ ${r.id}\n`);
      for (const r of removed) io.stdout.write(`- ${r.id}\n`);
      for (const msg of remote.invalid) io.stdout.write(`! ${msg}\n`);
      const differs = added.length + changed.length + removed.length + remote.invalid.length > 0;
      io.stderr.write(differs ? `${added.length} to add, ${changed.length} changed, ${removed.length} only in ${source.name}\n` : `no differences with ${source.name}\n`);
      return differs ? EXIT.failed : EXIT.ok;
    }
    // push: upsert every new or changed rule; delete remote-only rules with --prune.
    const now = new Date().toISOString();
    for (const r of [...added, ...changed]) {
      if (dynamodb) {
        await dynamodb.send(
          new PutItemCommand({ TableName: o.table!, Item: ruleItem(r.value as { id: string }, now) }),
        );
      } else {
        await ssm!.send(
          new PutParameterCommand({ Name: `${o.path}/${r.id}`, Value: toYaml({ rules: [r.value] }), Type: 'String', Overwrite: true, Tier: 'Intelligent-Tiering' }),
        );
      }
      io.stdout.write(`${added.includes(r) ? 'added' : 'updated'} ${r.id}\n`);
    }
    if (o.prune && removed.length > 0) {
      if (dynamodb) {
        for (const r of removed) await dynamodb.send(new DeleteItemCommand({ TableName: o.table!, Key: { id: { S: r.id } } }));
      } else {
        const names = [...new Set(removed.map((r) => r.origin.replace(/^ssm:/, '')))];
        // DeleteParameters takes at most 10 names.
        for (let i = 0; i < names.length; i += 10) await ssm!.send(new DeleteParametersCommand({ Names: names.slice(i, i + 10) }));
      }
      for (const r of removed) io.stdout.write(`deleted ${r.id}\n`);
    } else if (removed.length > 0) {
      io.stderr.write(`${removed.length} rule(s) only in ${source.name} kept (use --prune to delete): ${removed.map((r) => r.id).join(', ')}\n`);
    }
    io.stderr.write(`pushed ${added.length + changed.length} rule(s) to ${source.name}\n`);
    return EXIT.ok;
  } catch (err) {
    io.stderr.write(`klaxon rules ${sub}: ${source.name}: ${(err as Error).name}: ${(err as Error).message}\n`);
    return EXIT.external;
  } finally {
    dynamodb?.destroy();
    ssm?.destroy();
  }
}
