/**
 * push's `--format`: an image manifest rewritten as OCI or Docker schema 2 (the manifest's and the config's media
 * types, and each layer's to its namesake in the other family; the blobs themselves stay as stored). Pure.
 */
import { UsageError } from '../errors.js';
import { MediaType, type Descriptor, type ImageManifest } from './manifest.js';

export type PushFormat = 'oci' | 'v2s2';

const TO_OCI: Record<string, string> = {
  [MediaType.dockerLayerGzip]: MediaType.ociLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar': MediaType.ociLayer,
  [MediaType.dockerForeignLayerGzip]: MediaType.ociLayerNondistributableGzip,
  [MediaType.dockerConfig]: MediaType.ociConfig,
};
const TO_DOCKER: Record<string, string> = Object.fromEntries(Object.entries(TO_OCI).map(([d, o]) => [o, d]));

export function parsePushFormat(value: string): PushFormat {
  if (value === 'oci' || value === 'v2s2') return value;
  throw new UsageError(`unknown manifest format "${value}": use oci or v2s2`);
}

/** The manifest in `format`; the same object when it is already in it. */
export function convertManifest(manifest: ImageManifest, format: PushFormat): ImageManifest {
  const oci = format === 'oci';
  const target = oci ? MediaType.ociManifest : MediaType.dockerManifest;
  const map = oci ? TO_OCI : TO_DOCKER;
  const convert = (d: Descriptor, what: string): Descriptor => {
    const mediaType = map[d.mediaType];
    if (mediaType) return { ...d, mediaType };
    if (!oci && d.mediaType.startsWith('application/vnd.oci.')) {
      throw new UsageError(`${what} ${d.digest} is ${d.mediaType}, which has no Docker schema 2 equivalent: push it with --format oci`);
    }
    return d;
  };
  const out: ImageManifest = {
    ...manifest,
    schemaVersion: 2,
    mediaType: target,
    config: convert(manifest.config, 'the config'),
    layers: manifest.layers.map((l) => convert(l, 'layer')),
  };
  // OCI-only fields have no place in a Docker manifest
  if (!oci) {
    delete out.annotations;
    delete out.subject;
    delete out.artifactType;
  }
  return out;
}

/** Whether the manifest already is in `format` (then its stored bytes, and digest, are pushed as they are). */
export function inFormat(manifest: ImageManifest, mediaType: string, format: PushFormat | undefined): boolean {
  if (!format) return true;
  const converted = convertManifest(manifest, format);
  return (
    mediaType === converted.mediaType &&
    converted.config.mediaType === manifest.config.mediaType &&
    converted.layers.every((l, i) => l.mediaType === manifest.layers[i]!.mediaType)
  );
}
