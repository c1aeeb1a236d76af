import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { pruneContainers, type PruneContainersResult } from './container-prune.js';
import { pruneNetworks } from './network.js';
import { pruneVolumes, type PruneVolumesResult } from './volume.js';
import { pruneImages, type PruneResult } from './image-prune.js';
import { pruneBuildCache, type BuilderPruneResult } from './builder-prune.js';
import { PRUNE_FILTERS, parseFilters } from './prune-filters.js';

export interface SystemPruneOptions {
  /** every unused image (not only dangling ones), all build cache, and with `volumes` every unused volume */
  all?: boolean;
  /** volumes too: anonymous ones, every unused one with `all` */
  volumes?: boolean;
  /** until=, label=, label!=: passed to each prune */
  filters?: string[];
}

export interface SystemPruneResult {
  containers: PruneContainersResult;
  networks: string[];
  volumes?: PruneVolumesResult;
  images: PruneResult;
  buildCache: BuilderPruneResult;
  /** bytes, every part's reclaimed space summed */
  reclaimed: number;
}

/**
 * `system prune`: docker's pruners in docker's order, each keeping what any container (running or stopped)
 * uses: stopped containers first (so what only they used becomes unused), then networks, volumes, images and the
 * build cache.
 */
export async function pruneSystem(options: SystemPruneOptions, ctx: Context): Promise<SystemPruneResult> {
  const parsed = parseFilters(options.filters ?? [], PRUNE_FILTERS);
  if (options.volumes && parsed.has('until')) throw new UsageError('the "until" filter is not supported with "--volumes"');
  const filters = options.filters ?? [];
  const containers = await pruneContainers({ filters }, ctx);
  const networks = await pruneNetworks(ctx, { filters });
  const volumes = options.volumes ? await pruneVolumes({ all: options.all, filters }, ctx) : undefined;
  const images = await pruneImages({ all: options.all, filters }, ctx);
  const buildCache = await pruneBuildCache({ all: options.all, filters }, ctx);
  const reclaimed = containers.reclaimed + (volumes?.reclaimed ?? 0) + images.reclaimed + buildCache.reclaimed;
  return { containers, networks, volumes, images, buildCache, reclaimed };
}
