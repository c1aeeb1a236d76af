/*
 * tsdock-exec: helpers used before and after the clone (async-signal-safe: the child may call them), and the
 * state several parts share: the container's 0-2, the fds the child must close, the sync and error pipes.
 */
#include "exec.h"

int cfd[3] = { -1, -1, -1 };
int sync_r = -1, sync_w = -1, err_r = -1, err_w = -1;
sigset_t fwd_set;
int last_cap = 40;
int cg_fds[MAX_CGROUPS], cgt_fds[MAX_CGROUPS];
int cg_dirfd = -1, cgns_fd = -1;

static int mon_fds[48];
static int nmon_fds;

int keep(int fd) {
  if (fd >= 0 && nmon_fds < (int)(sizeof mon_fds / sizeof *mon_fds)) mon_fds[nmon_fds++] = fd;
  return fd;
}

void close_kept(void) {
  for (int i = 0; i < nmon_fds; i++) close(mon_fds[i]);
}

size_t fmt_ll(char *out, long long v) {
  char tmp[24];
  size_t n = 0, i = 0;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do tmp[n++] = (char)('0' + u % 10); while ((u /= 10) != 0);
  if (v < 0) out[i++] = '-';
  while (n) out[i++] = tmp[--n];
  out[i] = 0;
  return i;
}

int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    ssize_t r = write(fd, p, len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    len -= (size_t)r;
  }
  return 0;
}

/* one status line on fd 4: "<word> <a>[ <b>]\n" */
void status(const char *word, long long a, int with_b, long long b) {
  char line[80];
  size_t n = strlen(word);
  memcpy(line, word, n);
  line[n++] = ' ';
  n += fmt_ll(line + n, a);
  if (with_b) {
    line[n++] = ' ';
    n += fmt_ll(line + n, b);
  }
  line[n++] = '\n';
  write_all(4, line, n);
}

/* child side: report {step, errno} on the error pipe and exit */
void fail(int step, int err) {
  int32_t msg[2] = { step, err };
  write_all(err_w, msg, sizeof msg);
  _exit(1);
}

void reset_signals(void) {
  struct sigaction sa;
  sigset_t none;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < _NSIG; sig++) sigaction(sig, &sa, NULL); /* EINVAL for KILL/STOP and glibc's own: fine */
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

int wait_sigs(siginfo_t *si) {
  int sig;
  do sig = sigwaitinfo(&fwd_set, si); while (sig < 0 && errno == EINTR);
  return sig;
}

int code_of(int st) { return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st); }

void close_fds(unsigned from, unsigned to) {
  if (from <= to && syscall(SYS_close_range, from, to, 0U) < 0)
    for (unsigned fd = from; fd <= to && fd < 65536; fd++) close((int)fd);
}

long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
