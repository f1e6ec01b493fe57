/*
 * store/archive_lazy.h - libarchive, loaded on first use (see common/lazylib.h).
 *
 * Include this instead of <archive.h> and <archive_entry.h>: those
 * declare the functions, this maps each call to a pointer filled from
 * libarchive.so.13 the first time any of them is called. Only the
 * commands that read or write tar archives load it (with it come libxml2,
 * libicu and libstdc++); `cbuild pull`, `images` or `ps` do not.
 */
#ifndef CB_STORE_ARCHIVE_LAZY_H
#define CB_STORE_ARCHIVE_LAZY_H

#include <archive.h>
#include <archive_entry.h>

#include "common/lazylib.h"

/* Every archive function cbuild calls; add a name here before using it. */
#define CB_ARCHIVE_FUNCS(X) \
	X(archive_entry_filetype) \
	X(archive_entry_free) \
	X(archive_entry_gid) \
	X(archive_entry_hardlink) \
	X(archive_entry_mode) \
	X(archive_entry_mtime) \
	X(archive_entry_mtime_nsec) \
	X(archive_entry_new) \
	X(archive_entry_pathname) \
	X(archive_entry_rdev) \
	X(archive_entry_rdevmajor) \
	X(archive_entry_rdevminor) \
	X(archive_entry_set_filetype) \
	X(archive_entry_set_gid) \
	X(archive_entry_set_mtime) \
	X(archive_entry_set_pathname) \
	X(archive_entry_set_perm) \
	X(archive_entry_set_size) \
	X(archive_entry_set_symlink) \
	X(archive_entry_set_uid) \
	X(archive_entry_size) \
	X(archive_entry_symlink) \
	X(archive_entry_uid) \
	X(archive_entry_xattr_next) \
	X(archive_entry_xattr_reset) \
	X(archive_errno) \
	X(archive_error_string) \
	X(archive_read_data_block) \
	X(archive_read_data_skip) \
	X(archive_read_free) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_open) \
	X(archive_read_open_fd) \
	X(archive_read_open_filename) \
	X(archive_read_support_filter_all) \
	X(archive_read_support_filter_bzip2) \
	X(archive_read_support_filter_gzip) \
	X(archive_read_support_filter_lzma) \
	X(archive_read_support_filter_xz) \
	X(archive_read_support_filter_zstd) \
	X(archive_read_support_format_all) \
	X(archive_read_support_format_gnutar) \
	X(archive_read_support_format_raw) \
	X(archive_read_support_format_tar) \
	X(archive_set_error) \
	X(archive_write_close) \
	X(archive_write_data) \
	X(archive_write_data_block) \
	X(archive_write_disk_new) \
	X(archive_write_disk_set_options) \
	X(archive_write_finish_entry) \
	X(archive_write_free) \
	X(archive_write_header) \
	X(archive_write_new) \
	X(archive_write_open_fd) \
	X(archive_write_open_filename) \
	X(archive_write_set_format_pax_restricted)

extern cb_lazylib_t cb_archive_lib;
#define X(f) extern __typeof__(f) *cb_lazy_##f;
CB_ARCHIVE_FUNCS(X)
#undef X

