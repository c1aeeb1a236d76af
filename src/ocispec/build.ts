/**
 * buildSpec: image config + the create request's values → an OCI runtime spec (config.json), docker's defaults and rules.
 * Pure: everything it needs from the host (env, passwd/group contents, rlimits, hostname, resolved mounts) is in
 * SpecInput, so the output is golden-tested.
 *
 * What it decides, in brief:
 * - namespaces mount, network (only with --network none: host shares the host's), uts, pid, ipc, cgroup; never
 *   user (rootless tsdock already runs inside its own user namespace, docs/run-design.md);
 * - process: argv (Entrypoint/Cmd), env, cwd, user, docker's 14 capabilities (bounding = effective =
 *   permitted, no inheritable/ambient), rlimits, noNewPrivileges, terminal = -t, umask 0022;
 * - mounts: docker's standard list (rootless variants, see defaults.ts), the user's mounts and the generated
 *   /etc/hosts, /etc/hostname, /etc/resolv.conf, sorted parents-first;
 * - masked and read-only paths (none with --privileged or systempaths=unconfined);
 * - root.readonly for --read-only (docker adds no tmpfs; the other non-user mounts become ro too);
 * - docker's default sysctls for a new network namespace.
 * The seccomp profile is not compiled here: the choice is returned (and recorded as an annotation) and the
 * caller hands the profile to src/ocispec/seccomp/.
 */
import path from 'node:path';
import { TsdockError, UsageError } from '../errors.js';
import type { ImageConfig } from '../image/manifest.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, DEFAULT_UMASK, defaultMounts } from './defaults.js';
import { etcFiles, type NetworkMode } from './etc-files.js';
import { deviceRules } from './devices.js';
import { mergeTmpfsOptions, type ResolvedMount } from './mounts.js';
import { mergeEnv, resolveArgs, resolveRlimits, resolveUser, resolveWorkdir, type ExecUser, type Ulimit } from './process.js';
import { parseSecurityOpts, resolveCapabilities, type SeccompChoice } from './security.js';
import { OCI_VERSION, type LinuxNamespace, type Mount, type Spec } from './types.js';

/** Annotations tsdock writes into config.json */
export const ANNOTATIONS = {
  manager: 'io.container.manager',
  image: 'io.tsdock.image',
  name: 'io.tsdock.name',
  /** "true": the executor runs as pid 1 (a reaper forwarding signals) with the command as its child */
  init: 'io.tsdock.init',
  /** "default" | "unconfined" | "profile:<path>" */
  seccomp: 'io.tsdock.seccomp',
} as const;

export interface RunSpecOptions {
  /** the arguments after the image name */
  command: string[];
  /** Config.Entrypoint; `[""]` clears the image's entrypoint (and its Cmd) */
  entrypoint?: string[] | null;
  /** Config.Env: `K=V`, or a bare `K` that unsets K (the client already resolved `-e K` from its environment) */
  env?: string[];
  /** `-w` */
  workdir?: string;
  /** `-u` (else, also when empty, the image's User) */
  user?: string;
  /** `--group-add` */
  groupAdd?: string[];
  /** `-h`; default: the short container id, or the host's hostname with --network host (docker) */
  hostname?: string;
  /** `--domainname` */
  domainname?: string;
  tty?: boolean;
  /** `-i`: stdin stays open; nothing in the spec depends on it */
  interactive?: boolean;
  /** `--read-only` */
  readOnly?: boolean;
  /** HostConfig.Mounts, Binds, Volumes and Tmpfs, and the image's volumes, after the caller resolved them (mounts.ts) */
  mounts?: ResolvedMount[];
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  /** HostConfig.SecurityOpt (`seccomp=` with the profile's JSON content) */
  securityOpt?: string[];
  /** `--init` */
  init?: boolean;
  network: NetworkMode;
  /** HostConfig.Ulimits */
  ulimits?: Ulimit[];
  /** raw `--sysctl` values, `KEY=VALUE` */
  sysctls?: string[];
  /** `--shm-size` in bytes; default 64 MiB */
  shmSize?: number;
  /** cgroup limits (spec/resources.ts) and the cgroup's path, as recorded in linux.resources / cgroupsPath */
  resources?: import('./types.js').LinuxResources;
  cgroupsPath?: string;
  /** `--oom-score-adj` (0: leave the inherited value) */
  oomScoreAdj?: number;
}

