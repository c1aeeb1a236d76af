/**
 * The build cache in the image store: `images.json`'s `buildCache` maps a step's key (cache-key.ts) to its result,
 * a config blob and the layers. Shared by every build and tag of the store; its configs and layers are GC roots
 * (rmi of a tag keeps them; `builder prune` drops entries, `image prune -a` the dangling ones). A hit is only taken when its blob and layers are
 * still there.
 */
import type { ImageConfig } from '../../image/manifest.js';
import { sha256Digest } from '../../image/digest.js';
import type { ImageStore } from '../../image/store/images.js';
import type { BuildCacheEntry, ImageIndexFile } from '../../image/store/types.js';
import type { BuildState } from './types.js';

/**
 * One build's view of the cache. The entries are read from images.json once, at the first lookup; what the build
 * stores joins them at once and reaches images.json in one update when the build ends (`flush`, also after a
 * failure), not one rewrite and fsync per step. Both are safe because the build holds layers.lock shared
 * throughout: a GC (`builder prune`, `image prune`: the only removers of entries, under layers.lock exclusive)
 * cannot run, so the snapshot stays true and the layers of steps not yet written stay in the store (a step that
 * another build stores meanwhile is made again here, with the same key and content). A build killed before its
 * flush leaves its layers unreferenced, for GC.
 */
export class BuildCache {
  private entries?: Record<string, BuildCacheEntry>;
  private readonly pending: Record<string, BuildCacheEntry> = {};

  constructor(private readonly store: ImageStore) {}

  async lookup(key: string): Promise<(BuildState & { id: string }) | undefined> {
    const { store } = this;
    this.entries ??= { ...((await store.read()).buildCache ?? {}), ...this.pending };
    const entry = this.entries[key];
    if (!entry || !store.blobs.has(entry.config) || !entry.layers.every((l) => store.layers.has(l.chainId))) return undefined;
    const config = JSON.parse((await store.blobs.get(entry.config)).toString('utf8')) as ImageConfig;
    return { id: entry.config, config, layers: entry.layers };
  }

  /** Stores a step's result (its config as a blob) under `key` → the config's digest (the step's image id). */
  async save(key: string, state: BuildState): Promise<string> {
    const bytes = Buffer.from(JSON.stringify(state.config));
    const id = sha256Digest(bytes);
    await this.store.blobs.put(id, bytes);
    const entry: BuildCacheEntry = { config: id, layers: [...state.layers], created: new Date().toISOString() };
    this.pending[key] = entry;
    if (this.entries) this.entries[key] = entry;
    return id;
  }

  /** What the build stored, written to images.json in one update. */
  async flush(): Promise<void> {
    const keys = Object.keys(this.pending);
    if (!keys.length) return;
    const entries = { ...this.pending };
    await this.store.update((index) => {
      index.buildCache = { ...(index.buildCache ?? {}), ...entries };
    });
    for (const k of keys) delete this.pending[k];
  }
}

/** The digest a state's config has as a blob: its image id. */
export function stateId(state: BuildState): string {
  return sha256Digest(Buffer.from(JSON.stringify(state.config)));
}

/**
 * A prune of the cache, on the index in place → the keys dropped. Without `all` only dangling entries go: those
 * holding a layer that no image holds (the build's intermediates aside), so keeping them costs disk. `matches`
 * is the prune's filters (until=: the entry's creation). With `keep` (bytes, `--keep-storage`), candidates go
 * oldest first, and only while the layers held by the cache alone weigh more than that (`layerSize`: unpacked).
 */
export function pruneCacheEntries(index: ImageIndexFile, opts: { all: boolean; matches: (entry: BuildCacheEntry) => boolean; keep?: number; layerSize?: (chainId: string) => number }): string[] {
  const imageLayers = new Set<string>();
  for (const img of Object.values(index.images)) if (!img.intermediate) for (const l of img.layers) imageLayers.add(l.chainId);
  const cache = index.buildCache ?? {};
  const candidates = Object.entries(cache)
    .filter(([, e]) => (opts.all || !e.layers.every((l) => imageLayers.has(l.chainId))) && opts.matches(e))
    .sort(([, a], [, b]) => (a.created ?? '').localeCompare(b.created ?? ''));
  const cacheOnly = () => {
    const held = new Set(Object.values(cache).flatMap((e) => e.layers.map((l) => l.chainId)).filter((c) => !imageLayers.has(c)));
    return [...held].reduce((n, c) => n + (opts.layerSize?.(c) ?? 0), 0);
  };
  const dropped: string[] = [];
  for (const [key] of candidates) {
    if (opts.keep !== undefined && cacheOnly() <= opts.keep) break;
    delete cache[key];
    dropped.push(key);
  }
  if (index.buildCache && Object.keys(index.buildCache).length === 0) delete index.buildCache;
  return dropped;
}

/**
 * The build's intermediate images (untagged, made to run a RUN in) that no container uses and no cache entry
 * names any more: removed from the index in place → their ids.
 */
export function dropOrphanIntermediates(index: ImageIndexFile, inUse: (id: string) => boolean): string[] {
  const named = new Set(Object.values(index.buildCache ?? {}).map((e) => e.config));
  const dropped: string[] = [];
  for (const img of Object.values(index.images)) {
    if (!img.intermediate || img.repoTags.length || named.has(img.id) || inUse(img.id)) continue;
    delete index.images[img.id];
    dropped.push(img.id);
  }
  return dropped;
}
