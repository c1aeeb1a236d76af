/*
 * dns.c: the container's embedded DNS server (docker's 127.0.0.11).
 *
 * One process per container, single-threaded: it opens a pidfd of the container's init and one connected UDP socket
 * per upstream while still in the host's network namespace, then setns()es into the container's and binds the
 * listen address (UDP and TCP). A poll() loop then serves until the pidfd is readable (the init is gone).
 *
 * A question (QDCOUNT 1, class IN/ANY) whose name (lowercased, or with ".search" stripped) is on a line of a hosts
 * file is answered here, authoritatively, TTL 0: A/AAAA/ANY get every matching address of the asked family, any
 * other type NODATA (a hosts name never leaks upstream). A PTR (in-addr.arpa, ip6.arpa) for an address of a line
 * gets its first name. The files are re-read when one's inode, size or mtime changes (stat per query).
 *
 * Anything else is forwarded unchanged but for the id, rewritten to slot | random << 8 of a 256-entry in-flight
 * table, to the first upstream, the next one after 2 s, and SERVFAIL when none is left (or none configured, or
 * the table is full). The reply goes back with the client's id, over UDP or with TCP's 2-byte length prefix (TCP
 * queries are forwarded over UDP). Malformed packets are dropped: every label and pointer is bounds-checked and
 * pointers must go strictly backwards, at most 16 of them. Only static buffers: nothing is allocated.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "dns.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#define NFLIGHT 256 /* the slot is the low byte of the rewritten id */
#define NCONN 16
#define QMAX 1024 /* largest query accepted */
#define UDPMAX 512 /* local answers stop adding records here */
#define TIMEOUT_MS 2000
#define IDLE_MS 10000

/* a forwarded query: its client (UDP `from`, or TCP connection `conn` while its generation is `cgen`) */
struct flight { int used, up, conn, len; unsigned cgen; uint16_t id, oid; long long deadline; struct sockaddr_storage from; socklen_t fromlen; unsigned char q[QMAX]; };
struct conn { int fd, have; unsigned gen; long long idle; unsigned char buf[2 + QMAX]; };

static const struct dns_plan *plan;
static char hbuf[1 << 16]; /* every hosts file, concatenated */
static size_t hlen;
static struct stat hst[16];
static struct flight fl[NFLIGHT];
static struct conn tc[NCONN];
static int ufd, lfd, upfd[8], nup;
static unsigned char out[2 + 65536], ubuf[QMAX];
static uint32_t seed;

static long long ms(void) {
  struct timespec t;
  return clock_gettime(CLOCK_MONOTONIC, &t), t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* "1.2.3.4:53", "[::1]:53" (the port optional) */
static int parse_addr(const char *s, struct sockaddr_storage *a, socklen_t *len) {
  char h[64], *end;
  const char *port = NULL, *c = strrchr(s, ':'), *e = *s == '[' ? strchr(s, ']') : NULL;
  size_t n = strlen(s);
  if (*s == '[' && (!e || (e[1] && e[1] != ':'))) return EINVAL;
  if (e) port = e[1] ? e + 2 : NULL, n = e - ++s;
  else if (c && strchr(s, ':') == c) port = c + 1, n = c - s; /* one ':' is a port; more is a bare IPv6 address */
  if (n >= sizeof h) return EINVAL;
  memcpy(h, s, n), h[n] = 0;
  long p = port ? strtol(port, &end, 10) : 53;
  if ((port && (*end || !*port)) || p < 1 || p > 65535) return EINVAL;
  struct sockaddr_in *a4 = (void *)a;
  struct sockaddr_in6 *a6 = (void *)a;
  memset(a, 0, sizeof *a);
  if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) return a4->sin_family = AF_INET, a4->sin_port = htons(p), *len = sizeof *a4, 0;
  if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) return a6->sin6_family = AF_INET6, a6->sin6_port = htons(p), *len = sizeof *a6, 0;
  return EINVAL;
}

