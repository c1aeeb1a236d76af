import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWwwAuthenticate } from '../../../src/image/registry/auth.js';

test('parses a docker hub bearer challenge', () => {
  const h = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"';
  assert.deepEqual(parseWwwAuthenticate(h), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } },
  ]);
});

test('commas and escapes inside quotes, unquoted values, several challenges', () => {
  const h = 'Bearer realm="http://127.0.0.1:1/token",scope="repository:a:pull,push repository:b:pull", error=insufficient_scope, Basic realm="say \\"hi\\""';
  const got = parseWwwAuthenticate(h);
  assert.equal(got.length, 2);
  assert.deepEqual(got[0], {
    scheme: 'bearer',
    params: { realm: 'http://127.0.0.1:1/token', scope: 'repository:a:pull,push repository:b:pull', error: 'insufficient_scope' },
  });
  assert.deepEqual(got[1], { scheme: 'basic', params: { realm: 'say "hi"' } });
});

test('basic, case-insensitive names, arrays and garbage', () => {
  assert.deepEqual(parseWwwAuthenticate('BASIC Realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  assert.deepEqual(parseWwwAuthenticate(['Basic realm=x', 'Bearer realm="y"']).map((c) => c.scheme), ['basic', 'bearer']);
  assert.deepEqual(parseWwwAuthenticate('Negotiate abc=='), [{ scheme: 'negotiate', params: {} }]);
  assert.deepEqual(parseWwwAuthenticate(''), []);
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
});
