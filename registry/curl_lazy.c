#define CB_REGISTRY_CURL_LAZY_H_TABLE
#include "registry/curl_lazy.h"

#define X(f) __typeof__(f) *cb_lazy_##f;
CB_CURL_FUNCS(X)
#undef X

#define X(f) #f,
static const char *const names[] = {CB_CURL_FUNCS(X)};
#undef X
#define X(f) (void **)&cb_lazy_##f,
static void **const slots[] = {CB_CURL_FUNCS(X)};
#undef X

/* The soname this cbuild was built against (the -dev package's .so link
 * points to it). */
cb_lazylib_t cb_curl_lib = {
	.soname = "libcurl.so.4",
	.names = names,
	.slots = slots,
	.n = sizeof(names) / sizeof(names[0]),
};
