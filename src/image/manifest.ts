/**
 * Manifests, indexes and image configs (OCI image-spec and Docker schema2): media types, types and pure
 * parsing/validation. Platform selection lives in platform.ts and is re-exported here.
 */
import crypto from 'node:crypto';
import { IntegrityError } from '../errors.js';
import { assertDigest } from './digest.js';
import type { Platform } from './platform.js';

export { parsePlatform, formatPlatform, normalizePlatform, hostPlatform, selectManifest } from './platform.js';
export type { Platform } from './platform.js';

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

const INDEX_TYPES: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList];
const MANIFEST_TYPES: readonly string[] = [MediaType.ociManifest, MediaType.dockerManifest];
const SCHEMA1_TYPES: readonly string[] = [MediaType.dockerSchema1, MediaType.dockerSchema1Signed];

/** The Accept header value for manifest requests, most preferred first. */
export const MANIFEST_ACCEPT: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest];

export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface HealthConfig {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** The `config` object of an image config (docker keeps the capitalised Go field names). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: HealthConfig;
  OnBuild?: string[] | null;
  Shell?: string[];
  Hostname?: string;
  Domainname?: string;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
  [extra: string]: unknown;
}

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; index: ImageIndex }
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest };

/** `application/json; charset=utf-8` → `application/json`. */
export function stripMediaTypeParams(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

type Kind = 'index' | 'manifest';

function kindOf(mediaType: string): Kind | undefined {
  if (INDEX_TYPES.includes(mediaType)) return 'index';
  if (MANIFEST_TYPES.includes(mediaType)) return 'manifest';
  return undefined;
}

/**
 * Parse manifest bytes. The kind comes from the Content-Type header when it names a manifest or index type,
 * else from the body's mediaType, else from the shape (`manifests` → index, `layers` → manifest).
 * Schema1 is rejected; a header and body that disagree on the kind are rejected.
 */
export function parseManifest(bytes: Buffer, mediaTypeHeader?: string): ParsedManifest {
  const header = stripMediaTypeParams(mediaTypeHeader);
  if (SCHEMA1_TYPES.includes(header)) throw new IntegrityError('docker schema1 manifests are not supported');
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new IntegrityError(`invalid manifest: not json (${(err as Error).message})`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new IntegrityError('invalid manifest: not a json object');
  if (body.schemaVersion === 1) throw new IntegrityError('docker schema1 manifests are not supported');
  if (body.schemaVersion !== 2) throw new IntegrityError(`invalid manifest: unsupported schemaVersion ${JSON.stringify(body.schemaVersion)}`);
  const bodyType = typeof body.mediaType === 'string' ? body.mediaType : undefined;
  if (bodyType !== undefined && SCHEMA1_TYPES.includes(bodyType)) throw new IntegrityError('docker schema1 manifests are not supported');
  const headerKind = kindOf(header);
  const bodyKind = bodyType !== undefined ? kindOf(bodyType) : undefined;
  if (headerKind && bodyKind && headerKind !== bodyKind) {
    throw new IntegrityError(`invalid manifest: content-type ${header} does not match body media type ${bodyType}`);
  }
  const shapeKind: Kind | undefined = Array.isArray(body.manifests) ? 'index' : Array.isArray(body.layers) ? 'manifest' : undefined;
  const kind = headerKind ?? bodyKind ?? shapeKind;
  if (kind === undefined) throw new IntegrityError(`unsupported manifest media type "${bodyType ?? header}"`);
  const mediaType = bodyType ?? (headerKind ? header : kind === 'index' ? MediaType.ociIndex : MediaType.ociManifest);
  if (kind === 'index') {
    if (!Array.isArray(body.manifests)) throw new IntegrityError('invalid image index: missing manifests');
    const manifests = body.manifests.map((d, i) => checkDescriptor(d, `manifests[${i}]`));
    return { kind, mediaType, index: { ...(body as object), schemaVersion: 2, manifests } as ImageIndex };
  }
  if (!Array.isArray(body.layers)) throw new IntegrityError('invalid image manifest: missing layers');
  const config = checkDescriptor(body.config, 'config');
  const layers = body.layers.map((d, i) => checkDescriptor(d, `layers[${i}]`));
  return { kind, mediaType, manifest: { ...(body as object), schemaVersion: 2, config, layers } as ImageManifest };
}

function checkDescriptor(value: unknown, where: string): Descriptor {
  if (value === null || typeof value !== 'object') throw new IntegrityError(`invalid manifest: ${where} is not a descriptor`);
  const d = value as Record<string, unknown>;
  if (typeof d.mediaType !== 'string') throw new IntegrityError(`invalid manifest: ${where} has no mediaType`);
  assertDigest(d.digest, `manifest ${where}`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new IntegrityError(`invalid manifest: ${where} has an invalid size`);
  }
  return d as unknown as Descriptor;
}

/** Parse and sanity-check an image config blob (the caller has verified its digest). */
export function parseImageConfig(bytes: Buffer): ImageConfig {
  let config: ImageConfig;
  try {
    config = JSON.parse(bytes.toString('utf8')) as ImageConfig;
  } catch (err) {
    throw new IntegrityError(`invalid image config: not json (${(err as Error).message})`);
  }
  if (config === null || typeof config !== 'object') throw new IntegrityError('invalid image config: not a json object');
  const rootfs = config.rootfs as { type?: unknown; diff_ids?: unknown } | undefined;
  if (!rootfs || rootfs.type !== 'layers' || !Array.isArray(rootfs.diff_ids)) {
    throw new IntegrityError('invalid image config: rootfs must be {type: "layers", diff_ids: [...]}');
  }
  rootfs.diff_ids.forEach((d, i) => assertDigest(d, `image config rootfs.diff_ids[${i}]`));
  if (typeof config.os !== 'string' || typeof config.architecture !== 'string') {
    throw new IntegrityError('invalid image config: missing os or architecture');
  }
  return config;
}

export type LayerCompression = 'gzip' | 'zstd' | 'none';

/** How a layer blob is compressed, from its media type; unknown (e.g. encrypted) types are rejected. */
export function layerCompression(mediaType: string): LayerCompression {
  switch (mediaType) {
    case MediaType.ociLayer:
    case MediaType.ociLayerNondistributable:
    case 'application/vnd.docker.image.rootfs.diff.tar':
      return 'none';
    case MediaType.ociLayerGzip:
    case MediaType.ociLayerNondistributableGzip:
    case MediaType.dockerLayerGzip:
    case MediaType.dockerForeignLayerGzip:
      return 'gzip';
    case MediaType.ociLayerZstd:
    case MediaType.ociLayerNondistributableZstd:
      return 'zstd';
    default:
      throw new IntegrityError(`unsupported layer media type "${mediaType}"`);
  }
}

/** chainID(1) = diffID(1); chainID(n) = sha256(chainID(n-1) + " " + diffID(n)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? diffId : `sha256:${crypto.createHash('sha256').update(`${prev} ${diffId}`).digest('hex')}`);
  }
  return out;
}
