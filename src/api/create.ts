import type { Context } from '../context.js';
import { cleanupFailed } from '../errors.js';
import { withLock } from '../state/lock.js';
import { ImageStore } from '../image/store/images.js';
import { loadConfig } from './image-inspect.js';
import { parseLogSize } from './start.js';
import { findOrPullImage, type PullPolicy } from '../image/find-or-pull.js';
import { createContainerDirs, removeContainerDirs, type ContainerPaths } from '../container/store.js';
import { prepareContainer, removeAnonymousVolumes, type PreparedContainer } from '../container/prepare.js';
import { validateRequest, type CreateRequest } from '../container/request.js';
import { checkNetworks, defaultNetwork } from '../container/network.js';
import { buildRecord } from '../container/record-build.js';
import { recordCreated } from '../container/lifecycle-files.js';
import type { ImageRecord } from '../image/store/types.js';
import type { ImageConfig } from '../image/manifest.js';
import type { ContainerRecord } from '../container/record.js';

/** the request's types, for the CLI's flags (it imports api only) */
export type { CreateRequest, ContainerConfig, HostConfig, NetworkingConfig, Mount, RestartPolicy, Ulimit, LogConfig, Resources, UpdateConfig, PortBinding, EndpointSettings } from '../container/request.js';

/** `create`'s request body, with what the Engine API passes beside it (query parameters) and the client's pull */
export interface CreateOptions {
  request: CreateRequest;
  /** `--name` (docker's `?name=`) */
  name?: string;
  /** `--platform` (docker's `?platform=`) */
  platform?: string;
  pull: PullPolicy;
  tlsVerify?: boolean;
  /** the container's writes need not survive a crash (a build step; `--rm` implies it): see ContainerRecord.Volatile */
  volatile?: boolean;
}

export interface Created {
  store: ImageStore;
  image: ImageRecord;
  config: ImageConfig;
  paths: ContainerPaths;
  prepared: PreparedContainer;
  record: ContainerRecord;
}

/**
 * `tsdock create`: everything up to a startable container on disk: the directory, the spec (config.json),
 * volumes, generated /etc files, container.json and state.json. A failure removes what it made.
 */
export async function createContainer(opts: CreateOptions, ctx: Context, extra: { consolePath?: string } = {}): Promise<Created> {
  const body = defaultNetwork(opts.request, ctx);
  // refused before anything is made
  validateRequest(body);
  await checkNetworks(body, ctx);
  parseLogSize(body.HostConfig.LogConfig?.Config?.['max-size']);
  const store = new ImageStore(ctx.root);
  // the image is found (or pulled) and pinned by the new directory under layers.lock shared: rmi and image prune
  // decide and collect under it exclusive, so they see this container, or this create sees the image gone
  const { image, paths } = await withLock(store.lockPath('layers'), 'shared', async () => {
    const found = await findOrPullImage(store, { reference: body.Image, policy: opts.pull, platform: opts.platform, tlsVerify: opts.tlsVerify }, ctx);
    return { image: found, paths: await createContainerDirs(ctx.root, opts.name, found.id) };
  });
  const volatile = Boolean(opts.volatile || body.HostConfig.AutoRemove);
  let anonymous: string[] = [];
  try {
    const config = await loadConfig(store, image);
    const prepared = await prepareContainer({ store, image, config, paths, request: body, ctx, imageName: body.Image, consolePath: extra.consolePath, volatile });
    anonymous = prepared.anonymousVolumes;
    const record = buildRecord({ paths, imageId: image.id, imageName: body.Image, config, spec: prepared.spec, prepared, request: body, volatile });
    await recordCreated(paths, record);
    return { store, image, config, paths, prepared, record };
  } catch (err) {
    // a cleanup failure never hides why the create failed
    await removeContainerDirs(ctx.root, paths).catch(cleanupFailed(ctx, `remove the half-created container ${paths.id}`));
    await removeAnonymousVolumes(ctx.root, anonymous).catch(cleanupFailed(ctx, `remove the anonymous volumes of ${paths.id}`));
    throw err;
  }
}
