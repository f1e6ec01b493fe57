/*
 * Content hashes of context files, remembered by (path, size, mtime, ctime,
 * inode) as git's index does, so that a rebuild of an unchanged 100 MB
 * context reads no file contents at all.
 *
 * The memory is one file per context directory in the store,
 * cache/ctxsum-HASH.txt (HASH = sha256 of the context's absolute path),
 * one line per file: "SIZE MTIME_NS CTIME_NS INO SHA256HEX PATH\n". It is a
 * hint: a missing, stale or corrupt file only costs rereading. A file
 * changed within the same second as its recorded mtime is rehashed anyway
 * (racy-git rule: its mtime cannot prove it did not change again).
 * Entries of files no build reads any more stay until `cbuild prune`.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builder/internal.h"
#include "common/cancel.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/places.h"

#define CTXSUM_MAX (256u << 20)

/* 80 bytes a file: the digest is kept raw, entries are dense and the hash
 * table holds 4-byte indexes, so 20,000 files cost ~2 MB, not ~8 MB. */
typedef struct sum_entry {
	char *path;
	uint64_t size, mtime_ns, ctime_ns, ino;
	unsigned char sum[32];
	bool used;
} sum_entry_t;

/* Stages built concurrently share one table: every access holds mu. */
struct bld_ctxsum {
	pthread_mutex_t mu;
	char *file;
	sum_entry_t *ents; /* dense, n used of ents_cap */
	size_t n, ents_cap;
	uint32_t *slots; /* open addressing over ents: 0 = empty, else index + 1 */
	size_t cap;	 /* power of two, at least twice n */
	bool dirty;
	int64_t started; /* this build's start, for the racy rule */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static uint32_t *slot_for(bld_ctxsum_t *c, const char *path)
{
	size_t i = hash_str(path) & (c->cap - 1);
	while (c->slots[i] && strcmp(c->ents[c->slots[i] - 1].path, path))
		i = (i + 1) & (c->cap - 1);
	return &c->slots[i];
}

static sum_entry_t *lookup(bld_ctxsum_t *c, const char *path)
{
	uint32_t *slot = slot_for(c, path);
	return *slot ? &c->ents[*slot - 1] : NULL;
}

static void grow(bld_ctxsum_t *c)
{
	free(c->slots);
	c->cap = c->cap ? c->cap * 2 : 1024;
	c->slots = cb_xcalloc(c->cap, sizeof(*c->slots));
	for (size_t i = 0; i < c->n; i++)
		*slot_for(c, c->ents[i].path) = (uint32_t)(i + 1);
}

static sum_entry_t *insert(bld_ctxsum_t *c, const char *path)
{
	if ((c->n + 1) * 2 > c->cap)
		grow(c);
	uint32_t *slot = slot_for(c, path);
	if (*slot)
		return &c->ents[*slot - 1];
	if (c->n == c->ents_cap) {
		c->ents_cap = c->ents_cap ? c->ents_cap * 2 : 512;
		c->ents = cb_xrealloc(c->ents, c->ents_cap * sizeof(*c->ents));
	}
	sum_entry_t *e = &c->ents[c->n];
	memset(e, 0, sizeof(*e));
	e->path = cb_xstrdup(path);
	*slot = (uint32_t)++c->n;
	return e;
}

static int unhex(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static bool sum_from_hex(unsigned char sum[32], const char *hex)
{
	for (size_t i = 0; i < 32; i++) {
		int hi = unhex(hex[2 * i]), lo = hi < 0 ? -1 : unhex(hex[2 * i + 1]);
		if (lo < 0)
			return false;
		sum[i] = (unsigned char)(hi << 4 | lo);
	}
	return hex[64] == '\0';
}

static void sum_to_hex(const unsigned char sum[32], char hex[DIGEST_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < 32; i++) {
		hex[2 * i] = digits[sum[i] >> 4];
		hex[2 * i + 1] = digits[sum[i] & 15];
	}
	hex[64] = '\0';
}

static void load(bld_ctxsum_t *c)
{
	char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(c->file, CTXSUM_MAX, &data, &len, &e) < 0) {
		cb_error_release(&e);
		return;
	}
	char *save = NULL;
	size_t n = 0;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* a hint: a cancelled build (Ctrl-C) stops reading a big one */
		if (++n % 65536 == 0 && cb_cancelled())
			break;
		unsigned long long size, mt, ct, ino;
		char hex[DIGEST_HEX_LEN + 1];
		int off = 0;
		unsigned char sum[32];
		if (sscanf(line, "%llu %llu %llu %llu %64s %n", &size, &mt, &ct, &ino, hex, &off) != 5 ||
		    !off || !sum_from_hex(sum, hex))
			continue;
		sum_entry_t *s = insert(c, line + off);
		s->size = size, s->mtime_ns = mt, s->ctime_ns = ct, s->ino = ino;
		memcpy(s->sum, sum, sizeof(sum));
	}
	free(data);
}

