/**
 * buildPlan: an OCI runtime spec (src/ocispec/build.ts) → the executor's flat, ordered step list
 * (src/runtime/plan-types.ts), crun/runc style. Pure: every host fact it needs is in the spec or PlanContext.
 *
 * Step order and why (each position matters):
 *  1. propagation "/" MS_REC|MS_SLAVE (MS_PRIVATE for rootfsPropagation [r]private): first, so none of the
 *     mounts below propagate back to the host, while host unmounts still reach us (runc's default, rslave).
 *  2. chdir layersBase (only when given): overlay resolves relative lowerdir entries against the cwd at mount
 *     time, which keeps the option string under the 4096-byte page mount(2) copies.
 *  3. overlay mount of the layers on root.path (lowerdir=top..bottom, upperdir, workdir; `userxattr` rootless:
 *     the unpacker wrote user.overlay.* xattrs). Everything else is mounted into it.
 *  4. the spec's mounts in order: /proc first (rootless can only mount proc while the host's /proc is visible,
 *     i.e. before pivot_root — here every mount precedes pivot_root, targets are resolved inside the rootfs
 *     with `root` so a symlink in the image cannot point them at the host), /dev tmpfs before everything under
 *     /dev, /dev/pts, /sys, /dev/mqueue, /dev/shm, then the user's mounts and /etc/{resolv.conf,hostname,hosts}
 *     (parents before children, ordered by buildSpec). A bind is: mount MS_BIND[|MS_REC]; then, when it has
 *     flags (ro, nosuid...), MS_REMOUNT|MS_BIND|flags (the kernel ignores flags on the first call); then its
 *     propagation mode, as a separate call (mount(2) takes propagation alone).
 *  5. rootless only: the default devices as binds of the host's /dev/<name> onto created empty files (mknod of
 *     devices is not permitted in a user namespace). Must follow the /dev tmpfs; must precede pivot_root (the
 *     host's /dev is unreachable after it).
 *  6. /dev/console: bind of the terminal's pty slave (ctx.consolePath), with -t only; same reasons as 5.
 *  7. mkdir of the working directory inside the rootfs (docker creates a missing -w): after the user's mounts
 *     (the directory may live in a volume) and before the --read-only remount (step 14) makes it impossible.
 *  8. pivot_root: the container's root becomes / and the host's tree is detached.
 *  9. rootful: mknod of the default and spec devices, 0666 root:root. After pivot_root so the absolute /dev
 *     paths (the op has no `root`) resolve inside the container.
 * 10. /dev symlinks (ptmx → pts/ptmx, fd, stdin/stdout/stderr, core): same reason.
 * 11. sysctls: writes under /proc/sys, before step 12 makes it read-only.
 * 12. read-only paths (/proc/sys, ...), then 13. masked paths (/proc/kcore, ...): masking binds /dev/null over
 *     files, so it follows 5/9; both follow every mount that could cover them.
 * 14. sethostname / setdomainname (needs the new UTS namespace only; placed with the other finishing steps).
 * 15. --read-only: MS_REMOUNT|MS_BIND|MS_RDONLY of "/" last (runc: after masking), non-recursive, so the
 *     mounts inside (tmpfs, volumes, /dev) keep their own flags; with MS_NODEV when the rootfs has it (a bind
 *     remount sets the flags it is given, it would clear nodev).
 */
import path from 'node:path';
import { TsdockError } from '../errors.js';
import { DEFAULT_DEV_SYMLINKS, DEFAULT_DEVICES, DEFAULT_PATH_ENV, RLIMITS, capabilityMask } from '../ocispec/defaults.js';
import { ANNOTATIONS } from '../ocispec/build.js';
import type { LinuxDevice, Mount, Spec } from '../ocispec/types.js';
import { CLONE, MOUNT_ATTR, MS, type ExecPlan, type IdMapPlan, type PlanProcess, type PlanStep, type Rlimit } from './plan-types.js';

