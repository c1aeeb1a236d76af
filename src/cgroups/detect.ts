/**
 * What cgroup setup the host has, from /proc/self/mountinfo (pure parser + a reader): v1 controller
 * hierarchies, a cgroup2 mount, and so the mode: pure v2 (cgroup2 at /sys/fs/cgroup), hybrid (v1 controllers and
 * a cgroup2 without them at /sys/fs/cgroup/unified), or pure v1.
 */
import fs from 'node:fs';

export type CgroupMode = 'v1' | 'v2' | 'hybrid' | 'none';

export interface CgroupHost {
  mode: CgroupMode;
  /** v1 controller → mount directory (co-mounted controllers share one) */
  v1: Map<string, string>;
  /** the cgroup2 mount point, if any */
  v2Mount?: string;
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Parse mountinfo text: the first mount of each hierarchy whose root is "/" wins. */
export function parseCgroupMounts(mountinfo: string): CgroupHost {
  const v1 = new Map<string, string>();
  let v2Mount: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash < 6) continue;
    const [root, mountPoint] = [f[3]!, unescape(f[4]!)];
    const fstype = f[dash + 1];
    const superOpts = (f[dash + 3] ?? '').split(',');
    if (root !== '/') continue;
    if (fstype === 'cgroup2') {
      v2Mount ??= mountPoint;
    } else if (fstype === 'cgroup') {
      for (const o of superOpts) {
        if (o === 'rw' || o === 'ro' || o.includes('=') || o === 'clone_children' || o === 'noprefix' || o === 'xattr' || o === 'cpuset_v2_mode') continue;
        if (!v1.has(o)) v1.set(o, mountPoint);
      }
    }
  }
  const mode: CgroupMode = v2Mount === '/sys/fs/cgroup' ? 'v2' : v1.size ? (v2Mount ? 'hybrid' : 'v1') : v2Mount ? 'v2' : 'none';
  return { mode, v1: mode === 'v2' ? new Map() : v1, v2Mount };
}

let cached: CgroupHost | undefined;

/**
 * The host's cgroup mounts, read once. TSDOCK_CGROUP_MOUNTINFO (tests only) names a mountinfo file to read
 * instead of /proc/self/mountinfo: a host without cgroups, or v1 without the devices hierarchy, for real.
 */
export function detectCgroups(): CgroupHost {
  if (!cached) {
    let text = '';
    try {
      text = fs.readFileSync(process.env.TSDOCK_CGROUP_MOUNTINFO || '/proc/self/mountinfo', 'utf8');
    } catch {
      // no /proc: no cgroups
    }
    cached = parseCgroupMounts(text);
  }
  return cached;
}

/** "0::/user.slice/..." from /proc/self/cgroup: our own cgroup in the v2 tree */
export function ownV2Path(procSelfCgroup: string): string | undefined {
  const line = procSelfCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line?.slice(3);
}
