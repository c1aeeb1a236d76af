/*
 * The numbers of a tar header block, for a layer's unpack (storage/tarheader.ts): a CLI decodes each of a layer's
 * headers once, before the JIT has warmed up, and the octal fields and the checksum cost ~11 µs of interpreted
 * JavaScript a header there (busybox: 284 of them), ~0.3 µs here. No policy: it reports what the bytes say and
 * the caller decides what is an error.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include "napi-min.h"

/* the numeric fields, as (offset, length), in the order written to `out` */
static const struct {
  int off, len;
} FIELDS[] = {{100, 8}, {108, 8}, {116, 8}, {124, 12}, {136, 12}, {148, 8}, {329, 8}, {337, 8}, {345, 12}};
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])

/* octal text, space/NUL padded → value; -1 for GNU base-256 (high bit set: the caller decodes it); NaN otherwise */
static double octal(const uint8_t *p, int len) {
  if (p[0] & 0x80) return -1;
  int i = 0;
  while (i < len && (p[i] == ' ' || p[i] == 0)) i++;
  double v = 0;
  for (; i < len; i++) {
    uint8_t c = p[i];
    if (c == ' ' || c == 0) break;
    if (c < '0' || c > '7') return __builtin_nan("");
    v = v * 8 + (c - '0');
  }
  return v;
}

/*
 * tarHeader(block, out) → 0, or -EINVAL for a block under 512 bytes or an out under 11 numbers. out (Float64Array)
 * gets mode, uid, gid, size, mtime, chksum, devmajor, devminor and GNU's atime as octal.c reads them, then the
 * header's sum with the checksum field as spaces, over unsigned and over signed bytes.
 */
napi_value js_tar_header(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  size_t argc = 2;
  void *block = NULL, *out = NULL;
  size_t len = 0, out_len = 0;
  napi_typedarray_type type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 2 || napi_get_buffer_info(env, argv[0], &block, &len) != 0 || len < 512 ||
      napi_get_typedarray_info(env, argv[1], &type, &out_len, &out, NULL, NULL) != 0 || type != napi_float64_array || out_len < NFIELDS + 2)
    return int_result(env, -EINVAL);
  const uint8_t *b = block;
  double *o = out;
  for (size_t f = 0; f < NFIELDS; f++) o[f] = octal(b + FIELDS[f].off, FIELDS[f].len);
  int64_t u = 8 * ' ', s = 8 * ' ';
  for (int i = 0; i < 512; i++) {
    if (i >= 148 && i < 156) continue;
    u += b[i];
    s += (int8_t)b[i];
  }
  o[NFIELDS] = (double)u;
  o[NFIELDS + 1] = (double)s;
  return int_result(env, 0);
}