/* re-reads every hosts file when one changed (or appeared, or went) */
static void hosts_load(void) {
  int changed = 0;
  for (int i = 0; i < plan->nhosts; i++) {
    struct stat s;
    if (stat(plan->hosts[i], &s) < 0) memset(&s, 0, sizeof s);
    changed |= s.st_ino != hst[i].st_ino || s.st_dev != hst[i].st_dev || s.st_size != hst[i].st_size ||
               s.st_mtim.tv_sec != hst[i].st_mtim.tv_sec || s.st_mtim.tv_nsec != hst[i].st_mtim.tv_nsec;
    hst[i] = s;
  }
  if (!changed) return;
  hlen = 0;
  for (int i = 0; i < plan->nhosts; i++) {
    int fd = open(plan->hosts[i], O_RDONLY | O_CLOEXEC);
    for (ssize_t n; fd >= 0 && hlen < sizeof hbuf - 1 && (n = read(fd, hbuf + hlen, sizeof hbuf - 1 - hlen)) > 0;) hlen += n;
    if (fd >= 0 && hlen < sizeof hbuf) hbuf[hlen++] = '\n';
    if (fd >= 0) close(fd);
  }
}

/* the next blank-separated token of [*p, e): its length (0 at the end), *p moved past it */
static int token(const char **p, const char *e, const char **t) {
  while (*p < e && (**p == ' ' || **p == '\t' || **p == '\r')) ++*p;
  for (*t = *p; *p < e && **p != ' ' && **p != '\t' && **p != '\r'; ++*p) {}
  return *p - *t;
}

/* the line at *p (moved to the next): 4 or 6 and its address, [*names, *end) the rest; 0 for no address, -1 at the end */
static int hosts_line(const char **p, unsigned char *addr, const char **names, const char **end) {
  const char *s = *p, *e, *t;
  char ip[64];
  if (s >= hbuf + hlen) return -1;
  if (!(e = memchr(s, '\n', hbuf + hlen - s))) e = hbuf + hlen;
  *p = e + 1;
  if ((*end = memchr(s, '#', e - s)) == NULL) *end = e;
  int n = token(&s, *end, &t);
  if (!n || n >= (int)sizeof ip) return 0;
  memcpy(ip, t, n), ip[n] = 0, *names = s;
  return inet_pton(AF_INET, ip, addr) == 1 ? 4 : inet_pton(AF_INET6, ip, addr) == 1 ? 6 : 0;
}

static int name_is(const char *t, int n, const char *name) {
  if (n > 1 && t[n - 1] == '.') n--;
  return name && (int)strlen(name) == n && !strncasecmp(t, name, n);
}

/* the question name at offset 12 into name (lowercase, dotted): the offset after it in m, or -1 */
static int qname(const unsigned char *m, int len, char *name) {
  int p = 12, seg = 12, end = -1, n = 0, hops = 0;
  for (;;) {
    if (p >= len) return -1;
    unsigned l = m[p];
    if ((l & 0xc0) == 0xc0) { /* a pointer: only to before the current segment, so no loops */
      int t = p + 1 < len ? (int)((l & 0x3f) << 8 | m[p + 1]) : len;
      if (t >= seg || ++hops > 16) return -1;
      end = end < 0 ? p + 2 : end, p = seg = t;
      continue;
    }
    if (l & 0xc0 || p + 1 + (int)l > len || n + l + 1 > 254) return -1;
    if (!l) break;
    if (n) name[n++] = '.';
    for (unsigned i = 0, c; i < l; i++)
      if (!(c = m[p + 1 + i]) || c == '.') return -1;
      else name[n++] = c >= 'A' && c <= 'Z' ? c + 32 : c;
    p += 1 + l;
  }
  name[n] = 0;
  return end < 0 ? p + 1 : end;
}

