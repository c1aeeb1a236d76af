import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { tempRoot, tsdock } from './helpers.js';

const MARKER = 'tsdock-host-disk-marker';

/**
 * Finding 6: a rootful container without a devices cgroup kept CAP_MKNOD and could open host disks. The host's
 * disk here is a loop device made by the test with a marker on it; TSDOCK_CGROUP_MOUNTINFO shows tsdock a host
 * without cgroups, or v1 without the devices hierarchy (the real hierarchies otherwise).
 */
describe('no host devices without device control', { skip: !isRoot && 'needs root (losetup, rootful run)' }, () => {
  let root: string;
  let cleanup: () => void;
  let img: string;
  let loop = '';
  let attack: string;
  let noCgroups: string;
  let noDevices: string;
  const t = (args: string[], env: NodeJS.ProcessEnv = {}) => tsdock(args, { root, env });

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    ({ root, cleanup } = tempRoot('device-control'));
    assert.equal((await t(['pull', '-q', img])).code, 0);
    const disk = path.join(root, 'disk.img');
    fs.writeFileSync(disk, Buffer.concat([Buffer.from(MARKER), Buffer.alloc(1 << 20)]));
    loop = execFileSync('losetup', ['-f', '--show', disk], { encoding: 'utf8' }).trim();
    const rdev = fs.statSync(loop).rdev;
    // mknod a node for the host's loop device in the container's /dev (a tmpfs: never nodev) and read it
    attack = `mknod /dev/hostdisk b ${Math.floor(rdev / 256) & 0xfff} ${(rdev & 0xff) | ((rdev >> 12) & 0xfff00)} && head -c ${MARKER.length} /dev/hostdisk`;
    noCgroups = path.join(root, 'mountinfo-none');
    fs.writeFileSync(noCgroups, fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => !/ - cgroup2? /.test(l)).join('\n'));
    noDevices = path.join(root, 'mountinfo-nodevices');
    fs.writeFileSync(noDevices, fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => !/ - cgroup cgroup \S*\bdevices\b/.test(l)).join('\n'));
  });
  after(async () => {
    const ids = (await t(['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await t(['rm', '-f', ...ids]);
    if (loop) execFileSync('losetup', ['-d', loop]);
    cleanup();
  });

  test('with the devices cgroup (the real host), the node can be made but not opened', async () => {
    const r = await t(['run', '--rm', img, 'sh', '-c', attack]);
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout, new RegExp(MARKER));
    assert.match(r.stderr, /Operation not permitted/);
  });

  test('no cgroup filesystem: run and create are refused with exit 125, nothing is left', async () => {
    for (const verb of ['run', 'create']) {
      const r = await t([verb, '--rm', img, 'sh', '-c', attack], { TSDOCK_CGROUP_MOUNTINFO: noCgroups });
      assert.equal(r.code, 125, `${verb}: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stdout, new RegExp(MARKER));
      assert.equal(r.stderr, 'Error: no device control for a rootful container: no cgroup filesystem is mounted; refusing to start it without a devices cgroup (--privileged would grant every host device)\n');
    }
    assert.equal((await t(['ps', '-aq'])).stdout, '');
  });

  test('cgroup v1 without the devices hierarchy: run refused; start of an existing container refused', async () => {
    let r = await t(['run', '--rm', img, 'sh', '-c', attack], { TSDOCK_CGROUP_MOUNTINFO: noDevices });
    assert.equal(r.code, 125, r.stdout + r.stderr);
    assert.match(r.stderr, /^Error: no device control for a rootful container: cgroup v1 has no devices controller mounted;/);
    r = await t(['create', '--name', 'dc-later', img, 'sh', '-c', attack]);
    assert.equal(r.code, 0, r.stderr);
    for (const env of [noDevices, noCgroups]) {
      r = await t(['start', '-a', 'dc-later'], { TSDOCK_CGROUP_MOUNTINFO: env });
      assert.notEqual(r.code, 0);
      assert.doesNotMatch(r.stdout, new RegExp(MARKER));
      assert.match(r.stderr, /^Error: no device control for a rootful container: cgroup v1 has no devices controller mounted;/);
    }
    assert.equal((await t(['rm', 'dc-later'])).code, 0);
  });

  test('rootfs, volumes and binds are nodev: a node made outside /dev cannot be opened; /dev and --privileged can', async () => {
    const host = path.join(root, 'bind-src');
    fs.mkdirSync(host);
    const probe = (dir: string) => `rm -f ${dir}/null; mknod ${dir}/null c 1 3 && echo x > ${dir}/null && echo open-${dir}`;
    const script = ['/tmp', '/data', '/bind'].map((d) => `${probe(d)}; echo rc=$?`).join('; ') + '; echo x > /dev/null && echo dev-null-ok';
    const args = (extra: string[]) => ['run', '--rm', ...extra, '-v', 'dc-vol:/data', '-v', `${host}:/bind`, img, 'sh', '-c', script];
    let r = await t(args([]));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'rc=1\nrc=1\nrc=1\ndev-null-ok\n');
    assert.equal(r.stderr.match(/Permission denied/g)?.length, 3, r.stderr);
    r = await t(args(['--privileged']));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'open-/tmp\nrc=0\nopen-/data\nrc=0\nopen-/bind\nrc=0\ndev-null-ok\n');
    assert.equal((await t(['volume', 'rm', 'dc-vol'])).code, 0);
  });

  test('--privileged still runs without device control (it grants every device anyway)', async () => {
    const r = await t(['run', '--rm', '--privileged', img, 'sh', '-c', attack], { TSDOCK_CGROUP_MOUNTINFO: noCgroups });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, MARKER);
  });
});
