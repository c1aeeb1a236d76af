import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError, UsageError } from '../../../src/errors.js';
import { MediaType, type Descriptor } from '../../../src/image/manifest.js';
import { formatPlatform, hostPlatform, parsePlatform, selectManifest, type Platform } from '../../../src/image/platform.js';

test('parsePlatform normalizes', () => {
  assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('linux/aarch64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('linux/arm'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('linux/arm/6'), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.deepEqual(parsePlatform('Linux/i386'), { os: 'linux', architecture: '386' });
  assert.equal(parsePlatform('arm64').os, 'linux');
  assert.equal(parsePlatform('linux').architecture, hostPlatform().architecture);
  for (const bad of ['', 'linux/', '/amd64', 'a/b/c/d', 'linux/am d64']) assert.throws(() => parsePlatform(bad), UsageError, bad);
});

test('hostPlatform is linux', () => {
  const p = hostPlatform();
  assert.equal(p.os, 'linux');
  if (process.arch === 'x64') assert.equal(formatPlatform(p), 'linux/amd64');
  if (process.arch === 'arm64') assert.equal(formatPlatform(p), 'linux/arm64/v8');
});

const entry = (c: string, platform?: Platform, annotations?: Record<string, string>): Descriptor => ({
  mediaType: MediaType.ociManifest,
  digest: `sha256:${c.repeat(64)}`,
  size: 100,
  ...(platform ? { platform } : {}),
  ...(annotations ? { annotations } : {}),
});

const index = {
  manifests: [
    entry('1', { os: 'linux', architecture: 'amd64' }),
    entry('2', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    entry('3', { os: 'linux', architecture: 'arm', variant: 'v6' }),
    entry('4', { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest' }),
  ],
};

test('selectManifest matches os, arch and variant', () => {
  assert.equal(selectManifest(index, parsePlatform('linux/amd64')).digest, index.manifests[0]!.digest);
  assert.equal(selectManifest(index, parsePlatform('linux/arm64')).digest, index.manifests[1]!.digest);
  assert.equal(selectManifest(index, { os: 'linux', architecture: 'arm64' }).digest, index.manifests[1]!.digest);
  const noVariant = { manifests: [entry('5', { os: 'linux', architecture: 'arm64' })] };
  assert.equal(selectManifest(noVariant, parsePlatform('linux/arm64/v8')).digest, noVariant.manifests[0]!.digest);
  // arm/v7 can run the v6 image
  assert.equal(selectManifest(index, parsePlatform('linux/arm/v7')).digest, index.manifests[2]!.digest);
  assert.throws(() => selectManifest(index, parsePlatform('linux/arm/v5')), NotFoundError);
});

test('selectManifest ignores attestations and lists what is available', () => {
  assert.throws(() => selectManifest(index, parsePlatform('linux/s390x')), (err: unknown) => {
    assert.ok(err instanceof NotFoundError);
    assert.equal(err.message, 'no image for platform linux/s390x in index (available: linux/amd64, linux/arm64/v8, linux/arm/v6)');
    return true;
  });
  const onlyAttestation = { manifests: [index.manifests[3]!] };
  assert.throws(() => selectManifest(onlyAttestation, parsePlatform('linux/amd64')), /available: none/);
});
