/*
 * helper.c: a network helper program the plan names (rootless networking: pasta), started after the clone with
 * the child's pid and waited for until it is ready, before the child is released.
 *
 * Plan `helper <ready> <log> <timeout-ms> <argc> <arg>...`: every argument "{pid}" becomes the child's pid, and
 * "{netns}" a path to the child's network namespace that the helper can open: /proc/self/fd/3, the namespace opened
 * by the executor and inherited (pasta drops its capabilities first, and the kernel then refuses it the child's
 * /proc/<pid>/ns files, since the child's permitted set is not a subset of its own). The
 * executor makes <ready> a FIFO and opens it for reading first; the helper is ready when it writes into it (pasta's
 * --pid file, written once its set-up is done). An argument "{readyfd}" becomes "4", the FIFO opened for writing
 * as the helper's fd 4 (slirp4netns's --ready-fd). Its stdout and stderr go to <log> (the caller reads it when the
 * start fails), stdin is /dev/null. It dies with the executor (PR_SET_PDEATHSIG), so a foreground run's helper
 * ends with the run and a detached one's with the monitor; nothing else tracks it. Errors: ENOENT when the
 * program is missing, ETIMEDOUT when it is not ready in time, ECONNREFUSED when it exited first.
 */
#include "exec.h"

const char *helper_ready, *helper_log, *helper_argv[MAX_CMD + 1];
int nhelper_argv;
long long helper_timeout_ms;

int helper_start(pid_t pid) {
  static const char *a[MAX_CMD + 1];
  char pidstr[24];
  fmt_ll(pidstr, pid);
  char nspath[40];
  snprintf(nspath, sizeof nspath, "/proc/%d/ns/net", (int)pid);
  int nsfd = open(nspath, O_RDONLY | O_CLOEXEC), e = 0;
  if (nsfd < 0) return errno;
  int readyfd = 0;
  for (int i = 0; i < nhelper_argv; i++) {
    const char *s = helper_argv[i];
    if (!strcmp(s, "{pid}")) s = pidstr;
    else if (!strcmp(s, "{netns}")) s = "/proc/self/fd/3";
    else if (!strcmp(s, "{readyfd}")) s = "4", readyfd = 1;
    a[i] = s;
  }
  a[nhelper_argv] = NULL;
  unlink(helper_ready);
  if (mkfifo(helper_ready, 0600) < 0) return e = errno, close(nsfd), e;
  int rfd = open(helper_ready, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (rfd < 0) return e = errno, close(nsfd), unlink(helper_ready), e;
  int lfd = open(helper_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (lfd < 0) return e = errno, close(rfd), close(nsfd), unlink(helper_ready), e;
  int ex[2]; /* the exec's outcome: closed on success (CLOEXEC), an errno otherwise */
  if (pipe2(ex, O_CLOEXEC) < 0) return e = errno, close(rfd), close(lfd), close(nsfd), unlink(helper_ready), e;
  pid_t parent = getpid(), h = fork();
  if (h < 0) return e = errno, close(rfd), close(lfd), close(nsfd), close(ex[0]), close(ex[1]), unlink(helper_ready), e;
  if (h == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent || nul < 0 || dup2(nul, 0) < 0 || dup2(lfd, 1) < 0 || dup2(lfd, 2) < 0) _exit(125);
    if (nsfd == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(nsfd, 3) < 0) _exit(125); /* dup2 clears FD_CLOEXEC */
    if (readyfd) { /* the reader is open: a non-blocking open for writing cannot fail with ENXIO */
      int w = open(helper_ready, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (w < 0 || (w == 4 ? fcntl(4, F_SETFD, 0) < 0 : dup2(w, 4) < 0)) _exit(125);
      if (w != 4) close(w);
      int fl = fcntl(4, F_GETFL);
      if (fl < 0 || fcntl(4, F_SETFL, fl & ~O_NONBLOCK) < 0) _exit(125);
    }
    execvp(a[0], (char *const *)a);
    int err = errno;
    (void)!write(ex[1], &err, sizeof err);
    _exit(127);
  }
  close(lfd);
  close(nsfd);
  close(ex[1]);
  int err = 0;
  ssize_t n;
  do n = read(ex[0], &err, sizeof err); while (n < 0 && errno == EINTR);
  close(ex[0]);
  if (n == (ssize_t)sizeof err) {
    while (waitpid(h, NULL, 0) < 0 && errno == EINTR) {}
    close(rfd), unlink(helper_ready);
    return err;
  }
  int pfd = (int)syscall(SYS_pidfd_open, h, 0);
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    long long left = helper_timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000LL + (t.tv_nsec - t0.tv_nsec) / 1000000);
    if (left <= 0) { e = ETIMEDOUT; break; }
    struct pollfd p[2] = { { .fd = rfd, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
    /* without a pidfd (old kernels): poll in slices and look for the helper's end */
    int r = poll(p, pfd >= 0 ? 2 : 1, pfd >= 0 ? (int)left : (left < 20 ? (int)left : 20));
    if (r < 0 && errno != EINTR) { e = errno; break; }
    char b[32];
    if (r > 0 && (p[0].revents & POLLIN) && read(rfd, b, sizeof b) > 0) break; /* ready */
    if ((pfd >= 0 && (p[1].revents & POLLIN)) || (pfd < 0 && waitpid(h, NULL, WNOHANG) == h)) { e = ECONNREFUSED; break; }
  }
  if (e) kill(h, SIGKILL), waitpid(h, NULL, 0);
  if (pfd >= 0) close(pfd);
  close(rfd);
  unlink(helper_ready);
  return e;
}
