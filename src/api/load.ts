import type { Readable } from 'node:stream';
import type { Context } from '../context.js';
import { loadArchive, type LoadedImage } from '../image/archive/load.js';
import { ImageStore } from '../image/store/images.js';
import { sweepTmp } from '../storage/tmp.js';

export type { LoadedImage } from '../image/archive/load.js';
export { familiarTag } from './rmi.js';

export interface LoadOptions {
  input: Readable;
  /** the archive's name for messages: its path, or "stdin" */
  source: string;
}

/** docker load: the images of a docker-archive or OCI archive, every layer verified before any is stored. */
export async function loadImages(opts: LoadOptions, ctx: Context): Promise<LoadedImage[]> {
  // 1. what a killed load or pull left
  await sweepTmp(ctx.root);
  // 2. unpack, verify, import, record
  return loadArchive(new ImageStore(ctx.root), opts.input, opts.source, ctx);
}
