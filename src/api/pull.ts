import type { Context } from '../context.js';
import { pullImage, type PullOptions, type PullResult } from '../image/pull.js';

export type { PullOptions, PullResult };

/** `tsdock pull`: fetch an image (and whatever layers are missing) into the local store. */
export async function pull(options: PullOptions, ctx: Context): Promise<PullResult> {
  return pullImage(options, ctx);
}
