import fs from 'node:fs';
import path from 'node:path';
import { TsdockError } from '../errors.js';

/**
 * Who may look into tsdock's directories. The store (--root) and the runtime dir (--runroot, the rootless
 * namespace holder's dir) are private to the user running tsdock: 0700. What a container sees (its overlay
 * upper dir, a volume's _data, the bind-mounted /etc files) keeps its own mode, reached through mounts, never
 * through the store path, so the 0700 parents are what keep other host users out (CVE-2021-41091: a setuid
 * binary a container left in its upper dir would otherwise be runnable by any host user).
 */

/** The store or runtime dir cannot be used: every verb exits 125, as an engine error. */
export class DirectorySetupError extends TsdockError {}

/** Store subdirectories that an older tsdock created 0755 (or 0701); tightened when found too open. */
const STORE_DIRS = ['containers', 'volumes', 'names', 'blobs', 'layers', 'locks', 'tmp'];
/** Files under containers/<id>/ holding the request, the OCI spec (its env: secrets) and the state. */
const CONTAINER_STATE = ['config.json', 'container.json', 'state.json', 'exit.json'];

function euid(): number {
  return process.geteuid?.() ?? 0;
}

const failed = (dir: string, err: unknown) => new DirectorySetupError(`cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });

/**
 * mkdir `dir` itself with an exact mode (the umask only removes bits: we chmod what we created), its missing
 * parents as `mkdir -p` makes them; false when it existed.
 */
function mkdirExact(dir: string, mode: number): boolean {
  try {
    fs.mkdirSync(dir, { mode });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'ENOENT') throw failed(dir, err);
    try {
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      fs.mkdirSync(dir, { mode });
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw failed(dir, again);
    }
  }
  fs.chmodSync(dir, mode);
  return true;
}

/**
 * The runtime dir (pids, sockets, the rootless user namespace holder's pid file): created 0700 with one mkdir (its parents as usual),
 * then refused unless it is a directory, not a symlink, owned by us, mode exactly 0700. A directory that
 * another user created first (the /tmp fallbacks) would let them replace our pid files and sockets.
 */
export function ensureRuntimeDir(dir: string, uid = euid()): void {
  mkdirExact(dir, 0o700);
  const st = fs.lstatSync(dir);
  const refuse = (what: string) => new DirectorySetupError(`runtime directory ${dir} ${what}: refusing to use it (remove it, or choose another with --runroot or XDG_RUNTIME_DIR)`);
  if (st.isSymbolicLink()) throw refuse('is a symlink');
  if (!st.isDirectory()) throw refuse('is not a directory');
  if (st.uid !== uid) throw refuse(`is owned by uid ${st.uid}, not by uid ${uid}`);
  if ((st.mode & 0o7777) !== 0o700) throw refuse(`has mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}, not 0700`);
}

/** chmod a directory or file we own to `mode` when it grants more than that; true when it did. */
function tighten(p: string, mode: number, uid: number): boolean {
  const st = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!st || st.isSymbolicLink() || st.uid !== uid || (st.mode & 0o7777 & ~mode) === 0) return false;
  fs.chmodSync(p, mode);
  return true;
}

/**
 * Open the store: create the root 0700 (its parents as usual), and tighten what an older tsdock left too
 * open: the root and its top-level dirs; when any of those was, also every containers/<id>/ (0700) and its
 * JSON state (0600). A root we do not own (root's store seen by a user, a shared mount) is left alone.
 * Cheap when nothing is wrong: one mkdir and a handful of lstat calls.
 */
export function ensureStoreDir(root: string, uid = euid()): void {
  mkdirExact(root, 0o700);
  // the store root may be a symlink to elsewhere (a bigger disk): follow it
  const st = fs.statSync(root);
  if (!st.isDirectory()) throw new DirectorySetupError(`store root ${root} is not a directory`);
  if (st.uid !== uid) return;
  let loosened = false;
  if ((st.mode & 0o077) !== 0) {
    fs.chmodSync(root, 0o700);
    loosened = true;
  }
  for (const d of STORE_DIRS) loosened = tighten(path.join(root, d), 0o700, uid) || loosened;
  if (loosened) tightenContainers(path.join(root, 'containers'), uid);
}

function tightenContainers(dir: string, uid: number): void {
  let ids: string[];
  try {
    ids = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const id of ids) {
    const cdir = path.join(dir, id);
    tighten(cdir, 0o700, uid);
    for (const f of CONTAINER_STATE) tighten(path.join(cdir, f), 0o600, uid);
  }
}
