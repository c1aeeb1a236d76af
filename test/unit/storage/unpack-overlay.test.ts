import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { unpackLayer } from '../../../src/storage/unpack.js';
import { buildTar, isRoot, streamOf, tmpDir, type FixtureEntry } from './fixtures.js';

/**
 * The real check: layers unpacked by us, stacked by the kernel's overlayfs, must show whiteouts and opaque
 * directories hiding lower content. Rootful with trusted.* xattrs; rootless (uid 65534 in its own user
 * namespace, overlay mounted with userxattr) with user.* ones.
 */
const LOWER: FixtureEntry[] = [
  { path: 'a/', type: 'dir' },
  { path: 'a/keep', body: 'keep' },
  { path: 'a/gone', body: 'gone' },
  { path: 'b/', type: 'dir' },
  { path: 'b/old1', body: '1' },
  { path: 'b/sub/old2', body: '2' },
  { path: 'c', body: 'file in lower' },
];
const UPPER: FixtureEntry[] = [
  { path: 'a/.wh.gone' },
  { path: 'b/', type: 'dir' },
  { path: 'b/.wh..wh..opq' },
  { path: 'b/new', body: 'new' },
  { path: '.wh.c' },
];

interface View {
  a: string[];
  b: string[];
  c: boolean;
  keep: string;
}

function look(merged: string): View {
  return {
    a: fs.readdirSync(path.join(merged, 'a')).sort(),
    b: fs.readdirSync(path.join(merged, 'b')).sort(),
    c: fs.existsSync(path.join(merged, 'c')),
    keep: fs.readFileSync(path.join(merged, 'a', 'keep'), 'utf8'),
  };
}

const EXPECTED: View = { a: ['keep'], b: ['new'], c: false, keep: 'keep' };

const mountable = (() => {
  if (!isRoot) return 'needs root to mount overlayfs';
  const probe = spawnSync('mount', ['--version']);
  return probe.status === 0 ? true : 'no mount(8)';
})();

describe('unpacked layers under overlayfs', () => {
  let root: string;
  before(() => {
    root = tmpDir('overlay');
    fs.chmodSync(root, 0o755);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('rootful: whiteout devices and trusted.overlay.opaque hide lower content', { skip: mountable !== true && mountable }, async () => {
    const lower = path.join(root, 'lower');
    const upper = path.join(root, 'upper');
    const merged = path.join(root, 'merged');
    for (const d of [lower, upper, merged]) fs.mkdirSync(d);
    await unpackLayer(streamOf(buildTar(LOWER)), lower, { whiteouts: 'overlay-root', chown: true });
    await unpackLayer(streamOf(buildTar(UPPER)), upper, { whiteouts: 'overlay-root', chown: true });
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${upper}:${lower}`, merged]);
    try {
      assert.deepEqual(look(merged), EXPECTED);
    } finally {
      execFileSync('umount', [merged]);
    }
  });

  it('rootless: user.overlay.opaque under an overlay mounted with userxattr', { skip: rootlessSkip() }, () => {
    const work = path.join(root, 'rootless');
    fs.mkdirSync(work, { mode: 0o777 });
    fs.chmodSync(work, 0o777);
    fs.writeFileSync(path.join(work, 'lower.tar'), buildTar(LOWER));
    fs.writeFileSync(path.join(work, 'upper.tar'), buildTar(UPPER));
    const unpackUrl = pathToFileURL(fileURLToPath(new URL('../../../src/storage/unpack.js', import.meta.url))).href;
    const script = `
      import fs from 'node:fs';
      import path from 'node:path';
      import { execFileSync } from 'node:child_process';
      import { unpackLayer } from ${JSON.stringify(unpackUrl)};
      const work = ${JSON.stringify(work)};
      for (const name of ['lower', 'upper']) {
        fs.mkdirSync(path.join(work, name));
        await unpackLayer(fs.createReadStream(path.join(work, name + '.tar')), path.join(work, name), { whiteouts: 'overlay-user', chown: false });
      }
      const merged = path.join(work, 'merged');
      fs.mkdirSync(merged);
      execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', 'ro,userxattr,lowerdir=' + path.join(work, 'upper') + ':' + path.join(work, 'lower'), merged]);
      const ls = (p) => fs.readdirSync(path.join(merged, p)).sort();
      const view = { a: ls('a'), b: ls('b'), c: fs.existsSync(path.join(merged, 'c')), keep: fs.readFileSync(path.join(merged, 'a', 'keep'), 'utf8') };
      execFileSync('umount', [merged]);
      process.stdout.write(JSON.stringify({ uid: process.getuid(), view }));
    `;
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', 'unshare', '--user', '--map-root-user', '--mount', process.execPath, '--input-type=module', '-e', script],
      { encoding: 'utf8', cwd: work },
    );
    assert.equal(r.status, 0, `rootless child failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { uid: number; view: View };
    assert.equal(out.uid, 0);
    assert.deepEqual(out.view, EXPECTED);
    // unprivileged: the whiteout is still a 0/0 device, owned by the unprivileged user on the host
    const wh = fs.lstatSync(path.join(work, 'upper', 'c'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.equal(wh.uid, 65534);
  });
});

function rootlessSkip(): string | false {
  if (!isRoot) return 'needs root to switch to an unprivileged uid (setpriv)';
  for (const tool of ['setpriv', 'unshare']) {
    if (spawnSync(tool, ['--version']).status !== 0) return `no ${tool}(1)`;
  }
  const probe = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'unshare', '--user', '--map-root-user', 'true']);
  return probe.status === 0 ? false : 'unprivileged user namespaces are disabled';
}
