/*
 * builder/sbom.c - package databases -> SPDX 2.3 (see builder/sbom.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/sbom.h"
#include "common/fs.h"
#include "common/openroot.h"
#include "common/utf8.h"
#include "common/util.h"
#include "store/digest.h"
#include "store/json.h"

#define PKGDB_MAX (256u << 20)

static void pkg_clear(bld_pkg_t *p)
{
	free(p->type);
	free(p->name);
	free(p->version);
	free(p->arch);
	free(p->source);
	free(p->license);
	free(p->epoch);
	memset(p, 0, sizeof(*p));
}

void bld_pkgs_release(bld_pkgs_t *p)
{
	for (size_t i = 0; i < p->n; i++)
		pkg_clear(&p->v[i]);
	free(p->v);
	free(p->distro_id);
	free(p->distro_version);
	memset(p, 0, sizeof(*p));
}

void bld_sbom_add_pkg(bld_pkgs_t *out, bld_pkg_t *p)
{
	out->v = cb_xreallocarray(out->v, out->n + 1, sizeof(*out->v));
	out->v[out->n++] = *p;
	memset(p, 0, sizeof(*p));
}

static void set(char **field, const char *v, size_t n)
{
	while (n && isspace((unsigned char)*v))
		v++, n--;
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	free(*field);
	/* a package database is the image's text: repaired as every string in
	 * cbuild's JSON is (store/json.h), or json_pack would drop the package */
	*field = cb_utf8_valid(v, n) ? cb_xstrndup(v, n) : cb_utf8_fix(v, n, NULL);
}

/* Lines of a "Key: value" stanza file; fn gets each field line, and a
 * NULL key at every stanza's end (a blank line or the end of the data). */
typedef void (*field_fn)(void *ctx, const char *key, size_t klen, const char *val, size_t vlen);

static void each_field(const char *data, size_t len, char sep, field_fn fn, void *ctx)
{
	const char *p = data, *end = data + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le == p || (le == p + 1 && *p == '\r'))
			fn(ctx, NULL, 0, NULL, 0);
		else if (!isspace((unsigned char)*p)) { /* continuation lines are skipped */
			const char *c = memchr(p, sep, (size_t)(le - p));
			if (c)
				fn(ctx, p, (size_t)(c - p), c + 1, (size_t)(le - c - 1));
		}
		p = nl ? nl + 1 : end;
	}
	fn(ctx, NULL, 0, NULL, 0);
}

/* ---- dpkg ---- */

typedef struct dpkg_ctx {
	bld_pkgs_t *out;
	bld_pkg_t cur;
	char *status;
	bool statusd; /* a status.d stanza: installed, and no Status field */
} dpkg_ctx_t;

static bool key_is(const char *k, size_t n, const char *want)
{
	return strlen(want) == n && !strncasecmp(k, want, n);
}

static void dpkg_field(void *vctx, const char *k, size_t kl, const char *v, size_t vl)
{
	dpkg_ctx_t *c = vctx;
	if (!k) {
		/* dpkg-query -W lists all but the purged ("not-installed") */
		bool listed = c->cur.name &&
			      (c->statusd || (c->status && !strstr(c->status, "not-installed")));
		if (listed) {
			c->cur.type = cb_xstrdup("deb");
			if (!c->cur.version)
				c->cur.version = cb_xstrdup("");
			bld_sbom_add_pkg(c->out, &c->cur);
		} else {
			pkg_clear(&c->cur);
		}
		free(c->status);
		c->status = NULL;
		return;
	}
	if (key_is(k, kl, "Package"))
		set(&c->cur.name, v, vl);
	else if (key_is(k, kl, "Version"))
		set(&c->cur.version, v, vl);
	else if (key_is(k, kl, "Architecture"))
		set(&c->cur.arch, v, vl);
	else if (key_is(k, kl, "Status"))
		set(&c->status, v, vl);
	else if (key_is(k, kl, "Source")) {
		size_t n = 0; /* "src (1.2-3)": the name only */
		while (n < vl && v[n] != '(')
			n++;
		set(&c->cur.source, v, n);
	}
}

