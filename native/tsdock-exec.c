/*
 * tsdock-exec: the container executor. It carries out an ExecPlan (src/runtime/plan-types.ts) decided entirely
 * in TypeScript and makes no decisions of its own.
 *
 * Files, one per job (shared declarations in exec.h; everything else file-local):
 *   tsdock-exec.c  this description, main(): the parent side (cgroup files, clone, id maps, pid file, release)
 *   plan.c         reading and checking the plan (the format below)
 *   steps.c        the container's setup steps (mounts resolved in the rootfs, pivot_root, ...)
 *   child.c        the cloned child: release, cgroup, steps, privileges, seccomp, exec; the --init reaper; hold
 *   join.c         exec: entering a running container's namespaces
 *   relay.c        foreground stdio without a tty, copied through the executor's pipes
 *   monitor.c      detached containers: the monitor's loop (attach clients, stdin, drain, health, exit command)
 *   monitor-log.c  what the monitor writes: the k8s-file log and the exit file
 *   helper.c       a network helper program (pasta, slirp4netns) started for the child and waited for until ready
 *   dns.c          the container's resolver on user networks (a forked server in its network namespace)
 *   netlink.c      network: veth pairs into the child's netns, published ports held, the child's net steps
 *   util.c         helpers safe before and after clone; the run-time state several files share
 *   codes.h        the negative step codes, generated from ExecStep (scripts/gen-native-codes.mjs)
 *   sealed-exe.h   re-executing from a sealed memfd copy at start-up (CVE-2019-5736)
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
 *   monitor <logpath> <logmaxsize> <exitfile> <keepstdin 0|1> <stdinonce 0|1> <drainms> <drainidlems>
 *           <clientstallms>   attachsock <path>
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
 *   port <tcp|udp|sctp> <ip> <port>   a published host port, bound (never listened on) before the clone and held
 *                             while the executor lives: taken is "error -30 EADDRINUSE" before anything runs
 *   veth <host> <peer> <mac|""> <bridge> <mtu|0>   after the clone (needs CLONE_NEWNET): a veth pair, the host
 *                             end on <bridge> and up, the peer made inside the child's netns as <peer>
 *   vethns <path>             the veths' host ends are made in this netns (rootless: the user's, holding the bridges)
 *   dns <listen> <search|"">  dnsup <addr>  dnshosts <file>   the container's resolver (dns.c, docker's
 *                             127.0.0.11): forked after the veths, in the child's netns, answering the names in the
 *                             hosts files and forwarding the rest to the upstreams from the host's namespace
 *   helper <ready> <log> <timeout-ms> <argc> <arg>...   after the clone (needs CLONE_NEWNET, no `port`): a network
 *                             helper (rootless: pasta, slirp4netns), "{pid}" = the child's pid, "{readyfd}" = 4,
 *                             ready when it writes into the FIFO <ready>, output into <log>; it dies with the
 *                             executor (helper.c)
 *   netns <path>              the child joins this network namespace first (--network container:X; no NEWNET)
 *   step netup|netaddr|netroute   the container side (name = link, path = address or gateway, mode = prefix)
 *   oomfile <path>            monitor mode: when the init ends, the `oom_kill N` line of this file (memory.events
 *                             or memory.oom_control) goes into the exit file as "OOMKills":N
 *   events <path> <start> <die> <oom>
 *                             monitor mode: <start> just before "pid"; after the exit file, <die> (and <oom>
 *                             first when OOMKills > 0); each appended to the event log <path> in one O_APPEND
 *                             write, bytes 1/2/3 replaced by the exit code, the seconds and the nanoseconds
 * Numbers are decimal (64-bit masks and limits unsigned, others may carry a leading '-').
 *
 * Status lines on fd 4: "pid <hostpid>" (the container's init runs), "error <step> <errno>" (step >= 0: index
 * into plan steps; negative: the E_* codes of native/codes.h), then "exit <code>" or "signal <n>". The executor exits
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
 * forwards client bytes to stdin (a client refusing output for clientstallms is dropped). When the init ends it
 * drains the output (until quiet for drainidlems, at most drainms), writes the exit file (temp + rename:
 * {"ExitCode":N,"Signal":S,"FinishedAt":"<RFC3339 UTC, ns>"[,"OOMKills":N]}), closes the clients, removes the socket, starts
 * exitcmd (own session, stdio /dev/null, not waited for) and exits. SIGHUP is swallowed there, not forwarded.
 *
 * After clone() the child calls only async-signal-safe functions and raw syscalls, and allocates nothing.
 */
