import fs from 'node:fs';
import type { Writable } from 'node:stream';
import type { Context, ProgressEvent } from '../context.js';
import { ensureRuntimeDir, ensureStoreDir } from '../config/dirs.js';
import { resolvePaths } from '../config/paths.js';
import { TsdockError } from '../errors.js';

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
  readonly stdout: Writable & { isTTY?: boolean; columns?: number };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  global: GlobalOptions = {};
  /** set by a command that renders progress, consumed by api calls */
  progress?: (event: ProgressEvent) => void;
  readonly abort = new AbortController();
  private checkedDirs = false;

  constructor(io: { stdout: CliContext['stdout']; stderr: CliContext['stderr']; env: NodeJS.ProcessEnv }) {
    this.stdout = io.stdout;
    this.stderr = io.stderr;
    this.env = io.env;
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
    this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
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
   */
  api(opts: { existing?: boolean } = {}): Context {
    const paths = resolvePaths(this.env, { root: this.global.root, runRoot: this.global.runroot });
    if (opts.existing && !fs.existsSync(paths.root)) throw new TsdockError(`no store at ${paths.root}`);
    if (!this.checkedDirs && !opts.existing) {
      ensureStoreDir(paths.root);
      ensureRuntimeDir(paths.runRoot);
      this.checkedDirs = true;
    }
    const stdin = this.stdout === process.stdout ? () => process.stdin : () => undefined;
    return {
      get stdin() {
        return stdin();
      },
      stdout: this.stdout,
      stderr: this.stderr,
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
