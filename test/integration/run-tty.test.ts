import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { tempRoot } from './helpers.js';
import { interact } from './pty.js';

describe('run -it through a real pty', { skip: !isRoot && 'needs root' }, () => {
  let h: HarnessData;
  let root: string;
  before(async () => {
    h = await getHarness();
    root = tempRoot('tty').root;
  });

  test('prompt, echo, Ctrl-C reaches the container, exit code', async () => {
    const r = await interact(['--root', root, 'run', '--rm', '-it', h.fixtures.busyboxV2s2.ref, 'sh'], [
      { expect: /# /, type: 'echo hello-$((40+2))\r' },
      { expect: /hello-42/, type: 'tty\r' },
      { expect: /\/dev\/(pts\/\d+|console)/, type: 'sleep 30\r' },
      // give the shell time to start sleep in the foreground before ^C
      { expect: /sleep 30/, type: '\x03', delayMs: 500 },
      { expect: /# /, type: 'exit 7\r' },
    ]);
    assert.equal(r.code, 7, r.output);
  });

  test('-t without -i: output through the pty, the container sees a terminal', async () => {
    const r = await interact(['--root', root, 'run', '--rm', '-t', h.fixtures.busyboxV2s2.ref, 'sh', '-c', 'test -t 0 && test -t 1 && echo is-a-tty; stty size'], [{ expect: /is-a-tty/ }]);
    assert.equal(r.code, 0, r.output);
  });
});
