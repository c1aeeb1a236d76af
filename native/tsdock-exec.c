/*
 * tsdock-exec: the container executor. It carries out an ExecPlan (src/runtime/plan-types.ts) decided entirely
 * in TypeScript and makes no decisions of its own.
 *
 * fds on entry: 0-2 the container's stdio, 3 the encoded plan (read to EOF), 4 the status channel.
 *
 * Plan wire format (written by src/runtime/plan-encode.ts): a sequence of netstrings "<len>:<bytes>," (len in
 * decimal, bytes may be binary). The parser turns each trailing ',' into a NUL in place, so every field is a C
 * string inside one static buffer. Fields form records, a keyword followed by a fixed number of fields:
 *   tsdock-plan <version=1>           first record                  end                      last record
 *   clone <flags>   init <0|1>   pidfile <path>
 *   setgroups <allow|deny>   uidmap <cid> <hid> <size>   gidmap <cid> <hid> <size>      (idMaps kind "write")
 *   uidcmd <argc> <arg>...   gidcmd <argc> <arg>...                                     (idMaps kind "commands")
 *   step <op> <npairs> (<key> <value>)...   keys: source target fstype flags data root create(dir|file)
 *                                           optional(0|1) path mode uid gid major minor name
 *                                           attrs (mount: MOUNT_ATTR_* bits then set on the mounted tree and
 *                                           every submount, mount_setattr AT_RECURSIVE: read-only rbinds)
 *   arg <s>   candidate <path>   env <K=V>   cwd <path>   user <uid> <gid>   addgid <gid>   umask <mode>
 *   nonewprivs <0|1>   caps <bounding> <effective> <permitted> <inheritable> <ambient>
 *   rlimit <resource> <soft> <hard>   seccomp <flags> <struct sock_filter bytes>   terminal <0|1>
 *   oomscoreadj <n>
 *   monitor <logpath> <logmaxsize> <exitfile> <keepstdin 0|1> <stdinonce 0|1>   attachsock <path>
 *   exitcmd <argc> <arg>...   ptymaster <fd>                                       (monitor mode, below)
 *   healthcmd <interval-ms> <argc> <arg>...   (monitor mode: run every interval, one at a time)
 *   join <pid> <n> <ns>...    ns: user mnt pid uts ipc net cgroup, entered in this order (clone must be 0)
 *   cgroupprocs <path>        a cgroup.procs file (one per v1 hierarchy): opened before anything else, the child's
 *                             pid is written into each before the child is released (so its command never runs
 *                             outside its cgroup). A new cgroup namespace is then unshared by the child after the
 *                             move (not at clone), so that the namespace's root is the container's own cgroup.
 *   cgrouptasks <path>        v1: a `tasks` file (one per hierarchy), opened first like cgroupprocs; the released child
 *                             writes "0" (itself) into each before anything else. A single thread moving itself
 *                             skips the kernel's global threadgroup lock and its RCU grace period (~17 ms a start)
 *   cgroupdir <path>          v2: clone3(CLONE_INTO_CGROUP) straight into this directory (no migration, so no
 *                             RCU grace period in the attach); the cgroupprocs writes are then skipped. Where
 *                             clone3 is missing (ENOSYS, E2BIG) the executor clones and writes cgroupprocs.
 *   devfilter <bytes>         v2 (with cgroupdir): an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn
 *                             array, compiled in TypeScript) loaded and attached to the cgroup before the clone
 *   relay <stdin 0|1> <merge 0|1> <drainms>   foreground without a tty: the container's 0-2 are pipes the executor
 *                             copies to and from its own 0-2 (the caller's), see "relay" below; not with monitor
 *   oomfile <path>            monitor mode: when the init ends, the `oom_kill N` line of this file (memory.events
 *                             or memory.oom_control) goes into the exit file as "OOMKills":N
 * Numbers are decimal (64-bit masks and limits unsigned, others may carry a leading '-').
 *
 * Status lines on fd 4: "pid <hostpid>" (the container's init runs), "error <step> <errno>" (step >= 0: index
 * into plan steps; negative: see the E_* list below), then "exit <code>" or "signal <n>". The executor exits
 * with docker's code: the container's, 128+n when killed by signal n, 125 for setup failures, 126/127 for exec.
 *
 * Start-up: the executor first re-executes itself from a sealed memfd copy (native/sealed-exe.h), so no container
 * process can reach the host's binary through /proc/<pid>/exe; failing that it reports "error -29 <errno>".
 *
 * Join mode (exec): the executor opens /proc/<pid>/ns/<ns> for every listed namespace, setns()es into each in
 * plan order, then forks the process (a pid namespace applies to children only) and carries on as a run does.
 *
 * Monitor mode (detached containers): the container's stdout/stderr are pipes made here (or, with `ptymaster`,
 * the slave of the inherited pty master, opened with TIOCGPTPEER); stdin is /dev/null, or with keepstdin a pipe
 * (or the pty) fed from attach clients. After "pid" the executor closes fd 4, points its own 0-2 at /dev/null
 * and becomes the monitor: a poll() loop over a signalfd, the output fds, the attach socket and its clients. It
 * writes the output as k8s-file records to the log (rotated to <log>.1 past logmaxsize, 0 = unlimited) and to
 * every attach client (raw with a pty; else frames of 1 byte stream id + 4-byte big-endian length + data), and
 * forwards client bytes to stdin. When the init ends it drains the output, writes the exit file (temp + rename:
 * {"ExitCode":N,"Signal":S,"FinishedAt":"<RFC3339 UTC, ns>"[,"OOMKills":N]}), closes the clients, removes the socket, starts
 * exitcmd (own session, stdio /dev/null, not waited for) and exits. SIGHUP is swallowed there, not forwarded.
 *
 * After clone() the child calls only async-signal-safe functions and raw syscalls, and allocates nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sealed-exe.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#define AT_RECURSIVE_ 0x8000
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#define RES_NO_MAGICLINKS 0x02ULL
#define RES_IN_ROOT 0x10ULL
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#define ST_RELATIME_ 4096
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

struct open_how_ { uint64_t flags, mode, resolve; };

/* negative step numbers (mirrored by ExecStep in src/runtime/plan-encode.ts) */
enum {
  E_EXEC = -1, E_UIDMAP = -2, E_GIDMAP = -3, E_PLAN = -4, E_INTERNAL = -5, E_PIDFILE = -6, E_USERNS = -7,
  E_RLIMIT = -8, E_OOM = -9, E_BOUNDING = -10, E_SETGROUPS = -11, E_SETGID = -12, E_SETUID = -13, E_CAPS = -14,
  E_NNP = -15, E_CWD = -16, E_TTY = -17, E_FDS = -18, E_SECCOMP = -19, E_INIT = -20, E_LOG = -21, E_ATTACH = -22,
  E_STDIO = -23, E_JOIN_OPEN = -24, E_JOIN = -25, E_CGROUP = -26, E_CGROUPNS = -27, E_DEVFILTER = -28,
  E_SEALEXE = -29,
};

#define PLAN_MAX (16u << 20)
#define MAX_STEPS 4096
#define MAX_ARGV 16384
#define MAX_ENV 16384
#define MAX_CAND 1024
#define MAX_GROUPS 1024
#define MAX_RL 64
#define MAX_CMD 1024
#define MAP_TXT 16384

