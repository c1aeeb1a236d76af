/**
 * The one typed request a container is created from, shaped like the Docker Engine API's `POST /containers/create`
 * body: the container's Config at the top level, with HostConfig and NetworkingConfig beside it. Docker's field
 * names and units (bytes, NanoCpus, nanosecond durations, RestartPolicy, typed Mounts). Every front end (the CLI's
 * flags, later compose, `kube play` and the API socket) builds one of these; nothing below the CLI sees a flag.
 *
 * What dockerd itself parses stays a string here, as in the API: `Binds` (`SRC:DST[:OPTS]`), `Tmpfs` options,
 * `SecurityOpt` (`seccomp=` carries the profile's JSON content, read by the client), `LogConfig.Config`.
 */
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import type { HealthConfig } from '../image/manifest.js';
import type { HostResources } from '../ocispec/resources.js';
import type { EngineMount } from '../ocispec/mounts.js';
import type { Ulimit } from '../ocispec/process.js';

/** docker's mount.Mount and units.Ulimit: defined where they are checked, part of the request */
export type { EngineMount as Mount, Ulimit };
type Mount = EngineMount;

/** docker's container.Config (the create body's top level) */
export interface ContainerConfig {
  Hostname?: string;
  Domainname?: string;
  /** `name|uid[:group|gid]`; empty: the image's */
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  /** `K=V`, or a bare `K`: unset K (also one the image sets) */
  Env?: string[];
  /** null/absent: the image's Cmd */
  Cmd?: string[] | null;
  /** absent: docker's Healthcheck of the image; `Test: ["NONE"]` disables it; durations in nanoseconds */
  Healthcheck?: HealthConfig;
  /** the image as the user named it */
  Image: string;
  /** anonymous volumes: container paths → {} */
  Volumes?: Record<string, Record<string, never>> | null;
  WorkingDir?: string;
  /** null/absent: the image's; `[""]` clears it (and the image's Cmd) */
  Entrypoint?: string[] | null;
  Labels?: Record<string, string>;
  StopSignal?: string;
  /** `--expose` (and the image's EXPOSE, merged at create): "80/tcp" → {} */
  ExposedPorts?: Record<string, Record<string, never>>;
}

/** docker's nat.PortBinding: HostPort "" = a free port chosen at start; HostIp "" = every address */
export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** docker's container.RestartPolicy */
export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount: number;
}

export interface LogConfig {
  /** only k8s-file: tsdock's one log driver */
  Type: string;
  Config: Record<string, string>;
}

/** docker's container.Resources that tsdock honours (the cgroup limits, plus its Ulimits and CgroupParent) */
export type Resources = Partial<Omit<HostResources, 'OomScoreAdj'>> & {
  Ulimits?: Ulimit[];
  CgroupParent?: string;
};

/** docker's container.HostConfig: the fields tsdock honours */
export interface HostConfig extends Resources {
  /** `-v`: `SRC:DST[:OPTS]` with an absolute host path or a volume name as SRC */
  Binds?: string[];
  LogConfig?: LogConfig;
  /** none | host | bridge | default | container:<name|id> | <network name> */
  NetworkMode?: string;
  /** `-p`: "80/tcp" → the host side(s) */
  PortBindings?: Record<string, PortBinding[]>;
  /** `-P`: every exposed port gets a free host port */
  PublishAllPorts?: boolean;
  /** `--add-host name:ip` (ip may be `host-gateway`) */
  ExtraHosts?: string[];
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  CapAdd?: string[];
  CapDrop?: string[];
  OomScoreAdj?: number;
  Privileged?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[];
  /** container path → tmpfs options (`size=64m,mode=1777`) */
  Tmpfs?: Record<string, string>;
  Mounts?: Mount[];
  Init?: boolean;
}

/** docker's network.EndpointSettings: what a container asks of one network */
export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string };
  Aliases?: string[];
  MacAddress?: string;
}

/** docker's network.NetworkingConfig: network name → endpoint settings (`--ip`, `--network-alias`, `--mac-address`) */
export interface NetworkingConfig {
  EndpointsConfig?: Record<string, EndpointSettings>;
}

/** The create body: Config at the top level, HostConfig and NetworkingConfig beside it. */
export interface CreateRequest extends ContainerConfig {
  HostConfig: HostConfig;
  NetworkingConfig?: NetworkingConfig;
}

/** docker's container.UpdateConfig: what `update` may change on an existing container */
export type UpdateConfig = Omit<Resources, 'Ulimits' | 'CgroupParent'>;

const RESTART_NAMES = ['', 'no', 'always', 'unless-stopped', 'on-failure'];

