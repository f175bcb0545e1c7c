import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readDecimal, readInt, readList, typeDecoded } from '../../src/parse/typed-value.ts';
import { Kind, variableKind } from '../../src/parse/variables.ts';

test('readInt: digits only', () => {
  assert.equal(readInt('x200y', 1, 4), 200);
  assert.equal(readInt('000', 0, 3), 0);
  assert.equal(readInt('1234567890123456', 0, 16), 1234567890123456);
  for (const bad of ['', '-', '-1', '+1', '1.0', '1 ', 'a', '١']) assert.ok(Number.isNaN(readInt(bad, 0, bad.length)), bad);
});

test('readDecimal: the same double as Number(), without a substring', () => {
  for (const s of ['0.000', '0.004', '3.003', '1795305328.878', '1795305328.001', '12', '0.1', '99999.999']) {
    assert.equal(readDecimal(s, 0, s.length), Number(s), s);
  }
  for (const bad of ['', '.', '1.', '.5', '1.2.3', '-', '-0.1', '1e3', 'abc']) assert.ok(Number.isNaN(readDecimal(bad, 0, bad.length)), bad);
});

test('readList: tries joined by ", ", groups by " : ", one flat array', () => {
  assert.deepEqual(readList('127.0.0.1:18099, 127.0.0.1:18081', Kind.listText), ['127.0.0.1:18099', '127.0.0.1:18081']);
  assert.deepEqual(readList('10.0.0.1:80, 10.0.0.2:80 : unix:/run/app.sock', Kind.listText), ['10.0.0.1:80', '10.0.0.2:80', 'unix:/run/app.sock']);
  assert.deepEqual(readList('[::1]:8080', Kind.listText), ['[::1]:8080']);
  assert.deepEqual(readList('502, 200', Kind.listInt), [502, 200]);
  assert.deepEqual(readList('502, - : 200', Kind.listInt), [502, null, 200]);
  assert.deepEqual(readList('-, 0.000', Kind.listFloat), [null, 0]);
  assert.deepEqual(readList('0.000, 0.003', Kind.listFloat), [0, 0.003]);
});

test('readList: not a list', () => {
  for (const bad of ['', 'a,', 'a,b', 'a  b', 'a b', ', a', 'a, ', 'a :', 'a : ', ' a']) assert.equal(readList(bad, Kind.listText), undefined, bad);
  assert.equal(readList('200, OK', Kind.listInt), undefined);
  assert.equal(readList('0.1, x', Kind.listFloat), undefined);
});

test('typeDecoded: nginx "-" and empty are null; numbers typed; lists arrays', () => {
  assert.equal(typeDecoded(Kind.int, '-', true), null);
  assert.equal(typeDecoded(Kind.int, '', true), null);
  assert.equal(typeDecoded(Kind.int, '404', true), 404);
  assert.equal(typeDecoded(Kind.int, 'x', true), undefined);
  assert.equal(typeDecoded(Kind.float, '0.300', true), 0.3);
  assert.equal(typeDecoded(Kind.intLoose, '12', true), 12);
  assert.equal(typeDecoded(Kind.intLoose, 'twelve', true), 'twelve');
  assert.equal(typeDecoded(Kind.listInt, '-', true), null, 'a whole "-" list is null, not [null]');
  assert.deepEqual(typeDecoded(Kind.listInt, '-', false), null);
  assert.equal(typeDecoded(Kind.text, '-', true), null);
  assert.equal(typeDecoded(Kind.text, '-', false), '-', 'with escape=json a "-" value is a "-"');
  assert.equal(typeDecoded(Kind.text, 'a b', true), 'a b');
});

test('variable shapes: nginx variables by name, unknown ones are text', () => {
  assert.equal(variableKind('status'), Kind.int);
  assert.equal(variableKind('request_time'), Kind.float);
  assert.equal(variableKind('msec'), Kind.float);
  assert.equal(variableKind('upstream_addr'), Kind.listText);
  assert.equal(variableKind('upstream_status'), Kind.listInt);
  assert.equal(variableKind('upstream_connect_time'), Kind.listFloat);
  assert.equal(variableKind('upstream_bytes_received'), Kind.listInt);
  assert.equal(variableKind('remote_addr'), Kind.token);
  assert.equal(variableKind('time_local'), Kind.timeLocal);
  for (const name of ['remote_user', 'request', 'uri', 'args', 'http_user_agent', 'sent_http_content_type', 'cookie_session', 'my_map_var']) {
    assert.equal(variableKind(name), Kind.text, name);
  }
});
