/*
 * builder/copy_select.c - the reading half of ADD and COPY: select the
 * entries a list of sources names under a source root (wildcards,
 * .dockerignore, --exclude, --parents), walk them, and checksum them for
 * the cache key. copy.c does the writing. Every path is resolved inside
 * its root (common/openroot.h).
 */
#include "builder/copy_select.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "builder/internal.h"
#include "common/cancel.h"
#include "common/fs.h"
#include "common/openroot.h"
#include "common/util.h"
#include "store/digest.h"
#include "store/json.h"

int bld_open_in_root(int rootfd, const char *rel, int flags)
{
	return cb_open_in_root(rootfd, rel, flags, 0);
}

static bool has_wildcard(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* "./a/../b/" -> "b"; NULL when it leaves the root. */
char *bld_clean_rel(const char *src)
{
	_cleanup_free_ char *c = cb_path_clean(src);
	const char *p = c;
	while (*p == '/')
		p++;
	if (!strcmp(p, "..") || cb_str_has_prefix(p, "../"))
		return NULL;
	return cb_xstrdup(strcmp(p, ".") ? p : "");
}

/* .dockerignore (context only) and COPY --exclude both hide entries. */
bool bld_src_hidden(const bld_source_t *src, const char *rel)
{
	return (src->ignore && df_ignore_match(src->ignore, rel)) ||
	       (src->exclude && df_ignore_match(src->exclude, rel));
}

bool bld_src_hidden_dir(const bld_source_t *src, const char *rel)
{
	return (src->ignore && df_ignore_skip_dir(src->ignore, rel)) ||
	       (src->exclude && df_ignore_skip_dir(src->exclude, rel));
}

/* ---- selection: the entries a list of sources names ---- */

static void matches_add(bld_matches_t *m, const char *rel)
{
	m->v = cb_xreallocarray(m->v, m->n + 1, sizeof(bld_match_t));
	m->v[m->n].pivot = 0;
	m->v[m->n++].rel = cb_xstrdup(rel);
}

void bld_matches_free(bld_matches_t *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].rel);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of a directory (no . and ..). */
char **bld_list_dir(int dirfd_in)
{
	int fd = dup(dirfd_in);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	char **names = cb_xcalloc(1, sizeof(char *));
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			names = cb_strv_push(names, de->d_name);
	closedir(d);
	qsort(names, cb_strv_len(names), sizeof(char *), cmp_names);
	return names;
}

/* Match a wildcard pattern component by component (Go's filepath.Match on
 * each level, as Docker does). */