enum { OP_MOUNT = 1, OP_MKDIR, OP_SYMLINK, OP_MKNOD, OP_CHDIR, OP_PIVOT, OP_HOSTNAME, OP_DOMAINNAME, OP_WRITE,
       OP_MASK, OP_READONLY, OP_PROPAGATION };
enum { CREATE_NONE = 0, CREATE_DIR, CREATE_FILE };

struct step {
  int op, create, optional;
  const char *source, *target, *fstype, *data, *root, *path, *name;
  size_t data_len;
  unsigned long flags;
  unsigned mode, major, minor;
  long long uid, gid;
  uint64_t attrs; /* mount: MOUNT_ATTR_* set on the whole tree afterwards (mount_setattr AT_RECURSIVE) */
};
struct rl { int res; uint64_t soft, hard; };

static char plan[PLAN_MAX + 1];
static size_t plan_len, ppos;
static int perr;

static unsigned long clone_flags;
static int init_mode, hold;
static const char *pidfile;
static int map_kind; /* 0 none, 1 write, 2 commands */
static const char *setgroups_val;
static char uidmap_txt[MAP_TXT], gidmap_txt[MAP_TXT];
static size_t uidmap_len, gidmap_len;
static const char *uidcmd[MAX_CMD + 1], *gidcmd[MAX_CMD + 1];
static int nuidcmd, ngidcmd;
static struct step steps[MAX_STEPS];
static int nsteps;
static const char *argv_[MAX_ARGV + 1], *envp_[MAX_ENV + 1], *cands[MAX_CAND];
static int argc_, nenv, ncands;
static const char *cwd = "/";
static long long p_uid, p_gid;
static gid_t groups[MAX_GROUPS];
static int ngroups;
static unsigned p_umask = 022;
static int nnp, terminal, has_oom;
static long long oom;
static uint64_t cap_bnd, cap_eff, cap_prm, cap_inh, cap_amb;
static struct rl rls[MAX_RL];
static int nrl;
static const char *sc_prog;
static size_t sc_len;
static unsigned sc_flags;
static int has_seccomp;

/* join mode */
static const char *const NS_NAMES[] = { "user", "mnt", "pid", "uts", "ipc", "net", "cgroup" };
static const int NS_FLAGS[] = { CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWCGROUP };
#define MAX_JOIN 7
#define MAX_CGROUPS 16
static const char *cg_paths[MAX_CGROUPS];
static int cg_fds[MAX_CGROUPS], ncg;
static const char *cgt_paths[MAX_CGROUPS];
static int cgt_fds[MAX_CGROUPS], ncgt;
static const char *oom_file;
static const char *cg_dir;
static int cg_dirfd = -1, cgns_fd = -1;
static const char *df_prog;
static size_t df_len;
struct clone_args_ { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup; };
#define CLONE_INTO_CGROUP_ 0x200000000ULL
static long long join_pid;
static int njoin, join_ns[MAX_JOIN], joined_user;

/* monitor mode */
static int mon, keep_stdin, stdin_once, pty_master = -1;
static int relay, relay_in, relay_merge; /* plan `relay`: foreground stdio through pipes (see relay_prepare) */
static long long relay_drain_ms;
static const char *log_path, *exit_file, *attach_path;
static uint64_t log_max;
static const char *exitcmd[MAX_CMD + 1];
static int nexitcmd;
/* healthcmd: run every health_ms (first after health_ms), one at a time, like the exit command */
static const char *healthcmd[MAX_CMD + 1];
static int nhealthcmd;
static long long health_ms;
static pid_t health_pid = -1;
static int devnull = -1, cfd[3] = { -1, -1, -1 }; /* the container's 0-2, made before clone */
static int lsock = -1;                             /* the attach socket */

/* every fd the executor opens for monitoring: the child closes them all */
static int mon_fds[48];
static int nmon_fds;
static int keep(int fd) {
  if (fd >= 0 && nmon_fds < (int)(sizeof mon_fds / sizeof *mon_fds)) mon_fds[nmon_fds++] = fd;
  return fd;
}

static int last_cap = 40;
static int sync_r = -1, sync_w = -1, err_r = -1, err_w = -1;
static sigset_t fwd_set; /* forwarded signals + SIGCHLD, blocked in the executor (and the --init reaper) */
static const int fwd_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

/* ---------------------------------------------------------------- helpers usable before and after clone */

static size_t fmt_ll(char *out, long long v) {
  char tmp[24];
  size_t n = 0, i = 0;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do tmp[n++] = (char)('0' + u % 10); while ((u /= 10) != 0);
  if (v < 0) out[i++] = '-';
  while (n) out[i++] = tmp[--n];
  out[i] = 0;
  return i;
}

