/*
 * tsdock-exec: reading the plan (fd 3, netstrings; the format is described in tsdock-exec.c) into the plan
 * fields declared in exec.h. Runs before anything else is done; no field is used before parse() accepted all.
 */
#include "exec.h"
#include <netinet/in.h>

static char plan[PLAN_MAX + 1];
static size_t plan_len, ppos;
static int perr;

/* the plan, as parsed (declared in exec.h) */
unsigned long clone_flags;
int init_mode, hold;
const char *pidfile;
int map_kind; /* 0 none, 1 write, 2 commands */
const char *setgroups_val;
char uidmap_txt[MAP_TXT], gidmap_txt[MAP_TXT];
size_t uidmap_len, gidmap_len;
const char *uidcmd[MAX_CMD + 1], *gidcmd[MAX_CMD + 1];
int nuidcmd, ngidcmd;
struct step steps[MAX_STEPS];
int nsteps;
const char *argv_[MAX_ARGV + 1], *envp_[MAX_ENV + 1], *cands[MAX_CAND];
int argc_, nenv, ncands;
const char *cwd = "/";
long long p_uid, p_gid;
gid_t groups[MAX_GROUPS];
int ngroups;
unsigned p_umask = 022;
int nnp, terminal, has_oom;
int pres_from = -1, pres_n; /* plan `preserve`: fds pres_from.. become the command's 3.. */
long long oom;
uint64_t cap_bnd, cap_eff, cap_prm, cap_inh, cap_amb;
struct rl rls[MAX_RL];
int nrl;
const char *sc_prog;
size_t sc_len;
unsigned sc_flags;
int has_seccomp;
const char *cg_paths[MAX_CGROUPS];
int ncg;
const char *cgt_paths[MAX_CGROUPS];
int ncgt;
const char *oom_file;
const char *event_log, *event_start, *event_die, *event_oom;
const char *cg_dir;
const char *df_prog;
size_t df_len;
long long join_pid;
int njoin, join_ns[MAX_JOIN], joined_user;
/* monitor mode */
int mon, keep_stdin, stdin_once, pty_master = -1;
int relay, relay_in, relay_merge; /* plan `relay`: foreground stdio through pipes (see relay_prepare) */
int relay_log;
long long relay_drain_ms;
long long mon_drain_ms, mon_client_stall_ms;
int mon_drain_idle_ms;
const char *log_path, *exit_file, *attach_path;
uint64_t log_max;
const char *exitcmd[MAX_CMD + 1];
int nexitcmd;
/* healthcmd: run every health_ms (first after health_ms), one at a time, like the exit command */
const char *healthcmd[MAX_CMD + 1];
int nhealthcmd;
long long health_ms;

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
                                   "setdomainname", "write", "mask", "readonly", "propagation", "netup", "netaddr", "netroute" };

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
  case OP_HOSTNAME: case OP_DOMAINNAME: case OP_NETUP: if (!s->name) perr = EINVAL; break;
  case OP_NETADDR: if (!s->name || !s->path) perr = EINVAL; break;
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
    else if (!strcmp(k, "events")) { event_log = str(); event_start = str(); event_die = str(); event_oom = str(); }
    else if (!strcmp(k, "cgroupdir")) cg_dir = str();
    else if (!strcmp(k, "devfilter")) { df_prog = tok(&df_len); if (df_len == 0 || df_len % sizeof(struct bpf_insn) || df_len / sizeof(struct bpf_insn) > 4096) perr = EINVAL; }
    else if (!strcmp(k, "monitor")) {
      mon = 1;
      log_path = str(); log_max = u64(); exit_file = str(); keep_stdin = (int)i64(); stdin_once = (int)i64();
      mon_drain_ms = i64(); long long idle = i64(); mon_client_stall_ms = i64();
      if (mon_drain_ms < 0 || idle < 0 || idle > INT_MAX || mon_client_stall_ms < 0 || mon_client_stall_ms > INT_MAX) perr = EINVAL;
      mon_drain_idle_ms = (int)idle;
    } else if (!strcmp(k, "attachsock")) attach_path = str();
    else if (!strcmp(k, "exitcmd")) cmd(exitcmd, &nexitcmd);
    else if (!strcmp(k, "healthcmd")) { health_ms = i64(); if (health_ms < 1) perr = EINVAL; cmd(healthcmd, &nhealthcmd); }
    else if (!strcmp(k, "ptymaster")) { long long fd = i64(); if (fd < 5 || fd > INT_MAX) perr = EINVAL; pty_master = (int)fd; }
    else if (!strcmp(k, "relaylog")) { relay_log = 1; log_path = str(); log_max = u64(); }
    else if (!strcmp(k, "relay")) { relay = 1; relay_in = (int)i64(); relay_merge = (int)i64(); relay_drain_ms = i64(); if (relay_drain_ms < 0) perr = EINVAL; }
    else if (!strcmp(k, "step")) parse_step();
    else if (!strcmp(k, "veth")) {
      if (nveths >= MAX_VETH) return E2BIG;
      struct veth *v = &veths[nveths++];
      v->host = str(); v->peer = str(); v->mac = str(); v->master = str(); v->mtu = i64();
      if (v->mtu < 0 || v->mtu > 65535 || !v->host[0] || !v->peer[0] || !v->master[0]) perr = EINVAL;
    } else if (!strcmp(k, "vethns")) veth_netns = str();
    else if (!strcmp(k, "port")) {
      if (nports >= MAX_PORTS) return E2BIG;
      struct port *pt = &ports[nports++];
      const char *proto = str();
      pt->proto = !strcmp(proto, "tcp") ? IPPROTO_TCP : !strcmp(proto, "udp") ? IPPROTO_UDP : !strcmp(proto, "sctp") ? IPPROTO_SCTP : (perr = EINVAL, 0);
      pt->ip = str(); pt->port = i64();
      if (pt->port < 1 || pt->port > 65535) perr = EINVAL;
    } else if (!strcmp(k, "netns")) netns_path = str();
    else if (!strcmp(k, "dns")) { has_dns = 1; dns_listen = str(); dns_search = str(); }
    else if (!strcmp(k, "dnsup")) { if (ndns_up >= 8) return E2BIG; dns_up[ndns_up++] = str(); }
    else if (!strcmp(k, "helper")) {
      helper_ready = str(), helper_log = str(), helper_timeout_ms = i64();
      cmd(helper_argv, &nhelper_argv);
    } else if (!strcmp(k, "dnshosts")) { if (ndns_hosts >= 16) return E2BIG; dns_hosts[ndns_hosts++] = str(); }
    else if (!strcmp(k, "arg")) { if (argc_ >= MAX_ARGV) return E2BIG; argv_[argc_++] = str(); }
    else if (!strcmp(k, "env")) { if (nenv >= MAX_ENV) return E2BIG; envp_[nenv++] = str(); }
    else if (!strcmp(k, "candidate")) { if (ncands >= MAX_CAND) return E2BIG; cands[ncands++] = str(); }
    else if (!strcmp(k, "cwd")) cwd = str();
    else if (!strcmp(k, "user")) { p_uid = i64(); p_gid = i64(); }
    else if (!strcmp(k, "addgid")) { if (ngroups >= MAX_GROUPS) return E2BIG; groups[ngroups++] = (gid_t)i64(); }
    else if (!strcmp(k, "umask")) p_umask = (unsigned)u64() & 07777;
    else if (!strcmp(k, "nonewprivs")) nnp = (int)i64();
    else if (!strcmp(k, "terminal")) terminal = (int)i64();
    else if (!strcmp(k, "preserve")) {
      long long f = i64(), n = i64();
      if (f < 5 || f > 0xffff || n < 1 || n > 1024) perr = EINVAL;
      pres_from = (int)f, pres_n = (int)n;
    }
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
  if ((nveths || nports || netns_path) && (njoin || hold)) return EINVAL;
  if (netns_path && ((clone_flags & CLONE_NEWNET) || nveths || netns_path[0] != '/')) return EINVAL;
  if (nveths && !(clone_flags & CLONE_NEWNET)) return EINVAL;
  if (veth_netns && (!nveths || veth_netns[0] != '/')) return EINVAL;
  if (has_dns && (!(clone_flags & CLONE_NEWNET) || njoin || hold)) return EINVAL;
  if (nhelper_argv && (!(clone_flags & CLONE_NEWNET) || njoin || hold || nports || helper_ready[0] != '/' || helper_log[0] != '/' || helper_timeout_ms <= 0)) return EINVAL;
  if (df_prog && !cg_dir) return EINVAL;
  if (relay && (mon || terminal)) return EINVAL;
  if (relay_log && (!relay || njoin || log_path[0] != '/')) return EINVAL;
  if (!mon && (attach_path || nexitcmd || nhealthcmd || pty_master >= 0 || oom_file || event_log)) return EINVAL;
  if (event_log && event_log[0] != '/') return EINVAL;
  if (mon && (log_path[0] != '/' || exit_file[0] != '/' || (attach_path && attach_path[0] != '/'))) return EINVAL;
  argv_[argc_] = NULL;
  envp_[nenv] = NULL;
  return 0;
}

int read_plan(void) {
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
