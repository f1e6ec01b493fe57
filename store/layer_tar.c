/*
 * store/layer_tar.c - the tar format of a snapshot's entries: ustar headers
 * (prefix/name split when a long name allows it), a PAX header only when a
 * field does not fit, and the xattrs those carry, read sorted with overlay's
 * own filtered out. layer_write.c walks the trees and writes the entries.
 */
#include "store/layer_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "common/util.h"

#define XATTR_LIST_MAX_ (64 * 1024)
#define XATTR_VALUE_MAX (64 * 1024)

const char layer_tar_zeros[512];

/* ---- tar headers ---- */

static void put_octal(char *field, size_t width, uint64_t v)
{
	/* width includes the terminating NUL; by hand, not snprintf: seven
	 * fields a header, 20,000 headers in a source tree */
	field[width - 1] = '\0';
	for (size_t i = width - 1; i > 0; i--, v >>= 3)
		field[i - 1] = (char)('0' + (v & 7));
}

/* A device number in its 8-byte ustar field. One that needs more than 7
 * octal digits (not from Linux, whose majors have 12 bits and minors 20,
 * but from a tar made elsewhere) goes in base-256 (0x80, then big-endian),
 * which GNU tar and Go read, besides the SCHILY.devmajor/devminor PAX record
 * that libarchive and star read. */
static void put_devnum(char *field, uint64_t v)
{
	if (v <= 07777777) {
		put_octal(field, 8, v);
		return;
	}
	memset(field, 0, 8);
	field[0] = (char)0x80;
	for (int i = 7; i > 0 && v; i--, v >>= 8)
		field[i] = (char)(v & 0xff);
}

static void pax_add(cb_buf_t *b, const char *key, const char *val, size_t vlen)
{
	size_t body = 1 + strlen(key) + 1 + vlen + 1; /* " key=val\n" */
	size_t len = body + 1;
	for (;;) {
		char d[24];
		size_t digits = (size_t)snprintf(d, sizeof(d), "%zu", len);
		if (digits + body == len)
			break;
		len = digits + body;
	}
	cb_buf_addf(b, "%zu %s=", len, key);
	cb_buf_add(b, val, vlen);
	cb_buf_addch(b, '\n');
}

static void pax_add_num(cb_buf_t *b, const char *key, long long v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%lld", v);
	pax_add(b, key, tmp, (size_t)n);
}

/* Split name into ustar prefix (<= 155) + name (<= 100) at a '/'. */
static bool ustar_split(const char *name, size_t len, size_t *cut)
{
	if (len <= 100) {
		*cut = 0;
		return true;
	}
	for (size_t i = len - 1; i > 0; i--) {
		if (name[i] != '/')
			continue;
		if (len - i - 1 > 100)
			return false;
		/* first slash from the right that keeps the name part short:
		 * continue left while the prefix is too long */
		if (i <= 155 && len - i - 1 > 0) {
			*cut = i;
			return true;
		}
	}
	return false;
}