export interface PlanContext {
  /**
   * read-only rbinds are read-only all the way down (docker 25's default): their submounts too, through
   * mount_setattr (Linux >= 5.12). false on older kernels: only the bound mount itself is read-only, as docker
   * falls back there. Default true.
   */
  recursiveReadOnly?: boolean;
  /** lower layer diff directories, top (newest) first */
  layers: string[];
  /** a directory every layer is under: the executor chdirs there and lowerdir entries become relative */
  layersBase?: string;
  upper: string;
  work: string;
  rootless: boolean;
  /** extra overlay options appended as is (e.g. "metacopy=off", "volatile") */
  overlayOptions?: string[];
  /** with a terminal: the host path of the pty slave to bind on /dev/console */
  consolePath?: string;
  /** where the executor writes the container init's host pid */
  pidFile?: string;
  /**
   * the copying ("vfs") storage driver: the container's private, fully merged copy of the image, bind-mounted as
   * the rootfs instead of an overlay of `layers` (for kernels or filesystems where overlayfs is unavailable)
   */
  copiedRootfs?: string;
  /** what a spec mount of type "cgroup" becomes (runc's meaning); absent: such a mount is skipped */
  cgroupFs?: CgroupFsPlan;
  /** mount the rootfs nodev (rootful, not --privileged): a device node made outside /dev cannot be opened */
  rootfsNodev?: boolean;
}

/**
 * /sys/fs/cgroup inside the container, mounted in its cgroup namespace (so its own cgroup is the root it sees):
 * v2 one cgroup2 mount; v1 a tmpfs holding one mount per hierarchy (`name` the directory, e.g. "cpu,cpuacct",
 * `options` its controllers).
 */
export type CgroupFsPlan = { version: 2 } | { version: 1; hierarchies: Array<{ name: string; options: string }> };

/** The steps for a spec mount of type "cgroup". */
export function cgroupMountSteps(m: Mount, root: string, cg: CgroupFsPlan | undefined): PlanStep[] {
  if (!cg) return [];
  const { flags } = parseMountOptions(m.options);
  const label = `mount ${m.destination}`;
  if (cg.version === 2) return [{ op: 'mount', source: 'cgroup2', target: m.destination, fstype: 'cgroup2', flags, data: '', root, create: 'dir', label }];
  const base = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  const steps: PlanStep[] = [{ op: 'mount', source: 'tmpfs', target: m.destination, fstype: 'tmpfs', flags: base, data: 'mode=755', root, create: 'dir', label }];
  for (const h of cg.hierarchies) {
    steps.push({ op: 'mount', source: 'cgroup', target: `${m.destination}/${h.name}`, fstype: 'cgroup', flags, data: h.options, root, create: 'dir', label: `${label}/${h.name}` });
  }
  steps.push({ op: 'mount', source: '', target: m.destination, fstype: '', flags: MS.REMOUNT | base | (flags & MS.RDONLY), data: 'mode=755', root, label: `${label} (remount)` });
  return steps;
}

/** mount(2) copies at most one page of option data, NUL included */
export const MOUNT_DATA_MAX = 4095;
/** overlayfs's maximum number of lower layers (OVL_MAX_STACK) */
export const OVERLAY_MAX_LAYERS = 500;

const NS_FLAGS: Readonly<Record<string, number>> = {
  mount: CLONE.NEWNS,
  network: CLONE.NEWNET,
  uts: CLONE.NEWUTS,
  pid: CLONE.NEWPID,
  ipc: CLONE.NEWIPC,
  cgroup: CLONE.NEWCGROUP,
  user: CLONE.NEWUSER,
};

/** mount option word → [clear?, flag] (runc's table, the subset the kernel honours via mount(2)) */
const FLAG_OPTIONS: Readonly<Record<string, [boolean, number]>> = {
  async: [true, MS.SYNCHRONOUS],
  atime: [true, MS.NOATIME],
  bind: [false, MS.BIND],
  defaults: [false, 0],
  dev: [true, MS.NODEV],
  diratime: [true, MS.NODIRATIME],
  dirsync: [false, MS.DIRSYNC],
  exec: [true, MS.NOEXEC],
  mand: [false, MS.MANDLOCK],
  noatime: [false, MS.NOATIME],
  nodev: [false, MS.NODEV],
  nodiratime: [false, MS.NODIRATIME],
  noexec: [false, MS.NOEXEC],
  nomand: [true, MS.MANDLOCK],
  norelatime: [true, MS.RELATIME],
  nostrictatime: [true, MS.STRICTATIME],
  nosuid: [false, MS.NOSUID],
  nosymfollow: [false, MS.NOSYMFOLLOW],
  rbind: [false, MS.BIND | MS.REC],
  relatime: [false, MS.RELATIME],
  remount: [false, MS.REMOUNT],
  ro: [false, MS.RDONLY],
  rw: [true, MS.RDONLY],
  silent: [false, MS.SILENT],
  loud: [true, MS.SILENT],
  strictatime: [false, MS.STRICTATIME],
  suid: [true, MS.NOSUID],
  symfollow: [true, MS.NOSYMFOLLOW],
  sync: [false, MS.SYNCHRONOUS],
};

