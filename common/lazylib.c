#include "common/lazylib.h"

#include "common/libprefetch.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lazy_mu = PTHREAD_MUTEX_INITIALIZER;

_Noreturn static void lazy_fail(const cb_lazylib_t *lib, const char *what)
{
	/* no caller can do anything but stop: say what is missing and exit */
	fprintf(stderr, "cbuild: cannot load %s (%s): is its package installed?\n", lib->soname,
		what ? what : "unknown error");
	exit(1);
}

void cb_lazylib_load_slow(cb_lazylib_t *lib)
{
	pthread_mutex_lock(&lazy_mu);
	if (!lib->loaded) {
		cb_prefetch_library(lib->soname); /* a cold start's disk reads, queued at once */
		/* RTLD_NODELETE: the pointers stay valid for the life of the process */
		void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
		if (!h)
			lazy_fail(lib, dlerror());
		for (size_t i = 0; i < lib->n; i++) {
			dlerror();
			void *sym = dlsym(h, lib->names[i]);
			if (!sym)
				lazy_fail(lib, dlerror());
			*lib->slots[i] = sym;
		}
		__atomic_store_n(&lib->loaded, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lazy_mu);
}
