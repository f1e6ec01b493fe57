/*
 * tests/unit/test_layer_util.h - helpers shared by the layer tests: a text
 * manifest of a tree (every attribute a layer must keep, one line per
 * entry, sorted) to compare trees, shell helpers and temp dirs, check(),
 * and the temp dir + store fixture of test_layer and test_layer_devxattr.
 * Include after cmocka.h.
 */
#ifndef CB_TEST_LAYER_UTIL_H
#define CB_TEST_LAYER_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/digest.h"
#include "store/layer.h"
#include "store/store.h"

enum { MF_MTIME = 1, MF_DIR_MTIME = 2 };

typedef struct mf_ino {
	dev_t dev;
	ino_t ino;
	char *path;
} mf_ino_t;

typedef struct mf {
	cb_buf_t out;
	unsigned flags;
	mf_ino_t *inos;
	size_t ninos;
} mf_t;

static int mf_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void mf_xattrs(mf_t *m, const char *abs)
{
	char names[8192];
	ssize_t n = llistxattr(abs, names, sizeof(names));
	if (n <= 0)
		return;
	char *v[256];
	size_t k = 0;
	for (ssize_t i = 0; i < n && k < 256; i += (ssize_t)strlen(names + i) + 1)
		if (!cb_str_has_prefix(names + i, "trusted.overlay.") &&
		    !cb_str_has_prefix(names + i, "user.overlay.") &&
		    strcmp(names + i, "security.selinux"))
			v[k++] = names + i;
	qsort(v, k, sizeof(*v), mf_cmp);
	for (size_t i = 0; i < k; i++) {
		unsigned char val[4096];
		ssize_t l = lgetxattr(abs, v[i], val, sizeof(val));
		cb_buf_addf(&m->out, " x:%s=", v[i]);
		for (ssize_t j = 0; j < l; j++)
			cb_buf_addf(&m->out, "%02x", val[j]);
	}
}

static void mf_walk(mf_t *m, const char *abs, const char *rel)
{
	DIR *d = opendir(abs);
	if (!d)
		return;
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		names = cb_xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = cb_xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), mf_cmp);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *cabs = cb_path_join(abs, names[i]);
		_cleanup_free_ char *crel = *rel ? cb_asprintf("%s/%s", rel, names[i])
						 : cb_xstrdup(names[i]);
		struct stat st;
		if (lstat(cabs, &st) < 0)
			continue;
		/* names may hold newlines: print them escaped */
		for (const char *p = crel; *p; p++) {
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == '\\')
				cb_buf_addf(&m->out, "\\x%02x", (unsigned char)*p);
			else
				cb_buf_addch(&m->out, *p);
		}
		cb_buf_addf(&m->out, " %o %04o %u:%u", (unsigned)(st.st_mode & S_IFMT) >> 12,
			    (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid);
		if (S_ISREG(st.st_mode)) {
			char dg[DIGEST_STR_LEN + 1];
			cb_error_t e = CB_ERROR_INIT;
			if (digest_file(cabs, dg, &e) < 0)
				cb_error_release(&e);
			cb_buf_addf(&m->out, " size=%lld %s", (long long)st.st_size, dg + 7 + 52);
			if (st.st_nlink > 1) {
				const char *first = NULL;
				for (size_t j = 0; j < m->ninos; j++)
					if (m->inos[j].dev == st.st_dev && m->inos[j].ino == st.st_ino)
						first = m->inos[j].path;
				if (first) {
					cb_buf_addf(&m->out, " link=%s", first);
				} else {
					m->inos = cb_xreallocarray(m->inos, m->ninos + 1, sizeof(*m->inos));
					m->inos[m->ninos++] = (mf_ino_t){st.st_dev, st.st_ino, cb_xstrdup(crel)};
				}
			}
		} else if (S_ISLNK(st.st_mode)) {
			char t[4096];
			ssize_t l = readlink(cabs, t, sizeof(t) - 1);
			t[l < 0 ? 0 : l] = '\0';
			cb_buf_addf(&m->out, " -> %s", t);
		} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
			cb_buf_addf(&m->out, " dev=%u,%u", major(st.st_rdev), minor(st.st_rdev));
		}
		if ((m->flags & MF_MTIME) && (!S_ISDIR(st.st_mode) || (m->flags & MF_DIR_MTIME)))
			cb_buf_addf(&m->out, " t=%lld", (long long)st.st_mtim.tv_sec);
		mf_xattrs(m, cabs);
		cb_buf_addch(&m->out, '\n');
		if (S_ISDIR(st.st_mode))
			mf_walk(m, cabs, crel);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The manifest of dir (caller frees). */
static inline char *tree_manifest(const char *dir, unsigned flags)
{
	mf_t m;
	memset(&m, 0, sizeof(m));
	cb_buf_init(&m.out);
	m.flags = flags;
	mf_walk(&m, dir, "");
	for (size_t i = 0; i < m.ninos; i++)
		free(m.inos[i].path);
	free(m.inos);
	char *text = cb_buf_detach(&m.out, NULL);
	cb_buf_release(&m.out); /* detach leaves a fresh empty buffer */
	return text;
}

/* Run a shell command; returns its exit status. */
static int sh(const char *fmt, ...) CB_PRINTF(1, 2);
static int sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *cmd = cb_vasprintf(fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static inline void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

/* A fresh temp dir (caller frees; remove with cb_rm_rf). */
static inline char *test_tmpdir(const char *tag)
{
	/* tmpfs when there is one: thousands of blob fsyncs cost nothing there */
	const char *base = getenv("CBUILD_TEST_TMP");
	if (!base)
		base = cb_is_dir("/dev/shm") ? "/dev/shm" : "/tmp";
	char tmpl[256];
	snprintf(tmpl, sizeof(tmpl), "%s/cbuild-%s-XXXXXX", base, tag);
	if (!mkdtemp(tmpl))
		abort();
	return cb_xstrdup(tmpl);
}

static inline void rm_tree(const char *p)
{
	cb_error_t e = CB_ERROR_INIT;
	if (cb_rm_rf(p, &e) < 0)
		cb_error_release(&e);
}

/* Fail the test with err's text when rc < 0 (include after cmocka.h). */
static inline void check(int rc, cb_error_t *err)
{
	if (rc < 0) {
		char buf[1024];
		fail_msg("unexpected error: %s", cb_error_format(err, buf, sizeof(buf)));
	}
}

/* A temp dir with a store in tmp/store, per test:
 * cmocka_unit_test_setup_teardown(test_x, layer_fx_setup, layer_fx_teardown)
 * hands test_x a layer_fx_t in *state. */
typedef struct layer_fx {
	char *tmp;
	store_t *st;
} layer_fx_t;

static inline int layer_fx_setup(void **state)
{
	layer_fx_t *f = cb_xcalloc(1, sizeof(*f));
	f->tmp = test_tmpdir("layer");
	_cleanup_free_ char *root = cb_path_join(f->tmp, "store");
	cb_error_t err = CB_ERROR_INIT;
	if (store_open(root, &f->st, &err) < 0) {
		cb_error_release(&err);
		rm_tree(f->tmp);
		free(f->tmp);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static inline int layer_fx_teardown(void **state)
{
	layer_fx_t *f = *state;
	store_free(f->st);
	rm_tree(f->tmp);
	free(f->tmp);
	free(f);
	return 0;
}

#endif
