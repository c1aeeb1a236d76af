/**
 * A manifest list's JSON (OCI image index or Docker manifest list v2s2), pure: an empty list, entries added
 * (replacing an entry of the same digest), removed and annotated, the list converted between the two formats.
 */
import { UsageError } from '../../errors.js';
import { MediaType, type Descriptor, type ImageIndex } from '../manifest.js';
import type { Platform } from '../platform.js';
import type { PushFormat } from '../manifest-convert.js';

export function listMediaType(format: PushFormat): string {
  return format === 'v2s2' ? MediaType.dockerManifestList : MediaType.ociIndex;
}

export function emptyList(format: PushFormat = 'oci'): ImageIndex {
  return { schemaVersion: 2, mediaType: listMediaType(format), manifests: [] };
}

/** The list with `entry` added; an entry of the same digest is replaced (podman's add of an image already listed). */
export function withEntry(list: ImageIndex, entry: Descriptor): ImageIndex {
  return { ...list, manifests: [...list.manifests.filter((d) => d.digest !== entry.digest), entry] };
}

export function withoutEntry(list: ImageIndex, digest: string): ImageIndex {
  if (!list.manifests.some((d) => d.digest === digest)) throw new UsageError(`no entry ${digest} in the manifest list`);
  return { ...list, manifests: list.manifests.filter((d) => d.digest !== digest) };
}

/** What `manifest add` and `annotate` may set on an entry (podman's and docker's flags). */
export interface EntryAnnotation {
  os?: string;
  architecture?: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
  annotations?: Record<string, string>;
}

/** The descriptor with its platform fields and annotations overridden by what was given. */
export function annotateEntry(entry: Descriptor, a: EntryAnnotation): Descriptor {
  const platform: Platform = { ...(entry.platform ?? { os: 'linux', architecture: 'amd64' }) };
  if (a.os !== undefined) platform.os = a.os;
  if (a.architecture !== undefined) platform.architecture = a.architecture;
  if (a.variant !== undefined) {
    if (a.variant === '') delete platform.variant;
    else platform.variant = a.variant;
  }
  if (a.osVersion !== undefined) platform['os.version'] = a.osVersion;
  if (a.osFeatures !== undefined) platform['os.features'] = a.osFeatures;
  const out: Descriptor = { ...entry, platform };
  if (a.annotations && Object.keys(a.annotations).length) out.annotations = { ...entry.annotations, ...a.annotations };
  return out;
}

/** A platform as a list entry carries it: empty fields left out. */
export function entryPlatform(p: Platform): Platform {
  const out: Platform = { os: p.os, architecture: p.architecture };
  if (p.variant) out.variant = p.variant;
  if (p['os.version']) out['os.version'] = p['os.version'];
  if (p['os.features']?.length) out['os.features'] = p['os.features'];
  return out;
}


/**
 * The list in `format`. Entries keep their digests: their media types change only where `converted` says the
 * instance was pushed in the other format (its new descriptor). A Docker list has no annotations.
 */
export function convertList(list: ImageIndex, format: PushFormat, converted: ReadonlyMap<string, Descriptor> = new Map()): ImageIndex {
  const mediaType = listMediaType(format);
  const manifests = list.manifests.map((d) => {
    const c = converted.get(d.digest);
    const out: Descriptor = c ? { ...d, mediaType: c.mediaType, digest: c.digest, size: c.size } : { ...d };
    if (format === 'v2s2') delete out.annotations;
    return out;
  });
  const out: ImageIndex = { ...list, schemaVersion: 2, mediaType, manifests };
  if (format === 'v2s2') {
    delete out.annotations;
    delete (out as { artifactType?: string }).artifactType;
    delete (out as { subject?: unknown }).subject;
  }
  return out;
}

/** The list's bytes as stored and pushed. */
export function serializeList(list: ImageIndex): Buffer {
  return Buffer.from(JSON.stringify(list));
}

export function formatOfList(mediaType: string): PushFormat {
  return mediaType === MediaType.dockerManifestList ? 'v2s2' : 'oci';
}
