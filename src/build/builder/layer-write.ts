/**
 * A COPY/ADD (or WORKDIR) layer built directly, no container: the items as an uncompressed tar in the store's
 * tmp dir (sorted, numeric owners, hashed as written: the diff id), then imported into the layer store on top of
 * the stage's layers (commit's import: unpacked, keyed by chain id).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Context } from '../../context.js';
import { cleanupFailed } from '../../errors.js';
import { importLayerTar } from '../../image/commit-image.js';
import { DigestVerifier } from '../../image/digest.js';
import type { ImageStore } from '../../image/store/images.js';
import type { LayerRef } from '../../image/store/types.js';
import { TarWriter } from '../../storage/tarwriter.js';
import { makeTmpDir, removeTree } from '../../storage/tmp.js';
import type { CopyItem } from './copy-items.js';

export async function writeItemsTar(items: readonly CopyItem[], tarPath: string): Promise<{ diffId: string; size: number }> {
  // hashed as written: the diff id
  const hashed = new DigestVerifier({ what: tarPath });
  const done = pipeline(hashed, fs.createWriteStream(tarPath));
  const tar = new TarWriter(hashed);
  for (const i of items) {
    const name = i.dest.replace(/^\/+/, '');
    await tar.add({ name, type: i.type, mode: i.mode, uid: i.uid, gid: i.gid, mtime: i.mtime, size: i.size, ...(i.linkname !== undefined ? { linkname: i.linkname } : {}) }, i.type === 'file' ? i.body : undefined);
  }
  await tar.finish();
  hashed.end();
  await done;
  return { diffId: hashed.digest, size: fs.statSync(tarPath).size };
}

export async function itemsLayer(store: ImageStore, items: readonly CopyItem[], parents: readonly LayerRef[], ctx: Context): Promise<LayerRef> {
  const work = await makeTmpDir(ctx.root, 'build');
  try {
    const tarPath = path.join(work, 'layer.tar');
    const tar = await writeItemsTar(items, tarPath);
    return await importLayerTar(store, { path: tarPath, ...tar }, [...parents], ctx);
  } finally {
    await removeTree(work).catch(cleanupFailed(ctx, `remove ${work}`));
  }
}
