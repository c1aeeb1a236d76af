/*
 * tsdock-exec: join mode (exec): enter the namespaces of a running container's init.
 */
#include "exec.h"

const char *const NS_NAMES[] = { "user", "mnt", "pid", "uts", "ipc", "net", "cgroup" };
const int NS_FLAGS[] = { CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWCGROUP };

/* open every /proc/<pid>/ns/<ns> first (after a setns, /proc and our rights are no longer the host's), then enter
   each in plan order; the process forked next lands in the pid namespace */
int join_namespaces(int *err) {
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