/* a reverse name: 4 or 6 with the address, else 0 */
static int reverse(const char *name, unsigned char *a) {
  size_t n = strlen(name);
  unsigned b[4];
  int k = -1;
  if (n > 13 && !strcmp(name + n - 13, ".in-addr.arpa")) {
    if (sscanf(name, "%3u.%3u.%3u.%3u%n", &b[3], &b[2], &b[1], &b[0], &k) != 4 || k != (int)n - 13) return 0;
    for (int i = 0; i < 4; i++) a[i] = b[i];
    return b[0] < 256 && b[1] < 256 && b[2] < 256 && b[3] < 256 ? 4 : 0;
  }
  if (n != 72 || strcmp(name + 64, "ip6.arpa")) return 0;
  memset(a, 0, 16);
  for (int i = 0, c, v; i < 32; a[15 - i / 2] |= i % 2 ? v << 4 : v, i++)
    if ((v = (c = name[2 * i]) >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1) < 0 || name[2 * i + 1] != '.') return 0;
  return 6;
}

/* a record (class IN, TTL 0) named by a pointer to the question; rdata copied unless NULL (written by the caller) */
static int put_rr(unsigned char *r, unsigned type, const void *rdata, int rdlen) {
  unsigned char h[12] = { 0xc0, 12, type >> 8, type, 0, 1, 0, 0, 0, 0, rdlen >> 8, rdlen };
  memcpy(r, h, 12);
  return rdata ? memcpy(r + 12, rdata, rdlen), 12 + rdlen : 12 + rdlen;
}

/* a hosts name [t, t+n) as labels into o: their length, or -1 */
static int encode(const char *t, int n, unsigned char *o) {
  int w = 0;
  if (n > 1 && t[n - 1] == '.') n--;
  if (n > 253) return -1;
  for (const char *s = t, *e = t + n, *d; s < e; s = d + 1) {
    if (!(d = memchr(s, '.', e - s))) d = e;
    if (d == s || d - s > 63) return -1;
    o[w++] = d - s, memcpy(o + w, s, d - s), w += d - s;
  }
  o[w++] = 0;
  return w;
}

/* a local answer to q into r: its length; 0 = forward it; -1 = drop it */
static int answer(const unsigned char *q, int len, unsigned char *r) {
  char name[256];
  const char *p = hbuf, *names, *end, *t;
  unsigned char a[16], la[16];
  int fam, n, an = 0, found = 0;
  if (len < 12 || q[2] & 0x80) return -1;
  if (q[2] & 0x78 || q[4] || q[5] != 1) return 0;
  int qe = qname(q, len, name);
  if (qe < 0 || qe + 4 > len) return -1;
  unsigned type = q[qe] << 8 | q[qe + 1], cls = q[qe + 2] << 8 | q[qe + 3];
  if (cls != 1 && cls != 255) return 0;
  size_t sl = plan->search ? strlen(plan->search) : 0, nl = strlen(name);
  char *bare = sl && nl > sl + 1 && name[nl - sl - 1] == '.' && !strcasecmp(name + nl - sl, plan->search) ? name + nl - sl - 1 : NULL;
  hosts_load();
  int off = qe + 4, rfam = type == 12 ? reverse(name, a) : 0;
  while ((fam = hosts_line(&p, la, &names, &end)) >= 0) {
    if (!fam) continue;
    if (rfam) {
      if (rfam != fam || memcmp(a, la, fam == 4 ? 4 : 16) || !(n = token(&names, end, &t)) || (n = encode(t, n, r + off + 12)) < 0) continue;
      off += put_rr(r + off, 12, NULL, n), an = found = 1;
      break;
    }
    int match = 0;
    while (!match && (n = token(&names, end, &t)))
      if (name_is(t, n, name)) match = 1;
      else if (bare) *bare = 0, match = name_is(t, n, name), *bare = '.';
    if (!match) continue;
    found = 1;
    if (((type == 1 && fam == 4) || (type == 28 && fam == 6) || type == 255) && off + 12 + (fam == 4 ? 4 : 16) <= UDPMAX)
      off += put_rr(r + off, fam == 4 ? 1 : 28, la, fam == 4 ? 4 : 16), an++;
  }
  if (!found) return 0;
  memcpy(r, q, qe + 4);
  r[2] = 0x84 | (q[2] & 0x01), r[3] = 0x80, r[4] = 0, r[5] = 1, r[6] = an >> 8, r[7] = an;
  memset(r + 8, 0, 4);
  return off;
}

