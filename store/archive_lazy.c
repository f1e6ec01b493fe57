#define CB_STORE_ARCHIVE_LAZY_H_TABLE
#include "store/archive_lazy.h"

/* The soname this cbuild was built against (the -dev package's .so link
 * points to it). */
CB_LAZYLIB_DEFINE(cb_archive_lib, "libarchive.so.13", CB_ARCHIVE_FUNCS);