static int write_all(int fd, const void *buf, size_t len) {
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
static void status(const char *word, long long a, int with_b, long long b) {
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
static void fail(int step, int err) {
  int32_t msg[2] = { step, err };
  write_all(err_w, msg, sizeof msg);
  _exit(1);
}

static int oa2(int dfd, const char *p, uint64_t resolve) {
  struct open_how_ how = { O_PATH | O_CLOEXEC, 0, resolve };
  int fd;
  do fd = (int)syscall(SYS_openat2, dfd, p, &how, sizeof how); while (fd < 0 && errno == EINTR);
  return fd;
}

/* ---------------------------------------------------------------- plan parsing (before clone) */

static const char *tok(size_t *len) {
  size_t n = 0, i = ppos;
  int digits = 0;
  while (i < plan_len && plan[i] >= '0' && plan[i] <= '9' && digits < 10) n = n * 10 + (size_t)(plan[i++] - '0'), digits++;
  if (!digits || i >= plan_len || plan[i] != ':' || n > plan_len - i - 1 || plan_len - i - 1 - n < 1 || plan[i + 1 + n] != ',') {
    perr = EINVAL;
    if (len) *len = 0;
    return "";
  }
  plan[i + 1 + n] = 0;
  ppos = i + 2 + n;
  if (len) *len = n;
  return plan + i + 1;
}
static const char *str(void) { return tok(NULL); }
static uint64_t u64(void) {
  size_t n;
  const char *s = tok(&n);
  uint64_t v = 0;
  if (!n) perr = EINVAL;
  for (size_t i = 0; i < n; i++) {
    unsigned d = (unsigned)(s[i] - '0');
    if (d > 9 || v > (UINT64_MAX - d) / 10) { perr = EINVAL; return 0; }
    v = v * 10 + d;
  }
  return v;
}
static long long i64(void) {
  size_t n;
  const char *s = tok(&n);
  int neg = n > 0 && s[0] == '-';
  unsigned long long v = 0;
  if (n == (size_t)neg) perr = EINVAL;
  for (size_t i = (size_t)neg; i < n; i++) {
    unsigned d = (unsigned)(s[i] - '0');
    if (d > 9 || v > ((unsigned long long)LLONG_MAX - d) / 10) { perr = EINVAL; return 0; }
    v = v * 10 + d;
  }
  return neg ? -(long long)v : (long long)v;
}

static void map_line(char *txt, size_t *len) {
  long long c = i64(), h = i64(), s = i64();
  if (*len + 80 > MAP_TXT) { perr = E2BIG; return; }
  *len += fmt_ll(txt + *len, c);
  txt[(*len)++] = ' ';
  *len += fmt_ll(txt + *len, h);
  txt[(*len)++] = ' ';
  *len += fmt_ll(txt + *len, s);
  txt[(*len)++] = '\n';
  map_kind = 1;
}

static int cmd(const char **out, int *n) {
  long long c = i64();
  if (c < 1 || c > MAX_CMD) return perr = c < 1 ? EINVAL : E2BIG;
  for (long long i = 0; i < c; i++) out[i] = str();
  out[c] = NULL;
  *n = (int)c;
  return 0;
}

static void parse_join(void) {
  join_pid = i64();
  long long n = i64();
  if (join_pid < 1 || n < 1 || n > MAX_JOIN) { perr = EINVAL; return; }
  for (long long i = 0; i < n && !perr; i++) {
    const char *name = str();
    join_ns[njoin] = -1;
    for (int k = 0; k < MAX_JOIN; k++)
      if (!strcmp(name, NS_NAMES[k])) join_ns[njoin] = k;
    if (join_ns[njoin] < 0) perr = EINVAL;
    else if (NS_FLAGS[join_ns[njoin]] == CLONE_NEWUSER) joined_user = 1;
    njoin++;
  }
}

static const char *const OPS[] = { "", "mount", "mkdir", "symlink", "mknod", "chdir", "pivot_root", "sethostname",
                                   "setdomainname", "write", "mask", "readonly", "propagation" };

static void parse_step(void) {
  if (nsteps >= MAX_STEPS) { perr = E2BIG; return; }
  struct step *s = &steps[nsteps++];
  const char *op = str();
  s->uid = s->gid = -1;
  for (int i = 1; i < (int)(sizeof OPS / sizeof *OPS); i++)
    if (!strcmp(op, OPS[i])) s->op = i;
  if (!s->op) perr = EINVAL;
  long long n = i64();
  for (long long i = 0; i < n && !perr; i++) {
    const char *k = str();
    if (!strcmp(k, "source")) s->source = str();
    else if (!strcmp(k, "target")) s->target = str();
    else if (!strcmp(k, "fstype")) s->fstype = str();
    else if (!strcmp(k, "data")) s->data = tok(&s->data_len);
    else if (!strcmp(k, "root")) s->root = str();
    else if (!strcmp(k, "path")) s->path = str();
    else if (!strcmp(k, "name")) s->name = str();
    else if (!strcmp(k, "flags")) s->flags = (unsigned long)u64();
    else if (!strcmp(k, "mode")) s->mode = (unsigned)u64();
    else if (!strcmp(k, "major")) s->major = (unsigned)u64();
    else if (!strcmp(k, "minor")) s->minor = (unsigned)u64();
    else if (!strcmp(k, "uid")) s->uid = i64();
    else if (!strcmp(k, "gid")) s->gid = i64();
    else if (!strcmp(k, "optional")) s->optional = (int)i64();
    else if (!strcmp(k, "attrs")) s->attrs = u64();
    else if (!strcmp(k, "create")) {
      const char *c = str();
      s->create = !strcmp(c, "dir") ? CREATE_DIR : !strcmp(c, "file") ? CREATE_FILE : (perr = EINVAL, 0);
    } else perr = EINVAL;
  }
  /* every op needs its string fields */
  switch (s->op) {
  case OP_MOUNT: if (!s->target) perr = EINVAL; break;
  case OP_SYMLINK: if (!s->target || !s->path) perr = EINVAL; break;
  case OP_PIVOT: if (!s->root) perr = EINVAL; break;
  case OP_HOSTNAME: case OP_DOMAINNAME: if (!s->name) perr = EINVAL; break;
  case OP_WRITE: if (!s->path || !s->data) perr = EINVAL; break;
  default: if (!s->path) perr = EINVAL; break;
  }
}

static int parse(void) {
  if (strcmp(str(), "tsdock-plan") || perr) return EINVAL;
  if (strcmp(str(), "1")) return perr ? perr : EPROTO;
  for (;;) {
    const char *k = str();
    if (perr) return perr;
    if (!strcmp(k, "end")) break;
    else if (!strcmp(k, "clone")) clone_flags = (unsigned long)u64();
    else if (!strcmp(k, "init")) init_mode = (int)i64();
    else if (!strcmp(k, "hold")) hold = (int)i64();
    else if (!strcmp(k, "pidfile")) pidfile = str();
    else if (!strcmp(k, "setgroups")) setgroups_val = str();
    else if (!strcmp(k, "uidmap")) map_line(uidmap_txt, &uidmap_len);
    else if (!strcmp(k, "gidmap")) map_line(gidmap_txt, &gidmap_len);
    else if (!strcmp(k, "uidcmd")) { cmd(uidcmd, &nuidcmd); map_kind = 2; }
    else if (!strcmp(k, "gidcmd")) { cmd(gidcmd, &ngidcmd); map_kind = 2; }
    else if (!strcmp(k, "join")) parse_join();
    else if (!strcmp(k, "cgroupprocs")) { if (ncg >= MAX_CGROUPS) return E2BIG; cg_paths[ncg++] = str(); }
    else if (!strcmp(k, "cgrouptasks")) { if (ncgt >= MAX_CGROUPS) return E2BIG; cgt_paths[ncgt++] = str(); }
    else if (!strcmp(k, "oomfile")) oom_file = str();
    else if (!strcmp(k, "cgroupdir")) cg_dir = str();
    else if (!strcmp(k, "devfilter")) { df_prog = tok(&df_len); if (df_len == 0 || df_len % sizeof(struct bpf_insn) || df_len / sizeof(struct bpf_insn) > 4096) perr = EINVAL; }
    else if (!strcmp(k, "monitor")) {
      mon = 1;
      log_path = str(); log_max = u64(); exit_file = str(); keep_stdin = (int)i64(); stdin_once = (int)i64();
    } else if (!strcmp(k, "attachsock")) attach_path = str();
    else if (!strcmp(k, "exitcmd")) cmd(exitcmd, &nexitcmd);
    else if (!strcmp(k, "healthcmd")) { health_ms = i64(); if (health_ms < 1) perr = EINVAL; cmd(healthcmd, &nhealthcmd); }
    else if (!strcmp(k, "ptymaster")) { long long fd = i64(); if (fd < 5 || fd > INT_MAX) perr = EINVAL; pty_master = (int)fd; }
    else if (!strcmp(k, "relay")) { relay = 1; relay_in = (int)i64(); relay_merge = (int)i64(); relay_drain_ms = i64(); if (relay_drain_ms < 0) perr = EINVAL; }
    else if (!strcmp(k, "step")) parse_step();
    else if (!strcmp(k, "arg")) { if (argc_ >= MAX_ARGV) return E2BIG; argv_[argc_++] = str(); }
    else if (!strcmp(k, "env")) { if (nenv >= MAX_ENV) return E2BIG; envp_[nenv++] = str(); }
    else if (!strcmp(k, "candidate")) { if (ncands >= MAX_CAND) return E2BIG; cands[ncands++] = str(); }
    else if (!strcmp(k, "cwd")) cwd = str();
    else if (!strcmp(k, "user")) { p_uid = i64(); p_gid = i64(); }
    else if (!strcmp(k, "addgid")) { if (ngroups >= MAX_GROUPS) return E2BIG; groups[ngroups++] = (gid_t)i64(); }
    else if (!strcmp(k, "umask")) p_umask = (unsigned)u64() & 07777;
    else if (!strcmp(k, "nonewprivs")) nnp = (int)i64();
    else if (!strcmp(k, "terminal")) terminal = (int)i64();
    else if (!strcmp(k, "oomscoreadj")) { has_oom = 1; oom = i64(); }
    else if (!strcmp(k, "caps")) { cap_bnd = u64(); cap_eff = u64(); cap_prm = u64(); cap_inh = u64(); cap_amb = u64(); }
    else if (!strcmp(k, "rlimit")) {
      if (nrl >= MAX_RL) return E2BIG;
      rls[nrl].res = (int)i64(); rls[nrl].soft = u64(); rls[nrl].hard = u64(); nrl++;
    } else if (!strcmp(k, "seccomp")) {
      sc_flags = (unsigned)u64();
      sc_prog = tok(&sc_len);
      has_seccomp = 1;
      if (sc_len == 0 || sc_len % sizeof(struct sock_filter) || sc_len / sizeof(struct sock_filter) > 0xffff) perr = EINVAL;
    } else return EINVAL;
    if (perr) return perr;
  }
  if (ppos != plan_len || argc_ == 0) return EINVAL;
  const unsigned long ns = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
  if (clone_flags & ~ns) return EINVAL;
  if ((clone_flags & CLONE_NEWUSER) && (map_kind == 0 || (map_kind == 2 && (!nuidcmd || !ngidcmd)))) return EINVAL;
  if (njoin && (clone_flags || map_kind || mon)) return EINVAL;
  if (hold && (njoin || mon)) return EINVAL;
  if (df_prog && !cg_dir) return EINVAL;
  if (relay && (mon || terminal)) return EINVAL;
  if (!mon && (attach_path || nexitcmd || nhealthcmd || pty_master >= 0 || oom_file)) return EINVAL;
  if (mon && (log_path[0] != '/' || exit_file[0] != '/' || (attach_path && attach_path[0] != '/'))) return EINVAL;
  argv_[argc_] = NULL;
  envp_[nenv] = NULL;
  return 0;
}

static int read_plan(void) {
  for (;;) {
    if (plan_len == PLAN_MAX) return E2BIG;
    ssize_t r = read(3, plan + plan_len, PLAN_MAX - plan_len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno;
    if (r == 0) break;
    plan_len += (size_t)r;
  }
  close(3);
  return parse();
}

/* ---------------------------------------------------------------- child: steps */

static char pbuf[PATH_MAX + 1];

static int root_scoped(uint64_t resolve) { return (resolve & RES_IN_ROOT) != 0; }

/*
 * Resolve `path` (beneath the directory fd `base`, scoped to it when `resolve` has RESOLVE_IN_ROOT) to an O_PATH
 * fd. With `create`, missing components are made one at a time through the fd of their (resolved) parent, so a
 * symlink can never lead a creation outside the root. Returns -1 with errno on failure.
 */
static int resolve_at(int base, uint64_t resolve, const char *path, int create, unsigned mode, long long uid, long long gid, int depth) {
  int fd = oa2(base, path, resolve);
  if (fd >= 0 || errno != ENOENT || !create) return fd;
  if (strlen(path) >= sizeof pbuf) { errno = ENAMETOOLONG; return -1; }
  size_t n = 0;
  if (path[0] == '/') pbuf[n++] = '/';
  pbuf[n] = 0;
  int parent = oa2(base, n ? "/" : ".", resolve);
  if (parent < 0) return -1;
  for (const char *p = path;;) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *e = p;
    while (*e && *e != '/') e++;
    const char *rest = e;
    while (*rest == '/') rest++;
    int last = !*rest;
    if (n && pbuf[n - 1] != '/') pbuf[n++] = '/';
    const char *name = pbuf + n;
    memcpy(pbuf + n, p, (size_t)(e - p));
    n += (size_t)(e - p);
    pbuf[n] = 0;
    fd = oa2(base, pbuf, resolve);
    if (fd < 0 && errno == ENOENT) {
      int r;
      if (last && create == CREATE_FILE) {
        r = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
        if (r >= 0) close(r);
      } else r = mkdirat(parent, name, mode);
      if (r < 0 && errno != EEXIST) { int e2 = errno; close(parent); errno = e2; return -1; }
      if (r >= 0 && (uid >= 0 || gid >= 0) && fchownat(parent, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0) {
        int e2 = errno; close(parent); errno = e2; return -1;
      }
      fd = oa2(base, pbuf, resolve);
      if (fd < 0 && errno == ENOENT && root_scoped(resolve)) {
        /* a dangling symlink (e.g. /evil -> /etc/shadow, missing): create its target inside the root, as
           docker does, by resolving "<link target>/<rest>" from the symlink's directory (depth-limited) */
        char link[PATH_MAX], next[PATH_MAX];
        ssize_t ln = readlinkat(parent, name, link, sizeof link - 1);
        if (ln > 0 && depth < 40) {
          link[ln] = 0;
          size_t dirlen = (size_t)(name - pbuf), restlen = strlen(rest);
          size_t need = (link[0] == '/' ? 0 : dirlen) + (size_t)ln + 1 + restlen + 1;
          close(parent);
          if (need > sizeof next) { errno = ENAMETOOLONG; return -1; }
          size_t k = 0;
          if (link[0] != '/') { memcpy(next, pbuf, dirlen); k = dirlen; }
          memcpy(next + k, link, (size_t)ln); k += (size_t)ln;
          if (restlen) { next[k++] = '/'; memcpy(next + k, rest, restlen); k += restlen; }
          next[k] = 0;
          return resolve_at(base, resolve, next, create, mode, uid, gid, depth + 1);
        }
        errno = ENOENT;
      }
    }
    int e2 = errno;
    close(parent);
    if (fd < 0) { errno = e2; return -1; }
    parent = fd;
    p = e;
  }
  return parent;
}

/* open `root` and resolve `path` in it; *fdpath gets "/proc/self/fd/N" for mounting through the fd */
static int resolve_step(const char *root, const char *path, int create, unsigned mode, long long uid, long long gid, char *fdpath) {
  int base = AT_FDCWD, fd;
  uint64_t res = 0;
  if (root) {
    base = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (base < 0) return -1;
    res = RES_IN_ROOT | RES_NO_MAGICLINKS;
  }
  fd = resolve_at(base, res, path, create, mode, uid, gid, 0);
  int e = errno;
  if (root) close(base);
  errno = e;
  if (fd >= 0 && fdpath) {
    memcpy(fdpath, "/proc/self/fd/", 14);
    fmt_ll(fdpath + 14, fd);
  }
  return fd;
}

/* statfs flags that a bind remount must keep (locked in a user namespace), as MS_* bits */
static unsigned long kept_flags(const char *target) {
  struct statfs sf;
  if (statfs(target, &sf) < 0) return 0;
  unsigned long f = (unsigned long)sf.f_flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME);
  if (sf.f_flags & ST_RELATIME_) f |= MS_RELATIME;
  return f;
}

static int bind_remount(const char *target, unsigned long flags) {
  unsigned long f = MS_BIND | MS_REMOUNT | (flags & ~(unsigned long)(MS_BIND | MS_REC | MS_REMOUNT | MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE));
  if (mount(NULL, target, NULL, f, NULL) == 0) return 0;
  if (errno != EPERM) return errno;
  return mount(NULL, target, NULL, f | (kept_flags(target) & ~(unsigned long)MS_RDONLY), NULL) == 0 ? 0 : errno;
}

/* mount(2), then the remount a bind needs for its other flags, then propagation as its own call (as runc) */
static int do_mount(const char *src, const char *target, const char *fstype, unsigned long flags, const char *data) {
  const unsigned long prop = MS_PRIVATE | MS_SLAVE | MS_SHARED | MS_UNBINDABLE;
  unsigned long base = flags & ~prop;
  if (!(flags & prop) || (base & ~(unsigned long)(MS_REC | MS_SILENT))) {
    if (mount(src && *src ? src : NULL, target, fstype && *fstype ? fstype : NULL, base, data && *data ? data : NULL) < 0)
      return errno;
    if ((base & MS_BIND) && !(base & MS_REMOUNT) && (base & ~(unsigned long)(MS_BIND | MS_REC | MS_SILENT))) {
      int e = bind_remount(target, base);
      if (e) return e;
    }
  }
  if ((flags & prop) && mount(NULL, target, NULL, (flags & prop) | (flags & MS_REC), NULL) < 0) return errno;
  return 0;
}

/* mount_setattr(2) (Linux 5.12) on the mount at fd (or path), with every mount below it */
static int set_tree_attrs(int fd, const char *path, uint64_t attrs) {
  struct mount_attr_ { uint64_t attr_set, attr_clr, propagation, userns_fd; } a = { attrs, 0, 0, 0 };
  long r = fd >= 0 ? syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE_, &a, sizeof a)
                   : syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE_, &a, sizeof a);
  return r < 0 ? errno : 0;
}

