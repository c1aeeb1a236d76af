import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AmbiguousPrefixError, resolveContainer } from '../../../src/container/lookup.js';
import { NotFoundError } from '../../../src/errors.js';
import { fakeContainer, tempStore } from './fixtures.js';

test('lookup: full id, name (with or without "/"), unique prefix; docker order and errors', () => {
  const root = tempStore('lookup');
  const a = fakeContainer(root, { id: 'abc1'.padEnd(64, '0'), name: 'web' });
  const b = fakeContainer(root, { id: 'abc2'.padEnd(64, '0'), name: 'db' });
  // a container named like another's id prefix: the name wins (docker looks names up before prefixes)
  const c = fakeContainer(root, { id: 'f'.repeat(64), name: 'abc1' });
  assert.equal(resolveContainer(root, a), a);
  assert.equal(resolveContainer(root, 'web'), a);
  assert.equal(resolveContainer(root, '/db'), b);
  assert.equal(resolveContainer(root, 'abc2'), b);
  assert.equal(resolveContainer(root, 'abc1'), c);
  assert.equal(resolveContainer(root, 'fff'), c);
  assert.throws(() => resolveContainer(root, 'abc'), (err: Error) => err instanceof AmbiguousPrefixError && err.message === 'Multiple IDs found with provided prefix: abc');
  for (const missing of ['nope', 'abc3', '', '../images.json', 'ABC1']) {
    assert.throws(() => resolveContainer(root, missing), (err: Error) => err instanceof NotFoundError && err.message === `No such container: ${missing}`);
  }
});

test('lookup: a stale name (its container directory is gone) is no name', () => {
  const root = tempStore('lookup');
  const id = fakeContainer(root, { name: 'ghost' });
  fs.rmSync(path.join(root, 'containers', id), { recursive: true });
  assert.throws(() => resolveContainer(root, 'ghost'), /No such container: ghost/);
});
