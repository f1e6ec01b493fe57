#define CB_REGISTRY_CURL_LAZY_H_TABLE
#include "registry/curl_lazy.h"

/* The soname this cbuild was built against (the -dev package's .so link
 * points to it). */
CB_LAZYLIB_DEFINE(cb_curl_lib, "libcurl.so.4", CB_CURL_FUNCS);
