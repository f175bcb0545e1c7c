import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectFormat, k8sMetadataFromPath, unwrapCri, unwrapDocker, unwrapText, Unwrapped } from '../../src/tail/container/index.ts';
import { dockerString } from './fixtures/container-runtime.ts';

function ok(format: 'cri' | 'docker', line: string) {
  const result = unwrapText(format, line);
  if (result instanceof Error) assert.fail(`${format}: ${line}: ${result.message}`);
  return result;
}

function fails(format: 'cri' | 'docker', line: string, reason: RegExp) {
  const result = unwrapText(format, line);
  assert.ok(result instanceof Error, `${format} should reject ${JSON.stringify(line)}`);
  assert.match(result.message, reason);
}

test('CRI: containerd and CRI-O lines, stdout and stderr, P and F, empty messages', () => {
  const access = '10.244.0.1 - - [14/May/2024:09:21:07 +0000] "GET /healthz HTTP/1.1" 200 0 "-" "kube-probe/1.29"';
  assert.deepEqual(ok('cri', `2024-05-14T09:21:07.118034226Z stdout F ${access}`), { message: access, stream: 'stdout', partial: false });
  // containerd trims trailing zeros of the fraction, or the whole fraction.
  assert.deepEqual(ok('cri', `2024-05-14T09:21:07.1Z stderr P part`), { message: 'part', stream: 'stderr', partial: true });
  assert.deepEqual(ok('cri', `2024-05-14T09:21:07Z stdout F x`), { message: 'x', stream: 'stdout', partial: false });
  // CRI-O: 9 digits and the local offset; conmon prints half-hour zones oddly.
  assert.deepEqual(ok('cri', `2024-05-14T11:21:07.000000001+02:00 stdout F ${access}`).message, access);
  assert.equal(ok('cri', `2024-05-14T14:51:07.000000001+05:1800 stdout F y`).message, 'y');
  // Empty line: the runtime writes the space after the tag; tolerate its absence.
  assert.deepEqual(ok('cri', '2024-05-14T09:21:05.402513Z stdout F '), { message: '', stream: 'stdout', partial: false });
  assert.equal(ok('cri', '2024-05-14T09:21:05.402513Z stdout F').message, '');
  // Spaces inside the message are kept, leading ones too.
  assert.equal(ok('cri', '2024-05-14T09:21:05.4025Z stderr F   Release:       v1.10.1').message, '  Release:       v1.10.1');
  // Further tags (reserved by the CRI spec) are skipped.
  assert.deepEqual(ok('cri', '2024-05-14T09:21:05Z stdout F:x:y msg'), { message: 'msg', stream: 'stdout', partial: false });
});

test('CRI: the message is a range of the input buffer (no copy)', () => {
  const line = Buffer.from('....2024-05-14T09:21:07.5Z stdout F hello....');
  const out = new Unwrapped();
  assert.ok(unwrapCri(line, 4, line.length - 4, out));
  assert.equal(out.buf, line);
  assert.equal(out.text(), 'hello');
  assert.deepEqual([out.start, out.end], [4 + 22 + 10, line.length - 4]);
});

test('CRI: malformed lines are rejected with a reason', () => {
  fails('cri', 'hello world', /not an RFC 3339 time/);
  fails('cri', '', /no space after the time/);
  fails('cri', '2024-05-14 09:21:07 stdout F x', /not an RFC 3339 time/);
  fails('cri', '2024-05-14T09:21:07.Z stdout F x', /not an RFC 3339 time/);
  fails('cri', '2024-05-14T09:21:07.1 stdout F x', /not an RFC 3339 time/);
  fails('cri', '2024-05-14T09:21:07Z stdin F x', /stream is not stdout or stderr/);
  fails('cri', '2024-05-14T09:21:07Z stdoutF x', /stream is not stdout or stderr/);
  fails('cri', '2024-05-14T09:21:07Z stdout X x', /tag is not P or F/);
  fails('cri', '2024-05-14T09:21:07Z stdout Fx', /tag is not P or F/);
  fails('cri', '2024-05-14T09:21:07Z stdout', /no P or F tag/);
  fails('cri', '{"log":"x\\n","stream":"stdout","time":"2024-05-14T09:21:07Z"}', /not an RFC 3339 time/);
});

test('CRI: bytes past `end` are never read as part of the line', () => {
  const out = new Unwrapped();
  const buf = Buffer.from('2024-05-14T09:21:07Z stdout F x\n');
  // Cut right after the time / inside the stream / before the tag: the rest of the buffer does not count.
  for (const end of [20, 24, 28]) assert.equal(unwrapCri(buf, 0, end, out), false, `end ${end}`);
  assert.ok(unwrapCri(buf, 0, 29, out));
  assert.equal(out.text(), '');
});

