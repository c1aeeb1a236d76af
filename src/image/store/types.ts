/** One image in the local store; `id` is the config digest, as in docker. */
export interface ImageRecord {
  id: string;
  /** full references, e.g. docker.io/library/alpine:latest */
  repoTags: string[];
  /** full references by digest, e.g. docker.io/library/alpine@sha256:... */
  repoDigests: string[];
  manifestDigest: string;
  manifestMediaType: string;
  /** the digest of the index/list this image was selected from, if any */
  indexDigest?: string;
  configDigest: string;
  layers: LayerRef[];
  /** sum of the unpacked layer sizes (docker's "Size") */
  size: number;
  created?: string;
  architecture: string;
  os: string;
  variant?: string;
  /** when this store first recorded the image */
  storedAt: string;
  /** a build step's image, made only to run the next RUN in (hidden by `images` without -a, as docker's intermediates) */
  intermediate?: boolean;
}

export interface LayerRef {
  chainId: string;
  diffId: string;
  /** the compressed blob's digest in the registry */
  digest: string;
  mediaType: string;
  /** compressed size per the manifest */
  compressedSize: number;
  /** unpacked size in bytes (sum of regular file sizes) */
  size: number;
}

/** One build cache entry (src/build/builder/cache.ts): a step's result, its config blob and layers. */
export interface BuildCacheEntry {
  config: string;
  layers: LayerRef[];
  /** when the step was first made (absent in entries recorded before it existed); `builder prune --filter until=` */
  created?: string;
}

export interface ImageIndexFile {
  version: 1;
  images: Record<string, ImageRecord>;
  /** the build cache: step key → result; its configs and layers are GC roots like the images' */
  buildCache?: Record<string, BuildCacheEntry>;
  /** `manifest create`'s local lists (image/manifest-list/): id → record; their list JSON is a blob, a GC root */
  manifestLists?: Record<string, ManifestListRecord>;
}

/** A local manifest list (OCI index or Docker list v2s2) being assembled: its current JSON is `blobs/<digest>`. */
export interface ManifestListRecord {
  /** 64 hex with `sha256:`: given at create and kept across edits (the list's content digest changes with each) */
  id: string;
  /** full references, e.g. localhost/mylist:latest */
  names: string[];
  digest: string;
  mediaType: string;
  created: string;
  /** where each entry's manifest comes from: a local image id, or the registry repository it was read from */
  sources: Record<string, ManifestListSource>;
}

export interface ManifestListSource {
  image?: string;
  /** `registry/repository` */
  repository?: string;
}
