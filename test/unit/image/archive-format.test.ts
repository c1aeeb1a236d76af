import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IntegrityError } from '../../../src/errors.js';
import {
  dockerManifestJson,
  nameOfDescriptor,
  ociIndexJson,
  parseDockerManifestJson,
  parseOciIndexJson,
  repositoriesJson,
  savedManifest,
  type SavedImage,
} from '../../../src/image/archive/format.js';

const hex = (c: string) => c.repeat(64);
const img: SavedImage = {
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${hex('c')}`, size: 10 },
  layers: [
    { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${hex('1')}`, size: 1024 },
    { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${hex('2')}`, size: 2048 },
  ],
  tags: ['docker.io/library/alpine:3.20', '127.0.0.1:5000/app:v1'],
};
const untagged: SavedImage = { ...img, config: { ...img.config, digest: `sha256:${hex('d')}` }, tags: [] };

describe('archive files as docker 25 writes them', () => {
  it('manifest.json: Config and Layers point into blobs/, RepoTags familiar, null when untagged', () => {
    assert.deepEqual(dockerManifestJson([img, untagged]), [
      { Config: `blobs/sha256/${hex('c')}`, RepoTags: ['alpine:3.20', '127.0.0.1:5000/app:v1'], Layers: [`blobs/sha256/${hex('1')}`, `blobs/sha256/${hex('2')}`] },
      { Config: `blobs/sha256/${hex('d')}`, RepoTags: null, Layers: [`blobs/sha256/${hex('1')}`, `blobs/sha256/${hex('2')}`] },
    ]);
  });

  it('repositories: familiar name → tag → the top layer', () => {
    assert.deepEqual(repositoriesJson([img, untagged]), { alpine: { '3.20': hex('2') }, '127.0.0.1:5000/app': { v1: hex('2') } });
  });

  it('index.json: one annotated entry per tag, a bare one for an untagged image', () => {
    const m = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${hex('e')}`, size: 300 };
    const index = ociIndexJson([img, untagged], [m, { ...m, digest: `sha256:${hex('f')}` }]);
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(
      index.manifests.map((d) => [d.digest.slice(7, 8), d.annotations]),
      [
        ['e', { 'io.containerd.image.name': 'docker.io/library/alpine:3.20', 'org.opencontainers.image.ref.name': '3.20' }],
        ['e', { 'io.containerd.image.name': '127.0.0.1:5000/app:v1', 'org.opencontainers.image.ref.name': 'v1' }],
        ['f', undefined],
      ],
    );
  });

  it('the saved manifest is OCI with the config and uncompressed layers', () => {
    assert.deepEqual(savedManifest(img), { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: img.config, layers: img.layers });
  });
});

describe('parsing archives of other tools', () => {
  it('manifest.json: old style paths, null RepoTags, bad entries refused with the file named', () => {
    const doc = [{ Config: `${hex('a')}.json`, RepoTags: null, Layers: [`${hex('b')}/layer.tar`] }];
    assert.deepEqual(parseDockerManifestJson(Buffer.from(JSON.stringify(doc)), 'x.tar: manifest.json'), [{ Config: `${hex('a')}.json`, RepoTags: [], Layers: [`${hex('b')}/layer.tar`] }]);
    assert.throws(() => parseDockerManifestJson(Buffer.from('{}'), 'x.tar: manifest.json'), (e: Error) => e instanceof IntegrityError && e.message === 'x.tar: manifest.json: not a list of images');
    assert.throws(() => parseDockerManifestJson(Buffer.from('[{"Config":1}]'), 'm'), /m: entry 0 needs Config and Layers/);
    assert.throws(() => parseDockerManifestJson(Buffer.from('[{'), 'm'), /m: invalid JSON/);
  });

  it('index.json: descriptors checked', () => {
    const ok = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${hex('e')}`, size: 1 }] };
    assert.equal(parseOciIndexJson(Buffer.from(JSON.stringify(ok)), 'i').manifests.length, 1);
    assert.throws(() => parseOciIndexJson(Buffer.from('{"schemaVersion":2}'), 'i'), /i: not an OCI image index/);
    assert.throws(() => parseOciIndexJson(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'x', digest: 'nope' }] })), 'i'), IntegrityError);
  });

  it('names from annotations: containerd full names, podman ref names; a bare tag names nothing', () => {
    const d = (a: Record<string, string>) => ({ mediaType: 'x', digest: `sha256:${hex('e')}`, size: 1, annotations: a });
    assert.equal(nameOfDescriptor(d({ 'io.containerd.image.name': 'docker.io/library/alpine:3.20', 'org.opencontainers.image.ref.name': '3.20' })), 'docker.io/library/alpine:3.20');
    assert.equal(nameOfDescriptor(d({ 'org.opencontainers.image.ref.name': 'localhost/app:v1' })), 'localhost/app:v1');
    assert.equal(nameOfDescriptor(d({ 'org.opencontainers.image.ref.name': 'app' })), undefined);
    assert.equal(nameOfDescriptor(d({ 'org.opencontainers.image.ref.name': 'latest' })), undefined);
    assert.equal(nameOfDescriptor(d({})), undefined);
  });
});
