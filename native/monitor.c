/*
 * tsdock-exec, monitor mode (detached containers): after "pid" the executor stays as the container's monitor, a
 * poll() loop over a signalfd, the container's output, the attach socket and its clients, and the health timer.
 */
#include "exec.h"

static int outfd[2] = { -1, -1 }, infd = -1, sigfd = -1, stdin_close_pending;
static struct { int fd, in_open; } cl[MAX_CLIENTS];
static int ncl;
static char obuf[5 + OUT_BUF]; /* 5 bytes of frame header, then the data */
static char ibuf[IN_BUF];
static size_t ioff, ilen;
static pid_t health_pid = -1;
static int devnull = -1;
static int lsock = -1; /* the attach socket */

static void drop_client(int i) {
  close(cl[i].fd);
  cl[i].fd = -1;
}

static void compact_clients(void) {
  int k = 0;
  for (int i = 0; i < ncl; i++)
    if (cl[i].fd >= 0) cl[k++] = cl[i];
  ncl = k;
}

/* a client that cannot take output for the plan's `clientstallms` (counted from its first refusal) is dropped */
static int send_all(int fd, const char *p, size_t len) {
  long long give_up_at = -1;
  while (len) {
    ssize_t w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) { p += w; len -= (size_t)w; continue; }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      long long now = now_ms();
      if (give_up_at < 0) give_up_at = now + mon_client_stall_ms;
      if (now >= give_up_at) return -1;
      struct pollfd pf = { fd, POLLOUT, 0 };
      poll(&pf, 1, (int)(give_up_at - now));
      continue;
    }
    return -1;
  }
  return 0;
}

/* stream 1 stdout, 2 stderr; the data is at obuf + 5 */
static void broadcast(int stream, size_t n) {
  const char *p = obuf + 5;
  size_t len = n;
  if (pty_master < 0) {
    obuf[0] = (char)stream;
    obuf[1] = (char)(n >> 24), obuf[2] = (char)(n >> 16), obuf[3] = (char)(n >> 8), obuf[4] = (char)n;
    p = obuf, len = n + 5;
  }
  for (int i = 0; i < ncl; i++)
    if (cl[i].fd >= 0 && send_all(cl[i].fd, p, len) < 0) drop_client(i); /* compacted after the poll round */
}

/* one read from output s (0 stdout or the pty, 1 stderr); EOF or EIO (pty: every slave closed) ends it */
static void read_output(int s) {
  ssize_t r;
  do r = read(outfd[s], obuf + 5, OUT_BUF); while (r < 0 && errno == EINTR);
  if (r > 0) {
    log_chunk(s + 1, obuf + 5, (size_t)r);
    broadcast(s + 1, (size_t)r);
  } else if (r == 0 || errno != EAGAIN) {
    if (outfd[s] != infd) close(outfd[s]);
    outfd[s] = -1;
  }
}

static void close_stdin(void) {
  if (infd >= 0 && infd != pty_master) close(infd);
  infd = -1;
  ilen = 0;
}

static void flush_input(void) {
  while (ilen) {
    ssize_t w = write(infd, ibuf + ioff, ilen);
    if (w > 0) { ioff += (size_t)w; ilen -= (size_t)w; continue; }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    close_stdin(); /* the container closed its stdin */
    return;
  }
  ioff = 0;
  if (stdin_close_pending) close_stdin();
}

static void client_input(int i) {
  ssize_t r;
  do r = read(cl[i].fd, ibuf, sizeof ibuf); while (r < 0 && errno == EINTR);
  if (r > 0) {
    if (infd >= 0) { ioff = 0; ilen = (size_t)r; flush_input(); }
  } else if (r == 0) {
    cl[i].in_open = 0; /* half-closed: the client still gets output until it hangs up */
    if (stdin_once && infd >= 0) { stdin_close_pending = 1; if (!ilen) close_stdin(); }
  } else if (errno != EAGAIN) drop_client(i);
}

/* the init ended: copy what is still in the pipes, until they are quiet for the plan's `drainidlems` or for at most
   its `drainms` (a leftover writer outside a pid namespace could hold them open forever) */