/* SERVFAIL for q into r (header and question): its length */
static int servfail(const unsigned char *q, int len, unsigned char *r) {
  char name[256];
  int qe = qname(q, len, name), n = qe > 0 && qe + 4 <= len ? qe + 4 : 12;
  memcpy(r, q, n);
  r[2] = 0x80 | (q[2] & 0x79), r[3] = 0x82, r[4] = 0, r[5] = n > 12;
  memset(r + 6, 0, 6);
  return n;
}

static void conn_close(int c) { close(tc[c].fd), tc[c].fd = -1; }

/* send out + 2 (len bytes) to a UDP client (c < 0) or TCP connection c */
static void reply(int len, const struct sockaddr_storage *to, socklen_t tolen, int c) {
  out[0] = len >> 8, out[1] = len;
  if (c < 0) sendto(ufd, out + 2, len, MSG_DONTWAIT, (const struct sockaddr *)to, tolen);
  else if (send(tc[c].fd, out, len + 2, MSG_DONTWAIT | MSG_NOSIGNAL) != len + 2) conn_close(c);
}

/* out + 2 (len bytes, an upstream's reply or a SERVFAIL) back to s's client with its id; frees s */
static void reply_to(struct flight *s, int len) {
  s->used = 0;
  out[2] = s->oid >> 8, out[3] = s->oid;
  if (s->conn < 0 || (tc[s->conn].fd >= 0 && tc[s->conn].gen == s->cgen)) reply(len, &s->from, s->fromlen, s->conn);
}

/* s to its upstream s->up or the next that takes it; SERVFAIL when none is left */
static void send_up(struct flight *s) {
  for (s->q[0] = s->id >> 8, s->q[1] = s->id; s->up < nup; s->up++)
    if (send(upfd[s->up], s->q, s->len, MSG_DONTWAIT | MSG_NOSIGNAL) == s->len) {
      s->deadline = ms() + TIMEOUT_MS;
      return;
    }
  reply_to(s, servfail(s->q, s->len, out + 2));
}

static void query(const unsigned char *q, int len, const struct sockaddr_storage *from, socklen_t fromlen, int c) {
  static int next;
  int r = answer(q, len, out + 2), i = 0;
  while (!r && i < NFLIGHT && fl[(next + i) % NFLIGHT].used) i++;
  if (r || !nup || len > QMAX || i == NFLIGHT) {
    if (r >= 0) reply(r ? r : servfail(q, len, out + 2), from, fromlen, c);
    return;
  }
  struct flight *s = &fl[(next + i) % NFLIGHT];
  next = (next + i + 1) % NFLIGHT;
  seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
  s->used = 1, s->up = 0, s->conn = c, s->cgen = c >= 0 ? tc[c].gen : 0, s->len = len, s->fromlen = fromlen;
  s->id = (s - fl) | (seed & 0xff00), s->oid = q[0] << 8 | q[1];
  if (from) memcpy(&s->from, from, fromlen);
  memcpy(s->q, q, len);
  send_up(s);
}

/* TCP: the queries (2-byte length, then the message) read so far on connection c */
static void conn_read(int c) {
  struct conn *k = &tc[c];
  ssize_t n = recv(k->fd, k->buf + k->have, sizeof k->buf - k->have, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) conn_close(c);
  else k->have += n, k->idle = ms() + IDLE_MS;
  while (k->fd >= 0 && k->have >= 2) {
    int l = k->buf[0] << 8 | k->buf[1];
    if (l > QMAX) conn_close(c);
    if (l > QMAX || k->have < 2 + l) return;
    query(k->buf + 2, l, NULL, 0, c);
    memmove(k->buf, k->buf + 2 + l, k->have -= 2 + l);
  }
}

