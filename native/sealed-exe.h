/*
 * sealed-exe.h: the executor runs from a sealed memfd copy of itself (the CVE-2019-5736 class, as runc does).
 *
 * Every mode of tsdock-exec puts a process into a container (run's init, exec's joined child, the --init reaper,
 * the monitor's init), and until that process execs the container's command its /proc/<pid>/exe is this binary.
 * An image whose command is `#!/proc/self/exe` even makes the kernel run the executor again inside the
 * container. A container process that opens that /proc/<pid>/exe could, once the executor exits, reopen the fd
 * for writing through /proc/self/fd/N and overwrite the host's binary. So at start-up, before anything else
 * (fds 3 and 4 untouched), the executor copies /proc/self/exe into memfd_create("tsdock-exec"), seals it against
 * every change (F_SEAL_SEAL|SHRINK|GROW|WRITE) and fexecve()s itself with the same argv, envp and fds. What a
 * container can reach is then a sealed anonymous file: opening it for writing works, every write fails EPERM.
 *
 * "Already sealed" is read from the running image itself (F_GET_SEALS on an fd of /proc/self/exe), never from an
 * environment variable a caller could set. No policy here: the only decision is "do it".
 */
#include <sys/sendfile.h>

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#endif
#ifndef F_SEAL_SEAL
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef SYS_memfd_create
#define SYS_memfd_create 319
#endif

#define SEALED_EXE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* 1: /proc/self/exe is already a memfd carrying every seal; 0: not; -1 with errno: cannot tell */
static int sealed_exe_running(void) {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), seals;
  if (fd < 0) return -1;
  seals = fcntl(fd, F_GET_SEALS); /* EINVAL on a file that is not a memfd (or shmem) */
  close(fd);
  return seals >= 0 && (seals & SEALED_EXE_SEALS) == SEALED_EXE_SEALS;
}

static int sealed_exe_copy(int src, int dst) {
  struct stat st;
  if (fstat(src, &st) < 0) return -1;
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = sendfile(dst, src, NULL, (size_t)left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n == 0 ? (errno = EIO, -1) : -1;
    left -= n;
  }
  return 0;
}

/* Re-executes from a sealed copy unless already there. Returns 0 when already sealed, else an errno (the
 * fexecve never returns on success). */
static int sealed_exe_ensure(char **argv, char **envp) {
  int r = sealed_exe_running(), src, mfd, e;
  if (r == 1) { /* the exec named it after the memfd ("memfd:tsdock-ex"): ps, top and --init's pid 1 show this */
    prctl(PR_SET_NAME, "tsdock-exec", 0, 0, 0);
    return 0;
  }
  if (r < 0) return errno;
  /* MFD_EXEC: executable even where vm.memfd_noexec defaults memfds to noexec (6.3+); older kernels: EINVAL */
  mfd = (int)syscall(SYS_memfd_create, "tsdock-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (mfd < 0 && errno == EINVAL) mfd = (int)syscall(SYS_memfd_create, "tsdock-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) return errno;
  src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0 || sealed_exe_copy(src, mfd) < 0 || fcntl(mfd, F_ADD_SEALS, SEALED_EXE_SEALS) < 0) {
    e = errno;
    if (src >= 0) close(src);
    close(mfd);
    return e;
  }
  close(src);
  fexecve(mfd, argv, envp);
  e = errno;
  close(mfd);
  return e;
}
