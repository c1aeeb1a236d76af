// Raw registry pushes (distribution API over node:http), registry blob corruption, and a few OCI image-layout
// edits umoci cannot do (config fields like `variant`, image indexes).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, statSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { registrySession, type RegistryAuth, type RegistrySession } from './http.js';
import { blobDataPath, type RegistryInfo } from './registry.js';

export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const ACCEPT_ALL = [MT.ociIndex, MT.dockerList, MT.ociManifest, MT.dockerManifest].join(', ');

export const sha256 = (b: Buffer | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

/** The OCI/Go architecture name of this machine (amd64, arm64, …). */
export function hostArch(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[process.arch] ?? process.arch;
}

// ---------------------------------------------------------------------------------------------------------
// Raw pushes

export interface RawLayer {
  /** Blob bytes exactly as they will be uploaded. */
  blob: Buffer;
  mediaType: string;
  /** Digest of the uncompressed tar (goes into config.rootfs.diff_ids). */
  diffId: string;
}

export interface RawImage {
  /** Merged over a minimal linux/<host arch> config; rootfs.diff_ids is filled in unless given. */
  config?: Record<string, unknown>;
  /** Uncompressed tar streams (compressed per `compression`) or ready-made RawLayer blobs. */
  layers: Array<Buffer | RawLayer>;
  /** gzip (default), gzip-stored (gzip level 0: deflate "stored" blocks), or none. */
  compression?: 'gzip' | 'gzip-stored' | 'none';
  /** Manifest flavour (default oci). */
  format?: 'oci' | 'docker';
}

export interface PushedImage {
  ref: string;
  host: string;
  repo: string;
  tag: string;
  digest: string;
  mediaType: string;
  manifest: Record<string, unknown>;
  manifestBytes: Buffer;
  configDigest: string;
  layerDigests: string[];
  diffIds: string[];
}

export function makeLayer(tar: Buffer, compression: RawImage['compression'] = 'gzip', format: 'oci' | 'docker' = 'oci'): RawLayer {
  const diffId = sha256(tar);
  if (compression === 'none') return { blob: tar, diffId, mediaType: format === 'oci' ? MT.ociLayer : 'application/vnd.docker.image.rootfs.diff.tar' };
  const blob = zlib.gzipSync(tar, { level: compression === 'gzip-stored' ? 0 : 6 });
  return { blob, diffId, mediaType: format === 'oci' ? MT.ociLayerGzip : MT.dockerLayerGzip };
}

export async function uploadBlob(s: RegistrySession, repo: string, blob: Buffer, digest = sha256(blob)): Promise<string> {
  const scope = `repository:${repo}:pull,push`;
  const head = await s.fetch(`/v2/${repo}/blobs/${digest}`, { method: 'HEAD' }, scope);
  if (head.status === 200) return digest;
  const start = await s.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { 'Content-Length': '0' } }, scope);
  if (start.status !== 202) throw new Error(`POST blob upload ${repo}: HTTP ${start.status} ${start.body.toString()}`);
  const loc = new URL(String(start.headers.location), s.base);
  loc.searchParams.set('digest', digest);
  const put = await s.fetch(
    loc.toString(),
    { method: 'PUT', body: blob, headers: { 'Content-Type': 'application/octet-stream' } },
    scope,
  );
  if (put.status !== 201) throw new Error(`PUT blob ${digest} to ${repo}: HTTP ${put.status} ${put.body.toString()}`);
  return digest;
}

export async function putManifest(
  s: RegistrySession,
  repo: string,
  reference: string,
  bytes: Buffer,
  mediaType: string,
): Promise<string> {
  const res = await s.fetch(
    `/v2/${repo}/manifests/${reference}`,
    { method: 'PUT', body: bytes, headers: { 'Content-Type': mediaType } },
    `repository:${repo}:pull,push`,
  );
  if (res.status !== 201) throw new Error(`PUT manifest ${repo}:${reference}: HTTP ${res.status} ${res.body.toString()}`);
  return String(res.headers['docker-content-digest'] ?? sha256(bytes));
}

