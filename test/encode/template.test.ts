import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileTemplate, topicName } from '../../src/encode/template.ts';

const known = { record: ['remote_addr', 'status', 'upstream_addr'], source: ['host', 'path', 'input', 'pod'] };

test('a template renders record and source fields', () => {
  const t = compileTemplate('nginx-{{ source.pod }}-{{status}}', known, 'kafka.topic');
  assert.equal(t.constant, undefined);
  assert.equal(t.render({ status: 404 }, { pod: 'web-1' }), 'nginx-web-1-404');
  assert.equal(t.render({ status: null }, {}), 'nginx--', 'null and absent fields render empty');
  assert.equal(compileTemplate('{{ upstream_addr }}', known, 'k').render({ upstream_addr: ['a:1', 'b:2'] }, {}), 'a:1,b:2');
});

test('records of a JSON log read by key name are open: any record field is accepted; objects render as JSON', () => {
  const t = compileTemplate('{{ team }}-{{ source.pod }}', { ...known, openRecord: true }, 'kafka.topic');
  assert.equal(t.render({ team: 'shop' }, { pod: 'p' }), 'shop-p');
  assert.equal(t.render({}, { pod: 'p' }), '-p', 'absent: empty');
  assert.equal(compileTemplate('{{ o }}/{{ b }}', { ...known, openRecord: true }, 'k').render({ o: { a: [1] }, b: false }, {}), '{"a":[1]}/false');
  assert.throws(() => compileTemplate('{{ source.nope }}', { ...known, openRecord: true }, 'kafka.topic'), /not a field of the source/);
});

test('a template without fields is a constant', () => {
  assert.equal(compileTemplate('nginx', known, 'kafka.topic').constant, 'nginx');
});

test('an unknown field is an error at compile time, naming the setting and the known fields', () => {
  assert.throws(() => compileTemplate('x-{{ remote_adr }}', known, 'kafka.key'), /kafka\.key: "\{\{ remote_adr \}\}" in "x-\{\{ remote_adr \}\}" is not a field of the log format; known: remote_addr, status, upstream_addr/);
  assert.throws(() => compileTemplate('{{ source.namespace }}', known, 'kafka.topic'), /not a field of the source; known: source\.host, source\.path, source\.input, source\.pod/);
  assert.throws(() => compileTemplate('a-{{ status', known, 'kafka.topic'), /unbalanced/);
});

test('topic names keep to what Kafka allows', () => {
  assert.equal(topicName('nginx/web 1:ü'), 'nginx_web_1__');
  assert.equal(topicName('x'.repeat(300)).length, 249);
});