void bld_sbom_parse_dpkg(const char *data, size_t len, bld_pkgs_t *out)
{
	dpkg_ctx_t c = {.out = out};
	each_field(data, len, ':', dpkg_field, &c);
}

void bld_sbom_parse_dpkg_statusd(const char *data, size_t len, bld_pkgs_t *out)
{
	dpkg_ctx_t c = {.out = out, .statusd = true};
	each_field(data, len, ':', dpkg_field, &c);
}

/* ---- apk ---- */

static void apk_field(void *vctx, const char *k, size_t kl, const char *v, size_t vl)
{
	dpkg_ctx_t *c = vctx;
	if (!k) {
		if (c->cur.name) {
			c->cur.type = cb_xstrdup("apk");
			if (!c->cur.version)
				c->cur.version = cb_xstrdup("");
			bld_sbom_add_pkg(c->out, &c->cur);
		}
		return;
	}
	if (kl != 1)
		return;
	switch (*k) {
	case 'P': set(&c->cur.name, v, vl); break;
	case 'V': set(&c->cur.version, v, vl); break;
	case 'A': set(&c->cur.arch, v, vl); break;
	case 'o': set(&c->cur.source, v, vl); break;
	case 'L': set(&c->cur.license, v, vl); break;
	default: break;
	}
}

void bld_sbom_parse_apk(const char *data, size_t len, bld_pkgs_t *out)
{
	dpkg_ctx_t c = {.out = out};
	each_field(data, len, ':', apk_field, &c);
}

/* ---- the image ---- */

static int read_in_root(int rootfd, const char *rel, char **data, size_t *len, cb_error_t *err)
{
	int fd = cb_open_in_root(rootfd, rel, O_RDONLY, 0);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 1;
		return cb_error_errno(err, "open '%s' in the image", rel);
	}
	cb_buf_t b;
	cb_buf_init(&b);
	char chunk[65536];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && b.len < PKGDB_MAX)
		cb_buf_add(&b, chunk, (size_t)n);
	int saved = errno;
	close(fd);
	if (n < 0) {
		cb_buf_release(&b);
		errno = saved;
		return cb_error_errno(err, "read '%s' in the image", rel);
	}
	*data = cb_buf_detach(&b, len);
	return 0;
}

static void os_release(int rootfd, bld_pkgs_t *out)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (read_in_root(rootfd, "etc/os-release", &data, &len, &e) != 0 &&
	    read_in_root(rootfd, "usr/lib/os-release", &data, &len, &e) != 0) {
		cb_error_release(&e);
		return;
	}
	for (char *save = NULL, *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char **f = !strncmp(l, "ID=", 3) ? &out->distro_id
			   : !strncmp(l, "VERSION_ID=", 11) ? &out->distro_version : NULL;
		if (!f)
			continue;
		char *v = strchr(l, '=') + 1;
		size_t n = strlen(v);
		if (n >= 2 && (*v == '"' || *v == '\'') && v[n - 1] == *v)
			v++, n -= 2;
		set(f, v, n);
	}
}

static int cmp_pkg(const void *a, const void *b)
{
	const bld_pkg_t *x = a, *y = b;
	int r = strcmp(x->type, y->type);
	if (!r)
		r = strcmp(x->name, y->name);
	if (!r)
		r = strcmp(x->arch ? x->arch : "", y->arch ? y->arch : "");
	return r ? r : strcmp(x->version, y->version);
}

/* distroless: var/lib/dpkg/status.d/PKG, one stanza each, beside PKG.md5sums */
static int scan_statusd(int rootfd, bld_pkgs_t *out, cb_error_t *err)
{
	int dfd = cb_open_in_root(rootfd, "var/lib/dpkg/status.d", O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0)
		return errno == ENOENT || errno == ENOTDIR
			       ? 0
			       : cb_error_errno(err, "open 'var/lib/dpkg/status.d' in the image");
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return cb_error_errno(err, "read 'var/lib/dpkg/status.d' in the image");
	}
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || (n > 8 && !strcmp(e->d_name + n - 8, ".md5sums")))
			continue;
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		rc = read_in_root(dirfd(d), e->d_name, &data, &len, err);
		if (rc == 0)
			bld_sbom_parse_dpkg_statusd(data, len, out);
		rc = rc < 0 ? -1 : 0;
	}
	closedir(d);
	return rc;
}

