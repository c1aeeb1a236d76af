/**
 * posix_spawn(3), pipe2(2) and waitpid(2) for the executor's start: glibc's posix_spawn clones with CLONE_VM |
 * CLONE_VFORK, so Node's ~50 MB of page tables are not copied as libuv's fork does, and no child_process, net or
 * stream module is loaded for a child whose stdio are plain descriptors. The child is not libuv's: its caller
 * reaps it with waitpid.
 */
import fs from 'node:fs';
import os from 'node:os';
import { SysError } from './errors.js';
import { check, invoke, libc } from './libc.js';

// glibc's posix_spawnattr flags
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
const F_DUPFD_CLOEXEC = 1030;
/** where the sources are moved before the child's dup2s, so no dup2 overwrites a source still to be placed */
const HIGH_FD = 100;
export const O_CLOEXEC = 0o2000000;
export const WNOHANG = 1;

// glibc's sizes are 80 (file actions), 336 (attr) and 128 (sigset_t) bytes on x86_64 and aarch64: room to spare
const FILE_ACTIONS_SIZE = 256;
const ATTR_SIZE = 512;
const SIGSET_SIZE = 256;

export interface SpawnRequest {
  file: string;
  argv: string[];
  /** the child's whole environment, as "NAME=value" */
  env: string[];
  /** fds[i] becomes the child's fd i (the parent's descriptors stay open); every other descriptor closes on exec */
  fds: number[];
  /** a new session (setsid), as child_process's `detached` */
  setsid: boolean;
}

/**
 * Start `file` as a child with `fds` in place, every signal at its default disposition and none blocked (what
 * libuv does for its children). Returns the pid; a failure (even of the exec) throws SysError.
 */
export function posixSpawn(req: SpawnRequest): number {
  const c = libc();
  const actions = Buffer.alloc(FILE_ACTIONS_SIZE);
  const attr = Buffer.alloc(ATTR_SIZE);
  const high: number[] = [];
  // the posix_spawn family returns the error number itself (0 on success), not -1 and errno
  const must = (name: string, err: number) => {
    if (err !== 0) throw new SysError(name, err, name === 'posix_spawn' ? req.file : undefined);
  };
  must('posix_spawn_file_actions_init', c.posix_spawn_file_actions_init(actions));
  try {
    must('posix_spawnattr_init', c.posix_spawnattr_init(attr));
    try {
      for (const fd of req.fds) high.push(check('fcntl', undefined, () => c.fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD)));
      // dup2 onto another number clears FD_CLOEXEC on the copy; the moved sources stay close-on-exec
      high.forEach((fd, i) => must('posix_spawn_file_actions_adddup2', c.posix_spawn_file_actions_adddup2(actions, fd, i)));
      // signals 1-64 by their bits: sigfillset leaves out glibc's own two (32, 33), which would then stay ignored
      const all = Buffer.alloc(SIGSET_SIZE);
      all.fill(0xff, 0, 8);
      const none = Buffer.alloc(SIGSET_SIZE);
      must('posix_spawnattr_setsigdefault', c.posix_spawnattr_setsigdefault(attr, all));
      must('posix_spawnattr_setsigmask', c.posix_spawnattr_setsigmask(attr, none));
      must('posix_spawnattr_setflags', c.posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (req.setsid ? POSIX_SPAWN_SETSID : 0)));
      const pid = new Int32Array(1);
      // a failed exec is reported here too: glibc's child shares the parent's memory until it execs (CLONE_VFORK)
      must('posix_spawn', c.posix_spawn(pid, req.file, actions, attr, [...req.argv, null], [...req.env, null]));
      return pid[0]!;
    } finally {
      for (const fd of high) fs.closeSync(fd);
      c.posix_spawnattr_destroy(attr);
    }
  } finally {
    c.posix_spawn_file_actions_destroy(actions);
  }
}

/** pipe2(2): [read end, write end] */
export function pipe2(flags: number): [number, number] {
  const fds = new Int32Array(2);
  check('pipe2', undefined, () => libc().pipe2(fds, flags));
  return [fds[0]!, fds[1]!];
}

export type WaitStatus = { code: number; signal: null } | { code: null; signal: NodeJS.Signals | number };

/** waitpid(2) for one child: its status, or undefined while it runs (WNOHANG). */
export function waitpid(pid: number, options: number): WaitStatus | undefined {
  const status = new Int32Array(1);
  const r = invoke(() => libc().waitpid(pid, status, options));
  if (r.errno !== 0) throw new SysError('waitpid', r.errno);
  if (r.result === 0) return undefined;
  const s = status[0]!;
  if ((s & 0x7f) === 0) return { code: (s >> 8) & 0xff, signal: null };
  const n = s & 0x7f;
  const name = Object.entries(os.constants.signals).find(([, v]) => v === n)?.[0] as NodeJS.Signals | undefined;
  return { code: null, signal: name ?? n };
}
