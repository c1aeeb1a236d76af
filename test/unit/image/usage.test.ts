import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storeUsage } from '../../../src/image/store/usage.js';
import type { ImageIndexFile, ImageRecord, LayerRef } from '../../../src/image/store/types.js';

const layer = (n: string): LayerRef => ({ chainId: `sha256:${n}`, diffId: `sha256:${n}`, digest: `sha256:${n}`, mediaType: 'x', compressedSize: 0, size: 0 });
const image = (id: string, layers: string[], extra: Partial<ImageRecord> = {}): ImageRecord => ({
  id: `sha256:${id}`, repoTags: [`docker.io/library/${id}:latest`], repoDigests: [], manifestDigest: `sha256:m${id}`, manifestMediaType: 'x', configDigest: `sha256:${id}`,
  layers: layers.map(layer), size: 0, architecture: 'amd64', os: 'linux', storedAt: '', ...extra,
});
const sizes: Record<string, number> = { 'sha256:base': 1000, 'sha256:app': 300, 'sha256:other': 200, 'sha256:run': 50, 'sha256:run2': 70 };
const sizeOf = (u: string) => sizes[u] ?? 1;

test('storeUsage: shared layers counted once, shared/unique sizes, reclaimable = what no used image holds', () => {
  const index: ImageIndexFile = { version: 1, images: { 'sha256:a': image('a', ['base', 'app']), 'sha256:b': image('b', ['base', 'other']) } };
  const u = storeUsage(index, sizeOf, new Map([['sha256:a', 2]]));
  // base 1000 + app 300 + other 200 + two configs and two manifests of 1 byte each
  assert.equal(u.imagesSize, 1504);
  assert.deepEqual(u.images.find((i) => i.id === 'sha256:a'), { id: 'sha256:a', size: 1302, sharedSize: 1000, uniqueSize: 302, containers: 2 });
  assert.deepEqual(u.images.find((i) => i.id === 'sha256:b'), { id: 'sha256:b', size: 1202, sharedSize: 1000, uniqueSize: 202, containers: 0 });
  assert.equal(u.imagesReclaimable, 202, "b's own layer, config and manifest: base stays for a");
  assert.equal(u.cacheSize, 0);
});

test('storeUsage: the build cache holds what no image holds, intermediates counted with it, entries sharing a layer marked shared', () => {
  const index: ImageIndexFile = {
    version: 1,
    images: { 'sha256:a': image('a', ['base']), 'sha256:i': image('i', ['base', 'run'], { repoTags: [], intermediate: true }) },
    buildCache: {
      k1: { config: 'sha256:c1', layers: [layer('base'), layer('run')], created: '2026-01-01T00:00:00Z' },
      k2: { config: 'sha256:c2', layers: [layer('base'), layer('run'), layer('run2')] },
    },
  };
  const u = storeUsage(index, sizeOf, new Map());
  assert.equal(u.images.length, 1, 'intermediates are not listed as images');
  assert.equal(u.imagesSize, 1002);
  // run 50 + run2 70 + c1 + c2 + the intermediate's config i and manifest mi
  assert.equal(u.cacheSize, 124);
  assert.deepEqual(u.cache, [
    { key: 'k1', size: 1, shared: true, created: '2026-01-01T00:00:00Z' },
    { key: 'k2', size: 71, shared: true, created: undefined },
  ]);
});
