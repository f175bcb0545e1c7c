import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { configSchema } from '../../src/config/schema.ts';
import { schemaText, SCHEMA_FILE, validatorText, VALIDATOR_FILE } from '../../scripts/write-schema.ts';

const example = fileURLToPath(new URL('../../config.example.yaml', import.meta.url));

test('config.example.yaml is a valid configuration', () => {
  const config = loadConfig(example, {}, {});
  assert.equal(config.inputs[0]!.format, 'combined');
  // Written with units there: loaded as bytes and milliseconds.
  assert.deepEqual([config.spool.max_bytes, config.spool.segment_bytes, config.shutdown_timeout_ms], [2 ** 30, 64 * 2 ** 20, 30_000]);
});

test('config.example.yaml documents every setting of the schema', () => {
  const text = readFileSync(example, 'utf8');
  const missing: string[] = [];
  const visit = (schema: unknown, path: string) => {
    const node = schema as { properties?: Record<string, unknown>; items?: unknown };
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      if (!new RegExp(`^\\s*(#\\s*)?(- )?${key}:`, 'm').test(text)) missing.push(`${path}${key}`);
      visit(child, `${path}${key}.`);
    }
    if (node.items) visit(node.items, path);
  };
  visit(configSchema, '');
  assert.deepEqual(missing, []);
});

test('the published JSON Schema is up to date (npm run schema)', () => {
  assert.equal(readFileSync(SCHEMA_FILE, 'utf8'), schemaText());
});

test('the generated config validator is up to date with schema.ts (npm run schema)', () => {
  assert.equal(readFileSync(VALIDATOR_FILE, 'utf8'), validatorText());
});