const PROPAGATION_OPTIONS: Readonly<Record<string, number>> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** tsdock-level words that never reach the kernel */
const IGNORED_OPTIONS = new Set(['z', 'Z', 'nocopy']);

export interface ParsedMountOptions {
  flags: number;
  /** the last propagation mode given, 0 if none */
  propagation: number;
  /** filesystem-specific options, comma-joined */
  data: string;
}

/** OCI mount options → mount(2) flags, propagation and data (runc's parseMountOptions). */
export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = FLAG_OPTIONS[o];
    if (f) {
      flags = f[0] ? flags & ~f[1] : flags | f[1];
      continue;
    }
    const p = PROPAGATION_OPTIONS[o];
    if (p !== undefined) {
      propagation = p;
      continue;
    }
    if (IGNORED_OPTIONS.has(o)) continue;
    data.push(o);
  }
  return { flags, propagation, data: data.join(',') };
}

/** The overlay mount's option string, and the directory to chdir into first when layersBase is used. */
export function overlayMountData(ctx: PlanContext): { data: string; chdir?: string } {
  if (ctx.layers.length === 0) throw new TsdockError('cannot mount the container rootfs: the image has no layers (overlayfs needs at least one lower directory)');
  if (ctx.layers.length > OVERLAY_MAX_LAYERS) {
    throw new TsdockError(`cannot mount the container rootfs: the image has ${ctx.layers.length} layers, overlayfs stacks at most ${OVERLAY_MAX_LAYERS}`);
  }
  for (const p of [...ctx.layers, ctx.upper, ctx.work, ...(ctx.layersBase ? [ctx.layersBase] : [])]) {
    if (p.includes(',')) throw new TsdockError(`cannot mount the container rootfs: overlay paths cannot contain ",": ${p}`);
  }
  const escape = (p: string) => p.replace(/[\\:]/g, (c) => `\\${c}`);
  let lowers = ctx.layers;
  if (ctx.layersBase !== undefined) {
    const base = ctx.layersBase;
    lowers = ctx.layers.map((l) => {
      const rel = path.posix.relative(base, l);
      if (rel === '' || rel.startsWith('..') || path.posix.isAbsolute(rel)) {
        throw new TsdockError(`cannot mount the container rootfs: layer ${l} is not under layersBase ${base}`);
      }
      return rel;
    });
  }
  const parts = [`lowerdir=${lowers.map(escape).join(':')}`, `upperdir=${ctx.upper}`, `workdir=${ctx.work}`];
  if (ctx.rootless) parts.push('userxattr');
  parts.push(...(ctx.overlayOptions ?? []));
  const data = parts.join(',');
  const bytes = Buffer.byteLength(data);
  if (bytes > MOUNT_DATA_MAX) {
    const hint =
      ctx.layersBase === undefined
        ? 'pass layersBase (a directory above the layers) so they can be given as relative paths'
        : 'even with layer paths relative to layersBase';
    throw new TsdockError(`cannot mount the container rootfs: the overlay options for ${ctx.layers.length} layers are ${bytes} bytes, over mount(2)'s 4096-byte page; ${hint}`);
  }
  return ctx.layersBase !== undefined ? { data, chdir: ctx.layersBase } : { data };
}

const isBind = (m: Mount) => m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');

/** The steps for one spec mount (before pivot_root, target inside `root`). */
export function mountSteps(m: Mount, root: string, recursiveReadOnly = true): PlanStep[] {
  const { flags, propagation, data } = parseMountOptions(m.options);
  const label = `mount ${m.destination}`;
  const steps: PlanStep[] = [];
  if (isBind(m)) {
    if (!m.source) throw new TsdockError(`${label}: a bind mount needs a source`);
    const bind = flags & (MS.BIND | MS.REC);
    steps.push({ op: 'mount', source: m.source, target: m.destination, fstype: '', flags: bind | MS.BIND, data: '', root, create: m['tsdock.sourceType'] ?? 'dir', label });
    const rest = flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
    if (rest !== 0) {
      const remount: PlanStep = { op: 'mount', source: '', target: m.destination, fstype: '', flags: MS.REMOUNT | MS.BIND | rest, data: '', root, label: `${label} (remount)` };
      // a remount changes the bound mount only: submounts of an rbind stay writable unless set recursively
      if (recursiveReadOnly && flags & MS.REC && rest & MS.RDONLY) remount.recursiveAttrs = MOUNT_ATTR.RDONLY;
      steps.push(remount);
    }
  } else {
    if (!m.type) throw new TsdockError(`${label}: no filesystem type`);
    steps.push({ op: 'mount', source: m.source ?? m.type, target: m.destination, fstype: m.type, flags, data, root, create: 'dir', label });
  }
  if (propagation !== 0) steps.push({ op: 'mount', source: '', target: m.destination, fstype: '', flags: propagation, data: '', root, label: `${label} (propagation)` });
  return steps;
}

