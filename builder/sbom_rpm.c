/*
 * builder/sbom_rpm.c - the packages in rpm's sqlite database (rpm >= 4.16:
 * Fedora 33+, RHEL 9, openSUSE), read without linking sqlite.
 *
 * rpm keeps one row per package in the table
 *     Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)
 * whose blob is the package's header. Reading it needs only a small part
 * of the sqlite file format (https://sqlite.org/fileformat.html): the
 * 100-byte file header, table b-tree pages (interior 0x05, leaf 0x0d),
 * overflow chains and the record format. Indexes, free lists, the WAL and
 * writing are not needed. The file is read page by page with pread, so a
 * large database never sits in memory whole.
 *
 * Everything read is untrusted: page numbers are bounded by the file's
 * size, the walk by a page budget (a cycle ends it), lengths by the pages
 * they come from.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/sbom.h"
#include "common/utf8.h"
#include "common/util.h"

#define SQ_MAX_DEPTH 32
#define SQ_MAX_PAYLOAD (64u << 20) /* one header; rpm's own limit is 256 MiB for all */

typedef struct sq {
	int fd;
	uint32_t page_size;
	uint32_t usable; /* page_size minus the reserved bytes at each page's end */
	uint64_t npages;
	uint64_t budget; /* pages we may still read: ends cycles */
} sq_t;

typedef int (*sq_row_fn)(void *ctx, const uint8_t *rec, size_t len, cb_error_t *err);

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* sqlite's varint: 1-9 bytes, big-endian, 7 bits a byte, the 9th all 8.
 * Returns its length, 0 when it runs past end. */
