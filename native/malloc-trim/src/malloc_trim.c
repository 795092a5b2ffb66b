/*
 * trim(): glibc's malloc_trim(0), which returns the free pages of every malloc arena to the kernel,
 * including the holes in the middle of a heap that free() never gives back (free() only trims the
 * top of the main arena). Elsewhere (musl, macOS, Windows) there is no such call: trim() returns
 * undefined and `supported` is false, so the package builds and loads on every platform.
 */
#include <stdlib.h> /* defines __GLIBC__ on glibc */
#include <node_api.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static napi_value trim(napi_env env, napi_callback_info info) {
  napi_value result;
  (void)info;
#if defined(__GLIBC__)
  if (napi_get_boolean(env, malloc_trim(0) == 1, &result) != napi_ok) return NULL;
#else
  if (napi_get_undefined(env, &result) != napi_ok) return NULL;
#endif
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_value supported;
#if defined(__GLIBC__)
  const bool isGlibc = true;
#else
  const bool isGlibc = false;
#endif
  if (napi_create_function(env, "trim", NAPI_AUTO_LENGTH, trim, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "trim", fn) != napi_ok) return NULL;
  if (napi_get_boolean(env, isGlibc, &supported) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "supported", supported) != napi_ok) return NULL;
  return exports;
}
