import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import test from 'node:test';
import { globBase } from '../../src/tail/glob-base.ts';

test('globBase: the directory to watch and how deep, for the globs inputs take', () => {
  assert.deepEqual(globBase('/var/log/nginx/*.log'), { base: '/var/log/nginx', depth: 0 });
  assert.deepEqual(globBase('/var/log/nginx/access.log'), { base: '/var/log/nginx', depth: 0 });
  assert.deepEqual(globBase('/var/log/*/access.log'), { base: '/var/log', depth: 1 });
  assert.deepEqual(globBase('/var/log/**/access.log'), { base: '/var/log', depth: undefined });
  assert.deepEqual(globBase('/var/log/[ab]/x.log'), { base: '/var/log', depth: 1 });
  assert.deepEqual(globBase('/*.log'), { base: '/', depth: 0 });
  assert.deepEqual(globBase('logs/*.log'), { base: resolve('logs'), depth: 0 });
  // A brace holding a separator may match a level deeper: never watch less than that.
  assert.deepEqual(globBase('/var/{log,tmp/x}/a.log'), { base: '/var', depth: 2 });
});
