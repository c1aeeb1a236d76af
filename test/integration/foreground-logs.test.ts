import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { tempRoot, tsdock } from './helpers.js';
import { interact } from './pty.js';

// docker and podman log every container's output, attached or not: a foreground run is in `logs` afterwards
describe('logs of foreground containers', { skip: !isRoot && 'needs root' }, () => {
  let root: string;
  let cleanup: () => void;
  let img: string;
  const t = (args: string[], opts: { input?: string } = {}) => tsdock(args, { root, ...opts });

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    ({ root, cleanup } = tempRoot('fg-logs'));
    assert.equal((await t(['pull', '-q', img])).code, 0);
  });
  after(async () => {
    await t(['rm', '-f', 'fg-a', 'fg-b', 'fg-t', 'fg-s', 'fg-r']);
    cleanup();
  });

  test('run without -t: the terminal gets the output and logs (and --tail) prints it afterwards', async () => {
    const r = await t(['run', '--name', 'fg-a', img, 'sh', '-c', 'seq 1 5; echo oops >&2']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1\n2\n3\n4\n5\n');
    assert.equal(r.stderr, 'oops\n');
    const l = await t(['logs', 'fg-a']);
    assert.equal(l.code, 0, l.stderr);
    assert.equal(l.stdout, '1\n2\n3\n4\n5\n');
    assert.equal(l.stderr, 'oops\n');
    const tail = await t(['logs', '--tail', '2', 'fg-a']);
    assert.equal(tail.stdout + tail.stderr, '5\noops\n');
    const raw = fs.readFileSync(path.join(root, 'containers', (await t(['inspect', '-f', '{{.Id}}', 'fg-a'])).stdout.trim(), 'ctr.log'), 'utf8');
    assert.match(raw, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F 1\n/);
    assert.match(raw, / stderr F oops\n/);
  });

  test('a partial last line and a second run append to the same log', async () => {
    assert.equal((await t(['run', '--name', 'fg-b', img, 'printf', 'a\\nno-newline'])).stdout, 'a\nno-newline');
    assert.equal((await t(['start', '-a', 'fg-b'])).code, 0);
    const l = await t(['logs', 'fg-b']);
    assert.equal(l.stdout, 'a\nno-newlinea\nno-newline');
  });

  test('run -t: the pty output is logged too', async () => {
    const r = await interact(['--root', root, 'run', '--name', 'fg-t', '-t', img, 'sh', '-c', 'seq 1 5'], [{ expect: /5/ }]);
    assert.equal(r.code, 0, r.output);
    const l = await t(['logs', '--tail', '2', 'fg-t']);
    assert.equal(l.stdout.replace(/\r/g, ''), '4\n5\n');
  });

  test('start -a: the run is logged and printed', async () => {
    assert.equal((await t(['create', '--name', 'fg-s', img, 'seq', '1', '3'])).code, 0);
    const s = await t(['start', '-a', 'fg-s']);
    assert.equal(s.stdout, '1\n2\n3\n');
    assert.equal((await t(['logs', 'fg-s'])).stdout, '1\n2\n3\n');
  });

  test('--log-opt max-size rotates a foreground run\'s log; a bad size is refused before anything is made', async () => {
    const r = await t(['run', '--name', 'fg-r', '--log-opt', 'max-size=2k', img, 'seq', '1', '2000']);
    assert.equal(r.code, 0, r.stderr);
    const id = (await t(['inspect', '-f', '{{.Id}}', 'fg-r'])).stdout.trim();
    const dir = path.join(root, 'containers', id);
    assert.ok(fs.existsSync(path.join(dir, 'ctr.log.1')), 'rotated');
    assert.ok(fs.statSync(path.join(dir, 'ctr.log')).size <= 2048);
    assert.equal((await t(['logs', '--tail', '1', 'fg-r'])).stdout, '2000\n');
    const bad = await t(['run', '--name', 'fg-bad', '--log-opt', 'max-size=lots', img, 'true']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /max-size/);
    assert.equal((await t(['ps', '-aq', '--filter', 'name=fg-bad'])).stdout, '');
  });

  test('run --rm leaves no log behind', async () => {
    const before = fs.readdirSync(path.join(root, 'containers')).length;
    const r = await t(['run', '--rm', img, 'seq', '1', '3']);
    assert.equal(r.stdout, '1\n2\n3\n');
    assert.equal(fs.readdirSync(path.join(root, 'containers')).length, before);
  });
});
