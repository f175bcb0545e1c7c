/** Writes the configuration's JSON Schema for editors: `npm run schema`. */
import { writeFileSync } from 'node:fs';
import { configSchema } from '../src/config/schema.ts';

export const SCHEMA_FILE = new URL('../schema/config.schema.json', import.meta.url);

export function schemaText(): string {
  return JSON.stringify(configSchema, null, 2) + '\n';
}

if (import.meta.main) writeFileSync(SCHEMA_FILE, schemaText());
