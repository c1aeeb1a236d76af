import type { Context } from '../context.js';
import { TsdockError, cleanupFailed } from '../errors.js';
import { withLock } from '../state/lock.js';
import { ImageStore } from '../image/store/images.js';
import { loadConfig } from './image-inspect.js';
import { parseLogSize } from './start.js';
import { findOrPullImage, type PullPolicy } from '../image/find-or-pull.js';
import { createContainerDirs, removeContainerDirs, type ContainerPaths } from '../container/store.js';
import { prepareContainer, removeAnonymousVolumes, type ContainerRequest, type PreparedContainer } from '../container/prepare.js';
import { buildRecord } from '../container/record-build.js';
import { recordCreated } from '../container/lifecycle-files.js';
import type { ImageRecord } from '../image/store/types.js';
import type { ImageConfig } from '../image/manifest.js';
import type { ContainerRecord } from '../container/record.js';

/** the request's types, for the CLI's flags (it imports api only) */
export type { ContainerRequest } from '../container/prepare.js';
export type { HealthFlags } from '../container/health.js';

export interface CreateOptions extends ContainerRequest {
  image: string;
  name?: string;
  rm?: boolean;
  platform?: string;
  pull: PullPolicy;
  tlsVerify?: boolean;
  /** `--label k=v` */
  labels?: Record<string, string>;
  /** `--restart no|on-failure[:N]|always|unless-stopped` */
  restart?: string;
  /** `--log-opt k=v` (max-size) */
  logOpts?: Record<string, string>;
}

export interface Created {
  store: ImageStore;
  image: ImageRecord;
  config: ImageConfig;
  paths: ContainerPaths;
  prepared: PreparedContainer;
  record: ContainerRecord;
}

const RESTART = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;

/**
 * `tsdock create`: everything up to a startable container on disk: the directory, the spec (config.json),
 * volumes, generated /etc files, container.json and state.json. A failure removes what it made.
 */
export async function createContainer(opts: CreateOptions, ctx: Context, extra: { consolePath?: string } = {}): Promise<Created> {
  if (opts.restart && !RESTART.test(opts.restart)) throw new TsdockError(`invalid restart policy format: ${opts.restart}`, { exitCode: 125 });
  parseLogSize(opts.logOpts?.['max-size']); // refused before anything is made
  if (opts.restart && opts.restart !== 'no' && opts.rm) throw new TsdockError('conflicting options: cannot specify both --restart and --rm', { exitCode: 125 });
  const store = new ImageStore(ctx.root);
  // the image is found (or pulled) and pinned by the new directory under layers.lock shared: rmi and image prune
  // decide and collect under it exclusive, so they see this container, or this create sees the image gone
  const { image, paths } = await withLock(store.lockPath('layers'), 'shared', async () => {
    const found = await findOrPullImage(store, { reference: opts.image, policy: opts.pull, platform: opts.platform, tlsVerify: opts.tlsVerify }, ctx);
    return { image: found, paths: await createContainerDirs(ctx.root, opts.name, found.id) };
  });
  let anonymous: string[] = [];
  try {
    const config = await loadConfig(store, image);
    const prepared = await prepareContainer({ store, image, config, paths, request: opts, ctx, imageName: opts.image, consolePath: extra.consolePath });
    anonymous = prepared.anonymousVolumes;
    const record = buildRecord({ paths, imageId: image.id, imageName: opts.image, config, spec: prepared.spec, prepared, request: opts });
    await recordCreated(paths, record);
    return { store, image, config, paths, prepared, record };
  } catch (err) {
    // a cleanup failure never hides why the create failed
    await removeContainerDirs(ctx.root, paths).catch(cleanupFailed(ctx, `remove the half-created container ${paths.id}`));
    await removeAnonymousVolumes(ctx.root, anonymous).catch(cleanupFailed(ctx, `remove the anonymous volumes of ${paths.id}`));
    throw err;
  }
}