static int step_mount(const struct step *s) {
  char fdpath[40];
  const char *target = s->target;
  int fd = -1, e;
  if (s->root || s->create) {
    fd = resolve_step(s->root, s->target, s->create, s->create == CREATE_FILE ? 0644 : 0755, -1, -1, fdpath);
    if (fd < 0) return (errno == ENOENT && s->optional) ? 0 : errno;
    if (s->root) target = fdpath;
    else close(fd), fd = -1;
  }
  e = do_mount(s->source, target, s->fstype, s->flags, s->data);
  if (!e && s->attrs) e = set_tree_attrs(s->root ? fd : -1, target, s->attrs);
  if (fd >= 0) close(fd);
  return (e == ENOENT && s->optional) ? 0 : e;
}

static int step_pivot(const char *root) {
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC), newroot = -1, e = 0;
  if (oldroot < 0) return errno;
  newroot = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0 || fchdir(newroot) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || fchdir(oldroot) < 0 ||
      mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
    e = errno;
  close(oldroot);
  if (newroot >= 0) close(newroot);
  return e;
}

static int step_write(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), e = 0;
  if (fd < 0) return errno;
  if (write_all(fd, data, len) < 0) e = errno ? errno : EIO;
  close(fd);
  return e;
}

static int run_step(const struct step *s) {
  int fd;
  struct stat st;
  switch (s->op) {
  case OP_MOUNT: return step_mount(s);
  case OP_MKDIR:
    fd = resolve_step(s->root, s->path, CREATE_DIR, s->mode, s->uid, s->gid, NULL);
    if (fd < 0) return errno;
    close(fd);
    return 0;
  case OP_SYMLINK: return symlink(s->target, s->path) < 0 && errno != EEXIST ? errno : 0;
  case OP_MKNOD:
    if (mknod(s->path, s->mode, makedev(s->major, s->minor)) < 0) return errno == EEXIST ? 0 : errno;
    return lchown(s->path, (uid_t)s->uid, (gid_t)s->gid) < 0 ? errno : 0;
  case OP_CHDIR: return chdir(s->path) < 0 ? errno : 0;
  case OP_PIVOT: return step_pivot(s->root);
  case OP_HOSTNAME: return sethostname(s->name, strlen(s->name)) < 0 ? errno : 0;
  case OP_DOMAINNAME: return setdomainname(s->name, strlen(s->name)) < 0 ? errno : 0;
  case OP_WRITE: return step_write(s->path, s->data, s->data_len);
  case OP_MASK:
    if (stat(s->path, &st) < 0) return errno == ENOENT ? 0 : errno;
    if (S_ISDIR(st.st_mode)) return mount("tmpfs", s->path, "tmpfs", MS_RDONLY, NULL) < 0 ? errno : 0;
    return mount("/dev/null", s->path, NULL, MS_BIND, NULL) < 0 ? errno : 0;
  case OP_READONLY:
    if (mount(s->path, s->path, NULL, MS_BIND | MS_REC, NULL) < 0) return errno == ENOENT ? 0 : errno;
    return mount(NULL, s->path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | (kept_flags(s->path) & ~(unsigned long)MS_RDONLY), NULL) < 0 ? errno : 0;
  case OP_PROPAGATION: return mount(NULL, s->path, NULL, s->flags, NULL) < 0 ? errno : 0;
  }
  return EINVAL;
}

