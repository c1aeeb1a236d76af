/*
 * gzip decompression through Intel's ISA-L (igzip), for layer downloads: its inflate is about twice as fast as
 * zlib's on this kind of machine (busybox's 1 MB layer: 4.4 ms instead of 9.6).
 *
 * libisal.so.2 is opened at the first call (dlopen), not linked: an addon built where ISA-L is installed still
 * loads where it is not (flock must keep working), and inflateStateSize() then answers 0, as it does for a build
 * without ISA-L's header; storage/gunzip.ts then takes zlib's way. It runs on the calling thread: see gunzip.ts. No policy: the caller owns the state (a Buffer
 * of inflateStateSize() bytes that never moves), the input and the output, and decides what a finished member or
 * an error means.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include "napi-min.h"

#if defined(__has_include)
#if __has_include(<isa-l/igzip_lib.h>)
#include <isa-l/igzip_lib.h>
#define HAVE_ISAL 1
#endif
#endif

#ifdef HAVE_ISAL
static void (*p_init)(struct inflate_state *);
static void (*p_reset)(struct inflate_state *);
static int (*p_inflate)(struct inflate_state *);
static int isal_state; /* 0: not tried, 1: loaded, -1: unavailable */

static int isal_loaded(void) {
  if (isal_state == 0) {
    void *lib = dlopen("libisal.so.2", RTLD_NOW | RTLD_LOCAL);
    if (lib) {
      p_init = (void (*)(struct inflate_state *))dlsym(lib, "isal_inflate_init");
      p_reset = (void (*)(struct inflate_state *))dlsym(lib, "isal_inflate_reset");
      p_inflate = (int (*)(struct inflate_state *))dlsym(lib, "isal_inflate");
    }
    isal_state = lib && p_init && p_reset && p_inflate ? 1 : -1;
  }
  return isal_state == 1;
}

/* the caller's state buffer, when it is one of the right size */
static struct inflate_state *state_arg(napi_env env, napi_value v) {
  void *data = NULL;
  size_t len = 0;
  if (napi_get_buffer_info(env, v, &data, &len) != 0 || len < sizeof(struct inflate_state)) return NULL;
  return (struct inflate_state *)data;
}
#endif

/* inflateStateSize() → the bytes a state takes, or 0 when ISA-L is not there */
napi_value js_inflate_state_size(napi_env env, napi_callback_info info) {
  (void)info;
#ifdef HAVE_ISAL
  return int_result(env, isal_loaded() ? (int32_t)sizeof(struct inflate_state) : 0);
#else
  return int_result(env, 0);
#endif
}

/* inflateInit(state, reset) → 0 or -EINVAL: a fresh gzip member (reset: after one finished in the same state) */
napi_value js_inflate_init(napi_env env, napi_callback_info info) {
#ifdef HAVE_ISAL
  napi_value argv[2];
  size_t argc = 2;
  int32_t reset = 0;
  if (!isal_loaded() || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 2) return int_result(env, -EINVAL);
  struct inflate_state *s = state_arg(env, argv[0]);
  if (!s || napi_get_value_int32(env, argv[1], &reset) != 0) return int_result(env, -EINVAL);
  if (reset) p_reset(s);
  else p_init(s);
  s->crc_flag = ISAL_GZIP; /* the gzip header is parsed, the trailer's CRC-32 and size are checked */
  return int_result(env, 0);
#else
  (void)info;
  return int_result(env, -ENOSYS);
#endif
}

/*
 * inflate(state, input, output, result) → ISA-L's status (0, or a negative ISAL_* error), -EINVAL for bad
 * arguments. result (Int32Array of 3) gets the input bytes consumed, the output bytes written, and 1 when the
 * member ended (its trailer checked) or 0. The state keeps no pointer into the buffers after the call (ISA-L
 * copies the history it needs into the state).
 */
napi_value js_inflate(napi_env env, napi_callback_info info) {
#ifdef HAVE_ISAL
  napi_value argv[4];
  size_t argc = 4;
  if (!isal_loaded() || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 4) return int_result(env, -EINVAL);
  struct inflate_state *s = state_arg(env, argv[0]);
  void *in = NULL, *out = NULL, *res = NULL;
  size_t in_len = 0, out_len = 0, res_len = 0;
  napi_typedarray_type type;
  if (!s || napi_get_buffer_info(env, argv[1], &in, &in_len) != 0 || napi_get_buffer_info(env, argv[2], &out, &out_len) != 0 ||
      napi_get_typedarray_info(env, argv[3], &type, &res_len, &res, NULL, NULL) != 0 || type != napi_int32_array || res_len < 3 ||
      in_len > UINT32_MAX || out_len > UINT32_MAX)
    return int_result(env, -EINVAL);
  s->next_in = (uint8_t *)in;
  s->avail_in = (uint32_t)in_len;
  s->next_out = (uint8_t *)out;
  s->avail_out = (uint32_t)out_len;
  int rc = p_inflate(s);
  int32_t *r = (int32_t *)res;
  r[0] = (int32_t)(in_len - s->avail_in);
  r[1] = (int32_t)(out_len - s->avail_out);
  r[2] = s->block_state == ISAL_BLOCK_FINISH;
  s->next_in = NULL; /* the buffers are the caller's again */
  s->next_out = NULL;
  return int_result(env, rc);
#else
  (void)info;
  return int_result(env, -ENOSYS);
#endif
}
