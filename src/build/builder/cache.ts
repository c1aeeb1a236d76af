/**
 * The build cache in the image store: `images.json`'s `buildCache` maps a step's key (cache-key.ts) to its result,
 * a config blob and the layers. Shared by every build and tag of the store; its configs and layers are GC roots
 * (rmi of a tag keeps them; `image prune -a` drops the cache). A hit is only taken when its blob and layers are
 * still there.
 */
import type { ImageConfig } from '../../image/manifest.js';
import { sha256Digest } from '../../image/digest.js';
import type { ImageStore } from '../../image/store/images.js';
import type { BuildState } from './types.js';

export async function cacheLookup(store: ImageStore, key: string): Promise<(BuildState & { id: string }) | undefined> {
  const entry = (await store.read()).buildCache?.[key];
  if (!entry || !store.blobs.has(entry.config) || !entry.layers.every((l) => store.layers.has(l.chainId))) return undefined;
  const config = JSON.parse((await store.blobs.get(entry.config)).toString('utf8')) as ImageConfig;
  return { id: entry.config, config, layers: entry.layers };
}

/** Stores a step's result (its config as a blob) under `key` → the config's digest (the step's image id). */
export async function cacheStore(store: ImageStore, key: string, state: BuildState): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(state.config));
  const id = sha256Digest(bytes);
  await store.blobs.put(id, bytes);
  await store.update((index) => {
    index.buildCache = { ...(index.buildCache ?? {}), [key]: { config: id, layers: [...state.layers] } };
  });
  return id;
}

/** The digest a state's config has as a blob: its image id. */
export function stateId(state: BuildState): string {
  return sha256Digest(Buffer.from(JSON.stringify(state.config)));
}
