import type { Context } from '../context.js';
import { ImageStore, detachTag, findImage } from '../image/store/images.js';
import { formatReference, parseReference } from '../image/reference.js';
import { NotFoundError, UsageError } from '../errors.js';

export interface TagOptions {
  source: string;
  target: string;
}

/** `tsdock tag SOURCE TARGET`: TARGET (default tag latest) now names SOURCE's image. */
export async function tagImage(options: TagOptions, ctx: Context): Promise<void> {
  const target = parseReference(options.target);
  if (target.digest) throw new UsageError(`refusing to create a tag with a digest reference: ${options.target}`);
  const full = formatReference({ ...target, tag: target.tag ?? 'latest' });
  await new ImageStore(ctx.root).update((index) => {
    const img = findImage(index, options.source);
    if (!img) throw new NotFoundError(`No such image: ${options.source}`);
    detachTag(index, full);
    img.repoTags.push(full);
  });
}
