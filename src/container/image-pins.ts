/**
 * Which containers use which image: the roots image removal and layer garbage collection must keep.
 * A container names its image in container.json (`Image`) and, from the first moment its directory exists, in
 * the one-line file `image` beside it (written by createContainerDirs while `create` holds layers.lock shared),
 * so a half-created container pins its image too. Readers hold layers.lock exclusive (rmi, image prune), which
 * keeps a racing `create` from adding a pin between their check and their collection.
 */
import fs from 'node:fs';
import path from 'node:path';
import { containerDir, listContainerIds, loadExit, loadRecord, loadState } from './state.js';
import { deriveState, isActive } from './status.js';

export const IMAGE_PIN_FILE = 'image';

export interface ImageUser {
  /** container id */
  id: string;
  /** running, paused or restarting: docker's "running container" (cannot be forced) */
  running: boolean;
}

/** Record, in a new container's directory, the image it is made from. */
export function writeImagePin(dir: string, imageId: string): void {
  fs.writeFileSync(path.join(dir, IMAGE_PIN_FILE), `${imageId}\n`);
}

/** The image a container directory is linked to: container.json's, else the pin file's; undefined if neither. */
export function pinnedImage(root: string, id: string): string | undefined {
  const fromRecord = loadRecord(root, id)?.Image;
  if (fromRecord) return fromRecord;
  try {
    const pin = fs.readFileSync(path.join(containerDir(root, id), IMAGE_PIN_FILE), 'utf8').trim();
    return /^sha256:[0-9a-f]{64}$/.test(pin) ? pin : undefined;
  } catch {
    return undefined;
  }
}

/** image id → the containers using it (any container directory: created, running, exited, half-created). */
export function imageUsers(root: string): Map<string, ImageUser[]> {
  const users = new Map<string, ImageUser[]>();
  for (const id of listContainerIds(root)) {
    let image: string | undefined;
    let running = false;
    try {
      image = pinnedImage(root, id);
      running = image !== undefined && isActive(deriveState(loadState(root, id), loadExit(root, id)));
    } catch {
      // an unreadable state file: still a user (never collect under a container we cannot read)
      image ??= pinnedImage(root, id);
    }
    if (!image) continue;
    users.set(image, [...(users.get(image) ?? []), { id, running }]);
  }
  return users;
}
