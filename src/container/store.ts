import fs from 'node:fs';
import path from 'node:path';
import { TsdockError, UsageError } from '../errors.js';
import { generateName, newContainerId, validateName } from './names.js';
import { removeTree } from '../storage/tmp.js';
import { writeImagePin } from './image-pins.js';

/** Where one container's files live. */
export interface ContainerPaths {
  id: string;
  name: string;
  dir: string;
  upper: string;
  work: string;
  rootfs: string;
  hosts: string;
  hostname: string;
  resolvConf: string;
  spec: string;
  meta: string;
}

export function containerPaths(root: string, id: string, name: string): ContainerPaths {
  const dir = path.join(root, 'containers', id);
  return {
    id,
    name,
    dir,
    upper: path.join(dir, 'upper'),
    work: path.join(dir, 'work'),
    rootfs: path.join(dir, 'rootfs'),
    hosts: path.join(dir, 'hosts'),
    hostname: path.join(dir, 'hostname'),
    resolvConf: path.join(dir, 'resolv.conf'),
    spec: path.join(dir, 'config.json'),
    meta: path.join(dir, 'container.json'),
  };
}

/**
 * Reserve a name: names/<name> is created with O_EXCL and holds the container id, so two CLIs racing
 * for one name cannot both win. A reservation whose container directory is gone is stale (a crash between
 * the two steps) and is taken over.
 */
export function reserveName(root: string, name: string, id: string): void {
  const dir = path.join(root, 'names');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, id, { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = fs.readFileSync(file, 'utf8').trim();
      if (owner && fs.existsSync(path.join(root, 'containers', owner))) {
        throw new TsdockError(`Conflict. The container name "/${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new TsdockError(`cannot reserve container name "${name}"`);
}

export function releaseName(root: string, name: string, id: string): void {
  const file = path.join(root, 'names', name);
  try {
    if (fs.readFileSync(file, 'utf8').trim() === id) fs.rmSync(file, { force: true });
  } catch {
    // already gone
  }
}

/**
 * Allocate an id and a (given or generated) name, and lay out the container's directory. With `imageId`, the
 * directory pins that image from its first moment (image-pins.ts); the caller holds layers.lock shared.
 */
export async function createContainerDirs(root: string, requestedName?: string, imageId?: string): Promise<ContainerPaths> {
  const id = newContainerId();
  let name: string;
  if (requestedName !== undefined) {
    try {
      name = validateName(requestedName);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    reserveName(root, name, id);
  } else {
    for (;;) {
      name = generateName();
      try {
        reserveName(root, name, id);
        break;
      } catch (err) {
        if (!(err instanceof TsdockError)) throw err;
      }
    }
  }
  const p = containerPaths(root, id, name);
  try {
    for (const d of [p.upper, p.work, p.rootfs]) await fs.promises.mkdir(d, { recursive: true, mode: 0o755 });
    // the overlay upper dir becomes the container's "/": 0755, like an image root
    await fs.promises.chmod(p.upper, 0o755);
    if (imageId) writeImagePin(p.dir, imageId);
  } catch (err) {
    await removeTree(p.dir).catch(() => {});
    releaseName(root, name, id);
    throw err;
  }
  return p;
}

export async function removeContainerDirs(root: string, p: ContainerPaths): Promise<void> {
  await removeTree(p.dir);
  releaseName(root, p.name, p.id);
}
