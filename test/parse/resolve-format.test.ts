import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FormatError, PRESETS, resolveFormat } from '../../src/parse/index.ts';

function confDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'logship-conf-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function throwsFormatError(fn: () => unknown, pattern: RegExp, where?: { file?: string; line?: number }): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FormatError, String(e));
    assert.match(e.message, pattern);
    if (where?.file !== undefined) assert.equal(e.file, where.file);
    if (where?.line !== undefined) assert.equal(e.line, where.line);
    return true;
  });
}

test('format: a preset name', () => {
  assert.deepEqual(resolveFormat({ format: 'main' }), { format: PRESETS.main!.format, escape: 'default', origin: 'preset main' });
  assert.equal(resolveFormat({ format: 'json' }).escape, 'json');
});

test('format: a bare log_format body is taken as is', () => {
  assert.deepEqual(resolveFormat({ format: '"$request" $status' }), { format: '"$request" $status', escape: 'default', origin: '--format' });
});

test("format: a bare body's backslash escapes are nginx's, as in nginx.conf", () => {
  assert.equal(resolveFormat({ format: '$msec\\t$remote_addr\\t$status' }).format, '$msec\t$remote_addr\t$status');
  assert.equal(resolveFormat({ format: '$a \\"$b\\" \\\'$c\\\' \\\\ \\r\\n' }).format, '$a "$b" \'$c\' \\ \r\n');
  assert.equal(resolveFormat({ format: '$a \\x41 \\d' }).format, '$a \\x41 \\d', 'other escapes stay as written, as nginx keeps them');
  // The same string in nginx syntax and bare means the same format.
  assert.equal(resolveFormat({ format: "'$msec\\t$status'" }).format, resolveFormat({ format: '$msec\\t$status' }).format);
});

test('format: nginx syntax — quoted parts joined, escape= understood, a whole directive accepted', () => {
  assert.equal(resolveFormat({ format: `'$remote_addr - $remote_user '\n  '"$request" $status'` }).format, '$remote_addr - $remote_user "$request" $status');
  assert.deepEqual(resolveFormat({ format: `escape=json '{"s":"$status"}'` }), { format: '{"s":"$status"}', escape: 'json', origin: '--format' });
  assert.equal(resolveFormat({ format: `log_format main escape=none '$a' "\\"$b\\"\\t";` }).format, '$a"$b"\t');
  assert.equal(resolveFormat({ format: `log_format main escape=none '$a';` }).escape, 'none');
  assert.equal(resolveFormat({ format: `'it\\'s $status'` }).format, "it's $status");
});

test('format: errors name what is wrong', () => {
  throwsFormatError(() => resolveFormat({ format: 'combind' }), /unknown format preset "combind"; presets: combined, common, main/);
  throwsFormatError(() => resolveFormat({}), /no log format given/);
  throwsFormatError(() => resolveFormat({ format: `escape=yaml '$a'` }), /unknown log format escaping "yaml"/);
  throwsFormatError(() => resolveFormat({ format: `'$a` }), /not closed/);
  throwsFormatError(() => resolveFormat({ name: 'main' }), /needs an nginx config/);
});

test('nginx.conf: finds log_format NAME, through includes and globs relative to the conf dir', () => {
  const dir = confDir({
    'nginx.conf': [
      'user nginx; # a comment with a \'quote',
      'events { worker_connections 1024; }',
      'http {',
      '    include conf.d/*.conf;',
      '    log_format  main  \'$remote_addr - $remote_user [$time_local] "$request" \'',
      '                      \'$status $body_bytes_sent\';',
      '    server { listen 80; location / { return 200 "ok;{}"; } }',
      '}',
    ].join('\n'),
    'conf.d/a.conf': 'log_format kv escape=json\n  \'{"a":"$remote_addr"}\';\ninclude snippets/more.conf;\n',
    'conf.d/b.conf': 'log_format kv \'shadowed: first definition wins\';\n',
    'snippets/more.conf': 'map $http_x $y { default 1; }\nlog_format deep "${remote_addr}|$status";\n',
  });
  const conf = join(dir, 'nginx.conf');
  assert.deepEqual(resolveFormat({ nginxConf: conf, name: 'main' }), {
    format: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent', escape: 'default', origin: `${conf}:5`,
  });
  assert.deepEqual(resolveFormat({ nginxConf: conf, name: 'kv' }), { format: '{"a":"$remote_addr"}', escape: 'json', origin: `${join(dir, 'conf.d/a.conf')}:1` });
  assert.equal(resolveFormat({ nginxConf: conf, name: 'deep' }).format, '${remote_addr}|$status');
  assert.equal(resolveFormat({ nginxConf: conf, name: 'combined' }).format, PRESETS.combined!.format, 'predefined by nginx');
  assert.equal(resolveFormat({ nginxConf: conf }).origin, 'preset combined');
});

test('nginx.conf: errors carry the file and line', () => {
  const dir = confDir({
    'nginx.conf': 'http {\n  log_format a \'$status\';\n}\n',
    'missing-include.conf': 'http {\n\n  include nowhere.conf;\n}\n',
    'unclosed.conf': 'http {\n  log_format a \'$status;\n}\n',
    'nosemi.conf': 'http {\n  log_format a \'$status\'\n',
    'bad-escape.conf': 'log_format a escape=yaml \'$status\';\n',
    'loop.conf': 'include loop.conf;\n',
  });
  const file = (name: string) => join(dir, name);
  throwsFormatError(() => resolveFormat({ nginxConf: file('nginx.conf'), name: 'b' }), /log_format "b" is not defined here; defined: a/, { file: file('nginx.conf') });
  throwsFormatError(() => resolveFormat({ nginxConf: file('missing-include.conf'), name: 'a' }), /include .*nowhere\.conf: cannot read it: ENOENT/, { file: file('missing-include.conf'), line: 3 });
  throwsFormatError(() => resolveFormat({ nginxConf: file('unclosed.conf'), name: 'a' }), /not closed/, { file: file('unclosed.conf'), line: 2 });
  throwsFormatError(() => resolveFormat({ nginxConf: file('nosemi.conf'), name: 'a' }), /has no ";"/, { file: file('nosemi.conf') });
  throwsFormatError(() => resolveFormat({ nginxConf: file('bad-escape.conf'), name: 'a' }), /unknown log format escaping "yaml"/, { file: file('bad-escape.conf'), line: 1 });
  throwsFormatError(() => resolveFormat({ nginxConf: file('loop.conf'), name: 'a' }), /include loop/);
  throwsFormatError(() => resolveFormat({ nginxConf: file('absent.conf'), name: 'a' }), /cannot read nginx config .*absent\.conf: ENOENT/, { file: file('absent.conf') });
  throwsFormatError(() => resolveFormat({ nginxConf: file('nginx.conf'), format: 'combined' }), /not both/);
});
