/*
 * tsdock-exec, relay: the stdio of a foreground container without a tty, copied by the executor.
 */
#include "exec.h"

/*
 * With `relay` in the plan (foreground run/exec without -t) no descriptor of the caller enters the container: its
 * 0-2 are pipes made here (stdin /dev/null without `-i`; with `merge` stderr is the stdout pipe, because the
 * caller's stdout and stderr are the same file and their order must survive). After "pid" the executor copies,
 * outside the container, between its own 0-2 (the caller's) and its ends of the pipes (which the child closes), in
 * one poll() loop that also forwards signals and waits for the init: one thread only, because a join (exec) has
 * setns()ed and a process in another pid namespace cannot make threads. splice(2) moves the data, read/write where
 * splice refuses an fd (EINVAL: an O_APPEND file, some ttys). The caller's fds are never made non-blocking (their
 * file descriptions are shared with the caller); ours are. Input EOF closes the container's stdin; an output the
 * caller closed (EPIPE) closes that pipe, so the container's next write fails as on the caller's own pipe. When the
 * init has ended, the output is drained until EOF, for at most the plan's `drainms` (a process left in the
 * container may hold the pipes open).
 */
#define RELAY_CHUNK (1 << 17)
struct relay_stream {
  int from, to;          /* -1 once the stream ended */
  int use_splice, eof;   /* eof: input said EOF, `to` closes once the buffer is flushed */
  int wait_out;          /* splice said EAGAIN on a readable input: wait until `to` takes data */
  size_t off, len;       /* read/write fallback: bytes of buf not yet written */
  int logw;              /* with `relaylog`: the log writer's pipe (-1: none) */
  size_t ahead;          /* bytes at the head of `from` already tee'd into logw, not yet moved to `to` */
  char buf[RELAY_CHUNK];
};
static struct relay_stream rs[3];
static int relay_sigfd = -1;
static pid_t log_writer_pid = -1;

/*
 * With `relaylog` a foreground container is logged like a detached one (k8s-file, monitor-log.c), while the caller
 * still gets its output live: each output's data is tee(2)d into a pipe before it is spliced to the caller, and a
 * forked writer process formats the records from those pipes, so the caller's path stays zero-copy and the
 * formatting runs on another core. A full log pipe holds the relay up (docker's blocking log mode): nothing is lost.
 * The writer ends at the EOF of its pipes; relay_run waits for it before the exit is reported, so `logs` right
 * after the run sees every record.
 */
/* every fd but the given ones (-1 entries ignored): close_range(2) over the gaps between them, in ascending order */
static void close_all_but(int *fds, int n) {
  for (int i = 1; i < n; i++) /* insertion sort: n is 3 */
    for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) { int t = fds[j]; fds[j] = fds[j - 1], fds[j - 1] = t; }
  unsigned lo = 0;
  for (int i = 0; i < n; i++) {
    if (fds[i] < 0) continue;
    if ((unsigned)fds[i] > lo) syscall(SYS_close_range, lo, (unsigned)fds[i] - 1, 0);
    lo = (unsigned)fds[i] + 1;
  }
  syscall(SYS_close_range, lo, ~0U, 0);
}

