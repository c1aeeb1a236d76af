import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../../src/errors.js';
import { familiarName, familiarString, formatReference, isDigest, parseReference } from '../../../src/image/reference.js';

const D = `sha256:${'f'.repeat(64)}`;

const valid: Array<[string, string]> = [
  ['alpine', 'docker.io/library/alpine:latest'],
  ['alpine:3.19', 'docker.io/library/alpine:3.19'],
  ['user/app', 'docker.io/user/app:latest'],
  ['docker.io/alpine', 'docker.io/library/alpine:latest'],
  ['index.docker.io/alpine', 'docker.io/library/alpine:latest'],
  ['docker.io/library/alpine', 'docker.io/library/alpine:latest'],
  ['localhost/x', 'localhost/x:latest'],
  ['localhost:5000/x', 'localhost:5000/x:latest'],
  ['host.tld/x', 'host.tld/x:latest'],
  ['host:5000/ns/name:tag', 'host:5000/ns/name:tag'],
  [`host:5000/ns/name:tag@${D}`, `host:5000/ns/name:tag@${D}`],
  [`host:5000/ns/name@${D}`, `host:5000/ns/name@${D}`],
  // docker's own examples (distribution/reference)
  ['test_com', 'docker.io/library/test_com:latest'],
  ['test.com:tag', 'docker.io/library/test.com:tag'],
  ['test.com:5000', 'docker.io/library/test.com:5000'],
  ['test.com/repo:tag', 'test.com/repo:tag'],
  ['test:5000/repo', 'test:5000/repo:latest'],
  ['lowercase:Uppercase', 'docker.io/library/lowercase:Uppercase'],
  ['sub-dom1.foo.com/bar/baz/quux', 'sub-dom1.foo.com/bar/baz/quux:latest'],
  ['sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com/bar/baz/quux:some-long-tag'],
  ['b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io/test.example.com/my-app:test.example.com'],
  ['xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com/myimage:xn--n3h.com'],
  ['foo_bar.com:8080', 'docker.io/library/foo_bar.com:8080'],
  ['foo/foo_bar.com:8080', 'docker.io/foo/foo_bar.com:8080'],
  ['192.168.1.1/repo', '192.168.1.1/repo:latest'],
  ['192.168.1.1:5000/repo', '192.168.1.1:5000/repo:latest'],
  ['[2001:db8::1]/repo', '[2001:db8::1]/repo:latest'],
  ['[2001:db8::1]:5000/repo:tag', '[2001:db8::1]:5000/repo:tag'],
  ['a/b__c', 'docker.io/a/b__c:latest'],
  ['a/b--c', 'docker.io/a/b--c:latest'],
  ['a/b.c_d-e', 'docker.io/a/b.c_d-e:latest'],
  ['Upper.Host/repo', 'Upper.Host/repo:latest'],
];

test('parseReference normalizes valid references', () => {
  for (const [input, want] of valid) {
    assert.equal(formatReference(parseReference(input)), want, input);
  }
});

test('parseReference fields', () => {
  assert.deepEqual(parseReference('alpine'), { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' });
  assert.deepEqual(parseReference(`localhost:5000/a/b:t@${D}`), { registry: 'localhost:5000', repository: 'a/b', tag: 't', digest: D });
  assert.deepEqual(parseReference(`alpine@${D}`), { registry: 'docker.io', repository: 'library/alpine', digest: D });
  assert.deepEqual(parseReference('alpine', { defaultTag: false }), { registry: 'docker.io', repository: 'library/alpine' });
});

test('parseReference uses the first search registry for unqualified names', () => {
  assert.equal(formatReference(parseReference('alpine', { searchRegistries: ['quay.io', 'docker.io'] })), 'quay.io/alpine:latest');
  assert.equal(formatReference(parseReference('user/app', { searchRegistries: ['quay.io'] })), 'quay.io/user/app:latest');
  assert.equal(formatReference(parseReference('alpine', { searchRegistries: ['docker.io'] })), 'docker.io/library/alpine:latest');
  assert.equal(formatReference(parseReference('alpine', { searchRegistries: [] })), 'docker.io/library/alpine:latest');
  assert.equal(formatReference(parseReference('ghcr.io/a/b', { searchRegistries: ['quay.io'] })), 'ghcr.io/a/b:latest');
});

const invalid: Array<[string, RegExp]> = [
  ['', /empty/],
  [':justtag', /missing repository name/],
  [`@${D}`, /missing repository name/],
  ['repo@sha256:ffff', /invalid digest/],
  [`validname@invaliddigest:${'f'.repeat(64)}`, /unsupported digest algorithm/],
  [`repo@sha256:${'F'.repeat(64)}`, /invalid digest/],
  ['Alpine', /^invalid reference format: repository name must be lowercase: "Alpine"$/],
  ['Uppercase:tag', /must be lowercase/],
  ['test:5000/Uppercase/lowercase:tag', /must be lowercase/],
  ['aa/asdf$$^/aa', /invalid repository name component/],
  ['foo/bar:', /invalid tag/],
  [`foo:${'a'.repeat(129)}`, /invalid tag/],
  ['foo:-tag', /invalid tag/],
  ['foo//bar', /empty path component/],
  ['-foo', /invalid repository name component/],
  ['foo-', /invalid repository name component/],
  ['foo..bar', /invalid repository name component/],
  ['foo___bar', /invalid repository name component/],
  ['localhost/', /missing repository name/],
  ['[fe80::1%eth0]:5000/repo', /invalid registry host/],
  ['host:port:5000/repo', /invalid registry host/],
  [`a/${'a'.repeat(256)}`, /not be more than 255 characters/],
  ['a'.repeat(64).replace(/a/g, 'b'), /cannot specify 64-byte hexadecimal strings/],
];

test('parseReference rejects invalid references with UsageError', () => {
  for (const [input, pattern] of invalid) {
    assert.throws(() => parseReference(input), (err: unknown) => {
      assert.ok(err instanceof UsageError, `${input}: ${String(err)}`);
      assert.match(err.message, pattern, input);
      return true;
    });
  }
});

test('name length counts the normalized name', () => {
  const long = `a/${'b'.repeat(241)}`; // docker.io/ + 243 = 253
  assert.ok(parseReference(long));
  assert.throws(() => parseReference(`a/${'b'.repeat(244)}`), /255/);
});

test('familiarName follows docker', () => {
  assert.equal(familiarName({ registry: 'docker.io', repository: 'library/alpine' }), 'alpine');
  assert.equal(familiarName({ registry: 'docker.io', repository: 'user/app' }), 'user/app');
  assert.equal(familiarName({ registry: 'docker.io', repository: 'library/a/b' }), 'library/a/b');
  assert.equal(familiarName({ registry: 'localhost:5000', repository: 'x' }), 'localhost:5000/x');
  assert.equal(familiarName({ registry: 'quay.io', repository: 'library/x' }), 'quay.io/library/x');
  assert.equal(familiarString(parseReference(`alpine:3@${D}`)), `alpine:3@${D}`);
});

test('isDigest', () => {
  assert.equal(isDigest(D), true);
  assert.equal(isDigest(`sha512:${'a'.repeat(128)}`), true);
  assert.equal(isDigest(`sha512:${'a'.repeat(64)}`), false);
  assert.equal(isDigest(`md5:${'a'.repeat(32)}`), false);
  assert.equal(isDigest('f'.repeat(64)), false);
});