static void glob_level(const bld_source_t *src, const char *dir_rel, char **comps, bld_matches_t *m)
{
	_cleanup_close_ int fd = bld_open_in_root(src->rootfd, dir_rel, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return;
	if (!has_wildcard(comps[0])) {
		_cleanup_free_ char *rel = *dir_rel ? cb_asprintf("%s/%s", dir_rel, comps[0])
						    : cb_xstrdup(comps[0]);
		if (comps[1])
			glob_level(src, rel, comps + 1, m);
		else if (faccessat(fd, comps[0], F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			matches_add(m, rel);
		return;
	}
	_cleanup_strv_ char **names = bld_list_dir(fd);
	for (size_t i = 0; names && names[i]; i++) {
		if (fnmatch(comps[0], names[i], FNM_PATHNAME | FNM_PERIOD * 0) != 0)
			continue;
		_cleanup_free_ char *rel = *dir_rel ? cb_asprintf("%s/%s", dir_rel, names[i])
						    : cb_xstrdup(names[i]);
		if (bld_src_hidden(src, rel))
			continue;
		if (comps[1])
			glob_level(src, rel, comps + 1, m);
		else
			matches_add(m, rel);
	}
}

char **bld_split_path(const char *rel)
{
	char **v = cb_xcalloc(1, sizeof(char *));
	_cleanup_free_ char *dup = cb_xstrdup(rel);
	char *save = NULL;
	for (char *t = strtok_r(dup, "/", &save); t; t = strtok_r(NULL, "/", &save))
		v = cb_strv_push(v, t);
	return v;
}

/* COPY --parents keeps a source's path below its `/./` pivot (BuildKit's
 * syntax; without one, the whole path): the length of the cleaned part
 * above the pivot, with its slash; 0 when there is none. */
static size_t pivot_len(const char *source)
{
	const char *s = source;
	while (cb_str_has_prefix(s, "./"))
		s += 2;
	const char *piv = strstr(s, "/./");
	if (!piv)
		return 0;
	_cleanup_free_ char *above = cb_xstrndup(s, (size_t)(piv - s));
	_cleanup_free_ char *clean = bld_clean_rel(above);
	return clean && *clean ? strlen(clean) + 1 : 0;
}

/* The entries one source names (a path, or a wildcard pattern). */
static int select_one(const bld_source_t *src, const char *source, const char *rel, bld_matches_t *m,
		      bool *multi, cb_error_t *err)
{
	if (has_wildcard(rel)) {
		*multi = true;
		_cleanup_strv_ char **comps = bld_split_path(rel);
		size_t before = m->n;
		glob_level(src, "", comps, m);
		if (m->n == before)
			return cb_error_fail(err, ENOENT, "no source files were specified by '%s'", source);
		return 0;
	}
	_cleanup_close_ int fd = bld_open_in_root(src->rootfd, rel, O_PATH);
	if (fd < 0 || (*rel && src->ignore && df_ignore_match(src->ignore, rel)))
		return cb_error_fail(err, ENOENT, "file not found in %s: '%s'",
				     src->is_context ? "build context" : "source", source);
	matches_add(m, rel);
	return 0;
}

int bld_select_sources(const bld_source_t *src, char *const *sources, bld_matches_t *m,
			  bool *multi, cb_error_t *err)
{
	*multi = cb_strv_len(sources) > 1;
	for (size_t i = 0; sources && sources[i]; i++) {
		_cleanup_free_ char *rel = bld_clean_rel(sources[i]);
		if (!rel)
			return cb_error_fail(err, EPERM, "forbidden path outside the build context: '%s'",
					     sources[i]);
		size_t first = m->n;
		if (select_one(src, sources[i], rel, m, multi, err) < 0)
			return -1;
		size_t pivot = pivot_len(sources[i]);
		for (size_t k = first; k < m->n; k++)
			m->v[k].pivot = strlen(m->v[k].rel) >= pivot ? pivot : strlen(m->v[k].rel);
	}
	return 0;
}

/* ---- walking a selected entry ---- */

int bld_walk(const bld_source_t *src, int dirfd_in, const char *rel, int depth, bld_visit_fn fn,
		void *ctx, cb_error_t *err)
{
	_cleanup_strv_ char **names = bld_list_dir(dirfd_in);
	if (!names)
		return cb_error_errno(err, "read directory '%s/%s'", src->root, rel);
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *crel = *rel ? cb_asprintf("%s/%s", rel, names[i])
						 : cb_xstrdup(names[i]);
		struct stat sb;
		if (fstatat(dirfd_in, names[i], &sb, AT_SYMLINK_NOFOLLOW) < 0)
			return cb_error_errno(err, "stat '%s/%s'", src->root, crel);
		if (S_ISDIR(sb.st_mode) ? bld_src_hidden_dir(src, crel) : bld_src_hidden(src, crel))
			continue;
		if (cb_cancel_check(err) < 0)
			return -1;
		if (fn(ctx, dirfd_in, names[i], crel, &sb, depth, err) < 0)
			return -1;
		if (S_ISDIR(sb.st_mode)) {
			_cleanup_close_ int sub = openat(dirfd_in, names[i],
							 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				return cb_error_errno(err, "open '%s/%s'", src->root, crel);
			if (bld_walk(src, sub, crel, depth + 1, fn, ctx, err) < 0)
				return -1;
			if (fn(ctx, -1, names[i], crel, &sb, -(depth + 1), err) < 0)
				return -1; /* leaving the directory */
		}
	}
	return 0;
}

/* ---- checksum ---- */

/* Read fd to its end in chunks, handing each to sink (hashing, copying). */
int bld_read_chunks(int fd, bld_chunk_fn sink, void *opaque, cb_error_t *err)
{
	static __thread char *buf; /* COPY_BUF bytes, this thread's */
	if (!buf)
		buf = cb_thread_alloc(COPY_BUF);
	for (;;) {
		ssize_t n = read(fd, buf, COPY_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cb_error_errno(err, "read");
		if (n == 0)
			return 0;
		if (cb_cancel_check(err) < 0 || sink(opaque, buf, (size_t)n, err) < 0)
			return -1;
	}
}

int bld_write_chunk(void *fdp, const char *data, size_t len, cb_error_t *err)
{
	return cb_write_all(*(int *)fdp, data, len, err);
}

/* Hash the size bytes a stat promised: no read() to find the end, one per
 * small file instead of two. A file that changes meanwhile gets a new
 * mtime/ctime, so its remembered hash is not trusted next time. */
static int hash_fd(digest_ctx_t *d, int fd, uint64_t size, cb_error_t *err)
{
	static __thread char *buf; /* COPY_BUF bytes, this thread's */
	if (!buf)
		buf = cb_thread_alloc(COPY_BUF);
	bool holes = cb_fd_has_holes(fd), hole; /* holes hash as zeros, unread */
	while (size) {
		size_t want = size < COPY_BUF ? (size_t)size : COPY_BUF;
		ssize_t n = holes ? cb_read_holes(fd, buf, want, &hole) : read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cb_error_errno(err, "read");
		if (n == 0)
			return 0;
		if (cb_cancel_check(err) < 0)
			return -1;
		digest_update(d, buf, (size_t)n);
		size -= (uint64_t)n;
	}
	return 0;
}

typedef struct hash_ctx {
	digest_ctx_t *d;
	const bld_source_t *src;
	json_t *files; /* rel -> short signature, for --explain-cache; may be NULL */
	cb_buf_t *sigs; /* the same as "rel\0sig\0" pairs; may be NULL */
} hash_ctx_t;

static void note_file(hash_ctx_t *h, const char *rel, const char *sig)
{
	if (h->files)
		oci_json_set(h->files, rel, oci_json_str(sig));
	if (h->sigs) {
		cb_buf_add(h->sigs, rel, strlen(rel) + 1);
		cb_buf_add(h->sigs, sig, strlen(sig) + 1);
	}
}

void bld_sigs_to_json(const cb_buf_t *sigs, json_t *files)
{
	for (size_t i = 0; i < sigs->len;) {
		const char *rel = sigs->data + i;
		const char *sig = rel + strlen(rel) + 1;
		oci_json_set(files, rel, oci_json_str(sig));
		i = (size_t)(sig - sigs->data) + strlen(sig) + 1;
	}
}

/* The sha256 hex of a regular file's content, remembered for the context. */
static int file_hash(const bld_source_t *src, int fd, const char *rel, const struct stat *sb,
		     char hex[DIGEST_HEX_LEN + 1], cb_error_t *err)
{
	if (bld_ctxsum_get(src->sums, rel, sb, hex))
		return 0;
	digest_ctx_t *fd_d = digest_new();
	int rc = hash_fd(fd_d, fd, (uint64_t)sb->st_size, err);
	char full[DIGEST_STR_LEN + 1];
	digest_final(fd_d, full);
	digest_free(fd_d);
	if (rc < 0)
		return cb_error_wrap(err, "'%s'", rel);
	memcpy(hex, digest_hex(full), DIGEST_HEX_LEN + 1);
	bld_ctxsum_put(src->sums, rel, sb, hex);
	return 0;
}

/* A stage's or image's files keep their owners in a COPY --from (without
 * --chown); the context's are always root's, so its sums leave them out. */
static void hash_owner(digest_ctx_t *d, const bld_source_t *src, const struct stat *sb)
{
	if (src->is_context)
		return;
	char owner[48];
	snprintf(owner, sizeof(owner), "%u:%u ", (unsigned)sb->st_uid, (unsigned)sb->st_gid);
	digest_update(d, owner, strlen(owner));
}

static int hash_entry(void *ctx, int parentfd, const char *name, const char *rel,
		      const struct stat *sb, int depth, cb_error_t *err)
{
	hash_ctx_t *h = ctx;
	if (depth < 0)
		return 0;
	char head[128];
	snprintf(head, sizeof(head), "%o %lld ", (unsigned)sb->st_mode,
		 S_ISREG(sb->st_mode) ? (long long)sb->st_size : 0LL);
	digest_update(h->d, head, strlen(head));
	hash_owner(h->d, h->src, sb);
	digest_update(h->d, rel, strlen(rel) + 1);
	if (S_ISLNK(sb->st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(parentfd, name, target, sizeof(target));
		if (n < 0)
			return cb_error_errno(err, "readlink '%s'", rel);
		digest_update(h->d, target, (size_t)n);
		if (h->files) {
			_cleanup_free_ char *sig = cb_asprintf("-> %.*s", (int)n, target);
			note_file(h, rel, sig);
		}
	} else if (S_ISREG(sb->st_mode)) {
		char hex[DIGEST_HEX_LEN + 1];
		_cleanup_close_ int fd = -1;
		if (!bld_ctxsum_get(h->src->sums, rel, sb, NULL)) {
			fd = openat(parentfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
			if (fd < 0 && errno == EPERM) /* not the owner: atime it is */
				fd = openat(parentfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				return cb_error_errno(err, "open '%s'", rel);
		}
		if (file_hash(h->src, fd, rel, sb, hex, err) < 0)
			return -1;
		digest_update(h->d, hex, DIGEST_HEX_LEN);
		char sig[DIGEST_HEX_LEN + 16];
		snprintf(sig, sizeof(sig), "%o %.16s", (unsigned)sb->st_mode, hex);
		note_file(h, rel, sig);
	} else {
		char sig[32];
		snprintf(sig, sizeof(sig), "%o", (unsigned)sb->st_mode);
		note_file(h, rel, sig);
	}
	digest_update(h->d, "\n", 1);
	return 0;
}

static int checksum(const bld_source_t *src, char *const *sources, char out[DIGEST_STR_LEN + 1],
		    json_t *files, cb_buf_t *sigs, cb_error_t *err)
{
	bld_matches_t m = {0};
	bool multi;
	if (bld_select_sources(src, sources, &m, &multi, err) < 0) {
		bld_matches_free(&m);
		return -1;
	}
	digest_ctx_t *d = digest_new();
	int rc = 0;
	for (size_t i = 0; i < m.n && rc == 0; i++) {
		digest_update(d, "@", 1);
		_cleanup_close_ int fd = bld_open_in_root(src->rootfd, m.v[i].rel, O_RDONLY);
		struct stat sb;
		if (fd < 0 || fstat(fd, &sb) < 0) {
			rc = cb_error_errno(err, "open '%s'", m.v[i].rel);
			break;
		}
		if (S_ISDIR(sb.st_mode)) {
			hash_ctx_t h = {d, src, files, sigs};
			rc = bld_walk(src, fd, m.v[i].rel, 0, hash_entry, &h, err);
		} else {
			/* a top-level source: its own name does not change the result
			 * beyond what the step text says */
			char head[64], hex[DIGEST_HEX_LEN + 1];
			snprintf(head, sizeof(head), "%o ", (unsigned)sb.st_mode);
			digest_update(d, head, strlen(head));
			hash_owner(d, src, &sb);
			rc = file_hash(src, fd, m.v[i].rel, &sb, hex, err);
			if (rc == 0)
				digest_update(d, hex, DIGEST_HEX_LEN);
			if (rc == 0) {
				hash_ctx_t h = {d, src, files, sigs};
				note_file(&h, m.v[i].rel, hex);
			}
		}
	}
	digest_final(d, out);
	digest_free(d);
	bld_matches_free(&m);
	return rc;
}

int bld_sources_checksum(const bld_source_t *src, char *const *sources,
			 char out[DIGEST_STR_LEN + 1], json_t *files, cb_error_t *err)
{
	return checksum(src, sources, out, files, NULL, err);
}

int bld_sources_checksum_sigs(const bld_source_t *src, char *const *sources,
			      char out[DIGEST_STR_LEN + 1], cb_buf_t *sigs, cb_error_t *err)
{
	return checksum(src, sources, out, NULL, sigs, err);
}
