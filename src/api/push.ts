import type { Context } from '../context.js';
import { pushImage, type PushOptions, type PushResult } from '../image/push.js';
import { parsePushFormat, type PushFormat } from '../image/manifest-convert.js';
import { formatReference } from '../image/reference.js';

export type { PushOptions, PushResult, PushFormat };
export { parsePushFormat };

/** `tsdock push`: send a local image's blobs and manifest to a registry. */
export async function push(options: PushOptions, ctx: Context): Promise<PushResult> {
  return pushImage(options, ctx);
}

/** docker's last line of a push names the tag (or the digest pushed to) as the user knows it. */
export function pushedName(result: PushResult): string {
  const ref = result.reference;
  return ref.digest ?? ref.tag ?? 'latest';
}

/** `push -q`'s one line: the full reference pushed to. */
export function pushedReference(result: PushResult): string {
  return formatReference(result.reference);
}
