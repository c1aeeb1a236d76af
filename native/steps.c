/*
 * tsdock-exec: the container's setup steps (mount, mkdir, symlink, mknod, pivot_root, ...), run by the child in
 * its new namespaces. Paths inside the rootfs are resolved with openat2(RESOLVE_IN_ROOT) and mounted through
 * /proc/self/fd/N, so an image's symlink cannot redirect a mount to the host.
 */
#include "exec.h"

static int oa2(int dfd, const char *p, uint64_t resolve) {
  struct open_how_ how = { O_PATH | O_CLOEXEC, 0, resolve };
  int fd;
  do fd = (int)syscall(SYS_openat2, dfd, p, &how, sizeof how); while (fd < 0 && errno == EINTR);
  return fd;
}

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

int step_write(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), e = 0;
  if (fd < 0) return errno;
  if (write_all(fd, data, len) < 0) e = errno ? errno : EIO;
  close(fd);
  return e;
}

int run_step(const struct step *s) {
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
  case OP_NETUP: case OP_NETADDR: case OP_NETROUTE: return net_step(s);
  }
  return EINVAL;
}
