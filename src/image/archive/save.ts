/**
 * save's image work: the images' blobs staged in a private directory of the store's tmp/ (layer tars rebuilt
 * from their recorded layouts and checked against their diff_ids, configs copied byte for byte, new OCI
 * manifests), then the directory streamed out as one tar (node-tar). As moby's tarexport, nothing reaches the
 * output before every layer has been checked.
 */
import { imageEvent } from '../events.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TsdockError, cleanupFailed } from '../../errors.js';
import type { Context } from '../../context.js';
import { makeTmpDir, removeTree } from '../../storage/tmp.js';
import { rebuildLayerTar } from '../../storage/tar-layout.js';
import { DigestVerifier, sha256Digest } from '../digest.js';
import { MediaType, type Descriptor } from '../manifest.js';
import type { ImageStore } from '../store/images.js';
import type { ImageRecord } from '../store/types.js';
import { nodeTar } from './node-tar.js';
import { OCI_LAYOUT, blobPath, dockerManifestJson, ociIndexJson, repositoriesJson, savedManifest, type SavedImage } from './format.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

export interface SaveItem {
  image: ImageRecord;
  /** full references to name it by in the archive */
  tags: string[];
}

export async function saveArchive(store: ImageStore, items: SaveItem[], format: ArchiveFormat, out: Writable, ctx: Context): Promise<void> {
  const stage = await makeTmpDir(store.root, 'save');
  try {
    const saved: SavedImage[] = [];
    const manifests: Descriptor[] = [];
    for (const item of items) {
      const img = await stageImage(store, item, stage, ctx);
      saved.push(img);
      manifests.push(await writeBlob(stage, MediaType.ociManifest, Buffer.from(JSON.stringify(savedManifest(img)))));
    }
    const files: Array<[string, string]> = [
      ['index.json', JSON.stringify(ociIndexJson(saved, manifests))],
      ['oci-layout', OCI_LAYOUT],
    ];
    if (format === 'docker-archive') files.push(['manifest.json', JSON.stringify(dockerManifestJson(saved))], ['repositories', JSON.stringify(repositoriesJson(saved))]);
    for (const [name, text] of files) await fs.promises.writeFile(path.join(stage, name), text, { mode: 0o644 });
    await packDir(stage, ['blobs', ...files.map(([n]) => n).sort()], out);
    for (const img of items) imageEvent(store.root, 'save', img.image.id, img.tags[0] ?? img.image.id);
  } finally {
    await removeTree(stage).catch(cleanupFailed(ctx, `remove ${stage}`));
  }
}

async function stageImage(store: ImageStore, item: SaveItem, stage: string, ctx: Context): Promise<SavedImage> {
  const { image } = item;
  const config = await writeBlob(stage, MediaType.ociConfig, await store.blobs.get(image.configDigest));
  const layers: Descriptor[] = [];
  for (const layer of image.layers) {
    ctx.signal?.throwIfAborted();
    const file = path.join(stage, blobPath(layer.diffId));
    const size = fs.existsSync(file) ? fs.statSync(file).size : await stageLayer(store, layer.chainId, layer.diffId, file, ctx);
    layers.push({ mediaType: MediaType.ociLayer, digest: layer.diffId, size });
  }
  return { config, layers, tags: item.tags };
}

/** The layer's tar rebuilt into `file`, hashed as it is written; refused unless it is its diff_id. */
async function stageLayer(store: ImageStore, chainId: string, diffId: string, file: string, ctx: Context): Promise<number> {
  const layout = store.layers.layoutFile(chainId);
  if (!fs.existsSync(layout)) {
    throw new TsdockError(`layer ${diffId} was stored before tsdock kept layer tar layouts: remove the image and pull or load it again to save it`);
  }
  const partial = `${file}.partial`;
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const verify = new DigestVerifier({ what: `layer ${diffId} rebuilt from the layer store`, expected: diffId });
  const tar = rebuildLayerTar(store.layers.diffDir(chainId), layout);
  await pipeline(tar, verify, fs.createWriteStream(partial, { mode: 0o644 }), ctx.signal ? { signal: ctx.signal } : {});
  await fs.promises.rename(partial, file);
  return verify.bytes;
}

async function writeBlob(stage: string, mediaType: string, bytes: Buffer): Promise<Descriptor> {
  const digest = sha256Digest(bytes);
  const file = path.join(stage, blobPath(digest));
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, bytes, { mode: 0o644 });
  return { mediaType, digest, size: bytes.length };
}

/** `entries` of `dir` as one tar stream into `out` (left open: it may be the CLI's stdout). */
async function packDir(dir: string, entries: string[], out: Writable): Promise<void> {
  const tar = nodeTar();
  // 1 MiB reads (node-tar's default is up to 16 MiB a read)
  const pack = tar.c({ cwd: dir, portable: true, mtime: new Date(0), maxReadSize: 1 << 20 }, entries);
  await pipeline(pack as unknown as NodeJS.ReadableStream, out, { end: false });
}
