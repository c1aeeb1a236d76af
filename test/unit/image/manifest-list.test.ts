import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { annotateEntry, convertList, emptyList, formatOfList, withEntry, withoutEntry } from '../../../src/image/manifest-list/list.js';
import { findList, listName } from '../../../src/image/manifest-list/store.js';
import type { ImageIndexFile, ManifestListRecord } from '../../../src/image/store/types.js';
import { MediaType, type Descriptor } from '../../../src/image/manifest.js';

const d = (n: number, arch = 'amd64'): Descriptor => ({
  mediaType: MediaType.ociManifest,
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: 100 + n,
  platform: { os: 'linux', architecture: arch },
});

describe('manifest list JSON', () => {
  it('starts empty as an OCI index, or a Docker list for v2s2', () => {
    assert.deepEqual(emptyList(), { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] });
    assert.equal(emptyList('v2s2').mediaType, MediaType.dockerManifestList);
    assert.equal(formatOfList(MediaType.dockerManifestList), 'v2s2');
    assert.equal(formatOfList(MediaType.ociIndex), 'oci');
  });

  it('adds entries in order, replacing one of the same digest; removes by digest', () => {
    let l = withEntry(withEntry(emptyList(), d(1)), d(2, 'arm64'));
    l = withEntry(l, { ...d(1), size: 999 });
    assert.deepEqual(l.manifests.map((m) => [m.digest.slice(7, 8), m.size]), [['2', 102], ['1', 999]]);
    assert.deepEqual(withoutEntry(l, d(2).digest).manifests.map((m) => m.size), [999]);
    assert.throws(() => withoutEntry(l, d(3).digest), /no entry sha256:3+ in the manifest list/);
  });

  it('annotates platform fields and annotations; an empty variant clears it', () => {
    const a = annotateEntry({ ...d(1, 'arm64'), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }, {
      variant: '',
      osVersion: '10.0',
      osFeatures: ['sse4'],
      annotations: { k: 'v' },
    });
    assert.deepEqual(a.platform, { os: 'linux', architecture: 'arm64', 'os.version': '10.0', 'os.features': ['sse4'] });
    assert.deepEqual(a.annotations, { k: 'v' });
    assert.equal(annotateEntry(d(1), { architecture: 'riscv64' }).platform!.architecture, 'riscv64');
    assert.equal(annotateEntry(d(1), { annotations: {} }).annotations, undefined);
  });

  it('converts to a Docker list without annotations, taking the descriptors of entries pushed in another format', () => {
    const l = { ...withEntry(emptyList(), { ...d(1), annotations: { a: 'b' } }), annotations: { x: 'y' } };
    const pushed = new Map([[d(1).digest, { mediaType: MediaType.dockerManifest, digest: d(7).digest, size: 7 }]]);
    const v2 = convertList(l, 'v2s2', pushed);
    assert.equal(v2.mediaType, MediaType.dockerManifestList);
    assert.equal(v2.annotations, undefined);
    assert.deepEqual(v2.manifests, [{ mediaType: MediaType.dockerManifest, digest: d(7).digest, size: 7, platform: d(1).platform }]);
    assert.deepEqual(convertList(l, 'oci').manifests[0]!.annotations, { a: 'b' }, 'an OCI index keeps them');
  });
});

describe('local manifest list records', () => {
  const rec = (id: string, name: string): ManifestListRecord => ({ id, names: [name], digest: d(1).digest, mediaType: MediaType.ociIndex, created: '', sources: {} });
  const a = `sha256:${'a'.repeat(64)}`;
  const ab = `sha256:a${'b'.repeat(63)}`;
  const index: ImageIndexFile = { version: 1, images: {}, manifestLists: { [a]: rec(a, 'localhost/one:latest'), [ab]: rec(ab, '127.0.0.1:5000/two:v1') } };

  it('names an unqualified list localhost/NAME:latest (podman)', () => {
    assert.equal(listName('one'), 'localhost/one:latest');
    assert.equal(listName('quay.io/x/y:1'), 'quay.io/x/y:1');
    assert.throws(() => listName('Bad:Ref:'), /invalid reference format/);
  });

  it('finds by name, id or unique id prefix', () => {
    assert.equal(findList(index, 'one')?.id, a);
    assert.equal(findList(index, '127.0.0.1:5000/two:v1')?.id, ab);
    assert.equal(findList(index, 'ab')?.id, ab);
    assert.throws(() => findList(index, 'a'), /ambiguous/);
    assert.equal(findList(index, 'three'), undefined);
    assert.equal(findList({ version: 1, images: {} }, 'one'), undefined);
  });
});
