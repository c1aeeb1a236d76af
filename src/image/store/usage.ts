/**
 * `system df`'s accounting of the image store, pure: images and the build cache share layers (by chain id) and
 * blobs (by digest), so each is counted once. Images are the index's images but the build's intermediates; the
 * build cache is its entries' layers and config blobs, and the intermediates', that no image holds.
 */
import type { ImageIndexFile, ImageRecord } from './types.js';

export interface ImageUsage {
  id: string;
  /** bytes of everything the image holds */
  size: number;
  /** of which also held by another image */
  sharedSize: number;
  uniqueSize: number;
  /** containers using it */
  containers: number;
}

export interface CacheUsage {
  key: string;
  /** bytes it holds that no image and no other entry holds */
  size: number;
  /** it holds bytes (no image's) another entry holds too */
  shared: boolean;
  created?: string;
}

export interface StoreUsage {
  images: ImageUsage[];
  /** every image's bytes, shared ones once */
  imagesSize: number;
  /** bytes held by no image a container uses */
  imagesReclaimable: number;
  cache: CacheUsage[];
  /** bytes only the build cache holds, each once */
  cacheSize: number;
}

/** What an image keeps on disk: its layers, config, manifest and index. */
export function imageUnits(img: ImageRecord): string[] {
  return [...img.layers.map((l) => l.chainId), img.configDigest, img.manifestDigest, ...(img.indexDigest ? [img.indexDigest] : [])];
}

/**
 * The usage of the store described by `index`. `sizeOf` gives the bytes on disk of a layer (chain id) or a blob
 * (digest); `containers` the number of containers per image id.
 */
export function storeUsage(index: ImageIndexFile, sizeOf: (unit: string) => number, containers: Map<string, number>): StoreUsage {
  const images = Object.values(index.images).filter((i) => !i.intermediate);
  const holders = new Map<string, number>();
  for (const img of images) for (const u of new Set(imageUnits(img))) holders.set(u, (holders.get(u) ?? 0) + 1);
  const sum = (units: Iterable<string>) => [...units].reduce((n, u) => n + sizeOf(u), 0);
  const rows = images.map((img) => {
    const units = new Set(imageUnits(img));
    const size = sum(units);
    const sharedSize = sum([...units].filter((u) => holders.get(u)! > 1));
    return { id: img.id, size, sharedSize, uniqueSize: size - sharedSize, containers: containers.get(img.id) ?? 0 };
  });
  const used = new Set(images.filter((i) => (containers.get(i.id) ?? 0) > 0).flatMap(imageUnits));
  const cacheHolders = new Map<string, string[]>();
  const entries = Object.entries(index.buildCache ?? {});
  for (const [key, e] of entries) {
    for (const u of new Set([...e.layers.map((l) => l.chainId), e.config])) if (!holders.has(u)) cacheHolders.set(u, [...(cacheHolders.get(u) ?? []), key]);
  }
  // the intermediates hold what their entries hold: counted with the cache, never as images
  for (const img of Object.values(index.images).filter((i) => i.intermediate)) {
    for (const u of imageUnits(img)) if (!holders.has(u) && !cacheHolders.has(u)) cacheHolders.set(u, [img.id]);
  }
  const cache = entries.map(([key, e]) => {
    const own = [...new Set([...e.layers.map((l) => l.chainId), e.config])].filter((u) => cacheHolders.has(u));
    return { key, size: sum(own.filter((u) => cacheHolders.get(u)!.length === 1)), shared: own.some((u) => cacheHolders.get(u)!.length > 1), created: e.created };
  });
  return {
    images: rows,
    imagesSize: sum(holders.keys()),
    imagesReclaimable: sum([...holders.keys()].filter((u) => !used.has(u))),
    cache,
    cacheSize: sum(cacheHolders.keys()),
  };
}
