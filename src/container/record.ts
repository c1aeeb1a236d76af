import type { HostResources } from '../ocispec/resources.js';
import type { CreateRequest, HostConfig } from './request.js';

/** what records before the typed request kept as `Request`: run/create's flags (commander's names) */
export interface LegacyRequest {
  detach?: boolean;
  [flag: string]: unknown;
}

/**
 * What tsdock keeps about a container (docs/lifecycle-design.md): `container.json` is what was asked for at
 * create time, `state.json` what happened since. Field names follow docker's inspect where they overlap.
 */
export interface ContainerRecord {
  Id: string;
  Name: string;
  /** RFC3339Nano */
  Created: string;
  /** image id (sha256:...) */
  Image: string;
  /** the image as the user named it (docker's Config.Image) */
  ImageName: string;
  Path: string;
  Args: string[];
  /** storage driver of the rootfs: overlay, or vfs (a private copy in upper/) */
  Driver: 'overlay' | 'vfs';
  /**
   * its writes need not survive a host crash (podman's Volatile: `--rm` containers and build steps): the overlay
   * rootfs is mounted `volatile`, so the kernel skips syncing the upper layer's file system at unmount
   */
  Volatile?: boolean;
  Config: {
    Hostname: string;
    User: string;
    Env: string[];
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    WorkingDir: string;
    Labels: Record<string, string>;
    Tty: boolean;
    OpenStdin: boolean;
    StopSignal?: string;
    Volumes?: Record<string, object> | null;
    /** docker's Config.Healthcheck (durations in nanoseconds); absent: no healthcheck */
    Healthcheck?: import('../image/manifest.js').HealthConfig;
    ExposedPorts?: Record<string, Record<string, never>>;
  };
  /** the request's HostConfig with the resources as dockerd adjusted them (and `update` changed them) */
  HostConfig: HostConfig &
    Required<Pick<HostConfig, 'AutoRemove' | 'NetworkMode' | 'RestartPolicy' | 'Binds' | 'ReadonlyRootfs' | 'Privileged' | 'CapAdd' | 'CapDrop' | 'SecurityOpt' | 'Init' | 'LogConfig'>> &
    Partial<HostResources>;
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>;
  /** anonymous volumes created for this container (removed with `rm -v` / `--rm`) */
  AnonymousVolumes: string[];
  /**
   * The create request as it came (container/request.ts). Records written before it was typed hold the CLI's
   * flags here instead: read it with requestOf().
   */
  Request: CreateRequest | LegacyRequest;
  /** where the container's cgroup lives (absent: none, e.g. rootless on cgroup v1) */
  Cgroup?: import('../cgroups/types.js').CgroupLocation;
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  Status: ContainerStatus;
  Pid: number;
  /** /proc/<pid>/stat field 22, to tell our init from a reused pid */
  PidStartTime?: number;
  MonitorPid?: number;
  StartedAt?: string;
  FinishedAt?: string;
  ExitCode?: number;
  Error?: string;
  RestartCount: number;
  /** the monitor's /proc/<pid>/stat start time, to tell it from a reused pid (optional; else its comm is checked) */
  MonitorStartTime?: number;
  OOMKilled?: boolean;
  /** present only for containers with a health check */
  Health?: { Status: 'starting' | 'healthy' | 'unhealthy'; FailingStreak: number; Log: unknown[] };
  /** stopped with stop/kill: restart policies leave it alone */
  StoppedByUser?: boolean;
}

/** What the monitor writes when the init ends. */
export interface ExitFile {
  ExitCode: number;
  Signal: number;
  FinishedAt: string;
  /** processes the OOM killer took in the container's cgroup during this run (from the monitor or the CLI) */
  OOMKills?: number;
}

/**
 * The create request of a record, also of one written before the request was typed: that one is rebuilt from the
 * record's Config and HostConfig (docker-shaped already), and its `detach` flag.
 */
export function requestOf(r: ContainerRecord): CreateRequest {
  const req = r.Request as Partial<CreateRequest> | null | undefined;
  if (req && typeof req === 'object' && req.HostConfig && typeof req.HostConfig === 'object') return req as CreateRequest;
  const detached = Boolean((r.Request as LegacyRequest | null)?.detach);
  const c = r.Config;
  return {
    Image: r.ImageName,
    Hostname: c.Hostname,
    User: c.User,
    AttachStdin: c.OpenStdin && !detached,
    AttachStdout: !detached,
    AttachStderr: !detached,
    Tty: c.Tty,
    OpenStdin: c.OpenStdin,
    StdinOnce: c.OpenStdin && !detached,
    Env: c.Env,
    Cmd: c.Cmd,
    Entrypoint: c.Entrypoint,
    WorkingDir: c.WorkingDir,
    Labels: c.Labels,
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    HostConfig: r.HostConfig,
  };
}
