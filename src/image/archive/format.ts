/**
 * The files of an image archive (pure): docker-archive's manifest.json and repositories, and the OCI image
 * layout's oci-layout and index.json, as docker 25+ writes them (both in one archive, manifest.json pointing
 * into blobs/), and their parsing when loading an archive made by docker, podman or skopeo.
 */
import { IntegrityError } from '../../errors.js';
import { assertDigest } from '../digest.js';
import { MediaType, type Descriptor, type ImageIndex, type ImageManifest } from '../manifest.js';
import { familiarName, familiarString, formatReference, parseReference } from '../reference.js';

/** One entry of docker-archive's manifest.json (paths relative to the archive root). */
export interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/** An image as it goes into an archive: its config and (uncompressed) layer descriptors, and its tags. */
export interface SavedImage {
  config: Descriptor;
  layers: Descriptor[];
  /** full references, e.g. docker.io/library/alpine:latest */
  tags: string[];
}

export const OCI_LAYOUT = JSON.stringify({ imageLayoutVersion: '1.0.0' });
export const IMAGE_NAME_ANNOTATION = 'io.containerd.image.name';
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export function blobPath(digest: string): string {
  const [algo, hex] = digest.split(':');
  return `blobs/${algo}/${hex}`;
}

/** The OCI manifest of a saved image. */
export function savedManifest(img: SavedImage): ImageManifest {
  return { schemaVersion: 2, mediaType: MediaType.ociManifest, config: img.config, layers: img.layers };
}

export function dockerManifestJson(images: SavedImage[]): DockerArchiveEntry[] {
  return images.map((img) => ({
    Config: blobPath(img.config.digest),
    RepoTags: img.tags.length ? img.tags.map((t) => familiarString(parseReference(t))) : null,
    Layers: img.layers.map((l) => blobPath(l.digest)),
  }));
}

/** `repositories`: familiar name → tag → the hex of the image's top layer, as docker writes it. */
export function repositoriesJson(images: SavedImage[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const img of images) {
    const top = img.layers[img.layers.length - 1];
    if (!top) continue;
    for (const t of img.tags) {
      const ref = parseReference(t);
      if (ref.tag === undefined) continue;
      (out[familiarName(ref)] ??= {})[ref.tag] = top.digest.split(':')[1]!;
    }
  }
  return out;
}

/** index.json: one manifest descriptor per tag (annotated with its names), one bare one for an untagged image. */
export function ociIndexJson(images: SavedImage[], manifests: Descriptor[]): ImageIndex {
  const out: Descriptor[] = [];
  images.forEach((img, i) => {
    const m = manifests[i]!;
    if (img.tags.length === 0) out.push(m);
    for (const t of img.tags) {
      const tag = parseReference(t).tag ?? 'latest';
      out.push({ ...m, annotations: { [IMAGE_NAME_ANNOTATION]: t, [REF_NAME_ANNOTATION]: tag } });
    }
  });
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: out };
}

export function parseDockerManifestJson(bytes: Buffer, where: string): DockerArchiveEntry[] {
  const doc = parseJson(bytes, where);
  if (!Array.isArray(doc)) throw new IntegrityError(`${where}: not a list of images`);
  return doc.map((e: unknown, i: number) => {
    const o = e as Partial<DockerArchiveEntry> | null;
    if (!o || typeof o.Config !== 'string' || !Array.isArray(o.Layers) || !o.Layers.every((l) => typeof l === 'string')) {
      throw new IntegrityError(`${where}: entry ${i} needs Config and Layers`);
    }
    const tags = o.RepoTags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new IntegrityError(`${where}: entry ${i} has invalid RepoTags`);
    return { Config: o.Config, RepoTags: tags, Layers: o.Layers };
  });
}

export function parseOciIndexJson(bytes: Buffer, where: string): ImageIndex {
  const doc = parseJson(bytes, where) as Partial<ImageIndex> | null;
  if (!doc || doc.schemaVersion !== 2 || !Array.isArray(doc.manifests)) throw new IntegrityError(`${where}: not an OCI image index`);
  doc.manifests.forEach((d, i) => {
    assertDigest(d?.digest, `${where} manifests[${i}].digest`);
    if (typeof d.mediaType !== 'string') throw new IntegrityError(`${where}: manifests[${i}] has no mediaType`);
  });
  return doc as ImageIndex;
}

/**
 * The name (full reference) an index entry gives its image: containerd's full name, else the ref name when it is a
 * reference (podman writes `localhost/x:tag`; a bare tag such as `latest` names no repository).
 */
export function nameOfDescriptor(d: Descriptor): string | undefined {
  const full = d.annotations?.[IMAGE_NAME_ANNOTATION];
  const ref = d.annotations?.[REF_NAME_ANNOTATION];
  for (const cand of [full, ref]) {
    if (!cand || !(cand.includes('/') || cand.includes(':'))) continue;
    try {
      const parsed = parseReference(cand);
      if (parsed.digest === undefined) return formatReference({ ...parsed, tag: parsed.tag ?? 'latest' });
    } catch {
      // not a reference: no name
    }
  }
  return undefined;
}

function parseJson(bytes: Buffer, where: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new IntegrityError(`${where}: invalid JSON (${(err as Error).message})`);
  }
}
