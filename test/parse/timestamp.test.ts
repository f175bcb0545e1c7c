import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secondsOfTimeIso8601, secondsOfTimeLocal, TimestampFormatter } from '../../src/parse/timestamp.ts';

test('$time_local to UTC, offsets applied', () => {
  const t = new TimestampFormatter();
  assert.equal(t.fromText('21/Nov/2026:23:55:28 +0000', false), '2026-11-21T23:55:28.000Z');
  assert.equal(t.fromText('22/Nov/2026:05:25:28 +0530', false), '2026-11-21T23:55:28.000Z');
  assert.equal(t.fromText('21/Nov/2026:18:55:28 -0500', false), '2026-11-21T23:55:28.000Z');
  assert.equal(t.fromText('01/Jan/2027:00:30:00 +0100', false), '2026-12-31T23:30:00.000Z');
  assert.equal(t.fromText('29/Feb/2028:12:00:00 +0000', false), '2028-02-29T12:00:00.000Z');
});

test('$time_iso8601 to UTC', () => {
  const t = new TimestampFormatter();
  assert.equal(t.fromText('2026-11-21T23:55:28+00:00', true), '2026-11-21T23:55:28.000Z');
  assert.equal(t.fromText('2026-11-22T01:55:28+02:00', true), '2026-11-21T23:55:28.000Z');
  assert.equal(t.fromText('2026-11-21T20:25:28-03:30', true), '2026-11-21T23:55:28.000Z');
});

test('$msec keeps its milliseconds; the cached second never leaks into the next', () => {
  const t = new TimestampFormatter();
  assert.equal(t.fromEpochSeconds(1795305328.878), '2026-11-21T23:55:28.878Z');
  assert.equal(t.fromEpochSeconds(1795305328.001), '2026-11-21T23:55:28.001Z');
  assert.equal(t.fromEpochSeconds(1795305329), '2026-11-21T23:55:29.000Z');
  assert.equal(t.fromEpochSeconds(1795305328.999), '2026-11-21T23:55:28.999Z');
  assert.equal(t.fromEpochSeconds(0.5), '1970-01-01T00:00:00.500Z');
});

test('malformed times are NaN / null', () => {
  assert.ok(Number.isNaN(secondsOfTimeLocal('21/Foo/2026:23:55:28 +0000')));
  assert.ok(Number.isNaN(secondsOfTimeLocal('21/Nov/2026 23:55:28 +0000')));
  assert.ok(Number.isNaN(secondsOfTimeLocal('21/Nov/2026:23:55:28 Z0000')));
  assert.ok(Number.isNaN(secondsOfTimeIso8601('2026-11-21 23:55:28+00:00')));
  assert.equal(new TimestampFormatter().fromText('xx/Nov/2026:23:55:28 +0000', false), null);
});