/* ---------------------------------------------------------------- child: process */

static int capset_(uint64_t eff, uint64_t prm, uint64_t inh) {
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2] = {
    { (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
    { (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) },
  };
  return (int)syscall(SYS_capset, &h, d);
}

static int drop_bounding(uint64_t keep) {
  for (int c = 0; c <= last_cap && c < 64; c++)
    if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) return -1;
  return 0;
}

static void load_seccomp(void) {
  struct sock_fprog prog = { (unsigned short)(sc_len / sizeof(struct sock_filter)), (struct sock_filter *)(uintptr_t)sc_prog };
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, sc_flags, &prog) < 0) fail(E_SECCOMP, errno);
}

static void reset_signals(void) {
  struct sigaction sa;
  sigset_t none;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < _NSIG; sig++) sigaction(sig, &sa, NULL); /* EINVAL for KILL/STOP and glibc's own: fine */
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* the container's process: privileges, then execve (never returns) */
static void exec_command(void) {
  char num[24];
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (has_oom) { /* before dropping capabilities: lowering it needs CAP_SYS_RESOURCE */
    size_t n = fmt_ll(num, oom);
    int e = step_write("/proc/self/oom_score_adj", num, n);
    if (e) fail(E_OOM, e);
  }
  for (int i = 0; i < nrl; i++) {
    struct rlimit r = { (rlim_t)rls[i].soft, (rlim_t)rls[i].hard };
    if (setrlimit(rls[i].res, &r) < 0) fail(E_RLIMIT, errno);
  }
  /* without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it before the drop (as runc) */
  if (has_seccomp && !nnp) load_seccomp();
  if (drop_bounding(cap_bnd) < 0) fail(E_BOUNDING, errno);
  if (syscall(SYS_setgroups, (size_t)ngroups, groups) < 0 && !(errno == EPERM && ngroups == 0)) fail(E_SETGROUPS, errno);
  if (syscall(SYS_setresgid, (gid_t)p_gid, (gid_t)p_gid, (gid_t)p_gid) < 0) fail(E_SETGID, errno);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(E_CAPS, errno);
  if (syscall(SYS_setresuid, (uid_t)p_uid, (uid_t)p_uid, (uid_t)p_uid) < 0) fail(E_SETUID, errno);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail(E_CAPS, errno);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); /* a credential change cleared it ... */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);        /* ... and reset dumpable to fs.suid_dumpable: non-dumpable until exec */
  if (capset_(cap_eff, cap_prm, cap_inh) < 0) fail(E_CAPS, errno);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && (errno != EINVAL || cap_amb)) fail(E_CAPS, errno);
  for (int c = 0; c < 64; c++)
    if ((cap_amb & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) fail(E_CAPS, errno);
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(E_NNP, errno);
  if (chdir(cwd) < 0) fail(E_CWD, errno);
  setsid(); /* its own session, as runc: a terminal's signals reach the container through the executor only */
  if (terminal && ioctl(0, TIOCSCTTY, 0) < 0) fail(E_TTY, errno);
  umask(p_umask);
  reset_signals();
  for (int fd = 0; fd < 3; fd++) fcntl(fd, F_SETFD, 0);
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    if (errno != ENOSYS && errno != EINVAL) fail(E_FDS, errno);
    for (int fd = 3; fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  if (has_seccomp && nnp) load_seccomp();
  int err = ENOENT;
  for (int i = 0; i < ncands; i++) {
    execve(cands[i], (char *const *)argv_, (char *const *)envp_);
    err = errno;
    if (err != ENOENT && err != ENOTDIR) break;
  }
  fail(E_EXEC, err == ENOTDIR ? ENOENT : err);
}

static int wait_sigs(siginfo_t *si) {
  int sig;
  do sig = sigwaitinfo(&fwd_set, si); while (sig < 0 && errno == EINTR);
  return sig;
}

static int code_of(int st) { return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st); }

