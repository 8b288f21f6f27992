/**
 * The rule set of a function as configured (shared/config `RuleSourceSettings`): the configured
 * source, cached for its lifetime, with validation problems and source outages logged. The
 * evaluator and the timers function read rules the same way; this is that one way.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Clock } from '../../core/model/index.ts';
import { CachedRules } from './cached-rules.ts';
import { createRuleSource, type RuleSourceConfig } from './sources.ts';

/**
 * Builds the cached rules of a function at init (module scope). The DynamoDB client is the
 * function's own (shared with its other adapters); an SSM client is created only for an SSM source.
 */
export function cachedRulesFromConfig(
  cfg: { readonly rules: RuleSourceConfig; readonly rulesCacheTtlMs: number },
  deps: { readonly dynamodb: DynamoDBClient; readonly logger: Logger; readonly clock: Clock },
): CachedRules {
  const { logger } = deps;
  const source = createRuleSource(cfg.rules, { dynamodb: () => deps.dynamodb, ssm: () => new SSMClient({}) });
  return new CachedRules({
    source,
    ttlMs: cfg.rulesCacheTtlMs,
    clock: deps.clock,
    onProblem: (p) => logger.error('invalid rule; using the last good version where there is one', { ...p, error: p.error as Error }),
    onStale: (err) => logger.warn('rules source unavailable; keeping cached rules', { source: source.name, error: err as Error }),
  });
}
