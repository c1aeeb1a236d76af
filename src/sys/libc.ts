import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { IKoffiLib } from 'koffi';
import { SysError } from './errors.js';

/**
 * The libc entry points tsdock calls through koffi. Loaded once, on first use, so commands that never
 * need a syscall Node lacks never pay for dlopen. Every declaration is the C prototype (ssize_t spelled
 * intptr_t, which koffi knows; glibc on x86_64/aarch64: mode_t is 32-bit, dev_t 64-bit).
 */
export interface Libc {
  flock(fd: number, op: number): number;
  mknod(path: string, mode: number, dev: bigint): number;
  lsetxattr(path: string, name: string, value: Buffer | null, size: number, flags: number): number;
  lgetxattr(path: string, name: string, value: Buffer | null, size: number): number;
  llistxattr(path: string, list: Buffer | null, size: number): number;
  renameat2(olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number): number;
  posix_openpt(flags: number): number;
  grantpt(fd: number): number;
  unlockpt(fd: number): number;
  /** returns 0 or an error number (not -1/errno) */
  ptsname_r(fd: number, buf: Buffer, size: number): number;
  /** ioctl with a pointer argument (declared non-variadic: same calling convention on x86_64/aarch64 Linux) */
  ioctl(fd: number, request: number, arg: Buffer | null): number;
  /** fcntl with an int argument (F_GETFL/F_SETFL/F_GETFD/F_SETFD) */
  fcntl(fd: number, cmd: number, arg: number): number;
  memfd_create(name: string, flags: number): number;
  /** openat2(2) through syscall(2): glibc 2.36 has no wrapper */
  openat2(dirfd: number, path: string, how: Buffer, size: number): number;
  pipe2(fds: Int32Array, flags: number): number;
  waitpid(pid: number, status: Int32Array, options: number): number;
  /** the posix_spawn family returns an error number (0: success); the opaque structs are Buffers of room enough */
  posix_spawn(pid: Int32Array, path: string, actions: Buffer, attr: Buffer, argv: Array<string | null>, envp: Array<string | null>): number;
  posix_spawn_file_actions_init(actions: Buffer): number;
  posix_spawn_file_actions_destroy(actions: Buffer): number;
  posix_spawn_file_actions_adddup2(actions: Buffer, fd: number, newfd: number): number;
  posix_spawnattr_init(attr: Buffer): number;
  posix_spawnattr_destroy(attr: Buffer): number;
  posix_spawnattr_setflags(attr: Buffer, flags: number): number;
  posix_spawnattr_setsigdefault(attr: Buffer, set: Buffer): number;
  posix_spawnattr_setsigmask(attr: Buffer, set: Buffer): number;
}

/** glibc first; musl names so an Alpine-built node still finds its libc. */
const CANDIDATES = ['libc.so.6', 'libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1', 'libc.so'];

let cached: Libc | undefined;
let koffiModule: typeof import('koffi') | undefined;

/**
 * koffi itself is loaded on first use too. Its addon is required directly where the package ships one for this
 * platform: koffi's index.js spends ~6 ms before that (its installer helpers load https, zlib and crypto) only to
 * find the same file and add deprecated aliases. Anything else (another triplet, musl, a version mismatch) takes
 * the package's own entry.
 */
function koffi(): typeof import('koffi') {
  if (koffiModule) return koffiModule;
  const req = createRequire(import.meta.url);
  try {
    const pkgFile = req.resolve('koffi/package.json');
    const native = req(path.join(path.dirname(pkgFile), 'build', 'koffi', `${process.platform}_${process.arch}`, 'koffi.node')) as typeof import('koffi') & { version?: string };
    const pkg = req(pkgFile) as { version: string };
    if (native.version === pkg.version) koffiModule = native;
  } catch {
    // the package's entry below
  }
  koffiModule ??= req('koffi') as typeof import('koffi');
  return koffiModule;
}

export function libc(): Libc {
  if (cached) return cached;
  let lib: IKoffiLib | undefined;
  const failures: string[] = [];
  for (const name of CANDIDATES) {
    try {
      lib = koffi().load(name);
      break;
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (!lib) throw new Error(`cannot load libc (${failures.join('; ')})`);
  const fns: Libc = {
    flock: lib.func('int flock(int fd, int op)'),
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, void *value, size_t size)'),
    llistxattr: lib.func('intptr_t llistxattr(const char *path, void *list, size_t size)'),
    renameat2: lib.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)'),
    posix_openpt: lib.func('int posix_openpt(int flags)'),
    grantpt: lib.func('int grantpt(int fd)'),
    unlockpt: lib.func('int unlockpt(int fd)'),
    ptsname_r: lib.func('int ptsname_r(int fd, void *buf, size_t buflen)'),
    ioctl: lib.func('int ioctl(int fd, unsigned long request, void *arg)'),
    fcntl: lib.func('int fcntl(int fd, int cmd, int arg)'),
    memfd_create: lib.func('int memfd_create(const char *name, unsigned int flags)'),
    openat2: openat2Of(lib),
    pipe2: lib.func('int pipe2(int *fds, int flags)'),
    waitpid: lib.func('int waitpid(int pid, int *status, int options)'),
    posix_spawn: lib.func('int posix_spawn(int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)'),
    posix_spawn_file_actions_init: lib.func('int posix_spawn_file_actions_init(void *actions)'),
    posix_spawn_file_actions_destroy: lib.func('int posix_spawn_file_actions_destroy(void *actions)'),
    posix_spawn_file_actions_adddup2: lib.func('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)'),
    posix_spawnattr_init: lib.func('int posix_spawnattr_init(void *attr)'),
    posix_spawnattr_destroy: lib.func('int posix_spawnattr_destroy(void *attr)'),
    posix_spawnattr_setflags: lib.func('int posix_spawnattr_setflags(void *attr, short flags)'),
    posix_spawnattr_setsigdefault: lib.func('int posix_spawnattr_setsigdefault(void *attr, const void *set)'),
    posix_spawnattr_setsigmask: lib.func('int posix_spawnattr_setsigmask(void *attr, const void *set)'),
  };
  cached = fns;
  return fns;
}

/** syscall numbers of openat2: the same on x86_64 and aarch64 (the unified table since Linux 5.6) */
const SYS_OPENAT2 = 437;

function openat2Of(lib: IKoffiLib): Libc['openat2'] {
  const syscall = lib.func('long syscall(long nr, ...)');
  return (dirfd, path, how, size) => syscall(SYS_OPENAT2, 'int', dirfd, 'const char *', path, 'void *', how, 'size_t', size) as number;
}

const EINTR = os.constants.errno.EINTR;

/**
 * Run one libc call: retry on EINTR (the one place that does), and return either the non-negative result
 * or the errno, read immediately after the failing call.
 */
export function invoke(call: () => number | bigint): { result: number; errno: 0 } | { result: -1; errno: number } {
  for (;;) {
    const raw = call();
    const result = typeof raw === 'bigint' ? Number(raw) : raw;
    if (result >= 0) return { result, errno: 0 };
    const errno = koffi().errno();
    if (errno === EINTR) continue;
    return { result: -1, errno };
  }
}

/** Like invoke, but a failure throws SysError(syscall, errno, path). */
export function check(syscall: string, path: string | undefined, call: () => number | bigint): number {
  const r = invoke(call);
  if (r.errno !== 0) throw new SysError(syscall, r.errno, path);
  return r.result;
}
