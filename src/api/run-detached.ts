import { cleanupFailed } from '../errors.js';
import type { Context } from '../context.js';
import { createContainer, type CreateOptions } from './create.js';
import { startContainer } from './start.js';
import { removeContainer } from './rm.js';

/** `run -d`: create, then start under a monitor; the full id once the container runs (or the error). */
export async function runDetached(opts: CreateOptions, ctx: Context): Promise<string> {
  const { paths } = await createContainer(opts, ctx);
  try {
    await startContainer(paths.id, ctx);
  } catch (err) {
    // docker keeps a container that failed to start (state "created"); with --rm it is removed
    if (opts.request.HostConfig.AutoRemove) await removeContainer(paths.id, { force: true, volumes: true }, ctx).catch(cleanupFailed(ctx, `remove ${paths.id} (--rm)`));
    throw err;
  }
  return paths.id;
}