export interface SpecInput {
  image: { config: ImageConfig; ref: string };
  options: RunSpecOptions;
  /** the image's /etc/passwd and /etc/group contents; undefined when the image has none */
  passwd?: string;
  group?: string;
  /** absolute path of the container's rootfs mount point (root.path) */
  rootfs: string;
  containerId: string;
  name: string;
  /** host paths of the generated files, bind-mounted read-write (read-only with --read-only) */
  files: { hosts: string; hostname: string; resolvConf: string; seccompProfile?: string };
  rootless: boolean;
  /** current RLIMIT_NOFILE / RLIMIT_NPROC hard limits: the defaults are capped to them, --ulimit checked */
  hardNofile?: number;
  hardNproc?: number;
  /** /proc/sys/kernel/cap_last_cap; default 40 (CAP_CHECKPOINT_RESTORE) */
  lastCap?: number;
  /** tsdock's own capability bounding set (/proc/self/status CapBnd): --privileged gets what it holds */
  hostBounding?: bigint;
  /** the host's hostname, the default hostname with --network host */
  hostHostname?: string;
  /** the host's /etc/hosts and /etc/resolv.conf contents, used with --network host */
  hostHosts?: string;
  hostResolvConf?: string;
}

export interface SpecResult {
  spec: Spec;
  /** things accepted but not honoured (SELinux labels, AppArmor, --privileged host devices...) */
  warnings: string[];
  /** the seccomp profile to compile and load (unconfined: none) */
  seccomp: SeccompChoice;
  /** the resolved user, e.g. for the working directory's owner or messages */
  user: ExecUser;
  /** contents for input.files (the caller writes them before starting the container) */
  etc: { hosts: string; hostname: string; resolvConf: string };
}

/** The mounts --read-only leaves writable (moby withMounts). */
const READONLY_EXEMPT = ['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev'];

/** docker's --sysctl allow-list (docker/cli ValidateSysctl): IPC-namespaced kernel.* keys, fs.mqueue.*, net.* */
const SYSCTL_IPC_KEYS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'];

export function parseSysctls(values: readonly string[], network: NetworkMode): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`sysctl '${v}' is not whitelisted`);
    const key = v.slice(0, eq);
    const allowed = SYSCTL_IPC_KEYS.includes(key) || key.startsWith('fs.mqueue.') || key.startsWith('net.');
    if (!allowed) throw new UsageError(`sysctl '${v}' is not whitelisted`);
    if (key.startsWith('net.') && network === 'host') throw new UsageError(`sysctl "${key}" not allowed in host network namespace`);
    out[key] = v.slice(eq + 1);
  }
  return out;
}

/** Default hostname: `-h`, else the host's with --network host, else the first 12 characters of the id. */
export function containerHostname(input: Pick<SpecInput, 'options' | 'containerId' | 'hostHostname'>): string {
  const h = input.options.hostname ?? (input.options.network === 'host' && input.hostHostname ? input.hostHostname : input.containerId.slice(0, 12));
  if (h === '' || h.length > 64) throw new UsageError(`invalid hostname ${JSON.stringify(h)}: a hostname has 1 to 64 characters`);
  if (/[\s/\0]/.test(h)) throw new UsageError(`invalid hostname ${JSON.stringify(h)}`);
  return h;
}

const depth = (p: string) => path.posix.normalize(p).split('/').filter(Boolean).length;

/**
 * A resolved user mount as an OCI mount, with docker's options; binds and volumes `nodev` when `nodev` (rootful,
 * not --privileged) unless at or below /dev: a device node in a volume cannot be opened, as in a rootless container.
 */
