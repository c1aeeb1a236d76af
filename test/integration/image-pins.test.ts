import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { tempRoot, tsdock } from './helpers.js';

/** Images are pinned by their containers: rmi and image prune keep what a container needs (finding 5). */
describe('images pinned by their containers: rmi, rmi -f, image prune', { skip: !isRoot && 'needs root (run)' }, () => {
  let root: string;
  let img: string;
  let imageId: string;
  const t = (args: string[]) => tsdock(args, { root });
  const layers = () => fs.readdirSync(path.join(root, 'layers', 'sha256'));
  const pull = async () => {
    assert.equal((await t(['pull', '-q', img])).code, 0);
    imageId = (await t(['inspect', '--format', '{{.Id}}', img])).stdout.trim();
  };

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('image-pins').root;
    await pull();
  });
  after(async () => {
    const ids = (await t(['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await t(['rm', '-f', ...ids]);
  });

  test('a stopped container pins its image: rmi refuses, rmi -f keeps it dangling, start still works; after rm it goes', async () => {
    let r = await t(['create', '--name', 'pin-stopped', img, 'echo', 'pinned']);
    assert.equal(r.code, 0, r.stderr);
    const cid = r.stdout.trim();
    assert.equal((await t(['start', 'pin-stopped'])).code, 0);
    assert.equal((await t(['wait', 'pin-stopped'])).stdout, '0\n');
    const before = layers();
    r = await t(['rmi', img]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error: conflict: unable to remove repository reference "${img}" (must force) - container ${cid.slice(0, 12)} is using its referenced image ${imageId.slice(7, 19)}\n`);
    r = await t(['rmi', imageId.slice(7, 19)]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error: conflict: unable to delete ${imageId.slice(7, 19)} (must be forced) - image is being used by stopped container ${cid.slice(0, 12)}\n`);
    r = await t(['image', 'prune', '-a', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await t(['images', '-q', '--no-trunc'])).stdout, `${imageId}\n`, 'image prune -a keeps an image in use');
    assert.deepEqual(layers(), before);

    // forced: untagged, dangling, but config, manifest and layers stay
    r = await t(['rmi', '-f', img]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Untagged: /);
    assert.doesNotMatch(r.stdout, /Deleted:/);
    assert.equal((await t(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).stdout, `<none>:<none> ${imageId.slice(7, 19)}\n`);
    assert.deepEqual(layers(), before);
    assert.equal((await t(['image', 'prune', '-f'])).code, 0);
    assert.equal((await t(['images', '-q', '--no-trunc'])).stdout, `${imageId}\n`, 'image prune keeps a dangling image in use');
    assert.equal((await t(['inspect', '--format', '{{.Image}}', 'pin-stopped'])).stdout.trim(), imageId);
    r = await t(['start', 'pin-stopped']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await t(['wait', 'pin-stopped'])).stdout, '0\n');
    assert.equal((await t(['logs', 'pin-stopped'])).stdout, 'pinned\npinned\n');

    // no container uses it any more: prune collects it and its layers
    assert.equal((await t(['rm', 'pin-stopped'])).code, 0);
    r = await t(['image', 'prune', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`deleted: ${imageId}`));
    assert.equal((await t(['images', '-q'])).stdout, '');
    assert.deepEqual(layers(), []);
    await pull();
  });

  test('a created container pins its image', async () => {
    await pull();
    const r = await t(['create', '--name', 'pin-created', img, 'true']);
    assert.equal(r.code, 0, r.stderr);
    const rmi = await t(['rmi', img]);
    assert.equal(rmi.code, 1);
    assert.match(rmi.stderr, new RegExp(`must force\\) - container ${r.stdout.slice(0, 12)} is using its referenced image ${imageId.slice(7, 19)}\n$`));
    assert.equal((await t(['rm', 'pin-created'])).code, 0);
  });

  test('a running container: rmi -f by id cannot be forced; by name it untags; after rm, rmi deletes', async () => {
    await pull();
    let r = await t(['run', '-d', '--name', 'pin-running', img, 'sleep', '300']);
    assert.equal(r.code, 0, r.stderr);
    const cid = r.stdout.trim();
    r = await t(['rmi', '-f', imageId]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Error: conflict: unable to delete ${imageId.slice(7, 19)} (cannot be forced) - image is being used by running container ${cid.slice(0, 12)}\n`);
    r = await t(['rmi', img]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /must force\) - container [0-9a-f]{12} is using its referenced image/);
    r = await t(['rmi', '-f', img]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await t(['exec', 'pin-running', 'true'])).code, 0);
    assert.equal((await t(['rm', '-f', 'pin-running'])).code, 0);
    r = await t(['rmi', imageId]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Deleted: ${imageId}\n`));
    assert.deepEqual(layers(), []);
    await pull();
  });

  test('a half-created container (its directory, no container.json yet) pins its image', async () => {
    await pull();
    const dir = path.join(root, 'containers', 'e'.repeat(64));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'image'), `${imageId}\n`);
    try {
      const r = await t(['rmi', imageId]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`image is being used by stopped container ${'e'.repeat(12)}\n$`));
      assert.equal((await t(['image', 'prune', '-a', '-f'])).code, 0);
      assert.equal((await t(['images', '-q', '--no-trunc'])).stdout, `${imageId}\n`);
    } finally {
      assert.equal((await t(['rm', 'e'.repeat(64)])).code, 0);
    }
  });

  test('create racing rmi: the container either pinned the image first or found it gone, never layers removed under it', async () => {
    await pull();
    for (let i = 0; i < 3; i++) {
      const [c, rm] = await Promise.all([t(['create', '--pull', 'never', '--name', `race-${i}`, img, 'echo', 'ok']), t(['rmi', img])]);
      if (c.code === 0) {
        assert.equal(rm.code, 1, `rmi won after the create pinned the image: ${rm.stdout}`);
        const s = await t(['start', `race-${i}`]);
        assert.equal(s.code, 0, s.stderr);
        assert.equal((await t(['wait', `race-${i}`])).stdout, '0\n');
        assert.equal((await t(['rm', `race-${i}`])).code, 0);
      } else {
        assert.equal(rm.code, 0, rm.stderr);
        assert.match(c.stderr, /No such image|Unable to find image/);
        await pull();
      }
    }
  });
});