/**
 * Where execve looks for argv[0], PATH lookup done here: a name with a "/" is its own only candidate (relative
 * to the working directory when not absolute); else each PATH entry (the container's PATH, or the default) in
 * order, an empty or relative entry counting from the working directory.
 */
export function execCandidates(arg0: string, env: readonly string[], cwd: string): string[] {
  if (arg0 === '') return [];
  if (arg0.includes('/')) return [arg0.startsWith('/') ? arg0 : path.posix.join(cwd, arg0)];
  const pathEnv = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH_ENV;
  const out: string[] = [];
  for (const dir of pathEnv.split(':')) {
    const abs = dir === '' ? cwd : dir.startsWith('/') ? dir : path.posix.join(cwd, dir);
    const candidate = path.posix.join(abs, arg0);
    if (!out.includes(candidate)) out.push(candidate);
  }
  return out;
}

const RLIM_INFINITY = 0xffffffffffffffffn;
const toRlim = (n: number): bigint => (n < 0 || n >= 2 ** 63 ? RLIM_INFINITY : BigInt(Math.floor(n)));

const S_IFMT: Readonly<Record<LinuxDevice['type'], number>> = { c: 0o020000, u: 0o020000, b: 0o060000, p: 0o010000 };

/** The process part of a plan from the spec (also used by exec, with the exec'd command in spec.process). */
export function planProcess(spec: Spec): PlanProcess {
  const p = spec.process;
  if (!p) throw new TsdockError('the spec has no process');
  const args = p.args ?? [];
  if (args.length === 0) throw new TsdockError('the spec has no process args');
  const env = p.env ?? [];
  const caps = p.capabilities ?? {};
  const rlimits: Rlimit[] = (p.rlimits ?? []).map((r) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new TsdockError(`unknown rlimit type ${JSON.stringify(r.type)}`);
    return { resource, soft: toRlim(r.soft), hard: toRlim(r.hard) };
  });
  const proc: PlanProcess = {
    args,
    candidates: execCandidates(args[0]!, env, p.cwd),
    env,
    cwd: p.cwd,
    uid: p.user.uid,
    gid: p.user.gid,
    additionalGids: p.user.additionalGids ?? [],
    noNewPrivileges: p.noNewPrivileges ?? false,
    capabilities: {
      bounding: capabilityMask(caps.bounding ?? []),
      effective: capabilityMask(caps.effective ?? []),
      permitted: capabilityMask(caps.permitted ?? []),
      inheritable: capabilityMask(caps.inheritable ?? []),
      ambient: capabilityMask(caps.ambient ?? []),
    },
    rlimits,
    terminal: p.terminal ?? false,
  };
  if (p.user.umask !== undefined) proc.umask = p.user.umask;
  if (p.oomScoreAdj !== undefined) proc.oomScoreAdj = p.oomScoreAdj;
  // proc.seccomp stays undefined: the caller compiles the profile (src/ocispec/seccomp/) and fills the BPF bytes
  return proc;
}

