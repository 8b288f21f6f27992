/**
 * Puts the rules of a YAML file into the rules table, one item per rule (`{ id, definition }`, the
 * shape the evaluator's DynamoDB rule source reads), after validating the whole file first so a
 * broken file never half-loads.
 */
import { readFile } from 'node:fs/promises';
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { stringify } from 'yaml';
import { parseRules, parseYamlText } from '../../shared/core/rules/index.ts';
import { RULE_ITEM_DEFINITION_ATTR } from '../../shared/adapters/rules/sources.ts';

/** Validates `file` and writes its rules to `table`; returns the rule ids. Throws RulesValidationError. */
export async function loadRulesIntoTable(dynamodb: DynamoDBClient, table: string, file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  const rules = parseRules(text, file);
  const raw = (parseYamlText(text, file) as { rules: Record<string, unknown>[] }).rules;
  // BatchWriteItem takes 25 items per request.
  for (let i = 0; i < raw.length; i += 25) {
    let items: Record<string, NonNullable<BatchWriteItemCommand['input']['RequestItems']>[string]> = {
      [table]: raw.slice(i, i + 25).map((r) => ({
        PutRequest: { Item: { id: { S: String(r.id) }, [RULE_ITEM_DEFINITION_ATTR]: { S: stringify(r) } } },
      })),
    };
    for (let attempt = 0; attempt < 10 && Object.keys(items).length > 0; attempt++) {
      const res = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: items }));
      items = (res.UnprocessedItems ?? {}) as typeof items;
    }
  }
  return rules.map((r) => r.id);
}
