/**
 * The real HostView: files, PATH, statfs and the overlay probe of this machine. TSDOCK_DOCTOR_ROOT (tests only)
 * re-roots every file it reads or stats (a faked /proc/sys, /etc/subuid, /dev/net/tun...) and skips the probes;
 * commands are still found on the real PATH.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { lgetxattr } from '../sys/index.js';
import type { FileInfo, HostView } from './types.js';

/** inside → outside uid ranges of our user namespace; undefined in the initial one (the identity map) */
function uidMap(text: string | undefined): Array<[number, number, number]> | undefined {
  const rows = (text ?? '').trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number) as [number, number, number]).filter((r) => r.length === 3 && r.every(Number.isInteger));
  if (!rows.length || (rows.length === 1 && rows[0]![0] === 0 && rows[0]![1] === 0 && rows[0]![2] === 4294967295)) return undefined;
  return rows;
}

/**
 * A file owner's uid as the host sees it: inside tsdock's rootless namespace the user is 0; -1 for an id not
 * mapped here (root, mostly), which the kernel shows as the overflow uid (usually 65534, itself inside the range)
 */
export function hostUidOf(uid: number, map: Array<[number, number, number]> | undefined, overflow = -1): number {
  if (!map) return uid;
  if (uid === overflow) return -1;
  for (const [inside, outside, count] of map) if (uid >= inside && uid < inside + count) return outside + uid - inside;
  return -1;
}

function nearestExisting(p: string): string {
  let dir = path.resolve(p);
  while (!fs.existsSync(dir) && dir !== path.dirname(dir)) dir = path.dirname(dir);
  return dir;
}

/** mount lower/upper/work on merged in a new mount namespace (and user namespace, rootless) that ends with mount(8) */
function probeOverlay(base: string, rootless: boolean): string | undefined {
  let dir: string;
  try {
    dir = fs.mkdtempSync(path.join(base, 'doctor-overlay-'));
  } catch (err) {
    return `cannot make a probe directory in ${base}: ${(err as NodeJS.ErrnoException).code}`;
  }
  try {
    for (const d of ['lower', 'upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, d));
    const opts = `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work${rootless ? ',userxattr' : ''}`;
    const ns = rootless ? ['--user', '--map-root-user', '--mount'] : ['--mount'];
    const r = spawnSync('unshare', [...ns, '--', 'mount', '-t', 'overlay', 'overlay', '-o', opts, `${dir}/merged`], { encoding: 'utf8', timeout: 10_000 });
    if (r.error) return `unshare: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`;
    if (r.status !== 0) return (r.stderr || `unshare exited ${r.status}`).trim().split('\n').pop()!.replace(/^(unshare|mount): /, '');
    return undefined;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function realHost(env: NodeJS.ProcessEnv, storeRoot: string): HostView {
  const fake = env.TSDOCK_DOCTOR_ROOT;
  const at = (p: string) => (fake ? path.join(fake, p) : p);
  const read = (p: string) => {
    try {
      return fs.readFileSync(at(p), 'utf8');
    } catch {
      return undefined;
    }
  };
  const map = fake ? undefined : uidMap(read('/proc/self/uid_map'));
  const overflow = Number(read('/proc/sys/kernel/overflowuid') ?? 65534);
  return {
    read,
    lstat(p): FileInfo | undefined {
      const st = fs.lstatSync(at(p), { throwIfNoEntry: false });
      if (!st) return undefined;
      return { mode: st.mode, uid: hostUidOf(st.uid, map, overflow), gid: st.gid, isDirectory: st.isDirectory(), isSymbolicLink: st.isSymbolicLink() };
    },
    freeBytes(p) {
      try {
        const s = fs.statfsSync(nearestExisting(at(p)));
        return s.bavail * s.bsize;
      } catch {
        return undefined;
      }
    },
    which(command) {
      for (const dir of (env.PATH ?? '/usr/bin:/bin').split(':')) {
        const file = path.join(dir || '.', command);
        try {
          fs.accessSync(file, fs.constants.X_OK);
          if (fs.statSync(file).isFile()) return file;
        } catch {
          // next
        }
      }
      return undefined;
    },
    hasFileCaps(p) {
      try {
        return lgetxattr(at(p), 'security.capability') !== undefined;
      } catch {
        return false;
      }
    },
    openDevice(p) {
      try {
        fs.closeSync(fs.openSync(at(p), 'r+'));
        return undefined;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code ?? 'EIO';
      }
    },
    probeOverlay(rootless) {
      if (fake) return 'not probed under TSDOCK_DOCTOR_ROOT';
      const tmp = path.join(storeRoot, 'tmp');
      return probeOverlay(fs.existsSync(tmp) ? tmp : os.tmpdir(), rootless);
    },
    kernelConfig() {
      try {
        return zlib.gunzipSync(fs.readFileSync(at('/proc/config.gz'))).toString('utf8');
      } catch {
        return read(`/boot/config-${read('/proc/sys/kernel/osrelease')?.trim() ?? os.release()}`);
      }
    },
  };
}

/** the invoking user's host uid and gid (inside tsdock's rootless namespace we are 0 there) */
export function invokingIds(): { uid: number; gid: number } {
  const map = (file: string) => {
    try {
      return uidMap(fs.readFileSync(file, 'utf8'));
    } catch {
      return undefined;
    }
  };
  const uid = hostUidOf(process.getuid?.() ?? 0, map('/proc/self/uid_map'));
  const gid = hostUidOf(process.getgid?.() ?? 0, map('/proc/self/gid_map'));
  return { uid, gid };
}