/* --init: stay as pid 1, a reaper forwarding signals to the command; exit with the command's status */
static void reaper(void) {
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  setsid();
  pid_t cmd = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (cmd < 0) fail(E_INIT, errno);
  if (cmd == 0) exec_command();
  close(err_w);
  /* keep only what reaping and forwarding need */
  drop_bounding(1ULL << CAP_KILL);
  capset_(1ULL << CAP_KILL, 1ULL << CAP_KILL, 0);
  for (;;) {
    siginfo_t si;
    int sig = wait_sigs(&si);
    if (sig != SIGCHLD) {
      if (sig > 0) kill(cmd, sig);
      continue;
    }
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0)
      if (w == cmd) _exit(code_of(st));
  }
}

/* plan "hold": the steps are done; closing the error pipe makes the parent report "pid"; keep the mount
   namespace alive (for /proc/<pid>/root) until stdin reaches EOF */
static void hold_mounts(void) {
  char c;
  close(err_w);
  for (;;) {
    ssize_t r = read(0, &c, 1);
    if (r == 0 || (r < 0 && errno != EINTR)) _exit(0);
  }
}

static void child(void) {
  char c;
  ssize_t r;
  if (mon || relay) {
    for (int fd = 0; fd < 3; fd++)
      if (dup2(cfd[fd], fd) < 0) fail(E_STDIO, errno);
  }
  for (int i = 0; i < nmon_fds; i++) close(mon_fds[i]);
  close(4);
  close(sync_w);
  close(err_r);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* with a new user namespace the parent (maybe unprivileged, or newuidmap) must open our /proc files first */
  if (!(clone_flags & CLONE_NEWUSER)) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  do r = read(sync_r, &c, 1); while (r < 0 && errno == EINTR);
  if (r != 1) _exit(1); /* the executor went away or gave up */
  close(sync_r);
  for (int i = 0; i < ncgt; i++) {
    ssize_t w;
    do w = write(cgt_fds[i], "0", 1); while (w < 0 && errno == EINTR);
    if (w < 0) fail(E_CGROUP, errno);
    close(cgt_fds[i]);
  }
  if ((clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) fail(E_CGROUPNS, errno);
  if (cgns_fd >= 0 && (setns(cgns_fd, CLONE_NEWCGROUP) < 0 || close(cgns_fd) < 0)) fail(E_CGROUPNS, errno);
  if ((clone_flags & CLONE_NEWUSER) || joined_user) {
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (syscall(SYS_setresgid, 0, 0, 0) < 0) fail(E_USERNS, errno);
    if (syscall(SYS_setresuid, 0, 0, 0) < 0) fail(E_USERNS, errno);
  }
  umask(0);
  for (int i = 0; i < nsteps; i++) {
    int e = run_step(&steps[i]);
    if (e) fail(i, e);
  }
  if (hold) hold_mounts();
  if (init_mode) reaper();
  exec_command();
}

/* ---------------------------------------------------------------- parent */

static int write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC), e = 0;
  if (fd < 0) return errno;
  ssize_t w;
  do w = write(fd, data, len); while (w < 0 && errno == EINTR);
  if (w < 0) e = errno;
  else if ((size_t)w != len) e = EIO;
  close(fd);
  return e;
}

static int run_cmd(const char **argv, int argc, pid_t pid) {
  static const char *a[MAX_CMD + 1];
  char pidstr[24];
  fmt_ll(pidstr, pid);
  for (int i = 0; i < argc; i++) a[i] = strcmp(argv[i], "{pid}") ? argv[i] : pidstr;
  a[argc] = NULL;
  pid_t p = fork();
  if (p < 0) return errno;
  if (p == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    execvp(a[0], (char *const *)a);
    _exit(errno == ENOENT ? 127 : 126);
  }
  int st;
  while (waitpid(p, &st, 0) < 0)
    if (errno != EINTR) return errno;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 127) return ENOENT;
  return EPERM;
}

/* id maps; returns the failing E_* step with *err set, or 0 */
static int id_maps(pid_t pid, int *err) {
  char path[64];
  if (map_kind == 2) {
    if ((*err = run_cmd(uidcmd, nuidcmd, pid))) return E_UIDMAP;
    if ((*err = run_cmd(gidcmd, ngidcmd, pid))) return E_GIDMAP;
    return 0;
  }
  snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
  if ((*err = write_file(path, uidmap_txt, uidmap_len))) return E_UIDMAP;
  if (setgroups_val) {
    snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
    if ((*err = write_file(path, setgroups_val, strlen(setgroups_val)))) return E_GIDMAP;
  }
  snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
  if ((*err = write_file(path, gidmap_txt, gidmap_len))) return E_GIDMAP;
  return 0;
}

/* the pid file's directory, opened before any setns (a joined mount namespace would change what paths mean) */
static int pidfile_dir = -1;
static const char *pidfile_base;