test('docker: json-file lines decode to the log without its newline; no newline = partial', () => {
  const access = '10.244.0.1 - - [14/May/2024:09:21:07 +0000] "GET /api?a=1&b=<2> HTTP/1.1" 200 5 "-" "Mozilla/5.0 \\"x\\""';
  const line = `{"log":${dockerString(access + '\n')},"stream":"stdout","time":"2024-05-14T09:21:07.904321Z"}`;
  assert.match(line, /\\u0026b=\\u003c2\\u003e/, 'docker escapes & < > as \\u00XX');
  assert.deepEqual(ok('docker', line), { message: access, stream: 'stdout', partial: false });
  assert.deepEqual(ok('docker', `{"log":"part","stream":"stderr","time":"2024-05-14T09:21:07Z"}`), { message: 'part', stream: 'stderr', partial: true });
  assert.deepEqual(ok('docker', `{"log":"\\n","stream":"stdout","time":"2024-05-14T09:21:07Z"}`), { message: '', stream: 'stdout', partial: false });
  // CRLF written by the application: the CR goes too, as for plain files.
  assert.equal(ok('docker', `{"log":"crlf\\r\\n","stream":"stdout","time":"2024-05-14T09:21:07Z"}`).message, 'crlf');
  assert.equal(ok('docker', `{"log":"a\\"b\\r\\n","stream":"stdout","time":"2024-05-14T09:21:07Z"}`).message, 'a"b');
  // A literal backslash before an "n" is not a newline.
  assert.deepEqual(ok('docker', `{"log":"ends with \\\\n","stream":"stdout","time":"t"}`), { message: 'ends with \\n', stream: 'stdout', partial: true });
  // attrs (docker --log-opt labels=...) between stream and time.
  assert.equal(ok('docker', `{"log":"x\\n","stream":"stderr","attrs":{"app":"web"},"time":"t"}`).stream, 'stderr');
});

test('docker: every JSON escape, UTF-8 raw and escaped, surrogate pairs, lone surrogates', () => {
  const message = 'tab\there "q" back\\slash /slash \b\f\r \u0001 é ✓ 😀 \u2028';
  const line = `{"log":${dockerString(message + '\n')},"stream":"stdout","time":"t"}`;
  assert.equal(ok('docker', line).message, message);
  assert.equal(ok('docker', `{"log":"\\u00e9\\u2713\\ud83d\\ude00\\/\\n","stream":"stdout","time":"t"}`).message, 'é✓😀/');
  assert.equal(ok('docker', `{"log":"a\\ud83db\\udc00c\\n","stream":"stdout","time":"t"}`).message, 'a\ufffdb\ufffdc');
  assert.equal(ok('docker', `{"log":"\\ud83d\\n","stream":"stdout","time":"t"}`).message, '\ufffd');
});

test('docker: a line without escapes other than its newline is a range of the input buffer', () => {
  const buf = Buffer.from('{"log":"plain message\\n","stream":"stdout","time":"2024-05-14T09:21:07Z"}');
  const out = new Unwrapped();
  assert.ok(unwrapDocker(buf, 0, buf.length, out));
  assert.equal(out.buf, buf);
  assert.equal(out.text(), 'plain message');
  const escaped = Buffer.from('{"log":"a \\"quoted\\" message\\n","stream":"stdout","time":"t"}');
  assert.ok(unwrapDocker(escaped, 0, escaped.length, out));
  assert.notEqual(out.buf, escaped);
  assert.equal(out.text(), 'a "quoted" message');
});