static void serve(int pidfd) {
  struct pollfd p[3 + 8 + NCONN] = { { .fd = pidfd }, { .fd = ufd }, { .fd = lfd } };
  for (int i = 0; i < nup; i++) p[3 + i].fd = upfd[i];
  for (int n = 3 + nup + NCONN;;) {
    long long now = ms(), wake = now + IDLE_MS;
    for (int i = 0; i < NFLIGHT; i++) {
      if (fl[i].used && fl[i].deadline <= now) fl[i].up++, send_up(&fl[i]);
      if (fl[i].used && fl[i].deadline < wake) wake = fl[i].deadline;
    }
    for (int i = 0; i < NCONN; i++) {
      if (tc[i].fd >= 0 && tc[i].idle <= now) conn_close(i);
      if (tc[i].fd >= 0 && tc[i].idle < wake) wake = tc[i].idle;
      p[3 + nup + i].fd = tc[i].fd;
    }
    for (int i = 0; i < n; i++) p[i].events = POLLIN, p[i].revents = 0;
    if (poll(p, n, wake - now + 1) <= 0) continue;
    if (p[0].revents) _exit(0);
    if (p[1].revents & POLLIN) {
      struct sockaddr_storage from;
      socklen_t fromlen = sizeof from;
      ssize_t len = recvfrom(ufd, ubuf, sizeof ubuf, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
      if (len > 0 && len <= QMAX) query(ubuf, len, &from, fromlen, -1);
    }
    if (p[2].revents & POLLIN) {
      int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), c = 0;
      while (c < NCONN && tc[c].fd >= 0) c++;
      if (fd >= 0 && c == NCONN) close(fd);
      else if (fd >= 0) tc[c].fd = fd, tc[c].have = 0, tc[c].gen++, tc[c].idle = ms() + IDLE_MS;
    }
    for (int i = 0; i < nup; i++) {
      ssize_t len = p[3 + i].revents & POLLIN ? recv(upfd[i], out + 2, 65535, MSG_DONTWAIT) : 0;
      struct flight *s = &fl[out[3]];
      if (len >= 12 && s->used && s->id == (out[2] << 8 | out[3]) && i <= s->up) reply_to(s, len);
    }
    for (int i = 0; i < NCONN; i++)
      if (tc[i].fd >= 0 && p[3 + nup + i].revents) conn_read(i);
  }
}

/* The server starts before the init's own network steps: bring lo up here first. An address bound while lo is
 * down (IP_FREEBIND) answers from 127.0.0.1 instead of 127.0.0.11, and resolvers drop such replies. */
static int lo_up(void) {
  struct ifreq r = { 0 };
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), e = 0;
  if (fd < 0) return errno;
  strcpy(r.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &r) < 0) e = errno;
  else if (!(r.ifr_flags & IFF_UP) && (r.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &r) < 0)) e = errno;
  close(fd);
  return e;
}

