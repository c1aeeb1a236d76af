import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureRuntimeDir } from '../config/dirs.js';
import { tmpRuntimeDir } from '../config/paths.js';
import { procStat } from '../sys/proc.js';

/**
 * Rootless tsdock keeps ONE user namespace per user alive with a holder process (podman's "pause process"; not
 * the `pause` verb, which freezes a container), so every command joins the same namespace: an `exec` can then
 * setns into a container started by an earlier command (namespaces owned by a sibling user namespace would be
 * out of reach). The holder is `sleep infinity` started under `unshare --user --map-root-user [--map-auto]`; its
 * pid and start time live in `$XDG_RUNTIME_DIR/tsdock/userns-holder.pid` (or a per-uid directory under the temp
 * dir), a directory that must be ours and 0700: whoever could write there could point every later command at a
 * namespace of theirs.
 */
export function holderFile(env: NodeJS.ProcessEnv, uid: number): string {
  const base = env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'tsdock') : tmpRuntimeDir(uid);
  return path.join(base, 'userns-holder.pid');
}

/**
 * The file older versions kept the holder's pid in. Still read: after an upgrade, the containers started before
 * it live in that holder's namespace, and a second namespace could not reach them (exec, cp, stop's signals).
 */
export const LEGACY_HOLDER_FILE = 'pause.pid';

function startTime(pid: number): string | undefined {
  const start = procStat(pid)?.startTime;
  return start === undefined ? undefined : String(start);
}

/** The running holder's pid (from its file, else the legacy one beside it), or undefined (none, dead, a reused pid). */
export function liveHolder(file: string): number | undefined {
  return livePid(file) ?? livePid(path.join(path.dirname(file), LEGACY_HOLDER_FILE));
}

function livePid(file: string): number | undefined {
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

/** Start the holder (once: concurrent CLIs serialize on a mkdir lock) and return its pid. */
export async function ensureHolder(file: string, full: boolean): Promise<number> {
  // checked before the pid file is trusted: a pid file in a directory someone else controls means nothing
  ensureRuntimeDir(path.dirname(file));
  const existing = liveHolder(file);
  if (existing) return existing;
  const lock = `${file}.lock`;
  for (let i = 0; ; i++) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = liveHolder(file);
      if (pid) return pid;
      // a lock older than 10 s belongs to a CLI that died while starting the holder
      if (i > 200 || Date.now() - fs.statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 10_000) fs.rmSync(lock, { recursive: true, force: true });
      await sleep(10);
    }
  }
  try {
    const again = liveHolder(file);
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
    // no fsync: the runtime dir is usually a tmpfs, and after a crash the holder is gone anyway
    fs.writeFileSync(tmp, `${pid} ${startTime(pid)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, file);
    return pid;
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
