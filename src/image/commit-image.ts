/**
 * commit's image work: a layer tar (the container's changes) into the layer store, keyed by its chain id on top
 * of the parent's layers; the new config, manifest and index entry. The caller holds `layers.lock` shared from
 * the layer's import until the image is recorded, so GC cannot take the layer in between.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { withLock } from '../state/lock.js';
import { unpackLayer } from '../storage/unpack.js';
import { removeTree } from '../storage/tmp.js';
import { TAR_LAYOUT_FILE } from '../storage/tar-layout.js';
import { MediaType, chainIds, type ImageConfig } from './manifest.js';
import { sha256Digest } from './digest.js';
import { unpackOptionsFor } from './unpack-mode.js';
import { detachTag, type ImageStore } from './store/images.js';
import type { ImageRecord, LayerRef } from './store/types.js';

/** The layer of an uncompressed tar (its diff id and size known) over `parents`, unpacked unless already stored. */
export async function importLayerTar(store: ImageStore, tar: { path: string; diffId: string; size: number }, parents: LayerRef[], ctx: Context): Promise<LayerRef> {
  const { diffId } = tar;
  const chains = chainIds([...parents.map((l) => l.diffId), diffId]);
  const chainId = chains[chains.length - 1]!;
  const size = await withLock(store.lockPath('layers'), 'shared', async () => {
    if (store.layers.has(chainId)) return (await store.layers.meta(chainId))?.size ?? 0;
    const { work, diff } = await store.layers.prepare();
    try {
      const stats = await unpackLayer(fs.createReadStream(tar.path), diff, { ...unpackOptionsFor(ctx), layoutFile: path.join(work, TAR_LAYOUT_FILE) });
      // the uncompressed tar is the layer's blob (digest = diff id), kept for push
      await fs.promises.copyFile(tar.path, path.join(work, 'blob'));
      await store.layers.commit(work, {
        chainId,
        diffId,
        parent: chains.length > 1 ? chains[chains.length - 2] : undefined,
        size: stats.bytes,
        digest: diffId,
        mediaType: MediaType.ociLayer,
        createdAt: new Date().toISOString(),
        opaqueDirs: stats.opaqueDirs.map((d) => (d === '.' ? '' : d.replace(/^\.?\/+|\/+$/g, ''))),
      });
      return stats.bytes;
    } catch (err) {
      await removeTree(work).catch(() => {});
      throw err;
    }
  });
  return { chainId, diffId, digest: diffId, mediaType: MediaType.ociLayer, compressedSize: tar.size, size };
}

/**
 * Config and manifest blobs, then the index entry (tagged `tag`, each taken from any other image); → the image
 * id. `configBytes`, when given, are the config exactly as an archive held it (the id is their digest);
 * `intermediate`: a build's step image, hidden from `images` until something asks for it by name.
 */
export async function recordImage(store: ImageStore, config: ImageConfig, layers: LayerRef[], tag: string | string[] | undefined, opts: { configBytes?: Buffer; intermediate?: boolean } = {}): Promise<string> {
  const tags = tag === undefined ? [] : typeof tag === 'string' ? [tag] : tag;
  const configBytes = opts.configBytes ?? Buffer.from(JSON.stringify(config));
  const id = sha256Digest(configBytes);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: id, size: configBytes.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.compressedSize })),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = sha256Digest(manifestBytes);
  await store.blobs.put(id, configBytes);
  await store.blobs.put(manifestDigest, manifestBytes);
  await store.update((index) => {
    for (const t of tags) detachTag(index, t);
    const record: ImageRecord = index.images[id] ?? {
      id,
      repoTags: [],
      repoDigests: [],
      manifestDigest,
      manifestMediaType: MediaType.ociManifest,
      configDigest: id,
      layers,
      size: layers.reduce((a, l) => a + l.size, 0),
      created: config.created ?? new Date().toISOString(),
      architecture: config.architecture,
      os: config.os,
      variant: config.variant,
      storedAt: config.created ?? new Date().toISOString(),
    };
    for (const t of tags) if (!record.repoTags.includes(t)) record.repoTags.push(t);
    // a build's intermediate stays hidden only while nothing asked for it by name
    if (opts.intermediate && index.images[id] === undefined) record.intermediate = true;
    else if (!opts.intermediate) delete record.intermediate;
    index.images[id] = record;
  });
  return id;
}