bld_ctxsum_t *bld_ctxsum_open(store_t *st, const char *context_dir)
{
	bld_ctxsum_t *c = cb_xcalloc(1, sizeof(*c));
	char *abs = realpath(context_dir, NULL);
	char d[DIGEST_STR_LEN + 1];
	digest_buffer(abs ? abs : context_dir, strlen(abs ? abs : context_dir), d);
	free(abs);
	c->file = store_place_ctxsum(st, d);
	c->started = (int64_t)time(NULL);
	pthread_mutex_init(&c->mu, NULL);
	grow(c);
	load(c);
	return c;
}

static uint64_t ns(struct timespec ts)
{
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

bool bld_ctxsum_get(bld_ctxsum_t *c, const char *rel, const struct stat *sb,
		    char hex[DIGEST_HEX_LEN + 1])
{
	if (!c)
		return false;
	if (sb->st_mtim.tv_sec >= c->started - 1)
		return false; /* racy: modified too recently to trust */
	pthread_mutex_lock(&c->mu);
	sum_entry_t *e = lookup(c, rel);
	bool ok = e && e->size == (uint64_t)sb->st_size && e->mtime_ns == ns(sb->st_mtim) &&
		  e->ctime_ns == ns(sb->st_ctim) && e->ino == (uint64_t)sb->st_ino;
	if (ok) {
		e->used = true;
		if (hex)
			sum_to_hex(e->sum, hex);
	}
	pthread_mutex_unlock(&c->mu);
	return ok;
}

void bld_ctxsum_put(bld_ctxsum_t *c, const char *rel, const struct stat *sb, const char *hex)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	sum_entry_t *e = insert(c, rel);
	e->size = (uint64_t)sb->st_size, e->mtime_ns = ns(sb->st_mtim);
	e->ctime_ns = ns(sb->st_ctim), e->ino = (uint64_t)sb->st_ino;
	if (!sum_from_hex(e->sum, hex))
		CB_BUG("bld_ctxsum_put: not a sha256 hex digest");
	e->used = true;
	c->dirty = true;
	pthread_mutex_unlock(&c->mu);
}

void bld_ctxsum_close(bld_ctxsum_t *c)
{
	if (!c)
		return;
	if (c->dirty) {
		cb_buf_t b;
		cb_buf_init(&b);
		for (size_t i = 0; i < c->n; i++) {
			const sum_entry_t *e = &c->ents[i];
			char hex[DIGEST_HEX_LEN + 1];
			sum_to_hex(e->sum, hex);
			cb_buf_addf(&b, "%llu %llu %llu %llu %s %s\n", (unsigned long long)e->size,
				    (unsigned long long)e->mtime_ns, (unsigned long long)e->ctime_ns,
				    (unsigned long long)e->ino, hex, e->path);
		}
		cb_error_t err = CB_ERROR_INIT;
		/* not fsynced: a crash leaves the old list, the new one, or an
		 * empty or cut one; an entry is used only when size, times and
		 * inode all match, so a cut line can name no other file */
		if (cb_write_file_replace(c->file, NULL, b.data, b.len, 0644, false, &err) < 0)
			cb_error_release(&err); /* only a hint */
		cb_buf_release(&b);
	}
	for (size_t i = 0; i < c->n; i++)
		free(c->ents[i].path);
	free(c->ents);
	free(c->slots);
	free(c->file);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
