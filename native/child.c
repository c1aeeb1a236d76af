/*
 * tsdock-exec: the cloned child. It waits for the parent's release, joins its cgroup, runs the plan's steps,
 * then (with `init`) becomes the reaper, or drops privileges, loads seccomp and execs the command. Only
 * async-signal-safe functions and raw syscalls here; nothing is allocated.
 */
#include "exec.h"

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

/* the container's process: privileges, then execve (never returns) */
/* plan `preserve`: the executor's fds pres_from.. become the command's 3..; the error pipe and the sources move
   above the targets first, so no dup2 lands on an fd still needed. The sources keep FD_CLOEXEC, the targets not. */
static void preserve_fds(void) {
  int top = 3 + pres_n, e;
  if (err_w < top) {
    if ((e = fcntl(err_w, F_DUPFD_CLOEXEC, top)) < 0) fail(E_FDS, errno);
    err_w = e;
  }
  for (int i = 0; i < pres_n; i++) {
    int src = pres_from + i;
    if (src < top && (src = fcntl(src, F_DUPFD_CLOEXEC, top)) < 0) fail(E_FDS, errno);
    if (dup2(src, 3 + i) < 0) fail(E_FDS, errno);
  }
}

__attribute__((noreturn)) static void exec_command(void) {
  char num[24];
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (has_oom) { /* before dropping capabilities: lowering it needs CAP_SYS_RESOURCE */
    size_t n = fmt_ll(num, oom);
    int e = step_write("/proc/self/oom_score_adj", num, n);
    if (e) fail(E_OOM_SCORE_ADJ, e);
  }
  for (int i = 0; i < nrl; i++) {
    struct rlimit r = { (rlim_t)rls[i].soft, (rlim_t)rls[i].hard };
    if (setrlimit(rls[i].res, &r) < 0) fail(E_RLIMIT, errno);
  }
  /* without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it before the drop (as runc) */
  if (has_seccomp && !nnp) load_seccomp();
  if (drop_bounding(cap_bnd) < 0) fail(E_BOUNDING_SET, errno);
  if (syscall(SYS_setgroups, (size_t)ngroups, groups) < 0 && !(errno == EPERM && ngroups == 0)) fail(E_SETGROUPS, errno);
  if (syscall(SYS_setresgid, (gid_t)p_gid, (gid_t)p_gid, (gid_t)p_gid) < 0) fail(E_SETGID, errno);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(E_CAPABILITIES, errno);
  if (syscall(SYS_setresuid, (uid_t)p_uid, (uid_t)p_uid, (uid_t)p_uid) < 0) fail(E_SETUID, errno);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail(E_CAPABILITIES, errno);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); /* a credential change cleared it ... */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);        /* ... and reset dumpable to fs.suid_dumpable: non-dumpable until exec */
  if (capset_(cap_eff, cap_prm, cap_inh) < 0) fail(E_CAPABILITIES, errno);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && (errno != EINVAL || cap_amb)) fail(E_CAPABILITIES, errno);
  for (int c = 0; c < 64; c++)
    if ((cap_amb & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0) fail(E_CAPABILITIES, errno);
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(E_NO_NEW_PRIVILEGES, errno);
  if (chdir(cwd) < 0) fail(E_CWD, errno);
  setsid(); /* its own session, as runc: a terminal's signals reach the container through the executor only */
  if (terminal && ioctl(0, TIOCSCTTY, 0) < 0) fail(E_TERMINAL, errno);
  umask(p_umask);
  reset_signals();
  for (int fd = 0; fd < 3; fd++) fcntl(fd, F_SETFD, 0);
  if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    if (errno != ENOSYS && errno != EINVAL) fail(E_FDS, errno);
    for (int fd = 3; fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  if (pres_n) preserve_fds();
  if (has_seccomp && nnp) load_seccomp();
  int err = ENOENT;
  for (int i = 0; i < ncands; i++) {
    execve(cands[i], (char *const *)argv_, (char *const *)envp_);
    err = errno;
    if (err != ENOENT && err != ENOTDIR) break;
  }
  fail(E_EXEC, err == ENOTDIR ? ENOENT : err);
}

/* --init: stay as pid 1, a reaper forwarding signals to the command; exit with the command's status */
__attribute__((noreturn)) static void reaper(void) {
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  setsid();
  pid_t cmd = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (cmd < 0) fail(E_INIT_FORK, errno);
  if (cmd == 0) exec_command();
  close(err_w);
  if (pres_n) close_fds((unsigned)pres_from, (unsigned)(pres_from + pres_n - 1)); /* only the command holds them */
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
__attribute__((noreturn)) static void hold_mounts(void) {
  char c;
  close(err_w);
  for (;;) {
    ssize_t r = read(0, &c, 1);
    if (r == 0 || (r < 0 && errno != EINTR)) _exit(0);
  }
}

void child(void) {
  char c;
  ssize_t r;
  if (mon || relay) {
    for (int fd = 0; fd < 3; fd++)
      if (dup2(cfd[fd], fd) < 0) fail(E_STDIO, errno);
  }
  close_kept();
  close(4);
  close(sync_w);
  close(err_r);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* with a new user namespace the parent (maybe unprivileged, or newuidmap) must open our /proc files first, and
     a network helper (pasta, without privileges) our namespaces: until the release, only our own user can */
  int open_until_release = (clone_flags & CLONE_NEWUSER) || nhelper_argv;
  if (!open_until_release) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
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
  if (open_until_release || joined_user) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if ((clone_flags & CLONE_NEWUSER) || joined_user) {
    if (syscall(SYS_setresgid, 0, 0, 0) < 0) fail(E_USERNS, errno);
    if (syscall(SYS_setresuid, 0, 0, 0) < 0) fail(E_USERNS, errno);
  }
  if (netns_fd >= 0 && (setns(netns_fd, CLONE_NEWNET) < 0 || close(netns_fd) < 0)) fail(E_NETNS, errno);
  umask(0);
  for (int i = 0; i < nsteps; i++) {
    int e = run_step(&steps[i]);
    if (e) fail(i, e);
  }
  if (hold) hold_mounts();
  if (init_mode) reaper();
  exec_command();
}
