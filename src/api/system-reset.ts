import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { TsdockError } from '../errors.js';
import { listContainerIds } from '../container/state.js';
import { collectHookGarbage } from '../container/hooks.js';
import { ImageStore } from '../image/store/images.js';
import { withLock } from '../state/lock.js';
import { VolumeStore } from '../volume/store.js';
import { removeTree } from '../storage/tmp.js';
import { removeContainer } from './rm.js';
import { removeAllNetworks } from './network.js';
import { collectLayersLocked } from './rmi.js';

export interface SystemResetResult {
  containers: string[];
  networks: string[];
  volumes: string[];
  images: string[];
}

/**
 * `system reset`: everything of this store, each through its own removal path so host resources go with it
 * (a container's `rm -f`: its processes, veths, leases, nft rules and cgroup; a network's bridge), then the
 * store's directories. Refused while anything is still mounted below the root: files under a live mount are
 * never deleted.
 */
export async function resetSystem(ctx: Context): Promise<SystemResetResult> {
  const result: SystemResetResult = { containers: [], networks: [], volumes: [], images: [] };
  for (const id of listContainerIds(ctx.root)) {
    await removeContainer(id, { force: true }, ctx);
    result.containers.push(id);
  }
  await collectHookGarbage(new Set(listContainerIds(ctx.root)), ctx);
  result.networks = await removeAllNetworks(ctx);
  const volumes = new VolumeStore(ctx.root);
  for (const v of await volumes.listVolumes()) {
    await volumes.removeVolume(v.Name, { force: true, inUse: () => [] });
    result.volumes.push(v.Name);
  }
  const images = new ImageStore(ctx.root);
  await withLock(images.lockPath('layers'), 'exclusive', async () => {
    await images.update((index) => {
      result.images.push(...Object.keys(index.images));
      index.images = {};
      delete index.buildCache;
    });
    await collectLayersLocked(images);
  });
  const mounted = mountsBelow(ctx.root);
  if (mounted.length) throw new TsdockError(`system reset: ${mounted[0]} is still mounted; nothing under it was removed`);
  for (const name of fs.readdirSync(ctx.root)) await removeTree(path.join(ctx.root, name));
  return result;
}

/** Mount points at or below `root` in this mount namespace (/proc/self/mountinfo, octal escapes decoded). */
function mountsBelow(root: string): string[] {
  const real = fs.realpathSync(root);
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => Boolean(p))
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p.startsWith(`${real}/`));
}
