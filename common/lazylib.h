/*
 * common/lazylib.h - load a shared library the first time it is used.
 *
 * cbuild links libcurl and libarchive, and between them they pull 40 more
 * shared libraries into every process (gnutls, krb5, ldap, icu, libxml2,
 * libstdc++, ...): 20 ms of a warm start and 40-60 ms of a cold one, paid
 * by `cbuild images` as much as by `cbuild pull`. Instead, a module that
 * uses such a library includes a header that maps each function it calls
 * to a pointer resolved from the library on the first call (see
 * store/archive_lazy.h, registry/curl_lazy.h):
 *
 *     #define archive_read_new CB_LAZY(cb_archive_lib, archive_read_new)
 *
 * CB_LAZY loads the library and resolves every listed symbol once
 * (pthread_once); later calls cost one check. A library or symbol that
 * cannot be loaded ends the process with a message naming it: that is an
 * installation fault, and no caller could do anything else with it.
 */
#ifndef CB_COMMON_LAZYLIB_H
#define CB_COMMON_LAZYLIB_H

#include <stddef.h>

typedef struct cb_lazylib {
	const char *soname;       /* e.g. "libarchive.so.13" */
	const char *const *names; /* the symbols to resolve, n of them */
	void **const *slots;      /* the pointers to fill, same order */
	size_t n;
	int loaded; /* atomic: set once every slot is filled */
} cb_lazylib_t;

/* The first caller loads (under a lock); exits with a message on failure. */
void cb_lazylib_load_slow(cb_lazylib_t *lib);

static inline void cb_lazylib_load(cb_lazylib_t *lib)
{
	if (!__atomic_load_n(&lib->loaded, __ATOMIC_ACQUIRE))
		cb_lazylib_load_slow(lib);
}

/* Call or take the address of FN through LIB's table (a `cb_lazy_FN`
 * pointer declared by the module's header). */
#define CB_LAZY(lib, fn) (cb_lazylib_load(&(lib)), *cb_lazy_##fn)

/* Define LIB (a cb_lazylib_t) for SONAME with a `cb_lazy_FN` pointer for
 * every FN of LIST, an X-macro list: LIST(X) expands to X(fn1) X(fn2) ...
 * Use it in a .c file that sees the library's own declarations. */
#define CB_LAZYLIB_DEFINE(lib, so, LIST)                                              \
	LIST(CB_LAZY_PTR_)                                                             \
	static const char *const lib##_names[] = {LIST(CB_LAZY_NAME_)};                \
	static void **const lib##_slots[] = {LIST(CB_LAZY_SLOT_)};                     \
	cb_lazylib_t lib = {.soname = so,                                              \
			    .names = lib##_names,                                      \
			    .slots = lib##_slots,                                      \
			    .n = sizeof(lib##_names) / sizeof(lib##_names[0])}
#define CB_LAZY_PTR_(f) __typeof__(f) *cb_lazy_##f;
#define CB_LAZY_NAME_(f) #f,
#define CB_LAZY_SLOT_(f) (void **)&cb_lazy_##f,

#endif