static void log_writer(int r1, int r2) {
  static char buf[RELAY_CHUNK];
  int fds[3] = { r1, r2, log_fd() };
  close_all_but(fds, 3);
  struct pollfd pf[2] = { { r1, POLLIN, 0 }, { r2, POLLIN, 0 } };
  int open_n = (r1 >= 0) + (r2 >= 0);
  while (open_n > 0) {
    if (poll(pf, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (pf[i].fd < 0 || !pf[i].revents) continue;
      ssize_t n = read(pf[i].fd, buf, sizeof buf);
      if (n > 0) log_chunk(i + 1, buf, (size_t)n);
      else if (n == 0 || (errno != EINTR && errno != EAGAIN)) close(pf[i].fd), pf[i].fd = -1, open_n--;
    }
  }
  log_end();
  _exit(0);
}

/* before clone: the log opened, its pipes, the writer forked (it holds nothing but its pipes and the log) */
static int relay_log_start(int *err) {
  int lp[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
  if ((*err = log_start())) return E_LOG;
  for (int s = 1; s < 3; s++) {
    if (rs[s].from < 0) continue;
    if (pipe2(lp[s], O_CLOEXEC) < 0) return *err = errno, E_STDIO;
    fcntl(lp[s][1], F_SETPIPE_SZ, RELAY_CHUNK * 4);
  }
  pid_t w = fork();
  if (w < 0) return *err = errno, E_STDIO;
  if (w == 0) log_writer(lp[1][0], lp[2][0]);
  log_writer_pid = w; /* the log stays open here until the end: a closed kept fd's number could be reused */
  for (int s = 1; s < 3; s++) {
    if (lp[s][0] >= 0) close(lp[s][0]);
    rs[s].logw = lp[s][1] >= 0 ? keep(lp[s][1]) : -1;
  }
  return 0;
}

/* the relay is over: the writer gets EOF on every pipe still open, flushes and ends */
static void relay_log_finish(void) {
  for (int s = 1; s < 3; s++)
    if (rs[s].logw >= 0) close(rs[s].logw), rs[s].logw = -1;
  if (log_writer_pid > 0)
    while (waitpid(log_writer_pid, NULL, 0) < 0 && errno == EINTR) {}
  log_writer_pid = -1;
  log_end();
}

/* before clone: the container's 0-2 (cfd) and our ends, kept so the child closes ours; the signalfd */
int relay_prepare(int *err) {
  int p[2];
  for (int i = 0; i < 3; i++) rs[i].from = rs[i].to = rs[i].logw = -1, rs[i].use_splice = 1;
  if (relay_in) {
    if (pipe2(p, O_CLOEXEC) < 0) return *err = errno, E_STDIO;
    cfd[0] = keep(p[0]), rs[0].from = 0, rs[0].to = keep(p[1]);
    fcntl(rs[0].to, F_SETFL, O_NONBLOCK);
  } else if ((cfd[0] = keep(open("/dev/null", O_RDONLY | O_CLOEXEC))) < 0) return *err = errno, E_STDIO;
  for (int s = 1; s < 3; s++) {
    if (s == 2 && relay_merge) { cfd[2] = cfd[1]; break; }
    if (pipe2(p, O_CLOEXEC) < 0) return *err = errno, E_STDIO;
    rs[s].from = keep(p[0]), rs[s].to = s, cfd[s] = keep(p[1]);
    fcntl(rs[s].from, F_SETFL, O_NONBLOCK);
  }
  if ((relay_sigfd = keep(signalfd(-1, &fwd_set, SFD_CLOEXEC | SFD_NONBLOCK))) < 0) return *err = errno, E_STDIO;
  return relay_log ? relay_log_start(err) : 0;
}

/* the stream is over: close our pipe end (stdin: the container reads EOF; output: its writers get EPIPE) */
static void relay_end(struct relay_stream *s) {
  close(s == &rs[0] ? s->to : s->from);
  if (s->logw >= 0) close(s->logw);
  s->from = s->to = s->logw = -1;
  s->len = s->ahead = 0;
}

static void relay_flush(struct relay_stream *s) {
  while (s->len) {
    ssize_t w = write(s->to, s->buf + s->off, s->len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    if (w <= 0) { relay_end(s); return; }
    s->off += (size_t)w, s->len -= (size_t)w;
  }
  if (s->eof) relay_end(s);
}

/* `from` is readable (or `to` writable again): move what there is (the caller's fd was polled first) */
static void relay_move(struct relay_stream *s) {
  ssize_t n;
  int was_out = s->wait_out;
  s->wait_out = 0;
  if (s->len) { relay_flush(s); return; }
  if (s->use_splice) {
    if (s->logw >= 0 && !s->ahead) { /* log first (a full log pipe waits for the writer), then move that much */
      do n = tee(s->from, s->logw, RELAY_CHUNK, 0); while (n < 0 && errno == EINTR);
      if (n == 0) { relay_end(s); return; }
      if (n < 0 && errno == EAGAIN) return;
      if (n < 0) close(s->logw), s->logw = -1; /* the writer is gone: relay on, unlogged */
      else s->ahead = (size_t)n;
    }
    do n = splice(s->from, NULL, s->to, NULL, s->ahead ? s->ahead : RELAY_CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK); while (n < 0 && errno == EINTR);
    if (n > 0 && s->ahead) s->ahead -= (size_t)n;
    if (n < 0 && errno == EINVAL) s->use_splice = 0;
    else if (n < 0 && errno == EAGAIN) s->wait_out = !was_out; /* input readable: the output is full; else wait for input */
    else if (n <= 0) relay_end(s);
    if (s->use_splice) return;
  }
  do n = read(s->from, s->buf, RELAY_CHUNK); while (n < 0 && errno == EINTR);
  if (n > 0 && s->logw >= 0) { /* what was tee'd already is not logged twice */
    size_t skip = s->ahead < (size_t)n ? s->ahead : (size_t)n;
    s->ahead -= skip;
    if (write_all(s->logw, s->buf + skip, (size_t)n - skip) < 0) close(s->logw), s->logw = -1;
  }
  if (n > 0) s->off = 0, s->len = (size_t)n, relay_flush(s);
  else if (n == 0) s->eof = 1, relay_flush(s);
  else if (errno != EAGAIN) relay_end(s);
}


/*
 * after "pid": copy, forward signals, wait for the init; then drain the output. The bound is on waiting for more
 * output (a leftover writer), counted from the init's end or the caller's last stall; a caller slow to take what
 * is there (a pager) is waited for, until a signal says to stop. Returns the init's status.
 */
static int relay_loop(pid_t pid) {
  int st = 0, ws, exited = 0;
  long long deadline = 0;
  for (int i = 0; i < 3; i++) /* only the container holds its ends now */
    if (cfd[i] >= 0 && (i == 0 || cfd[i] != cfd[i - 1])) close(cfd[i]);
  for (;;) {
    struct pollfd pf[4];
    struct relay_stream *who[4];
    nfds_t n = 0;
    int stalled = 0; /* some output waits for the caller */
    pf[n] = (struct pollfd){ relay_sigfd, POLLIN, 0 }, who[n++] = NULL;
    for (int i = exited ? 1 : 0; i < 3; i++) {
      struct relay_stream *s = &rs[i];
      if (s->from < 0) continue;
      int out = s->len || s->wait_out;
      stalled |= out && i > 0;
      pf[n] = (struct pollfd){ out ? s->to : s->from, out ? POLLOUT : POLLIN, 0 }, who[n++] = s;
    }
    int wait_ms = -1;
    if (exited) {
      long long left = deadline - now_ms();
      if (n == 1 || (left <= 0 && !stalled)) return st;
      wait_ms = stalled ? -1 : (int)left;
    }
    if (poll(pf, n, wait_ms) < 0 && errno != EINTR) {
      if (!exited) kill(pid, SIGKILL), waitpid(pid, &st, 0);
      return st;
    }
    if (exited && stalled) deadline = now_ms() + relay_drain_ms;
    for (nfds_t k = 1; k < n; k++)
      if (pf[k].revents && who[k]->from >= 0) relay_move(who[k]);
    if (!pf[0].revents) continue;
    struct signalfd_siginfo si;
    while (read(relay_sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
      if ((int)si.ssi_signo == SIGCHLD) continue;
      if (exited) return st; /* e.g. ctrl-c while a pager holds up the drain */
      kill(pid, (int)si.ssi_signo);
    }
    pid_t w;
    while (!exited && (w = waitpid(-1, &ws, WNOHANG)) > 0)
      if (w == pid) st = ws, exited = 1, deadline = now_ms() + relay_drain_ms;
  }
}

int relay_run(pid_t pid) {
  int st = relay_loop(pid);
  relay_log_finish();
  return st;
}
