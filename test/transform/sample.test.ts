/**
 * transforms.sample: 1 in N by a hash of the key, so a client's records are
 * kept or dropped together and the same on every run; always_keep wins.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashOf } from '../../src/transform/sample.ts';
import { compile, fixtureLines, parsed, run, type FormatOf } from './fixture-records.ts';

const MAIN: FormatOf = { format: 'main' };

test('by key: every record of one key is kept or dropped together, the same on every compile', () => {
  const lines = fixtureLines('main.log');
  const compiled = compile(MAIN, { sample: { rate: 3, key: 'http_x_forwarded_for' } });
  const records = parsed(compiled.parser, lines);
  const first = run(compiled, lines);
  const again = run(compile(MAIN, { sample: { rate: 3, key: 'http_x_forwarded_for' } }), lines);
  assert.deepEqual(again.map((r) => typeof r), first.map((r) => typeof r), 'deterministic');
  const byKey = new Map<string, Set<boolean>>();
  records.forEach((r, i) => {
    const key = JSON.stringify(r.http_x_forwarded_for);
    byKey.set(key, (byKey.get(key) ?? new Set()).add(first[i] === 'records_sampled_out'));
  });
  for (const [key, outcomes] of byKey) assert.equal(outcomes.size, 1, `records of ${key} kept and dropped`);
  const kept = first.filter((r) => r !== 'records_sampled_out').length;
  console.log(`  main.log, rate 3 by http_x_forwarded_for: ${kept} of ${lines.length} kept, ${byKey.size} keys`);
  assert.ok(kept > 0 && kept < lines.length);
});

test('the hash keeps close to 1 in N of many keys', () => {
  for (const rate of [2, 10, 100]) {
    let kept = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) if (hashOf(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`) % rate === 0) kept++;
    const share = kept / n;
    console.log(`  rate ${rate}: ${kept} of ${n} addresses kept (${(share * rate).toFixed(3)} × 1/${rate})`);
    assert.ok(Math.abs(share * rate - 1) < 0.05, `rate ${rate}: kept ${kept}`);
  }
});

test('always_keep keeps its records whatever the hash; without a key, every rate-th record', () => {
  const lines = fixtureLines('combined.log');
  // Every line of combined.log is from 127.0.0.1 or ::1: by remote_addr, two keys.
  const compiled = compile({ format: 'combined' }, { sample: { rate: 1000, key: 'request_path', always_keep: 'status >= 400' } });
  const records = parsed(compiled.parser, lines);
  const out = run(compiled, lines);
  records.forEach((r, i) => {
    if ((r.status as number) >= 400) assert.notEqual(out[i], 'records_sampled_out', `line ${i + 1}`);
    else assert.equal(out[i] === 'records_sampled_out', hashOf(r.request_path) % 1000 !== 0, `line ${i + 1}`);
  });
  const everyThird = run(compile({ format: 'combined' }, { sample: { rate: 3 } }), lines);
  everyThird.forEach((r, i) => assert.equal(r === 'records_sampled_out', (i + 1) % 3 !== 0, `line ${i + 1}`));
});