export async function getManifest(
  host: string,
  repo: string,
  reference: string,
  auth?: RegistryAuth,
): Promise<{ bytes: Buffer; mediaType: string; digest: string; json: Record<string, unknown> }> {
  const s = registrySession(host, auth);
  const res = await s.fetch(`/v2/${repo}/manifests/${reference}`, { headers: { Accept: ACCEPT_ALL } }, `repository:${repo}:pull`);
  if (res.status !== 200) throw new Error(`GET manifest ${host}/${repo}:${reference}: HTTP ${res.status} ${res.body.toString()}`);
  return {
    bytes: res.body,
    mediaType: String(res.headers['content-type'] ?? ''),
    digest: String(res.headers['docker-content-digest'] ?? sha256(res.body)),
    json: JSON.parse(res.body.toString('utf8')) as Record<string, unknown>,
  };
}

/** Copy a manifest to another tag in the same repository (blobs are already there). */
export async function retag(host: string, repo: string, from: string, to: string, auth?: RegistryAuth): Promise<string> {
  const m = await getManifest(host, repo, from, auth);
  return putManifest(registrySession(host, auth), repo, to, m.bytes, m.mediaType);
}

/**
 * Push an image assembled in memory: each layer blob via POST /v2/<repo>/blobs/uploads/ + PUT ?digest=, the
 * config blob likewise, then PUT /v2/<repo>/manifests/<tag>. Nothing about the layer contents is validated.
 */
