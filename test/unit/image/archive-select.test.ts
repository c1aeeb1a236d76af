import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectImages } from '../../../src/image/archive/select.js';
import type { ImageIndexFile, ImageRecord } from '../../../src/image/store/types.js';

const rec = (c: string, tags: string[]): ImageRecord => ({
  id: `sha256:${c.repeat(64)}`,
  repoTags: tags,
  repoDigests: [],
  manifestDigest: `sha256:${'f'.repeat(64)}`,
  manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  configDigest: `sha256:${c.repeat(64)}`,
  layers: [],
  size: 0,
  architecture: 'amd64',
  os: 'linux',
  storedAt: '',
});
const a = rec('a', ['docker.io/library/app:1', 'docker.io/library/app:2', 'docker.io/library/other:x']);
const b = rec('b', ['docker.io/library/app:3']);
const index: ImageIndexFile = { version: 1, images: { [a.id]: a, [b.id]: b } };
const names = (items: ReturnType<typeof selectImages>) => items.map((i) => [i.image.id.slice(7, 8), i.tags]);

test('save names as docker: name:tag that tag, a bare repository all its tags, an ID untagged; one entry an image', () => {
  assert.deepEqual(names(selectImages(index, ['app:1'])), [['a', ['docker.io/library/app:1']]]);
  assert.deepEqual(names(selectImages(index, ['app'])), [
    ['a', ['docker.io/library/app:1', 'docker.io/library/app:2']],
    ['b', ['docker.io/library/app:3']],
  ]);
  assert.deepEqual(names(selectImages(index, ['aaaaaaaaaaaa'])), [['a', []]]);
  assert.deepEqual(names(selectImages(index, ['app:1', 'other:x', `sha256:${'a'.repeat(64)}`])), [['a', ['docker.io/library/app:1', 'docker.io/library/other:x']]]);
  assert.throws(() => selectImages(index, ['nope']), /^NotFoundError: No such image: nope$/);
});