export function buildPlan(spec: Spec, ctx: PlanContext): ExecPlan {
  const root = spec.root?.path;
  if (!root || !root.startsWith('/')) throw new TsdockError('the spec has no absolute root.path');
  const linux = spec.linux ?? {};

  // clone flags from the namespaces; joining (path) is not something this executor does
  let cloneFlags = 0;
  for (const ns of linux.namespaces ?? []) {
    if (ns.path) throw new TsdockError(`joining an existing ${ns.type} namespace (${ns.path}) is not supported`);
    const f = NS_FLAGS[ns.type];
    if (f === undefined) throw new TsdockError(`the ${ns.type} namespace is not supported`);
    cloneFlags |= f;
  }
  if (!(cloneFlags & CLONE.NEWNS)) throw new TsdockError('the spec needs a mount namespace');
  let idMaps: IdMapPlan | undefined;
  if (cloneFlags & CLONE.NEWUSER) {
    const conv = (m: { containerID: number; hostID: number; size: number }) => ({ containerId: m.containerID, hostId: m.hostID, size: m.size });
    if (!linux.uidMappings?.length || !linux.gidMappings?.length) throw new TsdockError('a user namespace needs uidMappings and gidMappings');
    idMaps = { kind: 'write', uidMap: linux.uidMappings.map(conv), gidMap: linux.gidMappings.map(conv), setgroups: 'allow' };
  }

  const steps: PlanStep[] = [];

  // 1. keep our mounts from propagating to the host (runc's default rslave)
  const rp = linux.rootfsPropagation ?? '';
  steps.push({ op: 'propagation', path: '/', flags: MS.REC | (rp === 'private' || rp === 'rprivate' ? MS.PRIVATE : MS.SLAVE) });

  // 2-3. the rootfs: the overlay of the layers, or (the copying "vfs" driver) a bind of a private full copy
  const nodev = ctx.rootfsNodev ? MS.NODEV : 0;
  if (ctx.copiedRootfs) {
    steps.push({ op: 'mount', source: ctx.copiedRootfs, target: root, fstype: '', flags: MS.BIND | MS.REC, data: '', label: 'rootfs copy' });
    if (nodev) steps.push({ op: 'mount', source: '', target: root, fstype: '', flags: MS.REMOUNT | MS.BIND | nodev, data: '', label: 'rootfs copy (remount)' });
  } else {
    const overlay = overlayMountData(ctx);
    if (overlay.chdir) steps.push({ op: 'chdir', path: overlay.chdir });
    steps.push({ op: 'mount', source: 'overlay', target: root, fstype: 'overlay', flags: nodev, data: overlay.data, label: 'rootfs overlay' });
  }

  // 4. the spec's mounts, in order, inside the rootfs
  for (const m of spec.mounts ?? []) steps.push(...(m.type === 'cgroup' ? cgroupMountSteps(m, root, ctx.cgroupFs) : mountSteps(m, root, ctx.recursiveReadOnly ?? true)));

  // 5. rootless: devices are binds of the host's nodes (mknod is refused in a user namespace)
  const devices = [...DEFAULT_DEVICES];
  for (const d of linux.devices ?? []) {
    const i = devices.findIndex((x) => x.path === d.path);
    if (i >= 0) devices[i] = d;
    else devices.push(d);
  }
  if (ctx.rootless) {
    for (const d of devices) {
      steps.push({ op: 'mount', source: d.path, target: d.path, fstype: '', flags: MS.BIND, data: '', root, create: 'file', label: `device ${d.path}` });
    }
  }

  // 6. the terminal as /dev/console
  if (spec.process?.terminal && ctx.consolePath) {
    steps.push({ op: 'mount', source: ctx.consolePath, target: '/dev/console', fstype: '', flags: MS.BIND, data: '', root, create: 'file', label: 'mount /dev/console' });
  }

  // 7. docker creates a missing working directory
  const cwd = spec.process?.cwd ?? '/';
  if (cwd !== '/') steps.push({ op: 'mkdir', path: cwd, mode: 0o755, root });

  // 8.
  steps.push({ op: 'pivot_root', root });

  // 9. rootful: device nodes
  if (!ctx.rootless) {
    for (const d of devices) {
      steps.push({ op: 'mknod', path: d.path, mode: S_IFMT[d.type] | (d.fileMode ?? 0o666), major: d.major, minor: d.minor, uid: d.uid ?? 0, gid: d.gid ?? 0 });
    }
  }

  // 10.
  for (const l of DEFAULT_DEV_SYMLINKS) steps.push({ op: 'symlink', target: l.target, path: l.path });

  // 11.
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) steps.push({ op: 'write', path: `/proc/sys/${key.replace(/\./g, '/')}`, data: value });

  // 12-13.
  for (const p of linux.readonlyPaths ?? []) steps.push({ op: 'readonly', path: p });
  for (const p of linux.maskedPaths ?? []) steps.push({ op: 'mask', path: p });

  // 14.
  if (spec.hostname || spec.domainname) {
    if (!(cloneFlags & CLONE.NEWUTS)) throw new TsdockError('setting the hostname needs a new uts namespace');
    if (spec.hostname) steps.push({ op: 'sethostname', name: spec.hostname });
    if (spec.domainname) steps.push({ op: 'setdomainname', name: spec.domainname });
  }

  // 15.
  if (spec.root?.readonly) steps.push({ op: 'mount', source: '', target: '/', fstype: '', flags: MS.REMOUNT | MS.BIND | MS.RDONLY | nodev, data: '', label: 'read-only rootfs' });

  const plan: ExecPlan = {
    cloneFlags,
    steps,
    process: planProcess(spec),
    init: spec.annotations?.[ANNOTATIONS.init] === 'true',
  };
  if (idMaps) plan.idMaps = idMaps;
  if (ctx.pidFile) plan.pidFile = ctx.pidFile;
  return plan;
}
