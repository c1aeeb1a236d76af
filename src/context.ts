import type { Readable, Writable } from 'node:stream';

/** Progress events that long operations report; the CLI renders them (bars on a TTY, lines when piped). */
export type ProgressEvent =
  | { kind: 'status'; message: string }
  | { kind: 'layer'; id: string; phase: 'waiting' | 'exists' | 'downloading' | 'verifying' | 'extracting' | 'complete'; current?: number; total?: number }
  /** push: `present` = the registry has it; `mounted` from the repository `from` of the same registry */
  | { kind: 'push'; id: string; phase: 'preparing' | 'pushing' | 'pushed' | 'present' | 'mounted'; current?: number; total?: number; from?: string }
  /** a build starts a step (`stages` > 1: podman's `[stage/stages]` prefix) */
  | { kind: 'build-step'; stage: number; stages: number; step: number; total: number; text: string }
  /** a build step's result: taken from the cache, or made now */
  | { kind: 'build-result'; stage: number; stages: number; id: string; cached: boolean }
  /** a RUN step's output, when the build reports it instead of writing it to the caller's stdout/stderr (the tty view) */
  | { kind: 'build-output'; stage: number; stages: number; data: string };

/**
 * What every api function (and the domain code it calls) gets instead of reaching for globals: output streams,
 * environment, store locations, a cancellation signal and sinks for progress, notices and warnings. Shared by
 * every layer (docs/architecture.md): domain code writes no user-facing text itself, it reports through these
 * sinks and the CLI renders them. The streams are the container's stdio (run, exec, attach), not for messages.
 */
export interface Context {
  /** the container's stdin for -i; a real fd (process.stdin) is copied by the executor (plan.relay), never handed over */
  stdin?: Readable & { fd?: number; isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable & { fd?: number; isTTY?: boolean };
  stderr: Writable & { fd?: number; isTTY?: boolean };
  /**
   * The file descriptors behind stdin/stdout/stderr when they are this process's own (0, 1, 2), known without
   * making the streams (process.stdout costs ~3 ms to create on a pipe): what the executor is handed.
   */
  stdioFds?: { stdin: number; stdout: number; stderr: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal?: AbortSignal;
  /** persistent state: images, layers, containers */
  root: string;
  /** runtime state: locks, pids, sockets */
  runRoot: string;
  /** true when running as root on the host (not rootless) */
  rootful: boolean;
  /** `--storage-driver` / TSDOCK_STORAGE_DRIVER, when given */
  storageDriver?: string;
  progress?: (event: ProgressEvent) => void;
  /** a line for the user that is neither progress nor a warning (docker's `Unable to find image 'x' locally`), on stderr */
  notice?: (message: string) => void;
  /** warnings go here (rendered by the CLI as `WARN: ...` on stderr) */
  warn?: (message: string) => void;
  /** debug log (`--log-level debug`, `DEBU: ...` on stderr; nothing otherwise): e.g. a cleanup's failure */
  debug?: (message: string) => void;
}
