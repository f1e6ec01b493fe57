/*
 * registry/curl_lazy.h - libcurl, loaded on first use (see common/lazylib.h).
 *
 * Include this instead of <curl/curl.h>: each call goes through a
 * pointer filled from libcurl.so.4 the first time any of them is called,
 * so only commands that talk HTTP load libcurl and the 30 libraries it
 * brings (gnutls, krb5, ldap, ssh2, ...). curl's compile-time type checks
 * of curl_easy_setopt and friends are macros that the mapping would
 * replace: they are off here (CURL_DISABLE_TYPECHECK).
 */
#ifndef CB_REGISTRY_CURL_LAZY_H
#define CB_REGISTRY_CURL_LAZY_H

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "common/lazylib.h"

/* Every curl function cbuild calls; add a name here before using it. */
#define CB_CURL_FUNCS(X) \
	X(curl_easy_cleanup) \
	X(curl_easy_escape) \
	X(curl_easy_getinfo) \
	X(curl_easy_init) \
	X(curl_easy_perform) \
	X(curl_easy_reset) \
	X(curl_easy_setopt) \
	X(curl_easy_strerror) \
	X(curl_free) \
	X(curl_getdate) \
	X(curl_global_init) \
	X(curl_multi_add_handle) \
	X(curl_multi_cleanup) \
	X(curl_multi_info_read) \
	X(curl_multi_init) \
	X(curl_multi_perform) \
	X(curl_multi_poll) \
	X(curl_multi_remove_handle) \
	X(curl_multi_setopt) \
	X(curl_multi_strerror) \
	X(curl_slist_append) \
	X(curl_slist_free_all) \
	X(curl_url) \
	X(curl_url_cleanup) \
	X(curl_url_get) \
	X(curl_url_set) \
	X(curl_url_strerror)

extern cb_lazylib_t cb_curl_lib;
#define X(f) extern __typeof__(f) *cb_lazy_##f;
CB_CURL_FUNCS(X)
#undef X

#ifndef CB_REGISTRY_CURL_LAZY_H_TABLE /* the table's own .c needs the real names */
/* (curl.h defines these three as macros of themselves) */
#define curl_easy_cleanup CB_LAZY(cb_curl_lib, curl_easy_cleanup)
#define curl_easy_escape CB_LAZY(cb_curl_lib, curl_easy_escape)
#undef curl_easy_getinfo
#define curl_easy_getinfo CB_LAZY(cb_curl_lib, curl_easy_getinfo)
#define curl_easy_init CB_LAZY(cb_curl_lib, curl_easy_init)
#define curl_easy_perform CB_LAZY(cb_curl_lib, curl_easy_perform)
#define curl_easy_reset CB_LAZY(cb_curl_lib, curl_easy_reset)
#undef curl_easy_setopt
#define curl_easy_setopt CB_LAZY(cb_curl_lib, curl_easy_setopt)
#define curl_easy_strerror CB_LAZY(cb_curl_lib, curl_easy_strerror)
#define curl_free CB_LAZY(cb_curl_lib, curl_free)
#define curl_getdate CB_LAZY(cb_curl_lib, curl_getdate)
#define curl_global_init CB_LAZY(cb_curl_lib, curl_global_init)
#define curl_multi_add_handle CB_LAZY(cb_curl_lib, curl_multi_add_handle)
#define curl_multi_cleanup CB_LAZY(cb_curl_lib, curl_multi_cleanup)
#define curl_multi_info_read CB_LAZY(cb_curl_lib, curl_multi_info_read)
#define curl_multi_init CB_LAZY(cb_curl_lib, curl_multi_init)
#define curl_multi_perform CB_LAZY(cb_curl_lib, curl_multi_perform)
#define curl_multi_poll CB_LAZY(cb_curl_lib, curl_multi_poll)
#define curl_multi_remove_handle CB_LAZY(cb_curl_lib, curl_multi_remove_handle)
#undef curl_multi_setopt
#define curl_multi_setopt CB_LAZY(cb_curl_lib, curl_multi_setopt)
#define curl_multi_strerror CB_LAZY(cb_curl_lib, curl_multi_strerror)
#define curl_slist_append CB_LAZY(cb_curl_lib, curl_slist_append)
#define curl_slist_free_all CB_LAZY(cb_curl_lib, curl_slist_free_all)
#define curl_url CB_LAZY(cb_curl_lib, curl_url)
#define curl_url_cleanup CB_LAZY(cb_curl_lib, curl_url_cleanup)
#define curl_url_get CB_LAZY(cb_curl_lib, curl_url_get)
#define curl_url_set CB_LAZY(cb_curl_lib, curl_url_set)
#define curl_url_strerror CB_LAZY(cb_curl_lib, curl_url_strerror)
#endif

#endif
