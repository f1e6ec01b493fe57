#define CB_STORE_COMPRESS_LAZY_H_TABLE
#include "store/compress_lazy.h"

/* The sonames this cbuild was built against (the -dev packages' .so links
 * point to them). */
CB_LAZYLIB_DEFINE(cb_zlib_lib, "libz.so.1", CB_ZLIB_FUNCS);
CB_LAZYLIB_DEFINE(cb_zstd_lib, "libzstd.so.1", CB_ZSTD_FUNCS);
