import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { CliContext } from '../../../src/cli/context.js';
import { exitCodeFor, reportError } from '../../../src/cli/errors.js';
import { NotFoundError, TsdockError, UsageError } from '../../../src/errors.js';
import { AmbiguousPrefixError, noSuchContainer } from '../../../src/container/lookup.js';

function report(err: unknown, verb: string): { code: number; stderr: string } {
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (b: Buffer) => (text += b.toString()));
  const cli = new CliContext({ stdout: new PassThrough(), stderr, env: {} });
  const code = reportError(err, cli, verb);
  return { code, stderr: text };
}

test('"no such container" exits by its kind, wherever it was thrown', () => {
  // lookup.ts used to say 1 and the container lock (state.ts) 125: start/exec/attach of a container removed
  // between the lookup and the lock exited 125, the same verbs on a name never seen 1
  const fromLookup = noSuchContainer('nosuch');
  const fromLock = new NotFoundError('No such container: nosuch');
  for (const verb of ['inspect', 'rm', 'start', 'logs', 'exec', 'attach', 'stop', 'kill', 'wait', 'pause']) {
    for (const err of [fromLookup, fromLock]) assert.deepEqual(report(err, verb), { code: 1, stderr: 'Error: No such container: nosuch\n' }, verb);
    assert.equal(exitCodeFor(new AmbiguousPrefixError('ab'), verb), 1, verb);
  }
  for (const verb of ['run', 'create']) {
    assert.equal(exitCodeFor(fromLookup, verb), 125, verb);
    assert.equal(exitCodeFor(new NotFoundError('No such image: x'), verb), 125, verb);
  }
});

test('other kinds keep docker\'s codes', () => {
  assert.equal(exitCodeFor(new TsdockError('engine'), 'inspect'), 1);
  assert.equal(exitCodeFor(new TsdockError('engine'), 'run'), 125);
  assert.equal(exitCodeFor(new UsageError('bad'), 'exec'), 125);
  assert.equal(exitCodeFor(new TsdockError('cannot exec', { exitCode: 126 }), 'run'), 126);
  assert.equal(exitCodeFor(new TsdockError('not found', { exitCode: 127 }), 'exec'), 127);
  assert.equal(exitCodeFor(new Error('plain'), 'rm'), 1);
});
