import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeJsonEscapes, decodeNginxEscapes } from '../../src/parse/decode-escapes.ts';

test('default escaping: \\xHH is a byte, bytes are read as UTF-8', () => {
  const table: [string, string][] = [
    ['plain', 'plain'],
    ['Evil \\x22quoted\\x22 \\x5Cbackslash\\x5C agent', 'Evil "quoted" \\backslash\\ agent'],
    ['tab\\x09here', 'tab\there'],
    ['ctl\\x01\\x7F\\x1Bbytes', 'ctl\x01\x7F\x1Bbytes'],
    ['\\xC3\\x9Cberpr\\xC3\\xBCfung', 'Überprüfung'],
    ['\\xE6\\xB5\\x8F\\xE8\\xA7\\x88\\xE5\\x99\\xA8', '浏览器'],
    ['\\xF0\\x9F\\x98\\x80', '😀'],
    ['lower \\xc3\\xa9', 'lower é'],
  ];
  for (const [written, value] of table) assert.equal(decodeNginxEscapes(written), value, written);
});

test('default escaping: invalid UTF-8 becomes U+FFFD, as a UTF-8 reader sees it', () => {
  assert.equal(decodeNginxEscapes('latin1 \\xE9\\xE8 invalid utf8 \\xFF'), 'latin1 \uFFFD\uFFFD invalid utf8 \uFFFD');
  assert.equal(decodeNginxEscapes('cut \\xE6\\xB5'), 'cut \uFFFD');
  assert.equal(decodeNginxEscapes('\\xC0\\xAF'), '\uFFFD\uFFFD'); // overlong
});

test('default escaping: a backslash that is not \\xHH is kept; raw non-ASCII is kept', () => {
  assert.equal(decodeNginxEscapes('a\\b \\x4 \\xZZ \\'), 'a\\b \\x4 \\xZZ \\');
  assert.equal(decodeNginxEscapes('中文 \\x41 😀'), '中文 A 😀');
});

test('default escaping: any bytes, escaped as nginx does, decode like TextDecoder', () => {
  const reference = new TextDecoder('utf-8');
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const written = [...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
      assert.equal(decodeNginxEscapes(written), reference.decode(bytes));
    }),
  );
});

test('json escaping: JSON string escapes', () => {
  const table: [string, string][] = [
    ['Evil \\"quoted\\" \\\\backslash\\\\', 'Evil "quoted" \\backslash\\'],
    ['a\\/b', 'a/b'],
    ['\\b\\f\\n\\r\\t', '\b\f\n\r\t'],
    ['ctl\\u0001\\u001b', 'ctl\x01\x1b'],
    ['\\u00e9\\u00E9', 'éé'],
    ['\\ud83d\\ude00', '😀'],
    ['raw é 中 \uFFFD', 'raw é 中 \uFFFD'],
  ];
  for (const [written, value] of table) assert.equal(decodeJsonEscapes(written), value, written);
});

test('json escaping: an unknown or cut escape is kept as written', () => {
  assert.equal(decodeJsonEscapes('\\q \\u12 \\'), '\\q \\u12 \\');
});
