/*
 * store/compress_lazy.h - zlib and libzstd, loaded on first use (see
 * common/lazylib.h).
 *
 * Include this instead of <zlib.h> and <zstd.h>. Only the commands that
 * compress a layer or size a zstd blob call them; `cbuild pull`, `images`,
 * `ps` and `run` do not, and a cold start is ~1 MB of reading shorter
 * without them (this machine's disk reads a library whole: 8 MB
 * readahead).
 */
#ifndef CB_STORE_COMPRESS_LAZY_H
#define CB_STORE_COMPRESS_LAZY_H

#include <zlib.h>
#include <zstd.h>

#include "common/lazylib.h"

/* Every zlib function cbuild calls; add a name here before using it.
 * deflateInit2 and crc32_combine are zlib macros for the names below. */
#define CB_ZLIB_FUNCS(X) \
	X(crc32) \
	X(crc32_combine64) \
	X(deflate) \
	X(deflateBound) \
	X(deflateEnd) \
	X(deflateInit2_) \
	X(deflateParams) \
	X(deflateReset) \
	X(deflateSetDictionary)

/* Every libzstd function cbuild calls. */
#define CB_ZSTD_FUNCS(X) \
	X(ZSTD_CCtx_setParameter) \
	X(ZSTD_CStreamOutSize) \
	X(ZSTD_compressStream2) \
	X(ZSTD_createCCtx) \
	X(ZSTD_freeCCtx) \
	X(ZSTD_getErrorName) \
	X(ZSTD_getFrameContentSize) \
	X(ZSTD_isError) \
	X(ZSTD_maxCLevel) \
	X(ZSTD_minCLevel)

extern cb_lazylib_t cb_zlib_lib, cb_zstd_lib;
#define X(f) extern __typeof__(f) *cb_lazy_##f;
CB_ZLIB_FUNCS(X)
CB_ZSTD_FUNCS(X)
#undef X

#ifndef CB_STORE_COMPRESS_LAZY_H_TABLE /* the table's own .c needs the real names */
#define crc32 CB_LAZY(cb_zlib_lib, crc32)
#define crc32_combine64 CB_LAZY(cb_zlib_lib, crc32_combine64)
#define deflate CB_LAZY(cb_zlib_lib, deflate)
#define deflateBound CB_LAZY(cb_zlib_lib, deflateBound)
#define deflateEnd CB_LAZY(cb_zlib_lib, deflateEnd)
#define deflateInit2_ CB_LAZY(cb_zlib_lib, deflateInit2_)
#define deflateParams CB_LAZY(cb_zlib_lib, deflateParams)
#define deflateReset CB_LAZY(cb_zlib_lib, deflateReset)
#define deflateSetDictionary CB_LAZY(cb_zlib_lib, deflateSetDictionary)
#define ZSTD_CCtx_setParameter CB_LAZY(cb_zstd_lib, ZSTD_CCtx_setParameter)
#define ZSTD_CStreamOutSize CB_LAZY(cb_zstd_lib, ZSTD_CStreamOutSize)
#define ZSTD_compressStream2 CB_LAZY(cb_zstd_lib, ZSTD_compressStream2)
#define ZSTD_createCCtx CB_LAZY(cb_zstd_lib, ZSTD_createCCtx)
#define ZSTD_freeCCtx CB_LAZY(cb_zstd_lib, ZSTD_freeCCtx)
#define ZSTD_getErrorName CB_LAZY(cb_zstd_lib, ZSTD_getErrorName)
#define ZSTD_getFrameContentSize CB_LAZY(cb_zstd_lib, ZSTD_getFrameContentSize)
#define ZSTD_isError CB_LAZY(cb_zstd_lib, ZSTD_isError)
#define ZSTD_maxCLevel CB_LAZY(cb_zstd_lib, ZSTD_maxCLevel)
#define ZSTD_minCLevel CB_LAZY(cb_zstd_lib, ZSTD_minCLevel)
#endif

#endif
