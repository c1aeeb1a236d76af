/*
 * tsdock-exec: declarations shared by the executor's files (one per job, see tsdock-exec.c). The plan's fields
 * are filled by plan.c and read-only afterwards; the few pieces of run-time state several files need are below
 * them. Everything else stays file-local.
 */
#ifndef TSDOCK_EXEC_H
#define TSDOCK_EXEC_H
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

#include "codes.h"


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
       OP_MASK, OP_READONLY, OP_PROPAGATION, OP_NETUP, OP_NETADDR, OP_NETROUTE };
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
#define MAX_JOIN 7
#define MAX_CGROUPS 16
#define MAX_CLIENTS 16
#define OUT_BUF 16384           /* one read of container output */
#define IN_BUF 4096             /* client bytes on their way to the container's stdin */
#define LOG_IOV 128
struct clone_args_ { uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup; };
#define CLONE_INTO_CGROUP_ 0x200000000ULL

/* ---- plan.c: the plan */
extern unsigned long clone_flags;
extern int init_mode, hold;
extern const char *pidfile;
extern int map_kind; /* 0 none, 1 write, 2 commands */
extern const char *setgroups_val;
extern char uidmap_txt[MAP_TXT], gidmap_txt[MAP_TXT];
extern size_t uidmap_len, gidmap_len;
extern const char *uidcmd[MAX_CMD + 1], *gidcmd[MAX_CMD + 1];
extern int nuidcmd, ngidcmd;
extern struct step steps[MAX_STEPS];
extern int nsteps;
extern const char *argv_[MAX_ARGV + 1], *envp_[MAX_ENV + 1], *cands[MAX_CAND];
extern int argc_, nenv, ncands;
extern const char *cwd;
extern long long p_uid, p_gid;
extern gid_t groups[MAX_GROUPS];
extern int ngroups;
extern unsigned p_umask;
extern int nnp, terminal, has_oom;
extern int pres_from, pres_n;
extern long long oom;
extern uint64_t cap_bnd, cap_eff, cap_prm, cap_inh, cap_amb;
extern struct rl rls[MAX_RL];
extern int nrl;
extern const char *sc_prog;
extern size_t sc_len;
extern unsigned sc_flags;
extern int has_seccomp;
extern const char *cg_paths[MAX_CGROUPS];
extern int ncg;
extern const char *cgt_paths[MAX_CGROUPS];
extern int ncgt;
extern const char *oom_file;
/* monitor: the store's event log, the line written before "pid" and those when the init ends (placeholders \1 exit code, \2 s, \3 ns) */
extern const char *event_log, *event_start, *event_die, *event_oom;
extern const char *cg_dir;
extern const char *df_prog;
extern size_t df_len;
extern long long join_pid;
extern int njoin, join_ns[MAX_JOIN], joined_user;
/* monitor mode */
extern int mon, keep_stdin, stdin_once, pty_master;
extern int relay, relay_in, relay_merge; /* plan `relay`: foreground stdio through pipes (see relay_prepare) */
extern int relay_log;                    /* plan `relaylog`: the relayed output is logged too (log_path, log_max) */
extern long long relay_drain_ms;
extern long long mon_drain_ms, mon_client_stall_ms; /* monitor: drain bound, a stalled attach client dropped after */
extern int mon_drain_idle_ms;                      /* monitor: the drain ends when the output is quiet this long */
extern const char *log_path, *exit_file, *attach_path;
extern uint64_t log_max;
extern const char *exitcmd[MAX_CMD + 1];
extern int nexitcmd;
/* healthcmd: run every health_ms (first after health_ms), one at a time, like the exit command */
extern const char *healthcmd[MAX_CMD + 1];
extern int nhealthcmd;
extern long long health_ms;
int read_plan(void);

/* ---- join.c: namespace names and CLONE_NEW* flags, in the plan's numbering */
extern const char *const NS_NAMES[];
extern const int NS_FLAGS[];
int join_namespaces(int *err);

/* ---- util.c: shared run-time state */
extern int cfd[3];                                 /* the container's 0-2, made before clone (monitor, relay) */
extern int sync_r, sync_w, err_r, err_w;           /* release pipe (parent → child), error pipe (child → parent) */
extern sigset_t fwd_set;                           /* forwarded signals + SIGCHLD, blocked (also in the reaper) */
extern int last_cap;                               /* /proc/sys/kernel/cap_last_cap */
extern int cg_fds[MAX_CGROUPS], cgt_fds[MAX_CGROUPS]; /* cgroup.procs / tasks files, opened first */
extern int cg_dirfd, cgns_fd;                      /* v2 cgroup dir (clone3); a joined cgroup ns, entered by the child */
int keep(int fd);                                  /* an executor fd the child must close */
void close_kept(void);
size_t fmt_ll(char *out, long long v);
int write_all(int fd, const void *buf, size_t len);
void status(const char *word, long long a, int with_b, long long b);
void fail(int step, int err) __attribute__((noreturn));
void reset_signals(void);
int wait_sigs(siginfo_t *si);
int code_of(int st);
void close_fds(unsigned from, unsigned to);
long long now_ms(void);

/* ---- netlink.c: veth pairs (parent, after the clone), published ports (before it), the child's net steps */
#define MAX_VETH 16
#define MAX_PORTS 256
struct veth { const char *host, *peer, *mac, *master; long long mtu; };
struct port { int proto; const char *ip; long long port; };
extern struct veth veths[MAX_VETH];
extern int nveths;
extern struct port ports[MAX_PORTS];
extern int nports;
extern const char *netns_path; /* plan `netns`: the child joins this network namespace (--network container:X) */
extern const char *veth_netns; /* plan `vethns`: the netns the veths' host ends are made in (default: the executor's) */
extern int netns_fd;
int net_links(pid_t pid);
int net_reserve_ports(void);
int net_step(const struct step *s);
/* plan `dns`/`dnsup`/`dnshosts`: the container's resolver (dns.c), started after the veths, before the release */
extern int has_dns;
extern const char *dns_listen, *dns_search, *dns_up[8], *dns_hosts[16];
extern int ndns_up, ndns_hosts;
/* plan `helper` (helper.c): a network helper (pasta) started with the child's pid, waited for until ready */
extern const char *helper_ready, *helper_log, *helper_argv[MAX_CMD + 1];
extern int nhelper_argv;
extern long long helper_timeout_ms;
int helper_start(pid_t pid);

/* ---- steps.c, child.c */
int step_write(const char *path, const char *data, size_t len);
int run_step(const struct step *s);
void child(void) __attribute__((noreturn));

/* ---- monitor.c, monitor-log.c */
int monitor_prepare(int *err);
void close_stray_fds(void);
void monitor(pid_t pid) __attribute__((noreturn));
void monitor_give_up(void);
int log_start(void);
void log_end(void);
int log_fd(void);
void log_chunk(int stream, const char *p, size_t n);
void write_exit_file(int st, const struct timespec *end);
void write_start_event(void);

/* ---- relay.c */
int relay_prepare(int *err);
int relay_run(pid_t pid);

#endif
