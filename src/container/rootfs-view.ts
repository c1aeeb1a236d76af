import path from 'node:path';
import { NotFoundError, TsdockError } from '../errors.js';
import { readJsonSync } from '../state/atomic.js';
import { ImageStore } from '../image/store/images.js';
import type { ImageRecord } from '../image/store/types.js';
import { layerDirs } from '../image/layer-dirs.js';
import { loadRecord } from './state.js';
import { resolveContainer } from './lookup.js';
import type { ContainerRecord } from './record.js';

/**
 * A container's file system as files, without mounting anything: its upper directory (overlay: the
 * container's writes, whiteouts as 0/0 character devices, opaque directories marked with xattrs; vfs: a whole
 * private copy) on top of its image's layers. Walked by directory fds only (changes.ts): the container may
 * change its upper directory while we read it. `cp` does not use this view: it goes through the container's
 * own root (root-access.ts), volumes and binds included.
 */
export interface ContainerView {
  id: string;
  record: ContainerRecord;
  upper: string;
  driver: 'overlay' | 'vfs';
  /** the image's layer diff directories, top first (empty for vfs: upper holds everything) */
  imageLayers: string[];
  /** what a reader sees: upper first */
  layers: string[];
  image?: ImageRecord;
  /** mount destinations of the spec: targets created for bind mounts, not the container's own changes */
  mountTargets: Set<string>;
}

export async function openContainerView(root: string, ref: string): Promise<ContainerView> {
  const id = resolveContainer(root, ref);
  const record = loadRecord(root, id);
  if (!record) throw new NotFoundError(`No such container: ${ref}`);
  const dir = path.join(root, 'containers', id);
  const upper = path.join(dir, 'upper');
  const driver = record.Driver === 'vfs' ? 'vfs' : 'overlay';
  const store = new ImageStore(root);
  let image: ImageRecord | undefined;
  try {
    image = await store.resolve(record.Image);
  } catch {
    image = undefined;
  }
  const imageLayers: string[] = image ? await layerDirs(store, image.layers) : [];
  if (!image && driver === 'overlay') {
    throw new TsdockError(`the image of container ${id.slice(0, 12)} (${record.Image}) is no longer in the store`);
  }
  const mountTargets = new Set<string>();
  try {
    const spec = readJsonSync<{ mounts?: Array<{ destination: string }> }>(path.join(dir, 'config.json'));
    for (const m of spec?.mounts ?? []) mountTargets.add(path.posix.normalize(`/${m.destination}`));
  } catch {
    // no spec: nothing to exclude
  }
  return { id, record, upper, driver, imageLayers: driver === 'vfs' ? [] : imageLayers, layers: driver === 'vfs' ? [upper] : [upper, ...imageLayers], image, mountTargets };
}

/** The image-only layers a path is compared with for `diff` (vfs: the image itself). */
export async function imageLayerDirs(root: string, image: ImageRecord | undefined): Promise<string[]> {
  return image ? layerDirs(new ImageStore(root), image.layers) : [];
}
