import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

/**
 * Work in progress lives in <root>/tmp/<pid>-<random>: renamed into place on success, removed on failure,
 * and swept by a later command once its pid is gone (a kill -9 leaves nothing visible behind).
 */
export async function makeTmpDir(root: string, label = 'work'): Promise<string> {
  const dir = path.join(root, 'tmp', `${process.pid}-${label}-${crypto.randomBytes(6).toString('hex')}`);
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

export async function removeTree(dir: string): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** a process with this pid exists (EPERM: it does, but is not ours) */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove leftovers of dead processes; returns how many entries were removed. */
export async function sweepTmp(root: string): Promise<number> {
  const dir = path.join(root, 'tmp');
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const pid = Number(name.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pidAlive(pid) && pid !== process.pid) continue;
    if (pid === process.pid) continue;
    await removeTree(path.join(dir, name));
    removed++;
  }
  return removed;
}
