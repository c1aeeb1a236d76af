import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropOrphanIntermediates, pruneCacheEntries } from '../../../src/build/builder/cache.js';
import type { ImageIndexFile, ImageRecord, LayerRef } from '../../../src/image/store/types.js';

const layer = (n: string): LayerRef => ({ chainId: `sha256:${n}`, diffId: `sha256:${n}`, digest: `sha256:${n}`, mediaType: 'x', compressedSize: 0, size: 0 });
const image = (id: string, layers: string[], extra: Partial<ImageRecord> = {}): ImageRecord => ({
  id, repoTags: [`docker.io/library/${id}:latest`], repoDigests: [], manifestDigest: `m${id}`, manifestMediaType: 'x', configDigest: id,
  layers: layers.map(layer), size: 0, architecture: 'amd64', os: 'linux', storedAt: '', ...extra,
});
const index = (): ImageIndexFile => ({
  version: 1,
  images: { app: image('app', ['base', 'run1']), mid: image('mid', ['base'], { repoTags: [], intermediate: true }) },
  buildCache: {
    held: { config: 'c1', layers: [layer('base'), layer('run1')], created: '2026-01-01T00:00:00Z' },
    old: { config: 'c2', layers: [layer('base'), layer('gone1')], created: '2026-01-02T00:00:00Z' },
    newer: { config: 'c3', layers: [layer('base'), layer('gone2')], created: '2026-01-03T00:00:00Z' },
  },
});
const all = () => true;

test('pruneCacheEntries: dangling entries only (a layer no image holds), all with `all`, filtered by `matches`', () => {
  let ix = index();
  assert.deepEqual(pruneCacheEntries(ix, { all: false, matches: all }), ['old', 'newer']);
  assert.deepEqual(Object.keys(ix.buildCache!), ['held']);
  ix = index();
  assert.deepEqual(pruneCacheEntries(ix, { all: true, matches: all }).sort(), ['held', 'newer', 'old']);
  assert.equal(ix.buildCache, undefined, 'an empty cache is dropped from the index');
  ix = index();
  assert.deepEqual(pruneCacheEntries(ix, { all: true, matches: (e) => (e.created ?? '') < '2026-01-02T12:00:00Z' }).sort(), ['held', 'old']);
});

test('pruneCacheEntries: --keep-storage drops the oldest first, only while the cache-only layers weigh more', () => {
  const sizes: Record<string, number> = { 'sha256:gone1': 100, 'sha256:gone2': 50 };
  const layerSize = (c: string) => sizes[c] ?? 1000;
  let ix = index();
  assert.deepEqual(pruneCacheEntries(ix, { all: false, matches: all, keep: 60, layerSize }), ['old']);
  ix = index();
  assert.deepEqual(pruneCacheEntries(ix, { all: false, matches: all, keep: 150, layerSize }), []);
  ix = index();
  assert.deepEqual(pruneCacheEntries(ix, { all: false, matches: all, keep: 0, layerSize }), ['old', 'newer']);
});

test('dropOrphanIntermediates: untagged intermediates no entry names and no container uses', () => {
  const ix = index();
  ix.images.c1 = image('c1', ['base'], { repoTags: [], intermediate: true });
  ix.images.used = image('used', ['base'], { repoTags: [], intermediate: true });
  assert.deepEqual(dropOrphanIntermediates(ix, (id) => id === 'used'), ['mid']);
  assert.deepEqual(Object.keys(ix.images).sort(), ['app', 'c1', 'used']);
});