static void drain(void) {
  long long end = now_ms() + mon_drain_ms;
  while (outfd[0] >= 0 || outfd[1] >= 0) {
    struct pollfd pf[2];
    int n = 0, which[2];
    for (int s = 0; s < 2; s++)
      if (outfd[s] >= 0) pf[n] = (struct pollfd){ outfd[s], POLLIN, 0 }, which[n++] = s;
    int r = poll(pf, (nfds_t)n, mon_drain_idle_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    for (int k = 0; k < n; k++)
      if (pf[k].revents) read_output(which[k]);
    if (now_ms() >= end) break;
  }
}

/* fork + setsid + exec a command with stdio on /dev/null (the exit command, the health command) */
static pid_t spawn_command(const char *const *argv) {
  pid_t p = fork();
  if (p != 0) return p;
  setsid();
  reset_signals();
  for (int fd = 0; fd < 3; fd++) dup2(devnull, fd);
  close_fds(3, ~0U);
  execvp(argv[0], (char *const *)argv);
  _exit(127);
}

static void run_exit_command(void) {
  spawn_command(exitcmd); /* not waited for: the monitor exits now and init reaps it */
}

static void finish(int st) {
  struct timespec end;
  clock_gettime(CLOCK_REALTIME, &end);
  drain();
  log_end();
  write_exit_file(st, &end);
  for (int i = 0; i < ncl; i++)
    if (cl[i].fd >= 0) close(cl[i].fd); /* attach clients see EOF once the exit file is there */
  if (lsock >= 0) close(lsock), unlink(attach_path);
  if (nexitcmd) run_exit_command();
  _exit(code_of(st));
}

/* before clone: the container's stdio (cfd), our ends of it, the log, the attach socket */
int monitor_prepare(int *err) {
  int p[2];
  if ((devnull = keep(open("/dev/null", O_RDWR | O_CLOEXEC))) < 0) return *err = errno, E_STDIO;
  if (pty_master >= 0) {
    keep(pty_master);
    if (fcntl(pty_master, F_SETFD, FD_CLOEXEC) < 0 || fcntl(pty_master, F_SETFL, O_NONBLOCK) < 0) return *err = errno, E_STDIO;
    int slave = keep(ioctl(pty_master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (slave < 0) return *err = errno, E_STDIO;
    cfd[0] = cfd[1] = cfd[2] = slave;
    outfd[0] = pty_master;
    if (keep_stdin) infd = pty_master;
  } else {
    cfd[0] = devnull;
    if (keep_stdin) {
      if (pipe2(p, O_CLOEXEC) < 0) return *err = errno, E_STDIO;
      cfd[0] = keep(p[0]), infd = keep(p[1]);
      fcntl(infd, F_SETFL, O_NONBLOCK);
    }
    for (int s = 0; s < 2; s++) {
      if (pipe2(p, O_CLOEXEC) < 0) return *err = errno, E_STDIO;
      outfd[s] = keep(p[0]), cfd[s + 1] = keep(p[1]);
      fcntl(outfd[s], F_SETFL, O_NONBLOCK);
    }
  }
  if ((*err = log_start())) return E_LOG;
  if (attach_path) {
    struct sockaddr_un a;
    char dir[PATH_MAX];
    int dfd = -1;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (strlen(attach_path) < sizeof a.sun_path) strcpy(a.sun_path, attach_path);
    else { /* too long for sun_path: bind through the directory's fd */
      const char *slash = strrchr(attach_path, '/');
      size_t n = (size_t)(slash - attach_path);
      if (n >= sizeof dir) return *err = ENAMETOOLONG, E_ATTACH_SOCKET;
      memcpy(dir, attach_path, n);
      dir[n] = 0;
      if ((dfd = open(n ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) return *err = errno, E_ATTACH_SOCKET;
      if (snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/%s", dfd, slash + 1) >= (int)sizeof a.sun_path) return *err = ENAMETOOLONG, E_ATTACH_SOCKET;
    }
    lsock = keep(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    unlink(attach_path); /* left behind by a monitor that was killed */
    if (lsock < 0 || bind(lsock, (struct sockaddr *)&a, sizeof a) < 0) *err = errno;
    else if (listen(lsock, MAX_CLIENTS) < 0) *err = errno, unlink(attach_path);
    if (dfd >= 0) close(dfd);
    if (*err) { if (lsock >= 0) close(lsock); lsock = -1; return E_ATTACH_SOCKET; }
  }
  return 0;
}

/* a long-lived monitor must not hold whatever its spawner leaked to it (a shell waiting on a pipe would hang) */
void close_stray_fds(void) { /* but the pty master and the fds to preserve, both from the plan */
  unsigned lo = 5, keep[2][2] = { { (unsigned)pty_master, (unsigned)pty_master }, { (unsigned)pres_from, (unsigned)(pres_from + pres_n - 1) } };
  if (pty_master < 0) keep[0][0] = keep[0][1] = ~0U;
  if (!pres_n) keep[1][0] = keep[1][1] = ~0U;
  if (keep[1][0] < keep[0][0]) { unsigned a = keep[0][0], b = keep[0][1]; keep[0][0] = keep[1][0], keep[0][1] = keep[1][1], keep[1][0] = a, keep[1][1] = b; }
  for (int i = 0; i < 2 && keep[i][0] != ~0U; i++) {
    if (keep[i][0] > lo) close_fds(lo, keep[i][0] - 1);
    lo = keep[i][1] + 1;
  }
  close_fds(lo, ~0U);
}

/* after "pid": become the monitor; never returns */
void monitor(pid_t pid) {
  struct pollfd pf[5 + MAX_CLIENTS];
  int who[5 + MAX_CLIENTS]; /* what each poll entry is: -1 signals, -2/-3 outputs, -4 listen, -5 stdin, >= 0 client */
  close(4);
  for (int fd = 0; fd < 3; fd++) dup2(devnull, fd);
  for (int i = 0; i < 3; i++) /* only the container holds its ends now (with a pty all three are the slave) */
    if (cfd[i] != devnull && (i == 0 || cfd[i] != cfd[i - 1])) close(cfd[i]);
  if (chdir("/") < 0) {} /* do not keep the CLI's cwd busy */
  setsid();              /* no-op when spawned detached */
  sigfd = signalfd(-1, &fwd_set, SFD_CLOEXEC | SFD_NONBLOCK);
  long long next_health = nhealthcmd ? now_ms() + health_ms : -1;
  for (;;) {
    nfds_t n = 0;
    if (sigfd >= 0) pf[n] = (struct pollfd){ sigfd, POLLIN, 0 }, who[n++] = -1;
    for (int s = 0; s < 2; s++)
      if (outfd[s] >= 0) pf[n] = (struct pollfd){ outfd[s], POLLIN, 0 }, who[n++] = -2 - s;
    if (lsock >= 0 && ncl < MAX_CLIENTS) pf[n] = (struct pollfd){ lsock, POLLIN, 0 }, who[n++] = -4;
    if (infd >= 0 && ilen) pf[n] = (struct pollfd){ infd, POLLOUT, 0 }, who[n++] = -5;
    for (int i = 0; i < ncl; i++) /* input waits while the container's stdin is full (hang-ups still show) */
      if (!(cl[i].in_open && ilen)) pf[n] = (struct pollfd){ cl[i].fd, cl[i].in_open ? POLLIN : 0, 0 }, who[n++] = i;
    int wait_ms = sigfd >= 0 ? -1 : 200;
    if (next_health >= 0) {
      long long left = next_health - now_ms();
      wait_ms = left <= 0 ? 0 : (wait_ms < 0 || left < wait_ms ? (int)left : wait_ms);
    }
    if (poll(pf, n, wait_ms) < 0 && errno != EINTR) poll(NULL, 0, 100);
    if (next_health >= 0 && now_ms() >= next_health) {
      if (health_pid < 0) health_pid = spawn_command(healthcmd); /* never two at once */
      next_health = now_ms() + health_ms;
    }
    int got_input = 0;
    for (nfds_t k = 0; k < n; k++) {
      short ev = pf[k].revents;
      if (!ev) continue;
      if (who[k] == -1) {
        struct signalfd_siginfo si;
        while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si)
          if ((int)si.ssi_signo != SIGCHLD && (int)si.ssi_signo != SIGHUP) kill(pid, (int)si.ssi_signo);
      } else if (who[k] <= -2 && who[k] >= -3) {
        if (outfd[-2 - who[k]] >= 0) read_output(-2 - who[k]);
      } else if (who[k] == -4) {
        int c = accept4(lsock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0) cl[ncl].fd = c, cl[ncl++].in_open = 1;
      } else if (who[k] == -5) {
        if (infd >= 0) flush_input();
      } else if (cl[who[k]].fd >= 0) {
        int i = who[k];
        if (cl[i].in_open && (ev & POLLIN)) { /* read what it sent before looking at a hang-up */
          if (!got_input && !ilen) client_input(i), got_input = 1;
        } else if (ev & (POLLHUP | POLLERR | POLLNVAL)) drop_client(i);
      }
    }
    compact_clients();
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
      if (w == health_pid) health_pid = -1;
      if (w == pid) finish(st);
    }
  }
}

/* a failed start: the attach socket must not stay behind */
void monitor_give_up(void) {
  if (lsock >= 0) unlink(attach_path);
}
