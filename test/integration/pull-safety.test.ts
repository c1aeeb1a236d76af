import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makeTar, pushRaw } from '../harness/index.js';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { bin, listTree, tempRoot, tsdock } from './helpers.js';

let h: HarnessData;
const skip = !isRoot && 'needs root for the harness packages';

function layerDirs(root: string): string[] {
  const base = path.join(root, 'layers', 'sha256');
  return fs.existsSync(base) ? fs.readdirSync(base) : [];
}

function tmpEntries(root: string): string[] {
  const dir = path.join(root, 'tmp');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

describe('bad content loses nothing', { skip }, () => {
  before(async () => {
    h = await getHarness();
  });

  test('a blob corrupted on the registry disk fails the pull with a digest error; the store is unchanged', async () => {
    const { root } = tempRoot('corrupt');
    const ok = await tsdock(['pull', h.fixtures.busyboxV2s2.ref], { root });
    assert.equal(ok.code, 0, ok.stderr);
    const before = (await tsdock(['images', '--no-trunc'], { root })).stdout;
    const layersBefore = layerDirs(root);
    const r = await tsdock(['pull', h.fixtures.corrupt.ref], { root });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: .*(digest mismatch|invalid|crc|checksum)/i);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.equal((await tsdock(['images', '--no-trunc'], { root })).stdout, before);
    assert.deepEqual(layerDirs(root), layersBefore);
    assert.deepEqual(tmpEntries(root), []);
  });

  // layers download while the config is still being fetched: a config that lies about them must still fail the
  // pull, with nothing left in the store
  test('a config whose diff_ids do not match (or miscount) the layers fails the pull; nothing is stored', async () => {
    const tars = [0, 1].map((i) => makeTar([{ name: `f${i}.txt`, data: Buffer.from(`layer ${i}\n`) }]));
    const fake = 'sha256:' + 'ab'.repeat(32);
    const wrong = await pushRaw(h.plain.host, `lying-${process.pid}`, 'wrong', { layers: tars, config: { rootfs: { type: 'layers', diff_ids: [fake, fake] } } });
    const short = await pushRaw(h.plain.host, `lying-${process.pid}`, 'short', { layers: tars, config: { rootfs: { type: 'layers', diff_ids: [fake] } } });
    for (const [fx, message] of [
      [wrong, /unpacks to sha256:[0-9a-f]{64}, but the image config expects diff_id sha256:(ab){32}/],
      [short, /the config lists 1 diff_ids but the manifest has 2 layers/],
    ] as const) {
      const { root } = tempRoot('lying-config');
      const r = await tsdock(['pull', fx.ref], { root });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.deepEqual(layerDirs(root), []);
      assert.deepEqual(tmpEntries(root), []);
      assert.equal((await tsdock(['images', '-q'], { root })).stdout, '');
    }
  });

  for (const kind of ['traversal', 'symlinkEscape', 'hardlinkAbsolute', 'hardlinkTraversal'] as const) {
    test(`hostile layer (${kind}) is rejected and nothing appears outside the store`, async () => {
      const fx = h.fixtures.hostile[kind];
      const { root } = tempRoot(`hostile-${kind}`);
      const r = await tsdock(['pull', fx.ref], { root });
      assert.equal(r.code, 1, `${fx.description}: ${r.stdout}`);
      assert.match(r.stderr, /^Error: .*unsafe/i);
      for (const p of fx.mustNotExist) assert.ok(!fs.existsSync(p), `${p} must not exist`);
      if (fx.hostDir) assert.deepEqual(fs.readdirSync(fx.hostDir), [], 'the symlink target stays empty');
      if (fx.hostTarget) {
        const target = fs.statSync(fx.hostTarget);
        for (const rel of listTree(root)) {
          const st = fs.lstatSync(path.join(root, rel));
          assert.ok(!(st.ino === target.ino && st.dev === target.dev), `${rel} is a hardlink to ${fx.hostTarget}`);
        }
      }
      assert.deepEqual(layerDirs(root), []);
      assert.deepEqual(tmpEntries(root), []);
      assert.equal((await tsdock(['images', '-q'], { root })).stdout, '');
    });
  }
});

describe('interrupted and concurrent pulls', { skip }, () => {
  let big: { ref: string };
  before(async () => {
    h = await getHarness();
    // four ~6 MB incompressible layers, so a pull takes long enough to be killed midway
    const layers = [0, 1, 2, 3].map((i) => makeTar([{ name: `blob${i}.bin`, data: crypto.randomBytes(6 << 20) }]));
    big = await pushRaw(h.plain.host, `big-${process.pid}`, 'latest', { layers, compression: 'gzip-stored' });
  });

  test('kill -9 at several points, then pull again: succeeds and the image is listed once', async () => {
    const { root } = tempRoot('kill9');
    for (const delay of [40, 90, 150, 220, 300, 400, 550, 800]) {
      const child = spawn(process.execPath, [bin, '--root', root, 'pull', big.ref], { stdio: 'ignore' });
      const closed = new Promise((r) => child.once('close', r));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await closed;
      const ls = await tsdock(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root });
      assert.equal(ls.code, 0, `images after kill at ${delay} ms: ${ls.stderr}`);
      assert.ok(ls.stdout === '' || ls.stdout === `${big.ref}\n`, `no half image after kill at ${delay} ms: ${ls.stdout}`);
      for (const d of layerDirs(root)) assert.ok(fs.existsSync(path.join(root, 'layers', 'sha256', d, 'layer.json')), 'only complete layers are visible');
    }
    const r = await tsdock(['pull', big.ref], { root });
    assert.equal(r.code, 0, r.stderr);
    const ls = await tsdock(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root });
    assert.equal(ls.stdout, `${big.ref}\n`);
    assert.equal(layerDirs(root).length, 4);
    assert.deepEqual(tmpEntries(root), [], 'leftovers of killed pulls are swept');
  });

  test('two concurrent pulls of the same image both succeed', async () => {
    const { root } = tempRoot('concurrent');
    const [a, b] = await Promise.all([tsdock(['pull', big.ref], { root }), tsdock(['pull', big.ref], { root })]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const ls = await tsdock(['images', '-q'], { root });
    assert.equal(ls.stdout.trim().split('\n').length, 1);
    assert.equal(layerDirs(root).length, 4);
    assert.deepEqual(tmpEntries(root), []);
  });

  test('rmi while another image is pulled keeps the store consistent', async () => {
    const { root } = tempRoot('rmi-race');
    assert.equal((await tsdock(['pull', h.fixtures.layered.ref], { root })).code, 0);
    const [p, rm] = await Promise.all([tsdock(['pull', big.ref], { root }), tsdock(['rmi', h.fixtures.layered.ref], { root })]);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(rm.code, 0, rm.stderr);
    const ls = await tsdock(['images', '--format', '{{.Repository}}:{{.Tag}}'], { root });
    assert.equal(ls.stdout, `${big.ref}\n`);
    assert.equal(layerDirs(root).length, 4);
  });
});
