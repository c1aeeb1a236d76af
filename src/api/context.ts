import type { Readable, Writable } from 'node:stream';

/** Progress events that long operations report; the CLI renders them (bars on a TTY, lines when piped). */
export type ProgressEvent =
  | { kind: 'status'; message: string }
  | { kind: 'layer'; id: string; phase: 'waiting' | 'exists' | 'downloading' | 'verifying' | 'extracting' | 'complete'; current?: number; total?: number };

/**
 * What every api function gets instead of reaching for globals: output streams, environment,
 * store locations, a cancellation signal and a progress sink.
 */
export interface Context {
  /** the container's stdin for -i; a real fd (process.stdin) is copied by the executor (plan.relay), never handed over */
  stdin?: Readable & { fd?: number; isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  stdout: Writable & { fd?: number; isTTY?: boolean };
  stderr: Writable & { fd?: number; isTTY?: boolean };
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
  /** warnings go here (rendered by the CLI as `WARN: ...` on stderr) */
  warn?: (message: string) => void;
  /** debug log (`--log-level debug`, `DEBU: ...` on stderr; nothing otherwise): e.g. a cleanup's failure */
  debug?: (message: string) => void;
}