/* rpm >= 4.16 (sqlite); an unreadable database is a warning: the image
 * built, and the SBOM says what could be read */
static int scan_rpm(int rootfd, bld_pkgs_t *out, cb_error_t *err)
{
	static const char *const paths[] = {"usr/lib/sysimage/rpm/rpmdb.sqlite",
					    "var/lib/rpm/rpmdb.sqlite"};
	for (size_t i = 0; i < CB_ARRAY_SIZE(paths); i++) {
		int fd = cb_open_in_root(rootfd, paths[i], O_RDONLY, 0);
		if (fd < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return cb_error_errno(err, "open '%s' in the image", paths[i]);
		}
		cb_error_t e = CB_ERROR_INIT;
		if (bld_sbom_read_rpmdb(fd, out, &e) < 0) {
			cb_error_wrap(&e, "%s", paths[i]);
			cb_warn_error(&e);
		}
		close(fd);
		return 0; /* the newer place wins when (by a symlink) both exist */
	}
	(void)err;
	return 0;
}

int bld_sbom_scan(int rootfd, bld_pkgs_t *out, cb_error_t *err)
{
	static const struct {
		const char *path;
		void (*parse)(const char *, size_t, bld_pkgs_t *);
	} dbs[] = {
		{"var/lib/dpkg/status", bld_sbom_parse_dpkg},
		{"lib/apk/db/installed", bld_sbom_parse_apk},
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(dbs); i++) {
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		int r = read_in_root(rootfd, dbs[i].path, &data, &len, err);
		if (r < 0)
			return -1;
		if (r == 0)
			dbs[i].parse(data, len, out);
	}
	if (scan_statusd(rootfd, out, err) < 0 || scan_rpm(rootfd, out, err) < 0)
		return -1;
	os_release(rootfd, out);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_pkg);
	return 0;
}

/* ---- SPDX ---- */

/* SPDX IDs allow letters, digits, '.' and '-' only. */
static char *spdx_id(const char *prefix, const char *name, size_t n)
{
	cb_buf_t b;
	cb_buf_init(&b);
	cb_buf_addf(&b, "SPDXRef-%s-", prefix);
	for (const char *p = name; *p; p++)
		cb_buf_addch(&b, isalnum((unsigned char)*p) || *p == '.' || *p == '-' ? *p : '-');
	cb_buf_addf(&b, "-%zu", n);
	return cb_buf_detach(&b, NULL);
}

/* purl: percent-encode what is not unreserved */
static void purl_add(cb_buf_t *b, const char *s)
{
	for (; *s; s++) {
		if (isalnum((unsigned char)*s) || strchr(".-_~+", *s))
			cb_buf_addch(b, *s);
		else
			cb_buf_addf(b, "%%%02X", (unsigned char)*s);
	}
}

static char *purl(const bld_pkgs_t *all, const bld_pkg_t *p)
{
	cb_buf_t b;
	cb_buf_init(&b);
	const char *ns = all->distro_id            ? all->distro_id
			 : !strcmp(p->type, "apk") ? "alpine"
			 : !strcmp(p->type, "deb") ? "debian"
						   : NULL; /* rpm: the purl spec allows none */
	cb_buf_addf(&b, "pkg:%s/", p->type);
	if (ns) {
		purl_add(&b, ns);
		cb_buf_addch(&b, '/');
	}
	purl_add(&b, p->name);
	cb_buf_addch(&b, '@');
	purl_add(&b, p->version);
	char sep = '?';
	if (p->arch) {
		cb_buf_addf(&b, "%carch=", sep);
		purl_add(&b, p->arch);
		sep = '&';
	}
	if (p->epoch && strcmp(p->epoch, "0")) {
		cb_buf_addf(&b, "%cepoch=", sep);
		purl_add(&b, p->epoch);
		sep = '&';
	}
	if (all->distro_id && all->distro_version)
		cb_buf_addf(&b, "%cdistro=%s-%s", sep, all->distro_id, all->distro_version);
	return cb_buf_detach(&b, NULL);
}

