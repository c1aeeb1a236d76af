import type { Context } from '../context.js';
import { NotFoundError } from '../errors.js';
import type { ImageStore } from './store/images.js';
import type { ImageRecord } from './store/types.js';

export type PullPolicy = 'always' | 'missing' | 'never';

/** docker run's --pull: use the local image, pull it when missing (saying so through ctx.notice), or always pull. */
export async function findOrPullImage(
  store: ImageStore,
  opts: { reference: string; policy: PullPolicy; platform?: string; tlsVerify?: boolean },
  ctx: Context,
): Promise<ImageRecord> {
  if (opts.policy !== 'always') {
    try {
      return await store.resolve(opts.reference);
    } catch (err) {
      if (!(err instanceof NotFoundError) || opts.policy === 'never') throw err;
    }
    ctx.notice?.(`Unable to find image '${opts.reference}' locally`);
  }
  // the registry client is only loaded when a pull is needed: `run` of a local image starts faster
  const { pullImage } = await import('./pull.js');
  const result = await pullImage({ reference: opts.reference, platform: opts.platform, tlsVerify: opts.tlsVerify }, ctx);
  return result.image;
}
