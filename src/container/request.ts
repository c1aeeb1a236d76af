/**
 * The one typed request a container is created from, shaped like the Docker Engine API's `POST /containers/create`
 * body: the container's Config at the top level, with HostConfig and NetworkingConfig beside it. Docker's field
 * names and units (bytes, NanoCpus, nanosecond durations, RestartPolicy, typed Mounts). Every front end (the CLI's
 * flags, later compose, `kube play` and the API socket) builds one of these; nothing below the CLI sees a flag.
 *
 * What dockerd itself parses stays a string here, as in the API: `Binds` (`SRC:DST[:OPTS]`), `Tmpfs` options,
 * `SecurityOpt` (`seccomp=` carries the profile's JSON content, read by the client), `LogConfig.Config`.
 */
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
  /** none | host */
  NetworkMode?: string;
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

/** docker's network.NetworkingConfig; no endpoint settings yet (networking is issue 11) */
export interface NetworkingConfig {
  EndpointsConfig?: Record<string, Record<string, never>>;
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
  if (mode !== 'none' && mode !== 'host' && mode !== 'default') throw new UsageError(`network mode "${mode}" is not supported yet: none or host`);
}

/** the network mode a request asks for ('default' and absent mean tsdock's default, none) */
export function networkMode(r: Pick<CreateRequest, 'HostConfig'>): 'none' | 'host' {
  return r.HostConfig.NetworkMode === 'host' ? 'host' : 'none';
}
