#define CB_STORE_ARCHIVE_LAZY_H_TABLE
#include "store/archive_lazy.h"

#define X(f) __typeof__(f) *cb_lazy_##f;
CB_ARCHIVE_FUNCS(X)
#undef X

#define X(f) #f,
static const char *const names[] = {CB_ARCHIVE_FUNCS(X)};
#undef X
#define X(f) (void **)&cb_lazy_##f,
static void **const slots[] = {CB_ARCHIVE_FUNCS(X)};
#undef X

/* The soname this cbuild was built against (the -dev package's .so link
 * points to it). */
cb_lazylib_t cb_archive_lib = {
	.soname = "libarchive.so.13",
	.names = names,
	.slots = slots,
	.n = sizeof(names) / sizeof(names[0]),
};
