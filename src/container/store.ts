import fs from 'node:fs';
import path from 'node:path';
import { TsdockError, UsageError, suppressInto } from '../errors.js';
import { formatNameFile, generateName, newContainerId, parseNameFile, validateName, type NameReservation } from './names.js';
import { procStat } from './status.js';
import { removeTree } from '../storage/tmp.js';
import { writeImagePin } from './image-pins.js';
import { CONTAINER_FILES } from './state.js';

/** Where one container's files live. */
export interface ContainerPaths {
  /** the store's root */
  root: string;
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
  /** a `--security-opt seccomp=<file>` profile's content as it was at create: start and exec use this copy */
  seccompProfile: string;
}

export function containerPaths(root: string, id: string, name: string): ContainerPaths {
  const dir = path.join(root, 'containers', id);
  return {
    root,
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
    seccompProfile: path.join(dir, CONTAINER_FILES.seccompProfile),
  };
}

/**
 * Reserve a name: names/<name> holds the container id and the reserving process (pid and start time), and
 * appears complete or not at all (written beside it, then link(2), which fails when the name exists), so two
 * CLIs racing for one name cannot both win. A reservation is stale only when its container directory is gone
 * AND its creator is no longer running (a crash between the two steps); a creator still between reserving the
 * name and creating the directory keeps it. A stale one is renamed away and checked before it is replaced.
 */
export function reserveName(root: string, name: string, id: string): void {
  const dir = path.join(root, 'names');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, name);
  const me = procStat(process.pid);
  const tmp = path.join(dir, `.${name}.${id}.${process.pid}`);
  fs.writeFileSync(tmp, formatNameFile({ id, pid: process.pid, startTime: me?.startTime ?? 0 }), { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.linkSync(tmp, file);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = readReservation(file);
      if (held === undefined) continue;
      if (held.id && (fs.existsSync(path.join(root, 'containers', held.id)) || creatorRunning(held))) {
        throw new TsdockError(`Conflict. The container name "/${name}" is already in use by container "${held.id}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
      takeOverStale(file, held);
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  throw new TsdockError(`cannot reserve container name "${name}"`);
}

function readReservation(file: string): NameReservation | undefined {
  try {
    return parseNameFile(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function creatorRunning(r: NameReservation): boolean {
  if (r.pid === undefined) return false;
  const st = procStat(r.pid);
  return st !== undefined && st.state !== 'Z' && st.startTime === r.startTime;
}

/** Move a stale reservation aside; when what was moved is not the one judged stale (it changed meanwhile), put it back. */
function takeOverStale(file: string, stale: NameReservation): void {
  const aside = path.join(path.dirname(file), `.${path.basename(file)}.stale-${process.pid}`);
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const moved = readReservation(aside);
    if (moved && (moved.id !== stale.id || moved.pid !== stale.pid)) {
      try {
        fs.linkSync(aside, file);
      } catch {
        // someone reserved the name meanwhile: theirs stands
      }
    }
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

export function releaseName(root: string, name: string, id: string): void {
  const file = path.join(root, 'names', name);
  try {
    if (readReservation(file)?.id === id) fs.rmSync(file, { force: true });
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
    // the container's own dir is private (its config.json holds the -e values; its upper dir may hold setuid
    // binaries the container made); the overlay upper dir becomes the container's "/": 0755, like an image root
    // (synchronous: seven quick calls, each a thread-pool round trip when asynchronous)
    fs.mkdirSync(path.dirname(p.dir), { recursive: true, mode: 0o700 });
    fs.mkdirSync(p.dir, { mode: 0o700 });
    fs.chmodSync(p.dir, 0o700);
    fs.mkdirSync(p.upper, { mode: 0o755 });
    fs.chmodSync(p.upper, 0o755);
    fs.mkdirSync(p.work, { mode: 0o700 });
    fs.mkdirSync(p.rootfs, { mode: 0o755 });
    if (imageId) writeImagePin(p.dir, imageId);
  } catch (err) {
    await removeTree(p.dir).catch(suppressInto(err));
    releaseName(root, name, id);
    throw err;
  }
  return p;
}

export async function removeContainerDirs(root: string, p: ContainerPaths): Promise<void> {
  await removeTree(p.dir);
  releaseName(root, p.name, p.id);
}
