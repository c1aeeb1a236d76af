/*
 * tsdock-sys.node: the syscalls on the hot path of every lifecycle verb (flock), and of a first pull into a new
 * store (the inode flag of its tmp dir; a layer's symlinks and their times, made per entry), as a Node-API addon
 * of a few kilobytes; and a pull's gzip inflate (inflate.c) and tar header numbers (tarheader.c).
 * koffi (sys/libc.ts) serves every other syscall Node lacks, but loading its 1.6 MB addon costs 2-3 ms, paid by
 * each `rm`, `stop`, `pause`, `update` or `pull` only to take a flock; this file loads in ~0.1 ms.
 *
 * Each function here takes int32s, numbers or paths and returns an int32: 0 (or a result) on success, -errno on
 * failure (sys/addon.ts turns that into a SysError). No policy, no allocation, no state (inflate.c keeps the
 * library it opened).
 *
 * The few Node-API declarations it needs are written out (napi-min.h) instead of including <node_api.h>, so
 * building it needs no Node headers (a Node installed without them, or a distribution's split -dev package). They are the
 * stable ABI of js_native_api.h (version 1): opaque handles, an int status, symbols resolved from the node binary
 * at load time.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "napi-min.h"

/* the int32 arguments of a call; false when there are fewer or one is not a number */
static int int_args(napi_env env, napi_callback_info info, int32_t *out, size_t want) {
  napi_value argv[4];
  size_t argc = want;
  if (want > 4 || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < want) return 0;
  for (size_t i = 0; i < want; i++)
    if (napi_get_value_int32(env, argv[i], &out[i]) != 0) return 0;
  return 1;
}

napi_value int_result(napi_env env, int32_t value) {
  napi_value out = NULL;
  napi_create_int32(env, value, &out);
  return out;
}

/* flock(fd, op) → 0 or -errno */
static napi_value js_flock(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (!int_args(env, info, a, 2)) return int_result(env, -EINVAL);
  return int_result(env, flock(a[0], a[1]) == 0 ? 0 : -errno);
}

/* inode_flags_or(fd, mask): FS_IOC_GETFLAGS, then FS_IOC_SETFLAGS with `mask` added when it is not all set
 * already → 0 or -errno (the kernel reads and writes an int for both, whatever their macros say) */
static napi_value js_inode_flags_or(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (!int_args(env, info, a, 2)) return int_result(env, -EINVAL);
  int flags = 0;
  if (ioctl(a[0], FS_IOC_GETFLAGS, &flags) != 0) return int_result(env, -errno);
  if ((flags & a[1]) == a[1]) return int_result(env, 0);
  flags |= a[1];
  return int_result(env, ioctl(a[0], FS_IOC_SETFLAGS, &flags) == 0 ? 0 : -errno);
}

/* a path argument into buf (PATH_MAX + 1 bytes): 0, or -ENAMETOOLONG (the kernel's limit, PATH_MAX with its NUL),
 * or -EINVAL for a non-string or one holding a NUL */
static int path_arg(napi_env env, napi_value v, char *buf) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, PATH_MAX + 1, &len) != 0) return -EINVAL;
  if (len >= PATH_MAX) return -ENAMETOOLONG;
  return strlen(buf) == len ? 0 : -EINVAL;
}

/* symlink(target, path) → 0 or -errno */
static napi_value js_symlink(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  size_t argc = 2;
  char target[PATH_MAX + 1], path[PATH_MAX + 1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 2) return int_result(env, -EINVAL);
  int r = path_arg(env, argv[0], target);
  if (r == 0) r = path_arg(env, argv[1], path);
  if (r != 0) return int_result(env, r);
  return int_result(env, symlink(target, path) == 0 ? 0 : -errno);
}

/* seconds as libuv turns them into a timespec for fs.lutimes (microseconds kept, as there), finite ones only */
static struct timespec to_timespec(double t) {
  struct timespec ts;
  ts.tv_sec = (time_t)t;
  ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
  ts.tv_nsec -= ts.tv_nsec % 1000;
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1000000000L;
    ts.tv_sec -= 1;
  }
  return ts;
}

/* lutimes(path, atime, mtime): utimensat without following a final symlink, times in seconds → 0 or -errno */
static napi_value js_lutimes(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  size_t argc = 3;
  char path[PATH_MAX + 1];
  double at = 0, mt = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 3) return int_result(env, -EINVAL);
  int r = path_arg(env, argv[0], path);
  if (r != 0) return int_result(env, r);
  if (napi_get_value_double(env, argv[1], &at) != 0 || napi_get_value_double(env, argv[2], &mt) != 0 || at != at || mt != mt ||
      at - at != 0 || mt - mt != 0)
    return int_result(env, -EINVAL);
  struct timespec ts[2] = {to_timespec(at), to_timespec(mt)};
  return int_result(env, utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno);
}

static void export_fn(napi_env env, napi_value exports, const char *name, size_t len, napi_callback cb) {
  napi_value fn;
  if (napi_create_function(env, name, len, cb, NULL, &fn) == 0) napi_set_named_property(env, exports, name, fn);
}

/* the entry point Node looks up in an addon that does not register itself */
napi_value napi_register_module_v1(napi_env env, napi_value exports);
napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  export_fn(env, exports, "flock", 5, js_flock);
  export_fn(env, exports, "inodeFlagsOr", 12, js_inode_flags_or);
  export_fn(env, exports, "symlink", 7, js_symlink);
  export_fn(env, exports, "lutimes", 7, js_lutimes);
  export_fn(env, exports, "tarHeader", 9, js_tar_header);
  export_fn(env, exports, "inflateStateSize", 16, js_inflate_state_size);
  export_fn(env, exports, "inflateInit", 11, js_inflate_init);
  export_fn(env, exports, "inflate", 7, js_inflate);
  return exports;
}
