import type { Context } from '../context.js';
import { TsdockError, UsageError } from '../errors.js';
import { validateName } from '../container/names.js';
import { releaseName, reserveName } from '../container/store.js';
import { loadRecord, saveRecord, withContainerLock } from '../container/state.js';
import { resolveContainer } from '../container/lookup.js';
import { containerEvent } from '../container/events.js';

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
    reserveName(root, name, id);
    const renamed = { ...record, Name: record.Name.startsWith('/') ? `/${name}` : name };
    try {
      await saveRecord(root, renamed);
    } catch (err) {
      releaseName(root, name, id);
      throw err;
    }
    releaseName(root, old, id);
    containerEvent(root, 'rename', renamed, { oldName: `/${old}` });
  });
}