static size_t varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	for (size_t i = 0; i < 9; i++) {
		if (p + i >= end)
			return 0;
		if (i == 8) {
			*v = x << 8 | p[i];
			return 9;
		}
		x = x << 7 | (p[i] & 0x7f);
		if (!(p[i] & 0x80)) {
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

static int corrupt(cb_error_t *err, const char *what)
{
	return cb_error_set(err, EINVAL, "rpm database: %s", what);
}

static int sq_read_page(sq_t *sq, uint64_t pgno, uint8_t *buf, cb_error_t *err)
{
	if (pgno < 1 || pgno > sq->npages)
		return corrupt(err, "page number out of range");
	if (sq->budget-- == 0)
		return corrupt(err, "a page cycle");
	ssize_t n = pread(sq->fd, buf, sq->page_size, (off_t)((pgno - 1) * sq->page_size));
	if (n < 0)
		return cb_error_errno(err, "read the rpm database");
	if ((size_t)n != sq->page_size)
		return corrupt(err, "short page");
	return 0;
}

static int sq_open(sq_t *sq, int fd, cb_error_t *err)
{
	uint8_t h[100];
	struct stat s;
	if (fstat(fd, &s) < 0)
		return cb_error_errno(err, "stat the rpm database");
	ssize_t n = pread(fd, h, sizeof(h), 0);
	if (n < 0)
		return cb_error_errno(err, "read the rpm database");
	if (n != sizeof(h) || memcmp(h, "SQLite format 3", 16) != 0)
		return corrupt(err, "not an sqlite 3 file");
	uint32_t ps = be16(h + 16);
	ps = ps == 1 ? 65536 : ps;
	if (ps < 512 || ps > 65536 || (ps & (ps - 1)) || h[20] > ps - 480)
		return corrupt(err, "bad page size");
	if (be32(h + 56) != 1)
		return corrupt(err, "text encoding is not UTF-8");
	*sq = (sq_t){.fd = fd, .page_size = ps, .usable = ps - h[20], .npages = (uint64_t)s.st_size / ps};
	sq->budget = sq->npages * 2 + 16; /* each page once, twice for the schema walk */
	return 0;
}

/* A leaf cell's payload: the local part, then the overflow chain. */
static int sq_payload(sq_t *sq, const uint8_t *cell, const uint8_t *end, uint8_t **out,
		      size_t *out_len, cb_error_t *err)
{
	uint64_t p, rowid;
	size_t a = varint(cell, end, &p);
	size_t b = a ? varint(cell + a, end, &rowid) : 0;
	if (!b || p > SQ_MAX_PAYLOAD)
		return corrupt(err, "bad cell");
	const uint8_t *local = cell + a + b;
	uint64_t u = sq->usable, x = u - 35, m = (u - 12) * 32 / 255 - 23;
	uint64_t k = m + (p - m) % (u - 4);
	uint64_t nlocal = p <= x ? p : k <= x ? k
					      : m;
	if (local + nlocal + (nlocal < p ? 4 : 0) > end)
		return corrupt(err, "cell runs past its page");
	uint8_t *buf = malloc(p ? p : 1);
	if (!buf)
		return cb_error_set(err, ENOMEM, "out of memory");
	memcpy(buf, local, nlocal);
	_cleanup_free_ uint8_t *page = nlocal < p ? malloc(sq->page_size) : NULL;
	uint64_t have = nlocal, next = nlocal < p ? be32(local + nlocal) : 0;
	while (have < p) {
		if (!page || sq_read_page(sq, next, page, err) < 0) {
			free(buf);
			return page ? -1 : cb_error_set(err, ENOMEM, "out of memory");
		}
		uint64_t take = p - have < u - 4 ? p - have : u - 4;
		memcpy(buf + have, page + 4, take);
		have += take;
		next = be32(page);
	}
	*out = buf;
	*out_len = p;
	return 0;
}

static int sq_walk(sq_t *sq, uint64_t pgno, int depth, sq_row_fn fn, void *ctx, cb_error_t *err);

static int sq_walk_cells(sq_t *sq, const uint8_t *page, size_t hdr, int depth, sq_row_fn fn,
			 void *ctx, cb_error_t *err)
{
	const uint8_t *end = page + sq->usable;
	uint8_t type = page[hdr];
	uint32_t ncells = be16(page + hdr + 3);
	size_t ptrs = hdr + (type == 0x05 ? 12 : 8);
	if (ptrs + 2 * (size_t)ncells > sq->usable)
		return corrupt(err, "too many cells");
	for (uint32_t i = 0; i < ncells; i++) {
		uint32_t off = be16(page + ptrs + 2 * i);
		if (off < ptrs || off + 4 > sq->usable)
			return corrupt(err, "cell pointer out of its page");
		if (type == 0x05) {
			if (sq_walk(sq, be32(page + off), depth + 1, fn, ctx, err) < 0)
				return -1;
			continue;
		}
		_cleanup_free_ uint8_t *rec = NULL;
		size_t len = 0;
		if (sq_payload(sq, page + off, end, &rec, &len, err) < 0 || fn(ctx, rec, len, err) < 0)
			return -1;
	}
	if (type == 0x05)
		return sq_walk(sq, be32(page + hdr + 8), depth + 1, fn, ctx, err);
	return 0;
}

/* Every row of the table b-tree rooted at pgno, in rowid order. */
static int sq_walk(sq_t *sq, uint64_t pgno, int depth, sq_row_fn fn, void *ctx, cb_error_t *err)
{
	if (depth > SQ_MAX_DEPTH)
		return corrupt(err, "b-tree too deep");
	_cleanup_free_ uint8_t *page = malloc(sq->page_size);
	if (!page)
		return cb_error_set(err, ENOMEM, "out of memory");
	if (sq_read_page(sq, pgno, page, err) < 0)
		return -1;
	size_t hdr = pgno == 1 ? 100 : 0;
	if (page[hdr] != 0x05 && page[hdr] != 0x0d)
		return corrupt(err, "not a table b-tree page");
	return sq_walk_cells(sq, page, hdr, depth, fn, ctx, err);
}

/* Column col of a record: its serial type and bytes. */
typedef struct sq_value {
	uint64_t type;
	const uint8_t *p;
	size_t len;
} sq_value_t;

static size_t serial_len(uint64_t t)
{
	static const uint8_t ints[] = {0, 1, 2, 3, 4, 6, 8, 8, 0, 0};
	return t < 10 ? ints[t] : t >= 12 ? (size_t)(t - 12) / 2
					  : 0;
}

static int sq_column(const uint8_t *rec, size_t len, unsigned col, sq_value_t *v)
{
	const uint8_t *end = rec + len;
	uint64_t hlen;
	size_t n = varint(rec, end, &hlen);
	if (!n || hlen > len)
		return -1;
	const uint8_t *h = rec + n, *hend = rec + hlen, *body = hend;
	for (unsigned i = 0; h < hend; i++) {
		uint64_t t;
		size_t k = varint(h, hend, &t);
		if (!k)
			return -1;
		h += k;
		size_t sz = serial_len(t);
		if (sz > (size_t)(end - body))
			return -1;
		if (i == col) {
			*v = (sq_value_t){t, body, sz};
			return 0;
		}
		body += sz;
	}
	return -1;
}

static int64_t sq_int(const sq_value_t *v)
{
	if (v->type == 8 || v->type == 9)
		return (int64_t)v->type - 8;
	int64_t x = v->len && (v->p[0] & 0x80) ? -1 : 0;
	for (size_t i = 0; i < v->len && v->type <= 6; i++)
		x = (int64_t)((uint64_t)x << 8 | v->p[i]);
	return x;
}

static bool sq_text_is(const sq_value_t *v, const char *s)
{
	return v->type >= 13 && (v->type & 1) && v->len == strlen(s) && !memcmp(v->p, s, v->len);
}

/* sqlite_schema (type, name, tbl_name, rootpage, sql): the Packages table. */
static int schema_row(void *ctx, const uint8_t *rec, size_t len, cb_error_t *err)
{
	(void)err;
	sq_value_t type, name, root;
	if (sq_column(rec, len, 0, &type) || sq_column(rec, len, 1, &name) ||
	    sq_column(rec, len, 3, &root))
		return 0;
	if (sq_text_is(&type, "table") && sq_text_is(&name, "Packages"))
		*(int64_t *)ctx = sq_int(&root);
	return 0;
}

/* ---- rpm's header blob ---- */

enum { RPM_INT32 = 4,
       RPM_STRING = 6,
       RPM_STRING_ARRAY = 8,
       RPM_I18NSTRING = 9 };
enum {
	TAG_NAME = 1000,
	TAG_VERSION = 1001,
	TAG_RELEASE = 1002,
	TAG_EPOCH = 1003,
	TAG_LICENSE = 1014,
	TAG_ARCH = 1022,
	TAG_SOURCERPM = 1044,
};

typedef struct rpm_hdr {
	const uint8_t *index, *data;
	uint32_t il, dl;
} rpm_hdr_t;

/* The string (or first string) of tag, NULL if absent or malformed. */
static char *rpm_str(const rpm_hdr_t *h, uint32_t tag)
{
	for (uint32_t i = 0; i < h->il; i++) {
		const uint8_t *e = h->index + 16 * i;
		uint32_t type = be32(e + 4), off = be32(e + 8);
		if (be32(e) != tag)
			continue;
		if (off >= h->dl)
			return NULL;
		const char *s = (const char *)h->data + off;
		size_t max = h->dl - off, n = strnlen(s, max);
		if (type == RPM_INT32 && max >= 4) {
			char num[16];
			snprintf(num, sizeof(num), "%u", be32(h->data + off));
			return cb_xstrdup(num);
		}
		if ((type != RPM_STRING && type != RPM_STRING_ARRAY && type != RPM_I18NSTRING) || n == max)
			return NULL;
		return cb_utf8_valid(s, n) ? cb_xstrndup(s, n) : cb_utf8_fix(s, n, NULL);
	}
	return NULL;
}

/* "bash-5.1.8-6.el9.src.rpm" -> "bash" */
static char *srpm_name(char *srpm)
{
	if (!srpm)
		return NULL;
	for (int dashes = 0; dashes < 2; dashes++) {
		char *d = strrchr(srpm, '-');
		if (!d) {
			free(srpm);
			return NULL;
		}
		*d = '\0';
	}
	return srpm;
}

static int package_row(void *ctx, const uint8_t *rec, size_t len, cb_error_t *err)
{
	(void)err;
	bld_pkgs_t *out = ctx;
	sq_value_t blob;
	if (sq_column(rec, len, 1, &blob) || blob.type < 12 || (blob.type & 1) || blob.len < 8)
		return 0;
	rpm_hdr_t h = {.il = be32(blob.p), .dl = be32(blob.p + 4)};
	if (h.il > 0x10000 || (uint64_t)8 + 16ull * h.il + h.dl > blob.len)
		return 0; /* not a header: skip it, as rpm does */
	h.index = blob.p + 8;
	h.data = h.index + 16 * h.il;
	_cleanup_free_ char *version = rpm_str(&h, TAG_VERSION), *release = rpm_str(&h, TAG_RELEASE);
	bld_pkg_t p = {.name = rpm_str(&h, TAG_NAME)};
	if (!p.name)
		return 0;
	p.type = cb_xstrdup("rpm");
	p.version = cb_asprintf("%s%s%s", version ? version : "", release ? "-" : "",
				release ? release : "");
	p.arch = rpm_str(&h, TAG_ARCH);
	p.epoch = rpm_str(&h, TAG_EPOCH);
	p.license = rpm_str(&h, TAG_LICENSE);
	p.source = srpm_name(rpm_str(&h, TAG_SOURCERPM));
	bld_sbom_add_pkg(out, &p);
	return 0;
}

int bld_sbom_read_rpmdb(int fd, bld_pkgs_t *out, cb_error_t *err)
{
	sq_t sq;
	int64_t root = 0;
	if (sq_open(&sq, fd, err) < 0 || sq_walk(&sq, 1, 0, schema_row, &root, err) < 0)
		return -1;
	if (root <= 0)
		return corrupt(err, "no Packages table");
	return sq_walk(&sq, (uint64_t)root, 0, package_row, out, err);
}