test('docker: malformed lines are rejected with a reason', () => {
  fails('docker', 'plain text', /does not start with \{"log":"/);
  fails('docker', '{"stream":"stdout","log":"x\\n"}', /does not start with/);
  fails('docker', '{"log":"never closed', /not terminated/);
  fails('docker', '{"log":"never closed\\n', /not terminated/);
  fails('docker', '{"log":"x \\" y', /not terminated/);
  fails('docker', '{"log":"bad \\x escape\\n","stream":"stdout"}', /invalid escape/);
  fails('docker', '{"log":"bad \\u12G4\\n","stream":"stdout"}', /invalid \\u escape/);
  fails('docker', '{"log":"bad \\u12"}', /invalid \\u escape/);
  fails('docker', '{"log":"x\\n","stream":"stdout","time":"t"', /does not end with \}/);
  fails('docker', '2024-05-14T09:21:07Z stdout F x', /does not start with/);
});

test('docker: a line cut at max_line_bytes gives the decoded prefix as a whole message', () => {
  const full = Buffer.from('{"log":"0123456789 \\"quoted\\" \\u00e9 tail\\n","stream":"stderr","time":"t"}');
  const out = new Unwrapped();
  const at = (s: string) => full.indexOf(s);
  for (const [cutAt, expected] of [
    [12, '0123'],
    [at('\\"q') + 1, '0123456789 '], // inside the \" escape
    [at('quoted') + 6, '0123456789 "quoted'],
    [at('\\u00e9') + 3, '0123456789 "quoted" '], // inside \u00e9
    [at('\\n"') + 1, '0123456789 "quoted" é tail'], // inside the final \n
    [at('","stream') + 1, '0123456789 "quoted" é tail'], // after the log string
  ] as const) {
    assert.ok(unwrapDocker(full, 0, cutAt, out, true), `cut at ${cutAt}: ${out.error}`);
    assert.equal(out.partial, false);
    assert.equal(out.cut, true);
    assert.equal(out.text(), expected, `cut at ${cutAt}`);
  }
});

test('auto: CRI if the line has the CRI shape, docker if it starts with {"log":', () => {
  const out = new Unwrapped();
  const cri = Buffer.from('2024-05-14T09:21:07.118034226Z stdout F hello');
  const dock = Buffer.from('{"log":"hello\\n","stream":"stdout","time":"t"}');
  assert.equal(detectFormat(cri, 0, cri.length, out), 'cri');
  assert.equal(detectFormat(dock, 0, dock.length, out), 'docker');
  const plain = Buffer.from('10.244.0.1 - - [14/May/2024:09:21:07 +0000] "GET / HTTP/1.1" 200 0 "-" "-"');
  assert.equal(detectFormat(plain, 0, plain.length, out), undefined);
  const json = Buffer.from('{"msg":"structured app log"}');
  assert.equal(detectFormat(json, 0, json.length, out), undefined);
});

test('Kubernetes metadata from /var/log/containers and /var/log/pods paths', () => {
  const id = '4f1b8a2c9d0e3f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c';
  assert.deepEqual(k8sMetadataFromPath(`/var/log/containers/ingress-nginx-controller-7d9f8c6b5-x2x4q_ingress-nginx_controller-${id}.log`), {
    pod: 'ingress-nginx-controller-7d9f8c6b5-x2x4q',
    namespace: 'ingress-nginx',
    container: 'controller',
    container_id: id,
  });
  // Pod names may hold dots; containers and namespaces dashes; a host mount elsewhere works.
  assert.deepEqual(k8sMetadataFromPath(`/host/var/log/containers/web.v2-0_shop-prod_php-fpm-exporter-${id}.log`), {
    pod: 'web.v2-0',
    namespace: 'shop-prod',
    container: 'php-fpm-exporter',
    container_id: id,
  });
  assert.deepEqual(
    k8sMetadataFromPath('/var/log/pods/ingress-nginx_ingress-nginx-controller-7d9f8c6b5-x2x4q_1f0c7f4e-5b1a-4d2e-9a57-1c2d3e4f5a6b/controller/0.log'),
    {
      namespace: 'ingress-nginx',
      pod: 'ingress-nginx-controller-7d9f8c6b5-x2x4q',
      container: 'controller',
      pod_uid: '1f0c7f4e-5b1a-4d2e-9a57-1c2d3e4f5a6b',
    },
  );
  // Static pods have a hash as uid.
  assert.equal(k8sMetadataFromPath('/var/log/pods/kube-system_kube-apiserver-node1_8d3f0a3c8f0e4b5e9d1c2b3a4f5e6d7c/kube-apiserver/3.log')?.pod, 'kube-apiserver-node1');
  for (const path of [
    '/var/log/nginx/access.log',
    `/var/log/containers/ingress-nginx_controller-${id}.log`, // no namespace
    `/var/log/containers/web_shop_nginx-${id.slice(1)}.log`, // short id
    `/var/log/containers/Web_shop_nginx-${id}.log`, // not a Kubernetes name
    `/var/log/containers/web_shop_nginx-${id}.log.1`,
    '/var/log/pods/ingress-nginx_controller-abc_1f0c7f4e/controller/0.log.20240514-092107',
    '/var/log/pods/ingress-nginx_controller-abc_1f0c7f4e/controller/0.log.20240514-092107.gz',
    '/var/log/pods/controller/0.log',
  ]) {
    assert.equal(k8sMetadataFromPath(path), undefined, path);
  }
});
