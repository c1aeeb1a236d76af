/*
 * tsdock-exec: the container's network links, over rtnetlink (no fork of ip(8) per start).
 *
 * Parent side (after the clone, before the release): `veth` records create a veth pair whose host end is
 * attached to a bridge and brought up, and whose peer is created straight inside the child's network namespace
 * (IFLA_NET_NS_PID) with its final name and MAC; with `vethns` the host ends are made in that namespace instead
 * (rootless: the user's network namespace holding the bridges), by a fork that enters it. `port` records bind
 * (never listen on) each published host port before the clone, so a port in use is an error at start, and the
 * executor holds it for the container's life.
 * Child side (steps, before pivot_root): `netup` brings a link up, `netaddr` adds an address, `netroute` adds the
 * default route via a gateway. Names, addresses and numbers all come from the plan.
 * Only stack buffers and raw syscalls: the child may call these.
 */
#include "exec.h"
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <netinet/in.h>

struct veth veths[MAX_VETH];
int nveths;
struct port ports[MAX_PORTS];
int nports;
const char *netns_path;
int netns_fd = -1;
const char *veth_netns;
int has_dns;
const char *dns_listen, *dns_search, *dns_up[8], *dns_hosts[16];
int ndns_up, ndns_hosts;

#define NLBUF 1024
/* one request: the header at the start of `buf` (a union, so the compiler sees the whole buffer behind it) */
struct nlreq {
  union {
    struct nlmsghdr h;
    char buf[NLBUF];
  };
};

static void *put_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len) {
  char *base = ((struct nlreq *)(void *)h)->buf;
  if (NLMSG_ALIGN(h->nlmsg_len) + RTA_SPACE(len) > NLBUF) return base; /* never with the plan's limits */
  struct rtattr *a = (struct rtattr *)(base + NLMSG_ALIGN(h->nlmsg_len));
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}
static struct rtattr *nest_start(struct nlmsghdr *h, unsigned short type) { return put_attr(h, type, NULL, 0); }
static void nest_end(struct nlmsghdr *h, struct rtattr *a) { a->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a); }

/* send one request and wait for its ack; 0 or an errno */
static int nl_talk(struct nlmsghdr *h) {
  int fd = (int)syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return errno;
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  h->nlmsg_seq = 1;
  int err = 0;
  if (sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0) err = errno;
  char buf[4096];
  while (!err) {
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { err = errno; break; }
    struct nlmsghdr *m = (struct nlmsghdr *)buf;
    if (!NLMSG_OK(m, (size_t)r)) { err = EPROTO; break; }
    if (m->nlmsg_type == NLMSG_ERROR) {
      err = -((struct nlmsgerr *)NLMSG_DATA(m))->error;
      break;
    }
  }
  close(fd);
  return err;
}

static int ifindex(const char *name) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (strlen(name) >= IFNAMSIZ) return -ENAMETOOLONG;
  memcpy(ifr.ifr_name, name, strlen(name));
  int fd = (int)syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int r = ioctl(fd, SIOCGIFINDEX, &ifr);
  int e = errno;
  close(fd);
  return r < 0 ? -e : ifr.ifr_ifindex;
}

static int parse_mac(const char *s, unsigned char mac[6]) {
  for (int i = 0; i < 6; i++) {
    unsigned v = 0;
    for (int k = 0; k < 2; k++) {
      char c = *s++;
      unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16;
      if (d > 15) return EINVAL;
      v = v * 16 + d;
    }
    mac[i] = (unsigned char)v;
    if (i < 5 && *s++ != ':') return EINVAL;
  }
  return *s ? EINVAL : 0;
}

/* ip link add <host> [mtu M] master <bridge> up type veth peer name <peer> address <mac> netns <pid> */
static int add_veth(const struct veth *v, pid_t pid) {
  int master = ifindex(v->master);
  if (master < 0) return -master;
  unsigned char mac[6];
  if (v->mac[0] && parse_mac(v->mac, mac)) return EINVAL;
  struct nlreq q;
  memset(&q, 0, sizeof q);
  q.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  q.h.nlmsg_type = RTM_NEWLINK;
  q.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct ifinfomsg *ifi = NLMSG_DATA(&q.h);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_flags = ifi->ifi_change = IFF_UP;
  put_attr(&q.h, IFLA_IFNAME, v->host, strlen(v->host) + 1);
  put_attr(&q.h, IFLA_MASTER, &master, sizeof master);
  uint32_t mtu = (uint32_t)v->mtu;
  if (mtu) put_attr(&q.h, IFLA_MTU, &mtu, sizeof mtu);
  struct rtattr *info = nest_start(&q.h, IFLA_LINKINFO);
  put_attr(&q.h, IFLA_INFO_KIND, "veth", 4);
  struct rtattr *data = nest_start(&q.h, IFLA_INFO_DATA);
  struct rtattr *peer = nest_start(&q.h, VETH_INFO_PEER);
  struct ifinfomsg pi;
  memset(&pi, 0, sizeof pi);
  pi.ifi_family = AF_UNSPEC;
  memcpy(q.buf + q.h.nlmsg_len, &pi, sizeof pi);
  q.h.nlmsg_len += NLMSG_ALIGN(sizeof pi);
  put_attr(&q.h, IFLA_IFNAME, v->peer, strlen(v->peer) + 1);
  if (v->mac[0]) put_attr(&q.h, IFLA_ADDRESS, mac, 6);
  if (mtu) put_attr(&q.h, IFLA_MTU, &mtu, sizeof mtu);
  uint32_t nspid = (uint32_t)pid;
  put_attr(&q.h, IFLA_NET_NS_PID, &nspid, sizeof nspid);
  nest_end(&q.h, peer);
  nest_end(&q.h, data);
  nest_end(&q.h, info);
  return nl_talk(&q.h);
}

