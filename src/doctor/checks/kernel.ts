import { result, type Check, type HostView } from '../types.js';

/** "6.1.0-18-amd64" → [6, 1]; undefined when unreadable */
export function kernelVersion(host: HostView): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(host.read('/proc/sys/kernel/osrelease')?.trim() ?? '');
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const atLeast = (v: [number, number], major: number, minor: number) => v[0] > major || (v[0] === major && v[1] >= minor);

/** What the executor and the storage driver rely on, by the release that brought it. */
const FEATURES: Array<{ major: number; minor: number; what: string }> = [
  { major: 5, minor: 7, what: 'cloning straight into the cgroup (clone3 CLONE_INTO_CGROUP, 5.7; the init is moved there, ~17 ms a start)' },
  { major: 5, minor: 8, what: 'rootless image layers (whiteouts made without privileges, 5.8)' },
  { major: 5, minor: 11, what: 'rootless overlayfs (userxattr, 5.11; vfs copies are used instead)' },
  { major: 5, minor: 12, what: 'recursive read-only binds (mount_setattr, 5.12; only the bound mount is read-only)' },
  { major: 5, minor: 14, what: 'cgroup.kill (5.14; what a stopped container leaves is killed pid by pid)' },
];

export const checkKernel: Check = (host) => {
  const v = kernelVersion(host);
  if (!v) return result('kernel', 'WARN', 'cannot read the kernel release (/proc/sys/kernel/osrelease)', 'mount /proc');
  const release = `${v[0]}.${v[1]}`;
  if (!atLeast(v, 5, 6)) {
    return result('kernel', 'FAIL', `Linux ${release}: tsdock needs 5.6 or later (openat2 resolves every path inside a container's root)`, 'upgrade the kernel to 5.14 or later');
  }
  const missing = FEATURES.filter((f) => !atLeast(v, f.major, f.minor)).map((f) => f.what);
  if (missing.length) return result('kernel', 'WARN', `Linux ${release}: without ${missing.join('; ')}`, 'upgrade the kernel to 5.14 or later');
  return result('kernel', 'PASS', `Linux ${release}: everything tsdock uses (openat2, clone3 into a cgroup, rootless overlayfs, mount_setattr, cgroup.kill)`);
};