static int bound(int type, const struct sockaddr_storage *a, socklen_t len) {
  int fd = socket(a->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
  if (fd < 0) return -1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  return bind(fd, (const struct sockaddr *)a, len) < 0 || (type == SOCK_STREAM && listen(fd, 16) < 0) ? -1 : fd;
}

int dns_serve(pid_t init_pid, const struct dns_plan *p, int ready_fd) {
  struct sockaddr_storage a;
  socklen_t len;
  char path[64];
  int e, pidfd, nsfd;
  if (p->nupstream < 0 || p->nupstream > 8 || p->nhosts < 0 || p->nhosts > 16 || !p->listen) return EINVAL;
  plan = p, nup = 0;
  for (int i = 0; i < NCONN; i++) tc[i].fd = -1;
  if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed) seed = getpid() ^ ms();
  seed |= 1;
  if ((pidfd = syscall(SYS_pidfd_open, init_pid, 0)) < 0) return errno;
  fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  for (; nup < p->nupstream; nup++) {
    if ((e = parse_addr(p->upstream[nup], &a, &len))) return e;
    if ((upfd[nup] = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) return errno;
    if (connect(upfd[nup], (struct sockaddr *)&a, len) < 0) return errno;
  }
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)init_pid);
  if ((nsfd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || setns(nsfd, CLONE_NEWNET) < 0) return errno;
  close(nsfd);
  if ((e = lo_up()) || (e = parse_addr(p->listen, &a, &len))) return e;
  if ((ufd = bound(SOCK_DGRAM, &a, len)) < 0 || (lfd = bound(SOCK_STREAM, &a, len)) < 0) return errno;
  if (ready_fd >= 0 && write(ready_fd, "ready\n", 6) != 6) return errno ? errno : EPIPE;
  if (ready_fd > 2) close(ready_fd);
  return serve(pidfd), 0;
}

pid_t dns_start(pid_t init_pid, const struct dns_plan *p, int *err) {
  int fds[2];
  char b[32];
  ssize_t n, got = 0;
  pid_t parent = getpid(), pid;
  if (pipe2(fds, O_CLOEXEC) < 0) return *err = errno, -1;
  if ((pid = fork()) < 0) return *err = errno, close(fds[0]), close(fds[1]), -1;
  if (!pid) {
    sigset_t none;
    sigemptyset(&none), sigprocmask(SIG_SETMASK, &none, NULL);
    /* keep none of the caller's fds (its stdio, status pipes): 0-2 on /dev/null, the ready pipe on 3 */
    if (dup2(fds[1], 3) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent) _exit(1);
    int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int i = 0; i < 3; i++) dup2(nul, i);
    if (syscall(SYS_close_range, 4, ~0U, 0) < 0)
      for (int i = 4; i < 4096; i++) close(i);
    dprintf(3, "error %d\n", dns_serve(init_pid, p, 3));
    _exit(1);
  }
  close(fds[1]);
  while (got < (ssize_t)sizeof b - 1 && !memchr(b, '\n', got) && (n = read(fds[0], b + got, sizeof b - 1 - got)))
    if (n > 0) got += n;
    else if (errno != EINTR) break;
  close(fds[0]), b[got] = 0;
  if (!strcmp(b, "ready\n")) return pid;
  if (sscanf(b, "error %d", err) != 1 || *err <= 0) *err = EPIPE;
  waitpid(pid, NULL, 0);
  return -1;
}

int dns_test_main(int argc, char **argv) {
  struct dns_plan p = { 0 };
  pid_t pid = 0;
  for (int i = 1; i < argc; i += 2) {
    const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v && !strcmp(k, "--pid")) pid = atoi(v);
    else if (v && !strcmp(k, "--listen")) p.listen = v;
    else if (v && !strcmp(k, "--upstream") && p.nupstream < 8) p.upstream[p.nupstream++] = v;
    else if (v && !strcmp(k, "--hosts") && p.nhosts < 16) p.hosts[p.nhosts++] = v;
    else if (v && !strcmp(k, "--search")) p.search = v;
    else return fprintf(stderr, "tsdock-exec --dns-test: bad argument %s\n", k), 125;
  }
  if (pid <= 0 || !p.listen) return fprintf(stderr, "tsdock-exec --dns-test: needs --pid and --listen\n"), 125;
  signal(SIGPIPE, SIG_IGN), prctl(PR_SET_PDEATHSIG, SIGKILL);
  fprintf(stderr, "tsdock-exec --dns-test: %s\n", strerror(dns_serve(pid, &p, 1)));
  return 1;
}
