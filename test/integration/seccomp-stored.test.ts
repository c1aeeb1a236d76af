// A `--security-opt seccomp=<file>` profile is stored with the container at create: a later edit or removal of the
// host file changes nothing for start and exec (an exec'd process gets the same filter as its init).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { tempRoot, tsdock } from './helpers.js';

const DENY_MKDIR = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] });
const ALLOW_ALL = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] });

describe('seccomp profiles are stored with the container', { skip: !isRoot && 'needs root' }, () => {
  let root: string;
  let cleanup: () => void;
  let img: string;
  let dir: string;
  const t = (args: string[]) => tsdock(args, { root });

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    ({ root, cleanup } = tempRoot('seccomp-stored'));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-seccomp-'));
    assert.equal((await t(['pull', '-q', img])).code, 0);
  });
  after(async () => {
    await t(['rm', '-f', 'sc1']);
    fs.rmSync(dir, { recursive: true, force: true });
    cleanup();
  });

  test('editing or removing the host profile changes neither exec nor a later start', async () => {
    const profile = path.join(dir, 'profile.json');
    fs.writeFileSync(profile, DENY_MKDIR);
    let r = await t(['run', '-d', '--name', 'sc1', '--security-opt', `seccomp=${profile}`, img, 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const stored = path.join(root, 'containers', id, 'seccomp.json');
    assert.equal(fs.readFileSync(stored, 'utf8'), DENY_MKDIR);
    assert.equal(fs.statSync(stored).mode & 0o777, 0o600);

    fs.writeFileSync(profile, ALLOW_ALL); // the host file now allows mkdir
    r = await t(['exec', 'sc1', 'mkdir', '/tmp/a']);
    assert.notEqual(r.code, 0, 'exec compiled the edited host file instead of the stored profile');
    assert.match(r.stderr + r.stdout, /Operation not permitted/);

    fs.rmSync(profile); // gone: start and exec still have the stored copy
    assert.equal((await t(['stop', '-t', '0', 'sc1'])).code, 0);
    r = await t(['start', 'sc1']);
    assert.equal(r.code, 0, r.stderr);
    r = await t(['exec', 'sc1', 'sh', '-c', 'mkdir /tmp/b 2>&1; echo rc=$?']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Operation not permitted[\s\S]*rc=1/);
  });
});