/** Checks of the body as dockerd makes them before anything is created (typed values only). */
export function validateRequest(r: CreateRequest): void {
  const h = r.HostConfig;
  const policy = h.RestartPolicy;
  if (policy) {
    if (!RESTART_NAMES.includes(policy.Name)) throw new UsageError(`invalid restart policy '${policy.Name}'`);
    if (policy.MaximumRetryCount < 0) throw new UsageError('invalid restart policy: maximum retry count cannot be negative');
    if (policy.MaximumRetryCount > 0 && policy.Name !== 'on-failure') throw new UsageError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    if (h.AutoRemove && policy.Name !== '' && policy.Name !== 'no') throw new UsageError('conflicting options: cannot specify both --restart and --rm');
  }
  if (h.LogConfig && h.LogConfig.Type !== 'k8s-file') throw new UsageError(`log driver "${h.LogConfig.Type}" is not supported: tsdock logs with k8s-file`);
  for (const key of Object.keys(h.LogConfig?.Config ?? {})) {
    if (key !== 'max-size') throw new UsageError(`unknown log opt '${key}' for k8s-file log driver`);
  }
  const mode = h.NetworkMode ?? 'none';
  if (mode.startsWith('container:') && mode.length === 'container:'.length) throw new UsageError('--network container: needs a container name or id');
  if (!/^(none|host|bridge|default|container:.+|pasta:.+|slirp4netns:.+|[a-zA-Z0-9][a-zA-Z0-9_.-]*)$/.test(mode)) throw new UsageError(`invalid network mode "${mode}"`);
  const own = networkMode(r) === 'bridge';
  const rootlessNet = networkMode(r) === 'pasta' || networkMode(r) === 'slirp4netns';
  if (!own && !rootlessNet && Object.keys(h.PortBindings ?? {}).length) throw new UsageError(`conflicting options: port publishing and the network mode ${mode}`);
  if (!own && (r.NetworkingConfig?.EndpointsConfig && Object.values(r.NetworkingConfig.EndpointsConfig).some((e) => e.IPAMConfig?.IPv4Address || e.IPAMConfig?.IPv6Address || e.Aliases?.length || e.MacAddress))) {
    throw new UsageError(`conflicting options: --ip, --ip6, --mac-address and --network-alias need a bridge network, not ${mode}`);
  }
  if (mode.startsWith('container:') && (r.Hostname || h.Dns?.length || h.ExtraHosts?.length)) throw new UsageError('conflicting options: hostname, --dns and --add-host cannot be used with --network container:');
  for (const [port, bindings] of Object.entries(h.PortBindings ?? {})) {
    if (!/^\d{1,5}\/(tcp|udp|sctp)$/.test(port)) throw new UsageError(`invalid port ${port}`);
    for (const b of bindings) {
      if (b.HostIp && !isIP(b.HostIp)) throw new UsageError(`invalid IP address: ${b.HostIp}`);
      if (rootlessNet && b.HostIp.includes(':')) throw new UsageError(`publishing on [${b.HostIp}]: an IPv6 host address is published on bridge networks only, not through ${networkMode(r)}`);
    }
  }
}

/** What kind of network a request asks for: its own namespace on bridge networks, none, the host's, or another container's. */
export function networkMode(r: Pick<CreateRequest, 'HostConfig'>): 'none' | 'host' | 'bridge' | 'container' | 'pasta' | 'slirp4netns' {
  const m = r.HostConfig.NetworkMode ?? 'none';
  if (m === 'none' || m === 'host' || m === 'pasta' || m === 'slirp4netns') return m;
  if (m.startsWith('pasta:')) return 'pasta';
  if (m.startsWith('slirp4netns:')) return 'slirp4netns';
  return m.startsWith('container:') ? 'container' : 'bridge';
}

/** the options of `pasta:<options>` / `slirp4netns:<options>` (podman's comma-separated list); [] without */
export function networkModeOptions(r: Pick<CreateRequest, 'HostConfig'>): string[] {
  const m = r.HostConfig.NetworkMode ?? '';
  const i = m.indexOf(':');
  return i < 0 || m.startsWith('container:') ? [] : m.slice(i + 1).split(',').filter(Boolean);
}

/** The networks a bridge-mode request joins, in order: the mode's (`default` = bridge), then the other endpoints. */
export function requestedNetworks(r: Pick<CreateRequest, 'HostConfig' | 'NetworkingConfig'>): string[] {
  if (networkMode(r) !== 'bridge') return [];
  const m = r.HostConfig.NetworkMode!;
  const first = m === 'default' ? 'bridge' : m;
  return [first, ...Object.keys(r.NetworkingConfig?.EndpointsConfig ?? {}).filter((n) => n !== first && !(first === 'bridge' && n === 'default'))];
}

/**
 * The request with tsdock's default network filled in (docker's `default`): the `bridge` network rootful; rootless
 * the helper the caller chose (pasta, podman's default, or slirp4netns), or `none` where neither can run (the
 * caller warns). Endpoint settings given for `default` move to that name.
 */
export function withDefaultNetwork(r: CreateRequest, rootful: boolean, rootless: 'pasta' | 'slirp4netns' | 'none' = 'pasta'): CreateRequest {
  const mode = r.HostConfig.NetworkMode;
  if (mode && mode !== 'default') return r;
  const name = rootful ? 'bridge' : rootless;
  const eps = { ...(r.NetworkingConfig?.EndpointsConfig ?? {}) };
  if (eps.default) {
    eps[name] = eps.default;
    delete eps.default;
  }
  return { ...r, HostConfig: { ...r.HostConfig, NetworkMode: name }, NetworkingConfig: { EndpointsConfig: eps } };
}