static int open_pidfile_dir(void) {
  char dir[PATH_MAX];
  const char *slash = strrchr(pidfile, '/');
  size_t n = slash ? (size_t)(slash - pidfile) : 0;
  if (n >= sizeof dir) return ENAMETOOLONG;
  memcpy(dir, pidfile, n);
  dir[n] = 0;
  pidfile_base = slash ? slash + 1 : pidfile;
  pidfile_dir = keep(open(slash ? (n ? dir : "/") : ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  return pidfile_dir < 0 ? errno : 0;
}

static int write_pidfile(pid_t pid) {
  char tmp[PATH_MAX], num[24];
  size_t n = fmt_ll(num, pid);
  if (snprintf(tmp, sizeof tmp, "%s.tmp%d", pidfile_base, (int)getpid()) >= (int)sizeof tmp) return ENAMETOOLONG;
  int fd = openat(pidfile_dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  int e = write_all(fd, num, n) < 0 ? errno : 0;
  if (close(fd) < 0 && !e) e = errno;
  if (!e && renameat(pidfile_dir, tmp, pidfile_dir, pidfile_base) < 0) e = errno;
  if (e) unlinkat(pidfile_dir, tmp, 0);
  return e;
}

static int give_up(pid_t pid, int step, int err) {
  status("error", step, 1, err);
  if (lsock >= 0) unlink(attach_path);
  if (pid > 0) {
    close(sync_w); /* an unreleased child reads EOF and exits */
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  }
  return step == E_EXEC ? (err == ENOENT || err == ENOTDIR ? 127 : 126) : 125;
}

/* the device filter: load the program, attach it to the cgroup (the attachment keeps it) */
static int attach_devfilter(void) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insn_cnt = (uint32_t)(df_len / sizeof(struct bpf_insn));
  a.insns = (uint64_t)(uintptr_t)df_prog;
  a.license = (uint64_t)(uintptr_t)"Apache-2.0";
  int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
  if (fd < 0) return errno;
  memset(&a, 0, sizeof a);
  a.target_fd = (uint32_t)cg_dirfd;
  a.attach_bpf_fd = (uint32_t)fd;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  int e = syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof a) < 0 ? errno : 0;
  close(fd);
  return e;
}

/* ---------------------------------------------------------------- join (exec) */

/* open every /proc/<pid>/ns/<ns> first (after a setns, /proc and our rights are no longer the host's), then enter
   each in plan order; the process forked next lands in the pid namespace */
static int join_namespaces(int *err) {
  int fds[MAX_JOIN], i, step = 0;
  char path[64];
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no one in the container may open our /proc files */
  for (i = 0; i < njoin; i++) {
    snprintf(path, sizeof path, "/proc/%lld/ns/%s", join_pid, NS_NAMES[join_ns[i]]);
    if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) { *err = errno, step = E_JOIN_OPEN; break; }
  }
  for (int k = 0; !step && k < njoin; k++) {
    /* cloning into a cgroup must happen from outside its namespace (nsdelegate hides the source cgroup):
       the child enters the cgroup namespace itself, once it runs in its cgroup */
    if (cg_dirfd >= 0 && NS_FLAGS[join_ns[k]] == CLONE_NEWCGROUP) { cgns_fd = fds[k], fds[k] = -1; continue; }
    if (setns(fds[k], NS_FLAGS[join_ns[k]]) < 0) *err = errno, step = E_JOIN;
  }
  while (i > 0) if (fds[--i] >= 0) close(fds[i]);
  return step;
}

/* ---------------------------------------------------------------- monitor (detached containers) */

static void close_fds(unsigned from, unsigned to) {
  if (from <= to && syscall(SYS_close_range, from, to, 0U) < 0)
    for (unsigned fd = from; fd <= to && fd < 65536; fd++) close((int)fd);
}

#define MAX_CLIENTS 16
#define OUT_BUF 16384           /* one read of container output */
#define IN_BUF 4096             /* client bytes on their way to the container's stdin */
#define LOG_IOV 128
#define SLOW_CLIENT_TRIES 10    /* a client that cannot take output for ~1 s is dropped */

static int outfd[2] = { -1, -1 }, infd = -1, logfd = -1, sigfd = -1, stdin_close_pending;
static uint64_t log_size, log_pend;
static char log1_path[PATH_MAX];
static struct { int fd, in_open; } cl[MAX_CLIENTS];
static int ncl;
static char obuf[5 + OUT_BUF]; /* 5 bytes of frame header, then the data */
static char ibuf[IN_BUF];
static size_t ioff, ilen;
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

