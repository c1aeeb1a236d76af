import fs from 'node:fs';
import type { Writable } from 'node:stream';
import type { Context, ProgressEvent } from '../context.js';
import { ensureRuntimeDir, ensureStoreDir } from '../config/dirs.js';
import { resolvePaths } from '../config/paths.js';
import { TsdockError } from '../errors.js';
import { writeAllSync } from './io/fd-write.js';

export interface GlobalOptions {
  root?: string;
  runroot?: string;
  logLevel?: string;
  storageDriver?: string;
}

/**
 * What a command file needs from the outside world. Commands write through `stdout`/`stderr` here,
 * never through process.stdout, so tests can drive them in-process.
 */
export class CliContext {
  readonly env: NodeJS.ProcessEnv;
  global: GlobalOptions = {};
  /** set by a command that renders progress, consumed by api calls */
  progress?: (event: ProgressEvent) => void;
  readonly abort = new AbortController();
  private checkedDirs = false;
  /** this process's stdout stream exists: output goes through it (see out) */
  private stdoutMade = false;

  /**
   * `io.stdout`/`io.stderr` are read when first used: main passes process.stdout and process.stderr as getters,
   * since making process.stdout a stream costs ~3 ms when it is a pipe, and a `run` whose container writes
   * straight to fd 1 never needs it. `process`: they are this process's own (stdin is then process.stdin).
   */
  constructor(private readonly io: { readonly stdout: Writable & { isTTY?: boolean; columns?: number }; readonly stderr: Writable & { isTTY?: boolean }; env: NodeJS.ProcessEnv; process?: boolean }) {
    this.env = io.env;
  }

  get stdout(): Writable & { isTTY?: boolean; columns?: number } {
    this.stdoutMade = true;
    return this.io.stdout;
  }

  get stderr(): Writable & { isTTY?: boolean } {
    return this.io.stderr;
  }

  get isTTY(): boolean {
    return Boolean(this.stdout.isTTY);
  }

  get color(): boolean {
    return Boolean(this.stderr.isTTY) && !('NO_COLOR' in this.env) && this.env.TERM !== 'dumb';
  }

  get debug(): boolean {
    return this.global.logLevel === 'debug';
  }

  out(text: string): void {
    const line = text.endsWith('\n') ? text : `${text}\n`;
    if (this.io.process && !this.stdoutMade) writeAllSync(1, line);
    else this.stdout.write(line);
  }

  warn(message: string): void {
    this.stderr.write(`WARN: ${message}\n`);
  }

  /** a line of the debug log, shown with --log-level debug only */
  debugLog(message: string): void {
    if (this.debug) this.stderr.write(`DEBU: ${message}\n`);
  }

  /**
   * The api context built from the global flags; the first call opens the store and the runtime dir (0700).
   * `existing`: for the commands a container's monitor runs (cleanup, healthcheck), which must never create a
   * store: one removed meanwhile (the container's with it) is an error, not a fresh empty store.
   * `open: false`: the paths only, nothing created or tightened (`doctor` reports on them as they are).
   */
  api(opts: { existing?: boolean; open?: boolean } = {}): Context {
    const paths = resolvePaths(this.env, { root: this.global.root, runRoot: this.global.runroot });
    if (opts.existing && !fs.existsSync(paths.root)) throw new TsdockError(`no store at ${paths.root}`);
    if (!this.checkedDirs && !opts.existing && opts.open !== false) {
      ensureStoreDir(paths.root);
      ensureRuntimeDir(paths.runRoot);
      this.checkedDirs = true;
    }
    const stdin = this.io.process ? () => process.stdin : () => undefined;
    const io = this.io;
    const made = () => (this.stdoutMade = true);
    return {
      get stdin() {
        return stdin();
      },
      get stdout() {
        made();
        return io.stdout;
      },
      get stderr() {
        return io.stderr;
      },
      ...(this.io.process ? { stdioFds: { stdin: 0, stdout: 1, stderr: 2 } } : {}),
      env: this.env,
      cwd: process.cwd(),
      signal: this.abort.signal,
      root: paths.root,
      runRoot: paths.runRoot,
      rootful: paths.rootful,
      storageDriver: this.global.storageDriver ?? (this.env.TSDOCK_STORAGE_DRIVER || undefined),
      progress: this.progress,
      notice: (m) => this.stderr.write(`${m}\n`),
      warn: (m) => this.warn(m),
      debug: (m) => this.debugLog(m),
    };
  }
}