function userMount(m: ResolvedMount, warnings: string[], nodev: boolean): Mount {
  for (const o of m.options) {
    if (o === 'z' || o === 'Z') warnings.push(`mount ${m.target}: SELinux relabel option ${o} ignored`);
  }
  if (m.type === 'tmpfs') {
    const opts = mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', ...(m.readonly ? ['ro'] : []), ...m.options]);
    return { destination: m.target, type: 'tmpfs', source: 'tmpfs', options: opts };
  }
  if (m.source === undefined || !m.source.startsWith('/')) {
    throw new TsdockError(`mount ${m.target}: ${m.type} source ${JSON.stringify(m.source ?? m.volumeName ?? '')} was not resolved to an absolute host path`);
  }
  const options = [m.options.includes('bind') ? 'bind' : 'rbind'];
  if (m.readonly) options.push('ro');
  if (nodev && m.target !== '/dev' && !m.target.startsWith('/dev/')) options.push('nodev');
  const propagation = m.options.find((o) => ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared'].includes(o));
  if (propagation) options.push(propagation);
  else if (m.type === 'bind') options.push('rprivate');
  if (propagation === 'shared' || propagation === 'rshared') {
    warnings.push(`mount ${m.target}: ${propagation} propagation does not reach the host (tsdock makes the container's mount namespace a slave of the host's)`);
  }
  const out: Mount = { destination: m.target, type: 'bind', source: m.source, options };
  if (m.sourceType === 'file') out['tsdock.sourceType'] = 'file';
  return out;
}

export function buildSpec(input: SpecInput): SpecResult {
  const o = input.options;
  const warnings: string[] = [];
  const imageConfig = input.image.config.config;

  // security first: its errors are about flags, cheapest to report
  const security = parseSecurityOpts(o.securityOpt ?? [], o.privileged ?? false);
  // a profile's content is kept with the container: the annotation names that copy
  const seccompFile = input.files.seccompProfile ?? `${path.posix.dirname(input.files.hosts)}/seccomp.json`;
  warnings.push(...security.warnings);
  const caps = resolveCapabilities({ capAdd: o.capAdd, capDrop: o.capDrop, privileged: o.privileged, lastCap: input.lastCap, bounding: input.hostBounding });
  if (o.privileged) warnings.push('--privileged: host devices are not added to the container, only the default ones');

  const hostname = containerHostname(input);
  const args = resolveArgs(imageConfig, { entrypoint: o.entrypoint, command: o.command });
  // `-u ''` is no -u at all (moby merge(): an empty User takes the image's)
  const user = resolveUser(o.user || imageConfig?.User || '', { passwd: input.passwd, group: input.group }, o.groupAdd ?? []);
  const env = mergeEnv({
    imageEnv: imageConfig?.Env,
    userEnv: o.env ?? [],
    hostname,
    tty: o.tty ?? false,
    home: user.home,
  });
  const cwd = resolveWorkdir(o.workdir, imageConfig?.WorkingDir);
  const rlimits = resolveRlimits(o.ulimits ?? [], { hardNofile: input.hardNofile, hardNproc: input.hardNproc });

  // --- mounts
  const newNetns = o.network === 'none' || o.network === 'bridge' || o.network === 'pasta' || o.network === 'slirp4netns';
  const userMounts: ResolvedMount[] = o.mounts ?? [];
  const userTargets = new Set<string>();
  for (const m of userMounts) {
    if (userTargets.has(m.target)) throw new UsageError(`duplicate mount point: ${m.target}`);
    userTargets.add(m.target);
  }
  const devMounted = userTargets.has('/dev');
  const standard = defaultMounts({ rootless: input.rootless, newNetns, shmSize: o.shmSize }).filter(
    (m) => !userTargets.has(m.destination) && !(devMounted && m.destination.startsWith('/dev/')),
  );
  const etcMounts: Mount[] = (
    [
      ['/etc/resolv.conf', input.files.resolvConf],
      ['/etc/hostname', input.files.hostname],
      ['/etc/hosts', input.files.hosts],
    ] as const
  )
    .filter(([dest]) => !userTargets.has(dest))
    .map(([destination, source]) => ({ destination, type: 'bind', source, options: ['rbind', 'rprivate'], 'tsdock.sourceType': 'file' }));
  const sorted = [...userMounts.map((m) => ({ m: userMount(m, warnings, !input.rootless && !o.privileged), user: true })), ...etcMounts.map((m) => ({ m, user: false }))];
  // parents before children (moby sortMounts), stable so equal depths keep flag order
  sorted.sort((a, b) => depth(a.m.destination) - depth(b.m.destination));
  // /sys/fs/cgroup: the container's own cgroup (its cgroup namespace's root), read-only unless --privileged
  if (o.cgroupsPath && !userTargets.has('/sys/fs/cgroup') && !userTargets.has('/sys')) {
    const at = standard.findIndex((m) => m.destination === '/sys');
    standard.splice(at + 1, 0, { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', o.privileged ? 'rw' : 'ro'] });
  }
  const mounts: Mount[] = [...standard, ...sorted.map((s) => s.m)];
  if (o.readOnly) {
    const userSet = new Set(sorted.filter((s) => s.user).map((s) => s.m.destination));
    for (const m of mounts) {
      if (READONLY_EXEMPT.includes(m.destination) || userSet.has(m.destination)) continue;
      if (!m.options?.includes('ro')) m.options = [...(m.options ?? []), 'ro'];
    }
  }
  if (o.privileged) {
    for (const m of mounts) if (m.destination === '/sys') m.options = (m.options ?? []).filter((x) => x !== 'ro');
  }

  // --- namespaces: docker's order
  const namespaces: LinuxNamespace[] = [{ type: 'mount' }, ...(newNetns ? [{ type: 'network' as const }] : []), { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }, { type: 'cgroup' }];

  // --- sysctls: docker's defaults for a private network namespace, then --sysctl
  const sysctl: Record<string, string> = {};
  if (newNetns) {
    // ping sockets for every gid: docker skips it in a user namespace (the gid range is not all mapped)
    if (!input.rootless) sysctl['net.ipv4.ping_group_range'] = '0 2147483647';
    sysctl['net.ipv4.ip_unprivileged_port_start'] = '0';
  }
  Object.assign(sysctl, parseSysctls(o.sysctls ?? [], o.network));

  // --- masked / read-only paths
  let maskedPaths: string[] = [];
  let readonlyPaths: string[] = [];
  if (!o.privileged && !security.unconfinedSystemPaths) {
    const unmaskAll = security.unmask.includes('ALL');
    const keep = (p: string) => !unmaskAll && !security.unmask.includes(p);
    maskedPaths = [...new Set([...DEFAULT_MASKED_PATHS.filter(keep), ...security.mask])];
    readonlyPaths = DEFAULT_READONLY_PATHS.filter(keep);
  }

  const annotations: Record<string, string> = {
    [ANNOTATIONS.manager]: 'tsdock',
    [ANNOTATIONS.image]: input.image.ref,
    [ANNOTATIONS.name]: input.name,
    [ANNOTATIONS.seccomp]: typeof security.seccomp === 'string' ? security.seccomp : `profile:${seccompFile}`,
  };
  if (o.init) annotations[ANNOTATIONS.init] = 'true';

  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: o.tty ?? false,
      user: { uid: user.uid, gid: user.gid, umask: DEFAULT_UMASK, additionalGids: user.additionalGids },
      args,
      env,
      cwd,
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps] },
      rlimits,
      noNewPrivileges: security.noNewPrivileges,
      ...(o.oomScoreAdj ? { oomScoreAdj: o.oomScoreAdj } : {}),
    },
    root: { path: input.rootfs, readonly: o.readOnly ?? false },
    hostname,
    ...(o.domainname ? { domainname: o.domainname } : {}),
    mounts,
    annotations,
    linux: {
      namespaces,
      sysctl,
      maskedPaths,
      readonlyPaths,
      // rootful: the device cgroup rules (in a user namespace mknod is refused anyway, and v2 filters need CAP_BPF)
      ...(o.cgroupsPath && !input.rootless
        ? { resources: { ...o.resources, devices: deviceRules(Boolean(o.privileged)) } }
        : o.resources && Object.keys(o.resources).length
          ? { resources: o.resources }
          : {}),
      ...(o.cgroupsPath ? { cgroupsPath: o.cgroupsPath } : {}),
    },
  };

  const etc = etcFiles({ hostname, name: input.name, network: o.network, hostHosts: input.hostHosts, hostResolvConf: input.hostResolvConf });
  const seccomp = typeof security.seccomp === 'string' ? security.seccomp : { path: seccompFile, content: security.seccomp.content };
  return { spec, warnings, seccomp, user, etc };
}
