import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findVerb, helpAsked } from '../../../src/cli/verb.js';

test('findVerb skips global flags and their values', () => {
  assert.equal(findVerb(['--root', '/x', 'run', 'busybox']), 'run');
  assert.equal(findVerb(['--log-level', 'debug']), undefined);
});

test('help is asked only among the flags before the image or container: the rest is the container command', () => {
  assert.equal(helpAsked(['run', '--help']), true);
  assert.equal(helpAsked(['--root', '/x', 'ps', '-h']), true);
  assert.equal(helpAsked(['--help']), true);
  assert.equal(helpAsked(['run', '--rm', 'busybox', 'httpd', '-h', '/www']), false, "httpd's -h is the container's");
  assert.equal(helpAsked(['run', 'busybox', 'ls', '--help']), false);
  assert.equal(helpAsked(['exec', 'web', 'cat', '--help']), false);
  assert.equal(helpAsked(['run', '-h', 'myhost', 'busybox', 'hostname']), false, "run's -h is --hostname");
  assert.equal(helpAsked(['create', '-h', 'x', 'busybox']), false);
  assert.equal(helpAsked(['run', '--rm', '--', '--help']), false);
});
