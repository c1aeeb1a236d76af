import type { Context } from '../context.js';
import { ImageStore } from '../image/store/images.js';
import type { ImageRecord } from '../image/store/types.js';
import { storeUsage, type CacheUsage, type ImageUsage } from '../image/store/usage.js';
import { imageUsers } from '../container/image-pins.js';
import { containerDir } from '../container/state.js';
import { isActive } from '../container/status.js';
import { diskUsage } from '../storage/tree-size.js';
import { VolumeStore } from '../volume/store.js';
import { listContainers, type ContainerSummary } from './ps.js';
import { listVolumes, volumeUsers } from './volume.js';

export interface UsageTotals {
  totalCount: number;
  active: number;
  /** bytes */
  size: number;
  reclaimable: number;
}

export interface SystemDf {
  images: UsageTotals & { items: Array<ImageUsage & { record: ImageRecord }> };
  /** SizeRw is the container directory's footprint (its upper dir, logs and state) */
  containers: UsageTotals & { items: ContainerSummary[] };
  volumes: UsageTotals & { items: Array<{ name: string; links: number; size: number }> };
  buildCache: UsageTotals & { items: CacheUsage[] };
}

/**
 * `system df`: what the store holds on disk, as `du -sbx` counts it (storage/tree-size.ts diskUsage): images
 * and the build cache with shared layers and blobs counted once (image/store/usage.ts), each container's
 * directory, each volume's. Active: images a container uses, running containers, volumes a container mounts.
 */
export async function systemDf(ctx: Context): Promise<SystemDf> {
  const store = new ImageStore(ctx.root);
  const index = await store.read();
  const users = imageUsers(ctx.root);
  const sizes = new Map<string, number>();
  const sizeOf = (unit: string) => {
    let n = sizes.get(unit);
    if (n === undefined) sizes.set(unit, (n = diskUsage(store.layers.has(unit) ? store.layers.dirOf(unit) : store.blobs.pathOf(unit))));
    return n;
  };
  const usage = storeUsage(index, sizeOf, new Map([...users].map(([id, list]) => [id, list.length])));

  const containers = await listContainers({ all: true }, ctx);
  for (const c of containers) c.SizeRw = diskUsage(containerDir(ctx.root, c.Id));
  const inUse = volumeUsers(ctx);
  const volumeStore = new VolumeStore(ctx.root);
  const volumes = await Promise.all((await listVolumes({ inUse }, ctx)).map(async (v) => ({ name: v.Name, links: (await inUse(v.Name)).length, size: diskUsage(volumeStore.dirOf(v.Name)) })));

  const sumOf = <T>(items: T[], size: (t: T) => number) => items.reduce((n, t) => n + size(t), 0);
  const byRecord = usage.images.map((u) => ({ ...u, record: index.images[u.id]! }));
  return {
    images: { items: byRecord, totalCount: byRecord.length, active: byRecord.filter((i) => i.containers > 0).length, size: usage.imagesSize, reclaimable: usage.imagesReclaimable },
    containers: {
      items: containers,
      totalCount: containers.length,
      active: containers.filter((c) => isActive(c.State)).length,
      size: sumOf(containers, (c) => c.SizeRw ?? 0),
      reclaimable: sumOf(containers.filter((c) => !isActive(c.State)), (c) => c.SizeRw ?? 0),
    },
    volumes: { items: volumes, totalCount: volumes.length, active: volumes.filter((v) => v.links > 0).length, size: sumOf(volumes, (v) => v.size), reclaimable: sumOf(volumes.filter((v) => v.links === 0), (v) => v.size) },
    buildCache: { items: usage.cache, totalCount: usage.cache.length, active: 0, size: usage.cacheSize, reclaimable: usage.cacheSize },
  };
}