static void log_chunk(int stream, const char *p, size_t n) {
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

static int send_all(int fd, const char *p, size_t len) {
  int tries = 0;
  while (len) {
    ssize_t w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) { p += w; len -= (size_t)w; continue; }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN && tries++ < SLOW_CLIENT_TRIES) {
      struct pollfd pf = { fd, POLLOUT, 0 };
      poll(&pf, 1, 100);
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

/* the init ended: copy what is still in the pipes (bounded: a leftover writer outside a pid namespace could
   hold them open forever) */
static void drain(void) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while (outfd[0] >= 0 || outfd[1] >= 0) {
    struct pollfd pf[2];
    int n = 0, which[2];
    for (int s = 0; s < 2; s++)
      if (outfd[s] >= 0) pf[n] = (struct pollfd){ outfd[s], POLLIN, 0 }, which[n++] = s;
    int r = poll(pf, (nfds_t)n, 100);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    for (int k = 0; k < n; k++)
      if (pf[k].revents) read_output(which[k]);
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (t.tv_sec - t0.tv_sec >= 2) break;
  }
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

static void write_exit_file(int st, const struct timespec *end) {
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

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void finish(int st) {
  struct timespec end;
  clock_gettime(CLOCK_REALTIME, &end);
  drain();
  if (logfd >= 0) close(logfd);
  write_exit_file(st, &end);
  for (int i = 0; i < ncl; i++)
    if (cl[i].fd >= 0) close(cl[i].fd); /* attach clients see EOF once the exit file is there */
  if (lsock >= 0) close(lsock), unlink(attach_path);
  if (nexitcmd) run_exit_command();
  _exit(code_of(st));
}

/* before clone: the container's stdio (cfd), our ends of it, the log, the attach socket */
static int monitor_prepare(int *err) {
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
  if (snprintf(log1_path, sizeof log1_path, "%s.1", log_path) >= (int)sizeof log1_path) return *err = ENAMETOOLONG, E_LOG;
  if ((*err = log_open(0))) return E_LOG;
  keep(logfd);
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
      if (n >= sizeof dir) return *err = ENAMETOOLONG, E_ATTACH;
      memcpy(dir, attach_path, n);
      dir[n] = 0;
      if ((dfd = open(n ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) return *err = errno, E_ATTACH;
      if (snprintf(a.sun_path, sizeof a.sun_path, "/proc/self/fd/%d/%s", dfd, slash + 1) >= (int)sizeof a.sun_path) return *err = ENAMETOOLONG, E_ATTACH;
    }
    lsock = keep(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    unlink(attach_path); /* left behind by a monitor that was killed */
    if (lsock < 0 || bind(lsock, (struct sockaddr *)&a, sizeof a) < 0) *err = errno;
    else if (listen(lsock, MAX_CLIENTS) < 0) *err = errno, unlink(attach_path);
    if (dfd >= 0) close(dfd);
    if (*err) { if (lsock >= 0) close(lsock); lsock = -1; return E_ATTACH; }
  }
  return 0;
}

/* a long-lived monitor must not hold whatever its spawner leaked to it (a shell waiting on a pipe would hang) */
static void close_stray_fds(void) {
  if (pty_master < 0) close_fds(5, ~0U);
  else close_fds(5, (unsigned)pty_master - 1), close_fds((unsigned)pty_master + 1, ~0U);
}

/* after "pid": become the monitor; never returns */
static void monitor(pid_t pid) {
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

/* ---------------------------------------------------------------- relay (foreground stdio without a tty) */

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
  char buf[RELAY_CHUNK];
};
static struct relay_stream rs[3];
static int relay_sigfd = -1;

/* before clone: the container's 0-2 (cfd) and our ends, kept so the child closes ours; the signalfd */
static int relay_prepare(int *err) {
  int p[2];
  for (int i = 0; i < 3; i++) rs[i].from = rs[i].to = -1, rs[i].use_splice = 1;
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
  return 0;
}

/* the stream is over: close our pipe end (stdin: the container reads EOF; output: its writers get EPIPE) */
static void relay_end(struct relay_stream *s) {
  close(s == &rs[0] ? s->to : s->from);
  s->from = s->to = -1;
  s->len = 0;
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
    do n = splice(s->from, NULL, s->to, NULL, RELAY_CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK); while (n < 0 && errno == EINTR);
    if (n < 0 && errno == EINVAL) s->use_splice = 0;
    else if (n < 0 && errno == EAGAIN) s->wait_out = !was_out; /* input readable: the output is full; else wait for input */
    else if (n <= 0) relay_end(s);
    if (s->use_splice) return;
  }
  do n = read(s->from, s->buf, RELAY_CHUNK); while (n < 0 && errno == EINTR);
  if (n > 0) s->off = 0, s->len = (size_t)n, relay_flush(s);
  else if (n == 0) s->eof = 1, relay_flush(s);
  else if (errno != EAGAIN) relay_end(s);
}

static long long relay_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/*
 * after "pid": copy, forward signals, wait for the init; then drain the output. The bound is on waiting for more
 * output (a leftover writer), counted from the init's end or the caller's last stall; a caller slow to take what
 * is there (a pager) is waited for, until a signal says to stop. Returns the init's status.
 */
static int relay_run(pid_t pid) {
  int st = 0, exited = 0;
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
      long long left = deadline - relay_now_ms();
      if (n == 1 || (left <= 0 && !stalled)) return st;
      wait_ms = stalled ? -1 : (int)left;
    }
    if (poll(pf, n, wait_ms) < 0 && errno != EINTR) {
      if (!exited) kill(pid, SIGKILL), waitpid(pid, &st, 0);
      return st;
    }
    if (exited && stalled) deadline = relay_now_ms() + relay_drain_ms;
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
    while (!exited && (w = waitpid(-1, &st, WNOHANG)) > 0)
      if (w == pid) exited = 1, deadline = relay_now_ms() + relay_drain_ms;
  }
}

/* the init's end on fd 4 and as the executor's exit code */
static int report_exit(int st) {
  if (WIFSIGNALED(st)) {
    status("signal", WTERMSIG(st), 0, 0);
    return 128 + WTERMSIG(st);
  }
  status("exit", WEXITSTATUS(st), 0, 0);
  return WEXITSTATUS(st);
}

int main(int argc, char **argv) {
  int p[2], err = 0, step;
  (void)argc;
  if ((err = sealed_exe_ensure(argv, environ))) return give_up(0, E_SEALEXE, err); /* first: see sealed-exe.h */
  signal(SIGPIPE, SIG_IGN);
  if ((err = read_plan())) return give_up(0, E_PLAN, err);
  if (fcntl(4, F_SETFD, FD_CLOEXEC) < 0) { /* no status channel: keep fd 4 taken so no pipe lands there */
    int n = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (n >= 0 && n != 4) dup3(n, 4, O_CLOEXEC), close(n);
  }

  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (f) {
    if (fscanf(f, "%d", &last_cap) != 1) last_cap = 40;
    fclose(f);
  }
  sigemptyset(&fwd_set);
  for (size_t i = 0; i < sizeof fwd_sigs / sizeof *fwd_sigs; i++) sigaddset(&fwd_set, fwd_sigs[i]);
  sigaddset(&fwd_set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &fwd_set, NULL);

  if (mon) close_stray_fds();
  if (pidfile && (err = open_pidfile_dir())) return give_up(0, E_PIDFILE, err);
  /* before joining a mount namespace: the cgroup files are host paths */
  for (int i = 0; i < ncg; i++)
    if ((cg_fds[i] = keep(open(cg_paths[i], O_WRONLY | O_CLOEXEC))) < 0) return give_up(0, E_CGROUP, errno);
  for (int i = 0; i < ncgt; i++)
    if ((cgt_fds[i] = open(cgt_paths[i], O_WRONLY | O_CLOEXEC)) < 0) return give_up(0, E_CGROUP, errno);
  if (cg_dir && (cg_dirfd = keep(open(cg_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC))) < 0) return give_up(0, E_CGROUP, errno);
  if (df_prog && (err = attach_devfilter())) return give_up(0, E_DEVFILTER, err);
  if (relay && (step = relay_prepare(&err))) return give_up(0, step, err); /* /dev/null: the host's, before a join */
  if (njoin && (step = join_namespaces(&err))) return give_up(0, step, err);
  if (mon && (step = monitor_prepare(&err))) return give_up(0, step, err);

  if (pipe2(p, O_CLOEXEC) < 0) return give_up(0, E_INTERNAL, errno);
  sync_r = p[0], sync_w = p[1];
  if (pipe2(p, O_CLOEXEC) < 0) return give_up(0, E_INTERNAL, errno);
  err_r = p[0], err_w = p[1];

  unsigned long cflags = clone_flags & ~(unsigned long)CLONE_NEWCGROUP;
  pid_t pid = -1;
  int placed = 0;
  if (cg_dirfd >= 0) {
    struct clone_args_ ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = cflags | CLONE_INTO_CGROUP_;
    ca.exit_signal = SIGCHLD;
    ca.cgroup = (uint64_t)cg_dirfd;
    pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0 && errno != ENOSYS && errno != E2BIG) return give_up(0, E_CGROUP, errno);
    placed = pid >= 0;
  }
  if (pid < 0) pid = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD | cflags, 0, 0, 0, 0);
  if (pid < 0) return give_up(0, E_INTERNAL, errno);
  if (pid == 0) child();
  if (cg_dirfd >= 0) close(cg_dirfd);
  if (cgns_fd >= 0) close(cgns_fd);
  close(sync_r);
  close(err_w);

  if ((clone_flags & CLONE_NEWUSER) && (step = id_maps(pid, &err))) return give_up(pid, step, err);
  for (int i = 0; i < ncg && !placed; i++) {
    char num[24];
    size_t len = fmt_ll(num, pid);
    ssize_t w;
    do w = write(cg_fds[i], num, len); while (w < 0 && errno == EINTR);
    if (w < 0) return give_up(pid, E_CGROUP, errno);
  }
  for (int i = 0; i < ncg; i++) close(cg_fds[i]);
  for (int i = 0; i < ncgt; i++) close(cgt_fds[i]);
  if (pidfile && (err = write_pidfile(pid))) return give_up(pid, E_PIDFILE, err);
  if (write_all(sync_w, "x", 1) < 0) return give_up(pid, E_INTERNAL, errno);
  close(sync_w);
  sync_w = -1;

  int32_t msg[2];
  size_t got = 0;
  while (got < sizeof msg) {
    ssize_t r = read(err_r, (char *)msg + got, sizeof msg - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(err_r);
  if (got == sizeof msg) return give_up(pid, msg[0], msg[1]);
  status("pid", pid, 0, 0);
  if (mon) monitor(pid);
  if (relay) return report_exit(relay_run(pid));

  for (;;) {
    siginfo_t si;
    int sig = wait_sigs(&si), st;
    if (sig != SIGCHLD) {
      if (sig > 0) kill(pid, sig);
      continue;
    }
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
      if (w != pid) continue;
      if (WIFSIGNALED(st)) {
        status("signal", WTERMSIG(st), 0, 0);
        return 128 + WTERMSIG(st);
      }
      status("exit", WEXITSTATUS(st), 0, 0);
      return WEXITSTATUS(st);
    }
  }
}
