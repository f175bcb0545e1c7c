import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileLogFormat, ParseError, presetNames, PRESETS, resolveFormat } from '../../src/parse/index.ts';
import { nginxWriter } from '../../bench/nginx-writer.ts';

const REQUEST = {
  remote_addr: '2001:db8::7', remote_user: 'bob space', time_local: '21/Nov/2026:23:55:28 +0000', msec: '1795305328.878',
  request: 'GET /caf\u00e9?q=1 HTTP/1.1', status: '200', body_bytes_sent: '612', request_time: '0.004', request_length: '311',
  http_referer: 'https://example.com/', http_user_agent: 'Evil "quoted" \\ agent', http_x_forwarded_for: '198.51.100.1, 10.0.0.1',
  host: 'shop.example.com', request_id: 'abc', req_id: 'abc', proxy_upstream_name: 'ns-svc-80', proxy_alternative_upstream_name: '',
  upstream_addr: '10.0.0.7:80, 10.0.0.8:80', upstream_status: '502, 200', upstream_response_time: '0.001, 0.003', upstream_response_length: '0, 612',
};

const EXPECTED: Record<string, unknown> = {
  remote_addr: '2001:db8::7', remote_user: 'bob space', time_local: '21/Nov/2026:23:55:28 +0000', msec: 1795305328.878,
  request: 'GET /caf\u00e9?q=1 HTTP/1.1', request_method: 'GET', request_path: '/caf\u00e9', request_query: 'q=1', request_protocol: 'HTTP/1.1',
  status: 200, body_bytes_sent: 612, request_time: 0.004, request_length: 311, http_referer: 'https://example.com/',
  http_user_agent: 'Evil "quoted" \\ agent', http_x_forwarded_for: '198.51.100.1, 10.0.0.1', host: 'shop.example.com', request_id: 'abc',
  req_id: 'abc', proxy_upstream_name: 'ns-svc-80', proxy_alternative_upstream_name: null, upstream_addr: ['10.0.0.7:80', '10.0.0.8:80'],
  upstream_status: [502, 200], upstream_response_time: [0.001, 0.003], upstream_response_length: [0, 612],
};

test('presets: the names operators use', () => {
  assert.deepEqual(presetNames(), ['combined', 'common', 'main', 'upstreaminfo', 'json', 'json_default']);
  assert.equal(PRESETS.combined!.format, '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"');
  assert.equal(PRESETS.main!.format, `${PRESETS.combined!.format} "$http_x_forwarded_for"`);
  assert.equal(PRESETS.json!.escape, 'json');
  assert.equal(PRESETS.json_default!.escape, 'default');
});

for (const name of presetNames()) {
  test(`preset ${name}: a line nginx would write parses to the request's values`, () => {
    const preset = PRESETS[name]!;
    const line = nginxWriter(preset.format, preset.escape)(REQUEST);
    const record = compileLogFormat(resolveFormat({ format: name })).parse(line);
    if (record instanceof ParseError) assert.fail(`${line}\n${record.reason}`);
    const expectedTimestamp = 'msec' in record ? '2026-11-21T23:55:28.878Z' : '2026-11-21T23:55:28.000Z';
    assert.equal(record['@timestamp'], expectedTimestamp);
    for (const [key, value] of Object.entries(record)) {
      if (key !== '@timestamp') assert.deepEqual(value, EXPECTED[key], `${name}: ${key}`);
    }
  });
}
