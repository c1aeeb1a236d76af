import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isRoot } from './shared-harness.js';
import { testStore } from './helpers.js';
import { interact } from './pty.js';

describe('build on a terminal (--progress)', { skip: !isRoot && 'needs root for the harness packages' }, () => {
  const store = testStore('build-tty');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-build-tty-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const dockerfile = () => {
    fs.writeFileSync(path.join(dir, 'a.txt'), 'alpha\n');
    fs.writeFileSync(path.join(dir, 'Dockerfile'), [`FROM ${store.image}`, 'COPY a.txt /a.txt', 'RUN echo out-one; echo out-two >&2; sleep 0.6', 'ENV X=1', ''].join('\n'));
  };

  test('--progress=tty: a line per finished step (time, then CACHED on a rebuild) and the tag', async () => {
    dockerfile();
    const args = ['--root', store.root, 'build', '--progress=tty', '-t', 'ttyview:one', dir];
    const r = await interact(args, [{ expect: /Successfully tagged ttyview:one/ }], 60_000);
    assert.equal(r.code, 0, r.output);
    for (const step of ['[1/4] FROM', '[2/4] COPY a.txt /a.txt', '[3/4] RUN echo out-one', '[4/4] ENV X=1']) assert.match(r.output, new RegExp(`✔ ${step.replace(/[[\]/.]/g, '\\$&')}.* \\d+\\.\\ds`), step);
    // the RUN's output was shown under its spinner line, not printed as build output
    assert.match(r.output, /│ out-one/);
    assert.doesNotMatch(r.output, /STEP \d/);
    // NO_COLOR (pty.ts sets it): the view moves the cursor, but draws no colour
    assert.doesNotMatch(r.output, /\x1b\[[0-9;]*m/);
    const again = await interact(args, [{ expect: /Successfully tagged ttyview:one/ }], 60_000);
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /✔ \[3\/4\] RUN echo out-one.* CACHED/);
  });

  test('--progress=tty: a failing RUN prints its whole output, then the one-line error', async () => {
    fs.writeFileSync(path.join(dir, 'Dockerfile.fail'), [`FROM ${store.image}`, 'RUN for i in 1 2 3 4 5 6 7 8 9 10; do echo fail-$i; done; exit 3', ''].join('\n'));
    const r = await interact(['--root', store.root, 'build', '--progress=tty', '-f', path.join(dir, 'Dockerfile.fail'), dir], [{ expect: /Error: / }], 60_000);
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /✖ \[2\/2\] RUN/);
    // every line, not only the last few the live view had room for
    for (let i = 1; i <= 10; i++) assert.match(r.output, new RegExp(`\\nfail-${i}\\r?\\n`));
    assert.match(r.output, /Error: dockerfile line 2: RUN: .*exit code: 3/);
  });

  test('--progress=tty: Ctrl-C stops the running RUN at once (exit 130), its container removed', async () => {
    fs.writeFileSync(path.join(dir, 'Dockerfile.slow'), [`FROM ${store.image}`, 'RUN echo started; sleep 30', ''].join('\n'));
    const start = Date.now();
    const r = await interact(['--root', store.root, 'build', '--no-cache', '--progress=tty', '-f', path.join(dir, 'Dockerfile.slow'), dir], [{ expect: /│ started/, type: '\x03', delayMs: 200 }], 60_000);
    assert.equal(r.code, 130, r.output);
    assert.ok(Date.now() - start < 15_000, `took ${Date.now() - start} ms`);
    assert.match(r.output, /Error: build: interrupted/);
    assert.equal((await store.ok(['ps', '-aq'])).trim(), '');
  });

  test('--progress=plain with NO_COLOR on a terminal: podman\'s lines, no escape sequence', async () => {
    dockerfile();
    const r = await interact(['--root', store.root, 'build', '--progress=plain', '--no-cache', '-t', 'ttyview:plain', dir], [{ expect: /Successfully tagged ttyview:plain/ }], 60_000);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /STEP 3\/4: RUN echo out-one/);
    assert.match(r.output, /\nout-one\r?\n/);
    assert.doesNotMatch(r.output, /\x1b/);
  });
});
