/*
 * builder/sbom.h - the packages an image holds, read from the package
 * managers' own databases inside it (no scanner image), and an SPDX 2.3
 * document of them.
 *
 *   dpkg  var/lib/dpkg/status: every stanza whose Status is not
 *         "not-installed" (what `dpkg-query -W` lists)
 *   apk   lib/apk/db/installed
 *   dpkg  var/lib/dpkg/status.d/NAME: one stanza a file, no Status field
 *         (distroless images; NAME.md5sums files are not stanzas)
 *   rpm   var/lib/rpm/rpmdb.sqlite, usr/lib/sysimage/rpm/rpmdb.sqlite:
 *         rpm >= 4.16's sqlite database, read by builder/sbom_rpm.c (the
 *         Berkeley DB and ndb formats of older rpm are not read)
 *
 * The document is a function of its inputs only (packages sorted, IDs
 * numbered, the namespace a digest of the content, the time given), so
 * reproducible builds give the same bytes.
 */
#ifndef CB_BUILDER_SBOM_H
#define CB_BUILDER_SBOM_H

#include <stddef.h>

#include <jansson.h>

#include "common/error.h"

typedef struct bld_pkg {
	char *type; /* purl type: "deb", "apk", "rpm" */
	char *name;
	char *version;
	char *arch;    /* NULL if unknown */
	char *source;  /* source package / origin, NULL if none */
	char *license; /* apk's L:, rpm's License, NULL if none */
	char *epoch;   /* rpm's Epoch, NULL if none (dpkg's is in version) */
} bld_pkg_t;

typedef struct bld_pkgs {
	bld_pkg_t *v;
	size_t n;
	char *distro_id;      /* os-release ID ("debian"), NULL if none */
	char *distro_version; /* VERSION_ID ("12") */
} bld_pkgs_t;

void bld_pkgs_release(bld_pkgs_t *p);

/* Parsers of the databases' text (exported for the unit tests). */
void bld_sbom_parse_dpkg(const char *data, size_t len, bld_pkgs_t *out);
void bld_sbom_parse_apk(const char *data, size_t len, bld_pkgs_t *out);
void bld_sbom_parse_dpkg_statusd(const char *data, size_t len, bld_pkgs_t *out);

/* The packages of an rpm sqlite database open at fd (read with pread). */
int bld_sbom_read_rpmdb(int fd, bld_pkgs_t *out, cb_error_t *err);

/* Append *p to out (which takes its strings; *p is zeroed). */
void bld_sbom_add_pkg(bld_pkgs_t *out, bld_pkg_t *p);

/* Read every database found under the directory rootfd (an image's root;
 * paths resolve inside it). A database that is absent is no error. */
int bld_sbom_scan(int rootfd, bld_pkgs_t *out, cb_error_t *err);

/* What the document says besides the packages. */
typedef struct bld_sbom_meta {
	const char *image_name;   /* "docker.io/library/app:1" or NULL */
	const char *created;      /* RFC 3339 */
	const char *tool;         /* "cbuild-0.1" */
	char *const *bases;       /* "REF@sha256:..." of the base images */
	char *const *stages;      /* the names of the build's stages ("0" when unnamed) */
} bld_sbom_meta_t;

/* The SPDX 2.3 document (a new reference). */
json_t *bld_sbom_spdx(const bld_pkgs_t *p, const bld_sbom_meta_t *meta);

#endif
