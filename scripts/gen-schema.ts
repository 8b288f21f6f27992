/**
 * Writes docs/rules.schema.json, the JSON Schema of rule files for editors, from the zod schema
 * (`npm run schema`). A unit test fails when the committed file differs from what this generates.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { rulesFileSchema } from '../shared/core/rules/index.ts';

/** Where the schema is committed. */
export const SCHEMA_PATH = fileURLToPath(new URL('../docs/rules.schema.json', import.meta.url));

/** The JSON Schema text (2-space indented, trailing newline). */
export function rulesJsonSchemaText(): string {
  const schema = z.toJSONSchema(rulesFileSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify({ ...schema, title: 'Klaxon rules' }, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeFile(SCHEMA_PATH, rulesJsonSchemaText());
  process.stdout.write(`wrote ${SCHEMA_PATH}\n`);
}