static void fill_block(char *blk, const char *name, size_t name_len, const hdr_t *h,
		       bool ustar_name)
{
	memset(blk, 0, 512);
	if (ustar_name) {
		size_t cut = 0;
		ustar_split(name, name_len, &cut);
		if (cut) {
			memcpy(blk + 345, name, cut);
			memcpy(blk, name + cut + 1, name_len - cut - 1);
		} else {
			memcpy(blk, name, name_len);
		}
	} else {
		memcpy(blk, name, name_len > 100 ? 100 : name_len);
	}
	put_octal(blk + 100, 8, h->mode & 07777);
	put_octal(blk + 108, 8, h->uid > 07777777 ? 0 : h->uid);
	put_octal(blk + 116, 8, h->gid > 07777777 ? 0 : h->gid);
	put_octal(blk + 124, 12, h->size > 077777777777ULL ? 0 : h->size);
	put_octal(blk + 136, 12,
		  (h->mtime < 0 || h->mtime > 077777777777LL) ? 0 : (uint64_t)h->mtime);
	blk[156] = h->type;
	if (h->link) {
		size_t l = strlen(h->link);
		memcpy(blk + 157, h->link, l > 100 ? 100 : l);
	}
	memcpy(blk + 257, "ustar", 6);
	memcpy(blk + 263, "00", 2);
	put_devnum(blk + 329, h->major);
	put_devnum(blk + 337, h->minor);
	memset(blk + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += (unsigned char)blk[i];
	snprintf(blk + 148, 8, "%06o", sum);
	blk[155] = ' ';
}

void layer_tar_header(cb_buf_t *out, cb_buf_t *pax, const hdr_t *h)
{
	cb_buf_reset(pax);
	size_t cut;
	bool name_ok = ustar_split(h->name, h->name_len, &cut);
	if (!name_ok)
		pax_add(pax, "path", h->name, h->name_len);
	if (h->link && strlen(h->link) > 100)
		pax_add(pax, "linkpath", h->link, strlen(h->link));
	if (h->uid > 07777777)
		pax_add_num(pax, "uid", (long long)h->uid);
	if (h->gid > 07777777)
		pax_add_num(pax, "gid", (long long)h->gid);
	if (h->size > 077777777777ULL)
		pax_add_num(pax, "size", (long long)h->size);
	if (h->mtime < 0 || h->mtime > 077777777777LL)
		pax_add_num(pax, "mtime", (long long)h->mtime);
	if (h->major > 07777777)
		pax_add_num(pax, "SCHILY.devmajor", (long long)h->major);
	if (h->minor > 07777777)
		pax_add_num(pax, "SCHILY.devminor", (long long)h->minor);
	for (size_t i = 0; i < h->nxattrs; i++) {
		_cleanup_free_ char *key = cb_asprintf("SCHILY.xattr.%s", h->xattrs[i].name);
		pax_add(pax, key, h->xattrs[i].val, h->xattrs[i].len);
	}
	char blk[512];
	if (pax->len) {
		/* the extended header's own name only has to be stable */
		const char *base = h->name + h->name_len;
		while (base > h->name && base[-1] == '/')
			base--;
		const char *end = base;
		while (base > h->name && base[-1] != '/')
			base--;
		size_t blen = (size_t)(end - base);
		_cleanup_free_ char *pname =
			cb_asprintf("PaxHeaders.0/%.*s", (int)(blen > 80 ? 80 : blen), base);
		hdr_t ph = {.name = pname, .name_len = strlen(pname), .type = 'x', .mode = 0644,
			    .size = pax->len};
		fill_block(blk, pname, ph.name_len, &ph, true);
		cb_buf_add(out, blk, 512);
		cb_buf_add(out, pax->data, pax->len);
		if (pax->len % 512)
			cb_buf_add(out, layer_tar_zeros, 512 - pax->len % 512);
	}
	fill_block(blk, h->name, h->name_len, h, name_ok);
	cb_buf_add(out, blk, 512);
}

void layer_tar_dev_header(cb_buf_t *out, const char *name, bool block, unsigned major,
			  unsigned minor)
{
	cb_buf_t pax;
	cb_buf_init(&pax);
	hdr_t h = {.name = name, .name_len = strlen(name), .type = block ? '4' : '3',
		   .mode = 0600, .major = major, .minor = minor};
	layer_tar_header(out, &pax, &h);
	cb_buf_release(&pax);
}

/* ---- xattrs ---- */

static bool xattr_skipped(const char *name)
{
	/* overlay's own bookkeeping is never content; SELinux labels belong
	 * to the host that wrote them */
	return cb_str_has_prefix(name, "trusted.overlay.") ||
	       cb_str_has_prefix(name, "user.overlay.") || !strcmp(name, "security.selinux");
}

static int cmp_xattr(const void *a, const void *b)
{
	return strcmp(((const xattr_kv_t *)a)->name, ((const xattr_kv_t *)b)->name);
}

/* By fd when there is one (a regular file about to be read: no second
 * path walk, and the xattrs of the very inode whose data goes out). */
static ssize_t x_list(int fd, const char *abs, char *buf, size_t size)
{
	return fd >= 0 ? flistxattr(fd, buf, size) : llistxattr(abs, buf, size);
}

static ssize_t x_get(int fd, const char *abs, const char *name, void *buf, size_t size)
{
	return fd >= 0 ? fgetxattr(fd, name, buf, size) : lgetxattr(abs, name, buf, size);
}

int layer_read_xattrs(cb_buf_t *names, cb_buf_t *vals, int fd, const char *abs, xattr_kv_t **out,
		      size_t *n, int *ovl, cb_error_t *err)
{
	*out = NULL;
	*n = 0;
	if (ovl)
		*ovl = 0;
	cb_buf_reset(names);
	cb_buf_reset(vals);
	cb_buf_grow(names, 4096);
	ssize_t len = x_list(fd, abs, names->data, names->cap - 1);
	if (len < 0 && errno == ERANGE) {
		cb_buf_grow(names, XATTR_LIST_MAX_);
		len = x_list(fd, abs, names->data, names->cap - 1);
	}
	if (len < 0) {
		if (errno == ENOTSUP || errno == ENOENT)
			return 0;
		return cb_error_errno(err, "list xattrs of '%s'", abs);
	}
	if (len == 0)
		return 0;
	names->len = (size_t)len;
	size_t cnt = 0;
	for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names->data + i) + 1)
		cnt++;
	xattr_kv_t *kv = cb_xcalloc(cnt, sizeof(*kv));
	size_t *offs = cb_xcalloc(cnt, sizeof(*offs));
	size_t k = 0;
	for (ssize_t i = 0; i < len; i += (ssize_t)strlen(names->data + i) + 1) {
		const char *name = names->data + i;
		if (xattr_skipped(name)) {
			/* only opaque's value matters (copied-up files all carry
			 * overlay.origin: no read of it per file) */
			char v[4] = "";
			if (ovl && cb_str_has_suffix(name, ".overlay.opaque") &&
			    x_get(fd, abs, name, v, sizeof(v) - 1) == 1 && v[0] == 'y')
				*ovl |= OVL_OPAQUE;
			if (ovl && cb_str_has_suffix(name, ".overlay.redirect"))
				*ovl |= OVL_REDIRECT;
			if (ovl && cb_str_has_suffix(name, ".overlay.metacopy"))
				*ovl |= OVL_METACOPY;
			continue;
		}
		cb_buf_grow(vals, XATTR_VALUE_MAX);
		ssize_t vl = x_get(fd, abs, name, vals->data + vals->len, XATTR_VALUE_MAX);
		if (vl < 0) {
			if (errno == ENODATA)
				continue;
			free(kv);
			free(offs);
			return cb_error_errno(err, "read xattr '%s' of '%s'", name, abs);
		}
		kv[k].name = name;
		offs[k] = vals->len;
		kv[k].len = (size_t)vl;
		vals->len += (size_t)vl;
		k++;
	}
	for (size_t i = 0; i < k; i++)
		kv[i].val = vals->data + offs[i];
	free(offs);
	qsort(kv, k, sizeof(*kv), cmp_xattr);
	if (!k) {
		free(kv);
		kv = NULL;
	}
	*out = kv;
	*n = k;
	return 0;
}
