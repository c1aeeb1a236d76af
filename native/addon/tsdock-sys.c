/*
 * tsdock-sys.node: the syscalls on the hot path of every lifecycle verb (flock), and of a first pull into a new
 * store (the inode flag of its tmp dir), as a Node-API addon of a few kilobytes.
 * koffi (sys/libc.ts) serves every other syscall Node lacks, but loading its 1.6 MB addon costs 2-3 ms, paid by
 * each `rm`, `stop`, `pause`, `update` or `pull` only to take a flock; this file loads in ~0.1 ms.
 *
 * Each function takes and returns int32 only: 0 (or a result) on success, -errno on failure (sys/addon.ts turns
 * that into a SysError). No policy, no allocation, no state.
 *
 * The few Node-API declarations it needs are written out below instead of including <node_api.h>, so building it
 * needs no Node headers (a Node installed without them, or a distribution's split -dev package). They are the
 * stable ABI of js_native_api.h (version 1): opaque handles, an int status, symbols resolved from the node binary
 * at load time.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status; /* napi_ok is 0 */
typedef napi_value (*napi_callback)(napi_env env, napi_callback_info info);

extern napi_status napi_get_cb_info(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, napi_value *this_arg, void **data);
extern napi_status napi_get_value_int32(napi_env env, napi_value value, int32_t *result);
extern napi_status napi_create_int32(napi_env env, int32_t value, napi_value *result);
extern napi_status napi_create_function(napi_env env, const char *name, size_t length, napi_callback cb, void *data, napi_value *result);
extern napi_status napi_set_named_property(napi_env env, napi_value object, const char *name, napi_value value);

/* the int32 arguments of a call; false when there are fewer or one is not a number */
static int int_args(napi_env env, napi_callback_info info, int32_t *out, size_t want) {
  napi_value argv[4];
  size_t argc = want;
  if (want > 4 || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < want) return 0;
  for (size_t i = 0; i < want; i++)
    if (napi_get_value_int32(env, argv[i], &out[i]) != 0) return 0;
  return 1;
}

static napi_value int_result(napi_env env, int32_t value) {
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

static void export_fn(napi_env env, napi_value exports, const char *name, size_t len, napi_callback cb) {
  napi_value fn;
  if (napi_create_function(env, name, len, cb, NULL, &fn) == 0) napi_set_named_property(env, exports, name, fn);
}

/* the entry point Node looks up in an addon that does not register itself */
napi_value napi_register_module_v1(napi_env env, napi_value exports);
napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  export_fn(env, exports, "flock", 5, js_flock);
  export_fn(env, exports, "inodeFlagsOr", 12, js_inode_flags_or);
  return exports;
}