static json_t *package(const char *id, const char *name, const char *version, const char *purl_s)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s}", "SPDXID", id, "name", name,
			      "versionInfo", version, "downloadLocation", "NOASSERTION",
			      "filesAnalyzed", 0, "licenseConcluded", "NOASSERTION",
			      "copyrightText", "NOASSERTION");
	if (purl_s)
		json_object_set_new(j, "externalRefs",
				    json_pack("[{s:s, s:s, s:s}]", "referenceCategory",
					      "PACKAGE-MANAGER", "referenceType", "purl",
					      "referenceLocator", purl_s));
	return j;
}

static json_t *relationship(const char *a, const char *type, const char *b)
{
	return json_pack("{s:s, s:s, s:s}", "spdxElementId", a, "relationshipType", type,
			 "relatedSpdxElement", b);
}

static void add_packages(const bld_pkgs_t *p, json_t *pkgs, json_t *rels)
{
	for (size_t i = 0; i < p->n; i++) {
		const bld_pkg_t *k = &p->v[i];
		_cleanup_free_ char *id = spdx_id(k->type, k->name, i);
		_cleanup_free_ char *u = purl(p, k);
		json_t *j = package(id, k->name, k->version, u);
		json_object_set_new(j, "licenseDeclared", oci_json_str(k->license ? k->license : "NOASSERTION"));
		if (k->source)
			json_object_set_new(j, "sourceInfo", json_sprintf("built package from: %s", k->source));
		json_array_append_new(pkgs, j);
		json_array_append_new(rels, relationship("SPDXRef-Image", "CONTAINS", id));
	}
}

static void add_build(const bld_sbom_meta_t *m, json_t *pkgs, json_t *rels)
{
	for (size_t i = 0; m->bases && m->bases[i]; i++) {
		_cleanup_free_ char *id = spdx_id("Base", m->bases[i], i);
		const char *at = strchr(m->bases[i], '@');
		_cleanup_free_ char *name = at ? cb_xstrndup(m->bases[i], (size_t)(at - m->bases[i]))
					       : cb_xstrdup(m->bases[i]);
		json_t *j = package(id, name, at ? at + 1 : "NOASSERTION", NULL);
		json_object_set_new(j, "primaryPackagePurpose", json_string("CONTAINER"));
		json_array_append_new(pkgs, j);
		json_array_append_new(rels, relationship("SPDXRef-Image", "DESCENDANT_OF", id));
	}
	for (size_t i = 0; m->stages && m->stages[i]; i++) {
		_cleanup_free_ char *id = spdx_id("Stage", m->stages[i], i);
		_cleanup_free_ char *name = cb_asprintf("stage %s", m->stages[i]);
		json_t *j = package(id, name, "NOASSERTION", NULL);
		json_object_set_new(j, "primaryPackagePurpose", json_string("OTHER"));
		json_array_append_new(pkgs, j);
		json_array_append_new(rels, relationship(id, "BUILD_DEPENDENCY_OF", "SPDXRef-Image"));
	}
}

json_t *bld_sbom_spdx(const bld_pkgs_t *p, const bld_sbom_meta_t *m)
{
	json_t *pkgs = json_array(), *rels = json_array();
	const char *name = m->image_name ? m->image_name : "image";
	json_t *img = package("SPDXRef-Image", name, "NOASSERTION", NULL);
	json_object_set_new(img, "primaryPackagePurpose", json_string("CONTAINER"));
	json_array_append_new(pkgs, img);
	json_array_append_new(rels, relationship("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"));
	add_packages(p, pkgs, rels);
	add_build(m, pkgs, rels);
	json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:[s]}, s:o, s:o}", "spdxVersion",
				"SPDX-2.3", "dataLicense", "CC0-1.0", "SPDXID", "SPDXRef-DOCUMENT",
				"name", name, "creationInfo", "created", m->created, "creators", m->tool,
				"packages", pkgs, "relationships", rels);
	/* the namespace must be unique per document: a digest of its content */
	_cleanup_free_ char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	char d[DIGEST_STR_LEN + 1];
	digest_buffer(s, strlen(s), d);
	json_object_set_new(doc, "documentNamespace",
			    json_sprintf("https://cbuild.invalid/spdx/%s", digest_hex(d)));
	return doc;
}