export async function pushRaw(
  host: string,
  repo: string,
  tag: string,
  image: RawImage,
  auth?: RegistryAuth,
): Promise<PushedImage> {
  const format = image.format ?? 'oci';
  const layers = image.layers.map((l) => (Buffer.isBuffer(l) ? makeLayer(l, image.compression, format) : l));
  const userCfg = image.config ?? {};
  const config = {
    architecture: hostArch(),
    os: 'linux',
    created: '2023-11-14T22:13:20Z',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
    ...userCfg,
    rootfs: (userCfg.rootfs as object | undefined) ?? { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history:
      (userCfg.history as object[] | undefined) ??
      layers.map(() => ({ created: '2023-11-14T22:13:20Z', created_by: 'tsdock test harness pushRaw' })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const s = registrySession(host, auth);
  const layerDigests: string[] = [];
  for (const l of layers) layerDigests.push(await uploadBlob(s, repo, l.blob));
  const configDigest = await uploadBlob(s, repo, configBytes);
  const mediaType = format === 'oci' ? MT.ociManifest : MT.dockerManifest;
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: { mediaType: format === 'oci' ? MT.ociConfig : MT.dockerConfig, digest: configDigest, size: configBytes.length },
    layers: layers.map((l, i) => ({ mediaType: l.mediaType, digest: layerDigests[i]!, size: l.blob.length })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const digest = await putManifest(s, repo, tag, manifestBytes, mediaType);
  return {
    ref: `${host}/${repo}:${tag}`,
    host,
    repo,
    tag,
    digest,
    mediaType,
    manifest,
    manifestBytes,
    configDigest,
    layerDigests,
    diffIds: layers.map((l) => l.diffId),
  };
}

/**
 * Overwrite a blob's data file on the registry's disk with different bytes of the same length, so the
 * registry serves content that no longer matches its digest. Flips a run of bytes in the middle of the blob
 * (the gzip header stays intact). Returns the data file path.
 */
export function corruptBlob(registry: Pick<RegistryInfo, 'storageDir'>, digest: string, span = 64): string {
  const p = blobDataPath(registry, digest);
  const data = readFileSync(p);
  if (data.length === 0) throw new Error(`blob ${digest} is empty`);
  const start = Math.max(0, Math.floor(data.length / 2) - Math.floor(span / 2));
  const end = Math.min(data.length, start + span);
  for (let i = start; i < end; i++) data[i] = data[i]! ^ 0xff;
  writeFileSync(p, data);
  if (statSync(p).size !== data.length || sha256(readFileSync(p)) === digest) throw new Error(`failed to corrupt ${p}`);
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// OCI image layout edits

interface LayoutIndex {
  schemaVersion: number;
  manifests: Descriptor[];
  [k: string]: unknown;
}

const REF_NAME = 'org.opencontainers.image.ref.name';

export function readLayoutIndex(layout: string): LayoutIndex {
  return JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8')) as LayoutIndex;
}

export function layoutBlobPath(layout: string, digest: string): string {
  const [alg, hex] = digest.split(':');
  return path.join(layout, 'blobs', alg!, hex!);
}

export function readLayoutBlob(layout: string, digest: string): Buffer {
  return readFileSync(layoutBlobPath(layout, digest));
}

export function writeLayoutBlob(layout: string, data: Buffer): string {
  const d = sha256(data);
  writeFileSync(layoutBlobPath(layout, d), data);
  return d;
}

export function layoutDescriptor(layout: string, tag: string): Descriptor {
  const d = readLayoutIndex(layout).manifests.find((m) => m.annotations?.[REF_NAME] === tag);
  if (!d) throw new Error(`tag ${tag} not found in ${layout}`);
  return d;
}

/** Set (or replace) the index.json entry for `tag`. */
export function setLayoutTag(layout: string, tag: string, desc: Omit<Descriptor, 'annotations'>): void {
  const idx = readLayoutIndex(layout);
  idx.manifests = idx.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag);
  idx.manifests.push({ ...desc, annotations: { [REF_NAME]: tag } });
  writeFileSync(path.join(layout, 'index.json'), JSON.stringify(idx));
}

/** Rewrite the image config of `tag` (e.g. to add `variant`), updating manifest and index.json. */
export function patchLayoutConfig(layout: string, tag: string, patch: (cfg: Record<string, unknown>) => void): Descriptor {
  const desc = layoutDescriptor(layout, tag);
  const manifest = JSON.parse(readLayoutBlob(layout, desc.digest).toString('utf8')) as {
    config: Descriptor;
    [k: string]: unknown;
  };
  const cfg = JSON.parse(readLayoutBlob(layout, manifest.config.digest).toString('utf8')) as Record<string, unknown>;
  patch(cfg);
  const cfgBytes = Buffer.from(JSON.stringify(cfg));
  manifest.config = { ...manifest.config, digest: writeLayoutBlob(layout, cfgBytes), size: cfgBytes.length };
  const mBytes = Buffer.from(JSON.stringify(manifest));
  const nd: Descriptor = { mediaType: desc.mediaType ?? MT.ociManifest, digest: writeLayoutBlob(layout, mBytes), size: mBytes.length };
  setLayoutTag(layout, tag, nd);
  return nd;
}

/** Write an OCI image index over existing tags and tag it as `tag`. */
export function writeLayoutIndexImage(
  layout: string,
  tag: string,
  entries: Array<{ tag: string; platform: NonNullable<Descriptor['platform']> }>,
): Descriptor {
  const index = {
    schemaVersion: 2,
    mediaType: MT.ociIndex,
    manifests: entries.map((e) => {
      const d = layoutDescriptor(layout, e.tag);
      return { mediaType: d.mediaType ?? MT.ociManifest, digest: d.digest, size: d.size, platform: e.platform };
    }),
  };
  const bytes = Buffer.from(JSON.stringify(index));
  const desc: Descriptor = { mediaType: MT.ociIndex, digest: writeLayoutBlob(layout, bytes), size: bytes.length };
  setLayoutTag(layout, tag, desc);
  return desc;
}

/** Manifest + config of a tag in a layout. */
export function readLayoutImage(layout: string, tag: string): {
  manifest: { config: Descriptor; layers: Descriptor[] };
  config: Record<string, unknown>;
  digest: string;
} {
  const desc = layoutDescriptor(layout, tag);
  const manifest = JSON.parse(readLayoutBlob(layout, desc.digest).toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
  const config = JSON.parse(readLayoutBlob(layout, manifest.config.digest).toString('utf8')) as Record<string, unknown>;
  return { manifest, config, digest: desc.digest };
}
