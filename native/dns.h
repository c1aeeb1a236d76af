/* dns.h: the container's embedded DNS server (docker's 127.0.0.11), see dns.c */
#ifndef TSDOCK_DNS_H
#define TSDOCK_DNS_H
#include <sys/types.h>

struct dns_plan {
  const char *listen;        /* "127.0.0.11:53": address and port to bind (UDP and TCP) inside the container's netns */
  const char *upstream[8];   /* "10.255.255.53:53" ... forwarders, reached from the HOST's network namespace */
  int nupstream;
  const char *hosts[16];     /* files in /etc/hosts format ("IP name alias..."; '#' comments) with the names to answer */
  int nhosts;
  const char *search;        /* optional domain (may be NULL): "a.dom" is also answered for name "a" found in hosts */
};
/* Fork a server for the container whose init is `init_pid`: the child first makes its upstream socket(s) in the
 * current (host) network namespace, then setns()es into /proc/<init_pid>/ns/net, binds plan->listen (UDP + TCP), tells the
 * parent it is ready, and serves until the init exits (pidfd_open(init_pid) polled: readable = exit) or its
 * parent dies (PR_SET_PDEATHSIG SIGKILL). Returns the child's pid (>0) once it is ready, or -1 with *err = errno of the failing step. */
pid_t dns_start(pid_t init_pid, const struct dns_plan *plan, int *err);
/* The same serving loop in the current process (for tests): never returns unless setup fails (returns errno). */
int dns_serve(pid_t init_pid, const struct dns_plan *plan, int ready_fd);
/* tsdock-exec --dns-test --pid N --listen A [--upstream A]... [--hosts F]... [--search D]: dns_serve(), "ready\n" on fd 1 */
int dns_test_main(int argc, char **argv);
#endif
