/*
 * The Node-API declarations tsdock's addon uses, written out instead of including <node_api.h> so building it needs
 * no Node headers: the stable ABI of js_native_api.h (version 1), opaque handles, an int status (napi_ok is 0),
 * symbols resolved from the node binary at load time.
 */
#ifndef TSDOCK_NAPI_MIN_H
#define TSDOCK_NAPI_MIN_H
#include <stddef.h>
#include <stdint.h>

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
extern napi_status napi_get_value_string_utf8(napi_env env, napi_value value, char *buf, size_t bufsize, size_t *result);
extern napi_status napi_get_value_double(napi_env env, napi_value value, double *result);
extern napi_status napi_get_buffer_info(napi_env env, napi_value value, void **data, size_t *length);
typedef enum { napi_int8_array, napi_uint8_array, napi_uint8_clamped_array, napi_int16_array, napi_uint16_array, napi_int32_array, napi_uint32_array, napi_float32_array, napi_float64_array } napi_typedarray_type;
extern napi_status napi_get_typedarray_info(napi_env env, napi_value typedarray, napi_typedarray_type *type, size_t *length, void **data, napi_value *arraybuffer, size_t *byte_offset);

/* tsdock-sys.c's helper for the other files */
napi_value int_result(napi_env env, int32_t value);

/* tarheader.c */
napi_value js_tar_header(napi_env env, napi_callback_info info);

/* inflate.c */
napi_value js_inflate_state_size(napi_env env, napi_callback_info info);
napi_value js_inflate_init(napi_env env, napi_callback_info info);
napi_value js_inflate(napi_env env, napi_callback_info info);
#endif
