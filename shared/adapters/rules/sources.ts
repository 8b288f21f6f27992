/**
 * Where rules come from: a YAML file, SSM parameters under a path (each parameter a YAML rules
 * document), or the DynamoDB rules table (one item per rule id). A source only fetches text; parsing,
 * validation and the last-good fallback live in {@link ../rules/cached-rules.ts}.
 */
import { readFile } from 'node:fs/promises';
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetParametersByPathCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { stringify as toYaml } from 'yaml';

/** One unit of rule text from a source. `document` = `rules: [...]` YAML; `rule` = one rule mapping (YAML/JSON). */
export interface RuleDocument {
  /** Where it came from, for error messages and the last-good cache: a path, `ssm:<name>`, `dynamodb:<table>/<id>`. */
  readonly origin: string;
  readonly kind: 'document' | 'rule';
  readonly text: string;
}

/** A rule source. */
export interface RuleSource {
  /** Human name of the source (`file:rules.yaml`, `ssm:/klaxon/rules`, `dynamodb:<table>`). */
  readonly name: string;
  /** Fetches every document; throws when the source is unreachable. */
  fetch(): Promise<RuleDocument[]>;
}

/** Attribute of a rules-table item holding the rule's YAML (the partition key is `id`, the rule id). */
export const RULE_ITEM_DEFINITION_ATTR = 'definition';

/**
 * The rules-table item of one rule as written in a rules file (the raw YAML mapping): `{ id,
 * definition }`, plus `updatedAt` when given. The one writer of the layout {@link DynamoRuleSource}
 * reads (`klaxon rules push`, local mode's rules loader).
 */
export function ruleItem(rule: { readonly id?: unknown }, updatedAt?: string): Record<string, AttributeValue> {
  return {
    id: { S: String(rule.id) },
    [RULE_ITEM_DEFINITION_ATTR]: { S: toYaml(rule) },
    ...(updatedAt !== undefined ? { updatedAt: { S: updatedAt } } : {}),
  };
}

/** Rules from one YAML file. */
export class FileRuleSource implements RuleSource {
  readonly name: string;
  constructor(private readonly path: string) {
    this.name = `file:${path}`;
  }
  async fetch(): Promise<RuleDocument[]> {
    return [{ origin: this.path, kind: 'document', text: await readFile(this.path, 'utf8') }];
  }
}

/** Rules from every SSM parameter under a path (recursive, decrypted, paginated). */
export class SsmRuleSource implements RuleSource {
  readonly name: string;
  constructor(private readonly deps: { readonly client: SSMClient; readonly path: string }) {
    this.name = `ssm:${deps.path}`;
  }
  async fetch(): Promise<RuleDocument[]> {
    const docs: RuleDocument[] = [];
    let token: string | undefined;
    do {
      const res = await this.deps.client.send(
        new GetParametersByPathCommand({ Path: this.deps.path, Recursive: true, WithDecryption: true, ...(token ? { NextToken: token } : {}) }),
      );
      for (const p of res.Parameters ?? []) if (p.Name && p.Value !== undefined) docs.push({ origin: `ssm:${p.Name}`, kind: 'document', text: p.Value });
      token = res.NextToken;
    } while (token);
    return docs.sort((a, b) => (a.origin < b.origin ? -1 : 1));
  }
}

/** Rules from the DynamoDB rules table: items `{ id, definition }` (a Scan: the table holds rules only, hundreds at most). */
export class DynamoRuleSource implements RuleSource {
  readonly name: string;
  constructor(private readonly deps: { readonly client: DynamoDBClient; readonly table: string }) {
    this.name = `dynamodb:${deps.table}`;
  }
  async fetch(): Promise<RuleDocument[]> {
    const docs: RuleDocument[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const res = await this.deps.client.send(new ScanCommand({ TableName: this.deps.table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
      for (const it of res.Items ?? []) {
        const id = it.id?.S;
        const def = it[RULE_ITEM_DEFINITION_ATTR]?.S;
        if (id !== undefined) docs.push({ origin: `dynamodb:${this.deps.table}/${id}`, kind: 'rule', text: def ?? '' });
      }
      start = res.LastEvaluatedKey;
    } while (start);
    return docs.sort((a, b) => (a.origin < b.origin ? -1 : 1));
  }
}

/** Which source to read, as configured (see shared/config/evaluator.ts). */
export type RuleSourceConfig =
  | { readonly kind: 'file'; readonly file: string }
  | { readonly kind: 'ssm'; readonly path: string }
  | { readonly kind: 'dynamodb'; readonly table: string };

/** Builds the configured source; the SDK clients are created by the caller (module scope in a handler). */
export function createRuleSource(cfg: RuleSourceConfig, clients: { readonly dynamodb: () => DynamoDBClient; readonly ssm: () => SSMClient }): RuleSource {
  switch (cfg.kind) {
    case 'file':
      return new FileRuleSource(cfg.file);
    case 'ssm':
      return new SsmRuleSource({ client: clients.ssm(), path: cfg.path });
    case 'dynamodb':
      return new DynamoRuleSource({ client: clients.dynamodb(), table: cfg.table });
  }
}
