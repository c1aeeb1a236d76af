/*
 * tsdock-exec, monitor mode: what the monitor writes to disk: the container's output as k8s-file records
 * (rotated past the plan's log size) and, when the init ends, the exit file.
 */
#include "exec.h"

static int logfd = -1;
static uint64_t log_size, log_pend;
static char log1_path[PATH_MAX];
static struct iovec liov[LOG_IOV];
static int nliov;
static char pfx[2][48]; /* "<timestamp> stdout F " and the same with P */
static size_t pfx_len;

static char *put_num(char *p, unsigned long long v, int width) {
  for (int i = width - 1; i >= 0; i--, v /= 10) p[i] = (char)('0' + v % 10);
  return p + width;
}

/* RFC 3339 in UTC with nanoseconds: 2006-01-02T15:04:05.000000000Z (30 bytes); civil date from days (H. Hinnant) */
static size_t fmt_time(char *out, const struct timespec *ts) {
  long long days = ts->tv_sec / 86400, rem = ts->tv_sec % 86400;
  if (rem < 0) rem += 86400, days--;
  long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  long long y = (long long)yoe + era * 400 + (m <= 2);
  char *p = put_num(out, (unsigned long long)(y < 0 ? 0 : y), 4);
  *p++ = '-'; p = put_num(p, m, 2); *p++ = '-'; p = put_num(p, d, 2); *p++ = 'T';
  p = put_num(p, (unsigned long long)rem / 3600, 2); *p++ = ':'; p = put_num(p, (unsigned long long)rem / 60 % 60, 2);
  *p++ = ':'; p = put_num(p, (unsigned long long)rem % 60, 2); *p++ = '.';
  p = put_num(p, (unsigned long long)ts->tv_nsec, 9); *p++ = 'Z';
  return (size_t)(p - out);
}

static int log_open(int trunc) {
  struct stat st;
  logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (trunc ? O_TRUNC : 0), 0640);
  if (logfd < 0) return errno;
  log_size = fstat(logfd, &st) == 0 ? (uint64_t)st.st_size : 0;
  return 0;
}

static void log_flush(void) {
  if (nliov && logfd < 0) log_open(0); /* a failed rotation: try again */
  if (nliov && logfd >= 0) {
    ssize_t w;
    do w = writev(logfd, liov, nliov); while (w < 0 && errno == EINTR);
    if (w > 0) log_size += (uint64_t)w; /* a short write (disk full) loses the rest of the batch */
  }
  nliov = 0;
  log_pend = 0;
}

static void log_rotate(void) {
  log_flush();
  if (logfd >= 0) close(logfd);
  rename(log_path, log1_path);
  log_open(1);
}

/* one record: the prefix, the text (with its newline for F), a newline for P; rotation never splits a record */
static void log_record(int partial, const char *p, size_t n) {
  uint64_t len = pfx_len + n + (partial ? 1 : 0);
  if (log_max && log_size + log_pend > 0 && log_size + log_pend + len > log_max) log_rotate();
  if (nliov + 3 > LOG_IOV) log_flush();
  liov[nliov++] = (struct iovec){ pfx[partial], pfx_len };
  liov[nliov++] = (struct iovec){ (void *)p, n };
  if (partial) liov[nliov++] = (struct iovec){ (void *)"\n", 1 };
  log_pend += len;
}

void log_chunk(int stream, const char *p, size_t n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  size_t t = fmt_time(pfx[0], &ts);
  memcpy(pfx[0] + t, stream == 1 ? " stdout F " : " stderr F ", 10);
  pfx_len = t + 10;
  memcpy(pfx[1], pfx[0], pfx_len);
  pfx[1][pfx_len - 2] = 'P';
  while (n) {
    const char *nl = memchr(p, '\n', n);
    size_t k = nl ? (size_t)(nl - p) + 1 : n;
    log_record(!nl, p, k);
    p += k;
    n -= k;
  }
  log_flush();
}

/* the value of the "oom_kill N" line of oom_file, -1 when there is none */
static long long oom_kills(void) {
  char b[4096];
  int fd = oom_file ? open(oom_file, O_RDONLY | O_CLOEXEC) : -1;
  if (fd < 0) return -1;
  ssize_t n = read(fd, b, sizeof b - 1);
  close(fd);
  if (n <= 0) return -1;
  b[n] = 0;
  for (char *p = b; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
    if (strncmp(p, "oom_kill ", 9)) continue;
    long long v = 0;
    for (p += 9; *p >= '0' && *p <= '9'; p++) v = v * 10 + (*p - '0');
    return v;
  }
  return -1;
}

/*
 * One event line from the plan's template, rendered by TypeScript: byte 1 becomes the exit code, 2 the seconds,
 * 3 the nanoseconds of `t`. One write(2) on an O_APPEND fd: concurrent writers and a kill leave whole lines.
 * The line is small (TypeScript keeps it under 3 KiB); rotation is left to the next TypeScript writer.
 */
static void write_event(const char *tpl, long long code, const struct timespec *t) {
  char buf[4096];
  size_t n = 0;
  for (const char *p = tpl; *p; p++) {
    if (n + 24 > sizeof buf) return;
    if (*p == 1) n += fmt_ll(buf + n, code);
    else if (*p == 2) n += fmt_ll(buf + n, (long long)t->tv_sec);
    else if (*p == 3) n += fmt_ll(buf + n, (long long)t->tv_sec * 1000000000LL + t->tv_nsec);
    else buf[n++] = *p;
  }
  int fd = open(event_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  if (write(fd, buf, n) < 0) { /* nothing to report to: the container's end is in the exit file */ }
  close(fd);
}

/* before "pid": the container's start, so its die (written by this same process) can only come after it */
void write_start_event(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  write_event(event_start, 0, &t);
}

void write_exit_file(int st, const struct timespec *end) {
  char tmp[PATH_MAX], buf[200];
  size_t n = 0;
  int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  memcpy(buf, "{\"ExitCode\":", 12), n = 12;
  n += fmt_ll(buf + n, code_of(st));
  memcpy(buf + n, ",\"Signal\":", 10), n += 10;
  n += fmt_ll(buf + n, sig);
  memcpy(buf + n, ",\"FinishedAt\":\"", 15), n += 15;
  n += fmt_time(buf + n, end);
  memcpy(buf + n, "\"", 1), n += 1;
  long long ooms = oom_kills();
  if (ooms >= 0) memcpy(buf + n, ",\"OOMKills\":", 12), n += 12, n += fmt_ll(buf + n, ooms);
  memcpy(buf + n, "}\n", 2), n += 2;
  if (snprintf(tmp, sizeof tmp, "%s.tmp%d", exit_file, (int)getpid()) >= (int)sizeof tmp) return;
  /* 0600 like the rest of the container's state (its directory is 0700 anyway) */
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  int bad = write_all(fd, buf, n) < 0 || fsync(fd) < 0;
  if (close(fd) < 0 || bad || rename(tmp, exit_file) < 0) unlink(tmp);
  /* after the exit file, so whoever sees `die` finds the container exited */
  if (event_log && ooms > 0) write_event(event_oom, 0, end);
  if (event_log) write_event(event_die, code_of(st), end);
}

/* before clone: the log (appended to), kept from the child */
int log_start(void) {
  int e;
  if (snprintf(log1_path, sizeof log1_path, "%s.1", log_path) >= (int)sizeof log1_path) return ENAMETOOLONG;
  if ((e = log_open(0))) return e;
  keep(logfd);
  return 0;
}

int log_fd(void) { return logfd; }

void log_end(void) {
  if (logfd >= 0) close(logfd);
  logfd = -1;
}
