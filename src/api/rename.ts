import fs from 'node:fs';
import path from 'node:path';
import type { Context } from './context.js';
import { TsdockError, UsageError } from '../errors.js';
import { validateName } from '../container/names.js';
import { releaseName } from '../container/store.js';
import { containerExists, loadRecord, saveRecord, withContainerLock } from '../container/state.js';
import { resolveContainer } from '../container/lookup.js';

/**
 * `rename OLD NEW`: NEW is reserved in the names index with O_EXCL (so two renames, or a rename and a create,
 * cannot both take it), container.json is rewritten under the container's lock, then OLD is released.
 */
export async function renameContainer(oldRef: string, newName: string, ctx: Context): Promise<void> {
  const root = ctx.root;
  if (!newName.trim()) throw new UsageError('Neither old nor new names may be empty');
  let name: string;
  try {
    name = validateName(newName);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const id = resolveContainer(root, oldRef);
  await withContainerLock(root, id, async () => {
    const record = loadRecord(root, id);
    if (!record) throw new TsdockError(`cannot rename container ${id}: it has no container.json (a half-created container: remove it)`, { exitCode: 1 });
    const old = record.Name.replace(/^\//, '');
    if (old === name) throw new TsdockError('Renaming a container with the same name as its current name', { exitCode: 1 });
    reserve(root, name, id);
    try {
      await saveRecord(root, { ...record, Name: record.Name.startsWith('/') ? `/${name}` : name });
    } catch (err) {
      releaseName(root, name, id);
      throw err;
    }
    releaseName(root, old, id);
  });
}

/** names/<name> created with O_EXCL; a reservation whose container is gone is stale and taken over. */
function reserve(root: string, name: string, id: string): void {
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
      if (owner && containerExists(root, owner)) {
        throw new TsdockError(`Conflict. The container name "/${name}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`, { exitCode: 1 });
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new TsdockError(`cannot reserve container name "${name}"`, { exitCode: 1 });
}