#ifndef CB_STORE_ARCHIVE_LAZY_H_TABLE /* the table's own .c needs the real names */
#define archive_entry_filetype CB_LAZY(cb_archive_lib, archive_entry_filetype)
#define archive_entry_free CB_LAZY(cb_archive_lib, archive_entry_free)
#define archive_entry_gid CB_LAZY(cb_archive_lib, archive_entry_gid)
#define archive_entry_hardlink CB_LAZY(cb_archive_lib, archive_entry_hardlink)
#define archive_entry_mode CB_LAZY(cb_archive_lib, archive_entry_mode)
#define archive_entry_mtime CB_LAZY(cb_archive_lib, archive_entry_mtime)
#define archive_entry_mtime_nsec CB_LAZY(cb_archive_lib, archive_entry_mtime_nsec)
#define archive_entry_new CB_LAZY(cb_archive_lib, archive_entry_new)
#define archive_entry_pathname CB_LAZY(cb_archive_lib, archive_entry_pathname)
#define archive_entry_rdev CB_LAZY(cb_archive_lib, archive_entry_rdev)
#define archive_entry_rdevmajor CB_LAZY(cb_archive_lib, archive_entry_rdevmajor)
#define archive_entry_rdevminor CB_LAZY(cb_archive_lib, archive_entry_rdevminor)
#define archive_entry_set_filetype CB_LAZY(cb_archive_lib, archive_entry_set_filetype)
#define archive_entry_set_gid CB_LAZY(cb_archive_lib, archive_entry_set_gid)
#define archive_entry_set_mtime CB_LAZY(cb_archive_lib, archive_entry_set_mtime)
#define archive_entry_set_pathname CB_LAZY(cb_archive_lib, archive_entry_set_pathname)
#define archive_entry_set_perm CB_LAZY(cb_archive_lib, archive_entry_set_perm)
#define archive_entry_set_size CB_LAZY(cb_archive_lib, archive_entry_set_size)
#define archive_entry_set_symlink CB_LAZY(cb_archive_lib, archive_entry_set_symlink)
#define archive_entry_set_uid CB_LAZY(cb_archive_lib, archive_entry_set_uid)
#define archive_entry_size CB_LAZY(cb_archive_lib, archive_entry_size)
#define archive_entry_symlink CB_LAZY(cb_archive_lib, archive_entry_symlink)
#define archive_entry_uid CB_LAZY(cb_archive_lib, archive_entry_uid)
#define archive_entry_xattr_next CB_LAZY(cb_archive_lib, archive_entry_xattr_next)
#define archive_entry_xattr_reset CB_LAZY(cb_archive_lib, archive_entry_xattr_reset)
#define archive_errno CB_LAZY(cb_archive_lib, archive_errno)
#define archive_error_string CB_LAZY(cb_archive_lib, archive_error_string)
#define archive_read_data_block CB_LAZY(cb_archive_lib, archive_read_data_block)
#define archive_read_data_skip CB_LAZY(cb_archive_lib, archive_read_data_skip)
#define archive_read_free CB_LAZY(cb_archive_lib, archive_read_free)
#define archive_read_new CB_LAZY(cb_archive_lib, archive_read_new)
#define archive_read_next_header CB_LAZY(cb_archive_lib, archive_read_next_header)
#define archive_read_open CB_LAZY(cb_archive_lib, archive_read_open)
#define archive_read_open_fd CB_LAZY(cb_archive_lib, archive_read_open_fd)
#define archive_read_open_filename CB_LAZY(cb_archive_lib, archive_read_open_filename)
#define archive_read_support_filter_all CB_LAZY(cb_archive_lib, archive_read_support_filter_all)
#define archive_read_support_filter_bzip2 CB_LAZY(cb_archive_lib, archive_read_support_filter_bzip2)
#define archive_read_support_filter_gzip CB_LAZY(cb_archive_lib, archive_read_support_filter_gzip)
#define archive_read_support_filter_lzma CB_LAZY(cb_archive_lib, archive_read_support_filter_lzma)
#define archive_read_support_filter_xz CB_LAZY(cb_archive_lib, archive_read_support_filter_xz)
#define archive_read_support_filter_zstd CB_LAZY(cb_archive_lib, archive_read_support_filter_zstd)
#define archive_read_support_format_all CB_LAZY(cb_archive_lib, archive_read_support_format_all)
#define archive_read_support_format_gnutar CB_LAZY(cb_archive_lib, archive_read_support_format_gnutar)
#define archive_read_support_format_raw CB_LAZY(cb_archive_lib, archive_read_support_format_raw)
#define archive_read_support_format_tar CB_LAZY(cb_archive_lib, archive_read_support_format_tar)
#define archive_set_error CB_LAZY(cb_archive_lib, archive_set_error)
#define archive_write_close CB_LAZY(cb_archive_lib, archive_write_close)
#define archive_write_data CB_LAZY(cb_archive_lib, archive_write_data)
#define archive_write_data_block CB_LAZY(cb_archive_lib, archive_write_data_block)
#define archive_write_disk_new CB_LAZY(cb_archive_lib, archive_write_disk_new)
#define archive_write_disk_set_options CB_LAZY(cb_archive_lib, archive_write_disk_set_options)
#define archive_write_finish_entry CB_LAZY(cb_archive_lib, archive_write_finish_entry)
#define archive_write_free CB_LAZY(cb_archive_lib, archive_write_free)
#define archive_write_header CB_LAZY(cb_archive_lib, archive_write_header)
#define archive_write_new CB_LAZY(cb_archive_lib, archive_write_new)
#define archive_write_open_fd CB_LAZY(cb_archive_lib, archive_write_open_fd)
#define archive_write_open_filename CB_LAZY(cb_archive_lib, archive_write_open_filename)
#define archive_write_set_format_pax_restricted CB_LAZY(cb_archive_lib, archive_write_set_format_pax_restricted)
#endif

#endif
