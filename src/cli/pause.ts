import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureRuntimeDir } from '../config/dirs.js';
import { tmpRuntimeDir } from '../config/paths.js';

/**
 * Rootless tsdock keeps ONE user namespace per user alive with a pause process (podman's model), so every
 * command joins the same namespace: an `exec` can then setns into a container started by an earlier command
 * (namespaces owned by a sibling user namespace would be out of reach). The pause process is `sleep infinity`
 * started under `unshare --user --map-root-user [--map-auto]`; its pid and start time live in
 * `$XDG_RUNTIME_DIR/tsdock/pause.pid` (or a per-uid directory under the temp dir), a directory that must be
 * ours and 0700: whoever could write there could point every later command at a namespace of theirs.
 */
export function pauseFile(env: NodeJS.ProcessEnv, uid: number): string {
  const base = env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'tsdock') : tmpRuntimeDir(uid);
  return path.join(base, 'pause.pid');
}

function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** The running pause process's pid, or undefined (none, dead, or a reused pid). */
export function livePause(file: string): number | undefined {
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const [pid, start] = content.trim().split(' ');
  const n = Number(pid);
  return Number.isInteger(n) && n > 0 && start !== undefined && startTime(n) === start ? n : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Start the pause process (once: concurrent CLIs serialize on a mkdir lock) and return its pid. */
export async function ensurePause(file: string, full: boolean): Promise<number> {
  // checked before the pid file is trusted: a pid file in a directory someone else controls means nothing
  ensureRuntimeDir(path.dirname(file));
  const existing = livePause(file);
  if (existing) return existing;
  const lock = `${file}.lock`;
  for (let i = 0; ; i++) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = livePause(file);
      if (pid) return pid;
      // a lock older than 10 s belongs to a CLI that died while starting the pause process
      if (i > 200 || Date.now() - fs.statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 10_000) fs.rmSync(lock, { recursive: true, force: true });
      await sleep(10);
    }
  }
  try {
    const again = livePause(file);
    if (again) return again;
    const child = spawn('unshare', ['--user', '--map-root-user', ...(full ? ['--map-auto'] : []), '--', 'sleep', 'infinity'], { detached: true, stdio: 'ignore' });
    child.unref();
    const pid = child.pid;
    if (!pid) throw new Error('cannot start the user namespace holder (unshare)');
    // ready once its uid_map is written (unshare execs sleep after newuidmap/newgidmap)
    for (let i = 0; i < 500; i++) {
      const own = fs.readlinkSync('/proc/self/ns/user');
      let theirs: string | undefined;
      let map = '';
      try {
        theirs = fs.readlinkSync(`/proc/${pid}/ns/user`);
        map = fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8');
      } catch {
        throw new Error('the user namespace holder (unshare) exited: are newuidmap/newgidmap installed (uidmap)?');
      }
      const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (theirs !== own && map.trim() !== '' && comm === 'sleep') break;
      await sleep(5);
    }
    const tmp = `${file}.${process.pid}`;
    // no fsync: the runtime dir is usually a tmpfs, and after a crash the pause process is gone anyway
    fs.writeFileSync(tmp, `${pid} ${startTime(pid)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, file);
    return pid;
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
