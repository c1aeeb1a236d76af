import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { IntegrityError } from '../../../src/errors.js';
import { MediaType, chainIds, layerCompression, parseImageConfig, parseManifest } from '../../../src/image/manifest.js';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const desc = (mediaType: string, c: string, extra: object = {}) => ({ mediaType, digest: d(c), size: 10, ...extra });
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

const manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: desc(MediaType.ociConfig, 'a'), layers: [desc(MediaType.ociLayerGzip, 'b')] };
const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [desc(MediaType.ociManifest, 'c', { platform: { os: 'linux', architecture: 'amd64' } })] };

test('parseManifest detects kind by header, body mediaType and shape', () => {
  const m = parseManifest(json(manifest), `${MediaType.ociManifest}; charset=utf-8`);
  assert.equal(m.kind, 'manifest');
  assert.equal(m.mediaType, MediaType.ociManifest);
  const i = parseManifest(json(index), 'application/json');
  assert.equal(i.kind, 'index');
  if (i.kind === 'index') assert.equal(i.index.manifests.length, 1);
  const { mediaType: _m, ...bare } = index;
  const byShape = parseManifest(json(bare), undefined);
  assert.equal(byShape.kind, 'index');
  assert.equal(byShape.mediaType, MediaType.ociIndex);
  const docker = parseManifest(json({ ...manifest, mediaType: undefined }), MediaType.dockerManifest);
  assert.equal(docker.kind, 'manifest');
  assert.equal(docker.mediaType, MediaType.dockerManifest);
});

test('parseManifest rejects schema1, mismatches and malformed bodies', () => {
  assert.throws(() => parseManifest(json({ schemaVersion: 1, name: 'x' }), MediaType.dockerSchema1Signed), /docker schema1 manifests are not supported/);
  assert.throws(() => parseManifest(json({ schemaVersion: 1, name: 'x' }), 'application/json'), /docker schema1 manifests are not supported/);
  assert.throws(() => parseManifest(json(manifest), MediaType.ociIndex), /does not match/);
  assert.throws(() => parseManifest(Buffer.from('{'), MediaType.ociManifest), IntegrityError);
  assert.throws(() => parseManifest(json({ ...manifest, layers: [{ mediaType: 'x', digest: 'sha256:zz', size: 1 }] }), ''), /invalid digest/);
  assert.throws(() => parseManifest(json({ ...manifest, config: { ...manifest.config, size: -1 } }), ''), /invalid size/);
  assert.throws(() => parseManifest(json({ schemaVersion: 2 }), ''), /unsupported manifest media type/);
});

test('layerCompression', () => {
  assert.equal(layerCompression(MediaType.ociLayerGzip), 'gzip');
  assert.equal(layerCompression(MediaType.dockerLayerGzip), 'gzip');
  assert.equal(layerCompression(MediaType.dockerForeignLayerGzip), 'gzip');
  assert.equal(layerCompression(MediaType.ociLayerZstd), 'zstd');
  assert.equal(layerCompression(MediaType.ociLayer), 'none');
  assert.throws(() => layerCompression('application/vnd.oci.image.layer.v1.tar+gzip+encrypted'), /unsupported layer media type/);
});

test('chainIds', () => {
  const a = d('a');
  const b = d('b');
  const c = d('c');
  assert.deepEqual(chainIds([]), []);
  assert.deepEqual(chainIds([a]), [a]);
  const ab = `sha256:${crypto.createHash('sha256').update(`${a} ${b}`).digest('hex')}`;
  const abc = `sha256:${crypto.createHash('sha256').update(`${ab} ${c}`).digest('hex')}`;
  assert.deepEqual(chainIds([a, b, c]), [a, ab, abc]);
});

test('parseImageConfig validates rootfs', () => {
  const config = { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'], Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [d('a')] } };
  assert.deepEqual(parseImageConfig(json(config)).config?.Cmd, ['sh']);
  assert.throws(() => parseImageConfig(json({ ...config, rootfs: { type: 'x', diff_ids: [] } })), /rootfs/);
  assert.throws(() => parseImageConfig(json({ ...config, rootfs: { type: 'layers', diff_ids: ['nope'] } })), /diff_ids\[0\]/);
});
