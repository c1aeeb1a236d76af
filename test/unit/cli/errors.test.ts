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

test('a cleanup failure reaches the debug log, never hides the error, and is silent without --log-level debug', async () => {
  const { withCleanup, cleanupFailed } = await import('../../../src/errors.js');
  for (const level of ['debug', undefined]) {
    const stderr = new PassThrough();
    let text = '';
    stderr.on('data', (b: Buffer) => (text += b.toString()));
    const cli = new CliContext({ stdout: new PassThrough(), stderr, env: {} });
    cli.global.logLevel = level;
    // withCleanup: the work's error wins, the cleanup's is attached and shown in the debug log
    const err = await withCleanup(
      () => Promise.reject(new TsdockError('create failed')),
      () => {
        throw new Error('rmdir /x: EBUSY');
      },
    ).catch((e: unknown) => e);
    reportError(err, cli, 'create');
    // a `.catch(cleanupFailed(ctx, ...))` site: the api context's debug sink
    await Promise.reject(new Error('EPERM')).catch(cleanupFailed({ debug: (m) => cli.debugLog(m) }, 'remove /y'));
    const lines = text.split('\n').filter((l) => l && !/^\s+at |^TsdockError/.test(l));
    if (level === 'debug') assert.deepEqual(lines, ['Error: create failed', 'DEBU: cleanup after the error also failed: rmdir /x: EBUSY', 'DEBU: cleanup: remove /y: EPERM']);
    else assert.deepEqual(lines, ['Error: create failed']);
  }
});

test('a cleanup inside catch (no api context) attaches its failure to the error it must not hide', async () => {
  const { suppressInto } = await import('../../../src/errors.js');
  const original = new TsdockError('unpack failed');
  await Promise.reject(new Error('rm tmp/x: EBUSY')).catch(suppressInto(original));
  assert.equal((original as { suppressed?: Error }).suppressed?.message, 'rm tmp/x: EBUSY');
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (b: Buffer) => (text += b.toString()));
  const cli = new CliContext({ stdout: new PassThrough(), stderr, env: {} });
  cli.global.logLevel = 'debug';
  reportError(original, cli, 'pull');
  assert.match(text, /^Error: unpack failed\n[\s\S]*DEBU: cleanup after the error also failed: rm tmp\/x: EBUSY\n$/);
});
