import type { Context } from '../context.js';
import { pullImage, type PullOptions, type PullResult } from '../image/pull.js';
import { formatReference } from '../image/reference.js';
import { familiarTag } from './rmi.js';

export type { PullOptions, PullResult };

/** `tsdock pull`: fetch an image (and whatever layers are missing) into the local store. */
export async function pull(options: PullOptions, ctx: Context): Promise<PullResult> {
  return pullImage(options, ctx);
}

/** How docker pull names what it pulled: the full reference, and the short form of its `Status:` line. */
export function pulledNames(result: PullResult): { full: string; shown: string } {
  const full = formatReference(result.reference);
  return { full, shown: result.reference.digest ? full : familiarTag(full) };
}
