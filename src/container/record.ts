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
  };
  HostConfig: {
    AutoRemove: boolean;
    NetworkMode: string;
    RestartPolicy: { Name: string; MaximumRetryCount: number };
    Binds: string[];
    ReadonlyRootfs: boolean;
    Privileged: boolean;
    CapAdd: string[];
    CapDrop: string[];
    SecurityOpt: string[];
    Init: boolean;
    LogConfig: { Type: string; Config: Record<string, string> };
  } & Partial<import('../ocispec/resources.js').HostResources> & { CgroupParent?: string; Ulimits?: Array<{ Name: string; Soft: number; Hard: number }> };
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>;
  /** anonymous volumes created for this container (removed with `rm -v` / `--rm`) */
  AnonymousVolumes: string[];
  /** the run/create request, kept so `start` can rebuild the plan */
  Request: unknown;
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