#include "exec.h"
#include "dns.h"
#include "sealed-exe.h"

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
    if ((*err = run_cmd(uidcmd, nuidcmd, pid))) return E_UID_MAP;
    if ((*err = run_cmd(gidcmd, ngidcmd, pid))) return E_GID_MAP;
    return 0;
  }
  snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
  if ((*err = write_file(path, uidmap_txt, uidmap_len))) return E_UID_MAP;
  if (setgroups_val) {
    snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
    if ((*err = write_file(path, setgroups_val, strlen(setgroups_val)))) return E_GID_MAP;
  }
  snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
  if ((*err = write_file(path, gidmap_txt, gidmap_len))) return E_GID_MAP;
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
  monitor_give_up();
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

/* the init's end on fd 4 and as the executor's exit code */
static int report_exit(int st) {
  if (WIFSIGNALED(st)) {
    status("signal", WTERMSIG(st), 0, 0);
    return 128 + WTERMSIG(st);
  }
  status("exit", WEXITSTATUS(st), 0, 0);
  return WEXITSTATUS(st);
}

static const int fwd_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

int main(int argc, char **argv) {
  if (argc > 2 && !strcmp(argv[1], "--dns-test")) return dns_test_main(argc - 1, argv + 1);
  int p[2], err = 0, step;
  if ((err = sealed_exe_ensure(argv, environ))) return give_up(0, E_SEALED_EXE, err); /* first: see sealed-exe.h */
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
  if (pidfile && (err = open_pidfile_dir())) return give_up(0, E_PID_FILE, err);
  /* before joining a mount namespace: the cgroup files are host paths */
  for (int i = 0; i < ncg; i++)
    if ((cg_fds[i] = keep(open(cg_paths[i], O_WRONLY | O_CLOEXEC))) < 0) return give_up(0, E_CGROUP, errno);
  for (int i = 0; i < ncgt; i++)
    if ((cgt_fds[i] = open(cgt_paths[i], O_WRONLY | O_CLOEXEC)) < 0) return give_up(0, E_CGROUP, errno);
  if (cg_dir && (cg_dirfd = keep(open(cg_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC))) < 0) return give_up(0, E_CGROUP, errno);
  if (df_prog && (err = attach_devfilter())) return give_up(0, E_DEVFILTER, err);
  if (nports && (err = net_reserve_ports())) return give_up(0, E_PORT, err);
  if (netns_path && (netns_fd = open(netns_path, O_RDONLY | O_CLOEXEC)) < 0) return give_up(0, E_NETNS, errno);
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
  if (pres_n) close_fds((unsigned)pres_from, (unsigned)(pres_from + pres_n - 1)); /* only the container holds them */
  if (cg_dirfd >= 0) close(cg_dirfd);
  if (cgns_fd >= 0) close(cgns_fd);
  if (netns_fd >= 0) close(netns_fd);
  close(sync_r);
  close(err_w);

  if ((clone_flags & CLONE_NEWUSER) && (step = id_maps(pid, &err))) return give_up(pid, step, err);
  if (nveths && (err = net_links(pid))) return give_up(pid, E_VETH, err);
  if (nhelper_argv && (err = helper_start(pid))) return give_up(pid, E_HELPER, err);
  if (has_dns) {
    struct dns_plan dp;
    memset(&dp, 0, sizeof dp);
    dp.listen = dns_listen;
    dp.search = dns_search[0] ? dns_search : NULL;
    for (int i = 0; i < ndns_up; i++) dp.upstream[dp.nupstream++] = dns_up[i];
    for (int i = 0; i < ndns_hosts; i++) dp.hosts[dp.nhosts++] = dns_hosts[i];
    if (dns_start(pid, &dp, &err) < 0) return give_up(pid, E_DNS, err);
  }
  for (int i = 0; i < ncg && !placed; i++) {
    char num[24];
    size_t len = fmt_ll(num, pid);
    ssize_t w;
    do w = write(cg_fds[i], num, len); while (w < 0 && errno == EINTR);
    if (w < 0) return give_up(pid, E_CGROUP, errno);
  }
  for (int i = 0; i < ncg; i++) close(cg_fds[i]);
  for (int i = 0; i < ncgt; i++) close(cgt_fds[i]);
  if (pidfile && (err = write_pidfile(pid))) return give_up(pid, E_PID_FILE, err);
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
  if (mon && event_log) write_start_event();
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
