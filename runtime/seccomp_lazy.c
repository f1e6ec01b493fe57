#define CB_RUNTIME_SECCOMP_LAZY_H_TABLE
#include "runtime/seccomp_lazy.h"

/* The soname this cbuild was built against (libseccomp-dev's .so link). */
CB_LAZYLIB_DEFINE(cb_seccomp_lib, "libseccomp.so.2", CB_SECCOMP_FUNCS);
