import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildCache } from '../../../src/build/builder/cache.js';
import { ImageStore } from '../../../src/image/store/images.js';
import type { ImageConfig } from '../../../src/image/manifest.js';

const config = (n: number): ImageConfig => ({ architecture: 'amd64', os: 'linux', config: { Env: [`N=${n}`] }, rootfs: { type: 'layers', diff_ids: [] } });

test("a build's cache: a step it stored is a hit at once, and reaches images.json in one update at the flush", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-build-cache-'));
  try {
    const store = new ImageStore(root);
    const cache = new BuildCache(store);
    assert.equal(await cache.lookup('k1'), undefined);
    const id1 = await cache.save('k1', { config: config(1), layers: [] });
    const id2 = await cache.save('k2', { config: config(2), layers: [] });
    assert.deepEqual((await cache.lookup('k1'))?.config, config(1));
    assert.equal((await cache.lookup('k2'))?.id, id2);
    // nothing written yet: another build does not see the entries before the flush
    assert.equal((await store.read()).buildCache, undefined);
    assert.equal(await new BuildCache(store).lookup('k1'), undefined);
    await cache.flush();
    assert.deepEqual(Object.keys((await store.read()).buildCache ?? {}).sort(), ['k1', 'k2']);
    assert.equal((await new BuildCache(store).lookup('k1'))?.id, id1);
    // a flush with nothing new leaves images.json as it is
    const before = fs.statSync(store.indexPath).mtimeMs;
    await cache.flush();
    assert.equal(fs.statSync(store.indexPath).mtimeMs, before);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test("a build's cache: an entry whose config blob is gone is no hit", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-build-cache-'));
  try {
    const store = new ImageStore(root);
    const cache = new BuildCache(store);
    const id = await cache.save('k', { config: config(3), layers: [] });
    await cache.flush();
    await store.blobs.remove(id);
    assert.equal(await new BuildCache(store).lookup('k'), undefined);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
