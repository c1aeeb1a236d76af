import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkSize, contentRange, nextOffset, resolveLocation, withDigest } from '../../../src/image/registry/upload.js';
import { convertManifest, inFormat, parsePushFormat } from '../../../src/image/manifest-convert.js';
import { MediaType, type ImageManifest } from '../../../src/image/manifest.js';
import { mountSources } from '../../../src/image/push.js';
import type { ImageRecord } from '../../../src/image/store/types.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;

test('upload locations: relative to the answering url, absolute ones kept (another host too)', () => {
  const base = new URL('https://reg.example:5000/v2/a/b/blobs/uploads/');
  assert.equal(resolveLocation('/v2/a/b/blobs/uploads/u1?_state=x', base, 'w'), 'https://reg.example:5000/v2/a/b/blobs/uploads/u1?_state=x');
  assert.equal(resolveLocation('u2', base, 'w'), 'https://reg.example:5000/v2/a/b/blobs/uploads/u2');
  assert.equal(resolveLocation('https://storage.example/up/3?sig=1', base, 'w'), 'https://storage.example/up/3?sig=1');
  assert.equal(resolveLocation(['/x', '/y'], base, 'w'), 'https://reg.example:5000/x');
  assert.throws(() => resolveLocation(undefined, base, 'uploading r@d'), /uploading r@d: the registry answered without a Location/);
  assert.throws(() => resolveLocation('ftp://h/x', base, 'w'), /unsupported upload location/);
});

test('digest= joins whatever query the session url carries', () => {
  assert.equal(withDigest('http://h/v2/r/blobs/uploads/u?_state=a%3D', D('a')), `http://h/v2/r/blobs/uploads/u?_state=a%3D&digest=sha256%3A${'a'.repeat(64)}`);
  assert.equal(withDigest('http://h/u', D('b')), `http://h/u?digest=sha256%3A${'b'.repeat(64)}`);
});

test('Content-Range is inclusive; Range gives the next offset', () => {
  assert.equal(contentRange(0, 1024), '0-1023');
  assert.equal(contentRange(1024, 1), '1024-1024');
  assert.throws(() => contentRange(5, 0), RangeError);
  assert.equal(nextOffset('0-1023'), 1024);
  assert.equal(nextOffset('bytes=0-99'), 100);
  assert.equal(nextOffset(undefined), 0);
  assert.throws(() => nextOffset('garbage'), /unexpected upload range/);
});

test('OCI-Chunk-Min-Length raises the chunk size, never lowers it', () => {
  assert.equal(chunkSize(1000, undefined), 1000);
  assert.equal(chunkSize(1000, '5000'), 5000);
  assert.equal(chunkSize(1000, '10'), 1000);
  assert.equal(chunkSize(1000, 'x'), 1000);
});

const docker: ImageManifest = {
  schemaVersion: 2,
  mediaType: MediaType.dockerManifest,
  config: { mediaType: MediaType.dockerConfig, digest: D('c'), size: 10 },
  layers: [
    { mediaType: MediaType.dockerLayerGzip, digest: D('1'), size: 5 },
    { mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: D('2'), size: 6 },
  ],
};

test('--format oci and v2s2 convert media types both ways, digests and sizes untouched', () => {
  const oci = convertManifest(docker, 'oci');
  assert.equal(oci.mediaType, MediaType.ociManifest);
  assert.equal(oci.config.mediaType, MediaType.ociConfig);
  assert.deepEqual(oci.layers.map((l) => l.mediaType), [MediaType.ociLayerGzip, MediaType.ociLayer]);
  assert.deepEqual(oci.layers.map((l) => [l.digest, l.size]), docker.layers.map((l) => [l.digest, l.size]));
  assert.deepEqual(convertManifest({ ...oci, annotations: { a: 'b' } }, 'v2s2'), docker);
  assert.ok(inFormat(docker, MediaType.dockerManifest, 'v2s2'));
  assert.ok(!inFormat(docker, MediaType.dockerManifest, 'oci'));
  assert.ok(inFormat(docker, MediaType.dockerManifest, undefined));
  const zstd = { ...oci, layers: [{ mediaType: MediaType.ociLayerZstd, digest: D('3'), size: 1 }] };
  assert.throws(() => convertManifest(zstd, 'v2s2'), /no Docker schema 2 equivalent: push it with --format oci/);
  assert.equal(parsePushFormat('oci'), 'oci');
  assert.throws(() => parsePushFormat('v2s1'), /unknown manifest format "v2s1"/);
});

test('mount sources: the other repositories of the same registry the image came from or went to', () => {
  const img = { repoDigests: [`reg:5000/lib/a@${D('m')}`, `reg:5000/b@${D('m')}`, `other.io/c@${D('m')}`, `reg:5000/lib/a@${D('n')}`] } as ImageRecord;
  assert.deepEqual(mountSources(img, { registry: 'reg:5000', repository: 'b' }), ['lib/a']);
  assert.deepEqual(mountSources(img, { registry: 'other.io', repository: 'x' }), ['c']);
  assert.deepEqual(mountSources(img, { registry: 'new.io', repository: 'x' }), []);
});