static int add_veths(pid_t pid) {
  for (int i = 0; i < nveths; i++) {
    int e = add_veth(&veths[i], pid);
    if (e) return e;
  }
  return 0;
}

/* the veths, their host ends in the executor's netns, or in `vethns` (rootless: the user's network namespace):
   made by a short-lived fork that enters it, since the executor could not come back to the host's namespace
   (owned by the initial user namespace); the fork's exit status is the errno */
int net_links(pid_t pid) {
  if (!veth_netns) return add_veths(pid);
  int fd = open(veth_netns, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  pid_t f = fork();
  if (f < 0) return close(fd), errno;
  if (f == 0) _exit(setns(fd, CLONE_NEWNET) < 0 ? errno : add_veths(pid));
  close(fd);
  int st;
  while (waitpid(f, &st, 0) < 0)
    if (errno != EINTR) return errno;
  return WIFEXITED(st) ? WEXITSTATUS(st) : EIO;
}

/* bind each published port (SO_REUSEADDR off: a listener there is EADDRINUSE); kept open, never listened on */
int net_reserve_ports(void) {
  for (int i = 0; i < nports; i++) {
    const struct port *p = &ports[i];
    int type = p->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
    int v6 = strchr(p->ip, ':') != NULL;
    int fd = (int)syscall(SYS_socket, v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, p->proto);
    if (fd < 0) return errno;
    if (v6) {
      /* "::" holds the IPv6 side only: the IPv4 side is its own record (0.0.0.0) */
      struct sockaddr_in6 sa6;
      int one = 1;
      memset(&sa6, 0, sizeof sa6);
      sa6.sin6_family = AF_INET6;
      sa6.sin6_port = htons((uint16_t)p->port);
      if (inet_pton(AF_INET6, p->ip, &sa6.sin6_addr) != 1) return close(fd), EINVAL;
      if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) return close(fd), errno;
      if (bind(fd, (struct sockaddr *)&sa6, sizeof sa6) < 0) return close(fd), errno;
    } else {
      struct sockaddr_in sa;
      memset(&sa, 0, sizeof sa);
      sa.sin_family = AF_INET;
      sa.sin_port = htons((uint16_t)p->port);
      if (inet_pton(AF_INET, p->ip, &sa.sin_addr) != 1) return close(fd), EINVAL;
      if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) return close(fd), errno;
    }
    keep(fd);
  }
  return 0;
}

static int link_up(const char *name) {
  int idx = ifindex(name);
  if (idx < 0) return -idx;
  struct nlreq q;
  memset(&q, 0, sizeof q);
  q.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  q.h.nlmsg_type = RTM_NEWLINK;
  struct ifinfomsg *ifi = NLMSG_DATA(&q.h);
  ifi->ifi_index = idx;
  ifi->ifi_flags = ifi->ifi_change = IFF_UP;
  return nl_talk(&q.h);
}

/* "10.90.0.2" (IPv4) or "fd00::2" (IPv6) → family and bytes */
static int parse_ip(const char *s, unsigned char out[16], int *family) {
  if (inet_pton(AF_INET, s, out) == 1) return *family = AF_INET, 0;
  if (inet_pton(AF_INET6, s, out) == 1) return *family = AF_INET6, 0;
  return EINVAL;
}

static int add_addr(const char *name, const char *ip, unsigned prefix) {
  int idx = ifindex(name), family;
  if (idx < 0) return -idx;
  unsigned char a[16];
  if (parse_ip(ip, a, &family) || prefix > (family == AF_INET ? 32u : 128u)) return EINVAL;
  struct nlreq q;
  memset(&q, 0, sizeof q);
  q.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
  q.h.nlmsg_type = RTM_NEWADDR;
  q.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct ifaddrmsg *ifa = NLMSG_DATA(&q.h);
  ifa->ifa_family = (unsigned char)family;
  ifa->ifa_prefixlen = (unsigned char)prefix;
  ifa->ifa_index = (unsigned)idx;
  size_t len = family == AF_INET ? 4 : 16;
  put_attr(&q.h, IFA_LOCAL, a, len);
  put_attr(&q.h, IFA_ADDRESS, a, len);
  if (family == AF_INET6) {
    uint32_t flags = IFA_F_NODAD; /* usable at once: no duplicate address detection delay */
    put_attr(&q.h, IFA_FLAGS, &flags, sizeof flags);
  }
  return nl_talk(&q.h);
}

static int add_default_route(const char *gw) {
  unsigned char a[16];
  int family;
  if (parse_ip(gw, a, &family)) return EINVAL;
  struct nlreq q;
  memset(&q, 0, sizeof q);
  q.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
  q.h.nlmsg_type = RTM_NEWROUTE;
  q.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  struct rtmsg *rt = NLMSG_DATA(&q.h);
  rt->rtm_family = (unsigned char)family;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  put_attr(&q.h, RTA_GATEWAY, a, family == AF_INET ? 4 : 16);
  return nl_talk(&q.h);
}

/* the child's network steps (in its own network namespace, before pivot_root) */
int net_step(const struct step *s) {
  switch (s->op) {
  case OP_NETUP: return link_up(s->name);
  case OP_NETADDR: return add_addr(s->name, s->path, s->mode);
  case OP_NETROUTE: return add_default_route(s->path);
  default: return EINVAL;
  }
}
