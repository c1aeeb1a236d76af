// exec -u reads the container's /etc/passwd and /etc/group as the container sees them (src/container/root-file.ts):
// an absolute symlink resolves inside the container, a fifo or a device there fails fast with a clear error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { tempRoot, tsdock } from './helpers.js';

describe('exec -u reads /etc/passwd inside the container', { skip: !isRoot && 'needs root' }, () => {
  let root: string;
  let img: string;
  let host: string;
  const t = (args: string[], timeoutMs?: number) => tsdock(args, { root, timeoutMs });
  const start = async (name: string, setup: string) => {
    const r = await t(['run', '-d', '--name', name, img, 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    const s = await t(['exec', name, 'sh', '-c', setup]);
    assert.equal(s.code, 0, s.stderr);
  };

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('exec-user').root;
    // a host file the container's symlink names: reading it would be reading the host
    host = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-exu-host-'));
    fs.writeFileSync(path.join(host, 'passwd'), 'root:x:0:0::/root:/bin/sh\nhostonly:x:4242:4242::/:/bin/sh\n');
    assert.equal((await t(['pull', '-q', img])).code, 0);
  });
  after(async () => {
    const ids = (await t(['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await t(['rm', '-f', ...ids]);
    fs.rmSync(host, { recursive: true, force: true });
  });

  test('an absolute symlink at /etc/passwd resolves inside the container, not on the host', async () => {
    await start('exu-link', `mkdir -p ${host} && printf 'hostonly:x:777:778::/:/bin/sh\\n' > ${host}/passwd && ln -sf ${host}/passwd /etc/passwd`);
    const r = await t(['exec', '-u', 'hostonly', 'exu-link', 'sh', '-c', 'echo $(id -u) $(id -g)']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '777 778\n');
  });

  test('a fifo at /etc/passwd fails at once instead of hanging', async () => {
    await start('exu-fifo', 'rm /etc/passwd && mkfifo /etc/passwd');
    const t0 = Date.now();
    const r = await t(['exec', '-u', 'hostonly', 'exu-fifo', 'true'], 20_000);
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /\/etc\/passwd of the container .*not a regular file \(a fifo\)/);
  });

  test('/etc/group pointing at /dev/zero fails at once; one past the size bound is refused', async () => {
    await start('exu-zero', 'ln -sf /dev/zero /etc/group');
    const t0 = Date.now();
    const r = await t(['exec', '-u', 'root', 'exu-zero', 'true'], 8_000);
    assert.ok(Date.now() - t0 < 6_000, `took ${Date.now() - t0} ms`);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, /\/etc\/group of the container .*not a regular file \(a character device\)/);
    const big = await t(['exec', 'exu-zero', 'sh', '-c', 'rm /etc/group && head -c 4194305 /dev/zero > /etc/group']);
    assert.equal(big.code, 0, big.stderr);
    const r2 = await t(['exec', '-u', 'root', 'exu-zero', 'true']);
    assert.equal(r2.code, 125);
    assert.match(r2.stderr, /\/etc\/group of the container .*larger than 4194304 bytes/);
  });
});
