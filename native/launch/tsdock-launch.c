/*
 * tsdock-launch: what bin/tsdock runs first (its sh line), so a rootless command starts Node once.
 *
 *   tsdock-launch <script> <arg>...      execs `node <script> <arg>...` (bin/tsdock gives it bin/tsdock.cjs)
 *
 * Rootless, with tsdock's user-namespace holder alive (cli/userns-holder.ts), it first joins the holder's user
 * namespace with setns(2), as `nsenter --user --preserve-credentials` would, and sets TSDOCK_USERNS (`full` when
 * the holder maps subordinate ids: its uid_map has more than one line, else `single`). Without a holder, or when
 * anything about it does not check out, it changes nothing and Node takes today's path (creating the holder,
 * re-executing inside it). It decides nothing else: the verb, help and every policy stay in TypeScript, which
 * behaves the same inside the namespace (TSDOCK_USERNS marks a rootless command there). It also hands
 * NODE_EXTRA_CA_CERTS over as TSDOCK_EXTRA_CA_CERTS (see main), so Node does not parse that file at every start.
 *
 * The holder is trusted only as the TypeScript side trusts it: its pid file lives in the user's runtime dir
 * ($XDG_RUNTIME_DIR/tsdock, else $TMPDIR/tsdock-<uid>), which must be a directory owned by the user with no group or
 * other access, and the pid's start time (field 22 of /proc/<pid>/stat) must match the file. /proc/<pid> is opened
 * once and everything else read through that descriptor, so a pid reused in between cannot substitute its
 * namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static ssize_t read_at(int dfd, const char *name, char *buf, size_t size) {
  int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n >= 0) buf[n] = 0;
  return n;
}

/* "<pid> <start time>" from the holder file in `dir` */
static int holder_from(const char *dir, const char *file, long *pid, char *start, size_t ssize) {
  char path[PATH_MAX], buf[128];
  if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path) return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *end;
  *pid = strtol(buf, &end, 10);
  if (*pid <= 0 || *end != ' ') return -1;
  char *s = end + 1;
  size_t len = strcspn(s, " \n");
  if (len == 0 || len >= ssize) return -1;
  memcpy(start, s, len);
  start[len] = 0;
  return 0;
}

/* field 22 (starttime) of a /proc/<pid>/stat text: after the last ')' come fields 3.. */
static int start_time_of(const char *stat, char *out, size_t size) {
  const char *p = strrchr(stat, ')');
  if (!p) return -1;
  p++;
  for (int field = 3; field < 22; field++) { /* p: the space before field `field` */
    p = strchr(p + 1, ' ');
    if (!p) return -1;
  }
  p++;
  size_t len = strcspn(p, " \n");
  if (len == 0 || len >= size) return -1;
  memcpy(out, p, len);
  out[len] = 0;
  return 0;
}

static void try_join(void) {
  uid_t uid = getuid();
  char dir[PATH_MAX];
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  const char *tmp = getenv("TMPDIR");
  int n = xdg && *xdg ? snprintf(dir, sizeof dir, "%s/tsdock", xdg) : snprintf(dir, sizeof dir, "%s/tsdock-%u", tmp && *tmp ? tmp : "/tmp", (unsigned)uid);
  if (n < 0 || n >= (int)sizeof dir) return;
  struct stat st;
  if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077)) return;
  long pid;
  char want[32], have[32], path[64], stat[1024], map[4096];
  if (holder_from(dir, "userns-holder.pid", &pid, want, sizeof want) < 0 && holder_from(dir, "pause.pid", &pid, want, sizeof want) < 0) return;
  snprintf(path, sizeof path, "/proc/%ld", pid);
  int pfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0) return;
  int ns = -1;
  if (read_at(pfd, "stat", stat, sizeof stat) > 0 && start_time_of(stat, have, sizeof have) == 0 && !strcmp(have, want) && read_at(pfd, "uid_map", map, sizeof map) > 0)
    ns = openat(pfd, "ns/user", O_RDONLY | O_CLOEXEC);
  close(pfd);
  if (ns < 0) return;
  int lines = 0;
  for (const char *c = map; *c; c++) lines += *c == '\n';
  if (setns(ns, CLONE_NEWUSER) == 0) setenv("TSDOCK_USERNS", lines > 1 ? "full" : "single", 1);
  close(ns);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs("usage: tsdock-launch <script> [arg...]\n", stderr);
    return 125;
  }
  if (getuid() != 0 && !getenv("TSDOCK_USERNS")) try_join();
  /* Node reads NODE_EXTRA_CA_CERTS before any script runs (~40 ms for a distribution's whole bundle); tsdock applies
   * the file to its own TLS connections instead (src/image/registry/trust.ts), and its loader puts the variable
   * back for what tsdock starts. Only the name moves: what is trusted stays the same. */
  const char *extra = getenv("NODE_EXTRA_CA_CERTS");
  if (extra && *extra) {
    setenv("TSDOCK_EXTRA_CA_CERTS", extra, 1);
    unsetenv("NODE_EXTRA_CA_CERTS");
  }
  argv[0] = "node";
  execvp("node", argv);
  fprintf(stderr, "Error: cannot run node: %s\n", strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
