import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitRequestLine } from '../../src/parse/request-line.ts';
import type { FieldValue } from '../../src/parse/types.ts';

function split(request: FieldValue): FieldValue[] {
  const out: FieldValue[] = ['x', 'x', 'x', 'x', 'x', 'x'];
  splitRequestLine(request, out, 1);
  assert.equal(out[0], 'x');
  assert.equal(out[5], 'x');
  return out.slice(1, 5);
}

test('$request split into method, path, query, protocol', () => {
  const table: [FieldValue, FieldValue[]][] = [
    ['GET /api/items/73249?fields=name,price&lang=zh-CN HTTP/1.1', ['GET', '/api/items/73249', 'fields=name,price&lang=zh-CN', 'HTTP/1.1']],
    ['GET /static/app.js HTTP/1.1', ['GET', '/static/app.js', null, 'HTTP/1.1']],
    ['POST /search? HTTP/2.0', ['POST', '/search', '', 'HTTP/2.0']],
    ['GET /a?b?c HTTP/1.0', ['GET', '/a', 'b?c', 'HTTP/1.0']],
    ['OPTIONS * HTTP/1.1', ['OPTIONS', '*', null, 'HTTP/1.1']],
    ['CONNECT example.com:443 HTTP/1.1', ['CONNECT', 'example.com:443', null, 'HTTP/1.1']],
    ['GET /a b HTTP/1.1', ['GET', '/a b', null, 'HTTP/1.1']],
    ['GET /static/index.html HTTP/9.9', ['GET', '/static/index.html', null, 'HTTP/9.9']],
    ['GET http://example.com/x?y=1 HTTP/1.1', ['GET', 'http://example.com/x', 'y=1', 'HTTP/1.1']],
  ];
  for (const [request, parts] of table) assert.deepEqual(split(request), parts, String(request));
});

test('request lines that are not METHOD URI PROTOCOL keep the parts they have', () => {
  assert.deepEqual(split('GET /static/index.html'), ['GET', '/static/index.html', null, null], 'HTTP/0.9');
  assert.deepEqual(split('GET /x?q=1'), ['GET', '/x', 'q=1', null]);
  assert.deepEqual(split('GET'), ['GET', null, null, null]);
  assert.deepEqual(split('hello'), [null, null, null, null]);
  assert.deepEqual(split('\x16\x03\x01\x02'), [null, null, null, null], 'TLS handshake sent to a plain port');
  assert.deepEqual(split(''), [null, null, null, null]);
  assert.deepEqual(split(null), [null, null, null, null]);
  assert.deepEqual(split('get / HTTP/1.1'), [null, null, null, null], 'nginx methods are upper case');
});
