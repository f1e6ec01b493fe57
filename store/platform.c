/*
 * store/platform.c - platforms ("os/arch[/variant]"): parsing and
 * normalizing them as containerd's platforms package does, matching them
 * against what an index entry or an image config says, and writing them
 * into a config.
 */
#include "store/image.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/util.h"

static void lower_copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[n] = '\0';
}

/* The aliases containerd's platforms.Normalize folds, for the
 * architectures images are made for. */
static void normalize(oci_platform_t *p)
{
	static const struct {
		const char *from, *arch, *variant;
	} alias[] = {
		{"x86_64", "amd64", NULL}, {"x86-64", "amd64", NULL}, {"aarch64", "arm64", NULL},
		{"armhf", "arm", "v7"},    {"armel", "arm", "v6"},    {"i386", "386", NULL},
		{"i686", "386", NULL},     {"ppc64el", "ppc64le", NULL},
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(alias); i++) {
		if (strcmp(p->arch, alias[i].from))
			continue;
		snprintf(p->arch, sizeof(p->arch), "%s", alias[i].arch);
		if (alias[i].variant && !p->variant[0])
			snprintf(p->variant, sizeof(p->variant), "%s", alias[i].variant);
	}
	if (!strcmp(p->arch, "arm64") && !strcmp(p->variant, "8"))
		snprintf(p->variant, sizeof(p->variant), "v8");
	if (!strcmp(p->arch, "arm") && !p->variant[0])
		snprintf(p->variant, sizeof(p->variant), "v7");
	if (!strcmp(p->arch, "arm") && p->variant[0] >= '5' && p->variant[0] <= '8' &&
	    !p->variant[1]) {
		char v = p->variant[0];
		snprintf(p->variant, sizeof(p->variant), "v%c", v);
	}
}

void oci_platform_host(oci_platform_t *out)
{
	struct utsname u;
	memset(out, 0, sizeof(*out));
	snprintf(out->os, sizeof(out->os), "linux");
	const char *m = uname(&u) == 0 ? u.machine : "x86_64";
	/* armv7l, armv6l: the variant is in the machine name */
	if (!strncmp(m, "armv", 4) && m[4] >= '5' && m[4] <= '8') {
		snprintf(out->arch, sizeof(out->arch), "arm");
		snprintf(out->variant, sizeof(out->variant), "v%c", m[4]);
	} else {
		lower_copy(out->arch, sizeof(out->arch), m, strlen(m));
	}
	normalize(out);
}

/* containerd's lists: a lone word names one of these (the rest comes from
 * this machine), and a platform's os and architecture must be among them
 * so that a typo is an error, not an image of architecture "amd46". */
static const char *const known_os[] = {
	"aix",     "android", "darwin",  "dragonfly", "freebsd", "hurd",    "illumos",
	"ios",     "js",      "linux",   "nacl",      "netbsd",  "openbsd", "plan9",
	"solaris", "wasip1",  "windows", "zos",
};
static const char *const known_arch[] = {
	"386",     "amd64",    "amd64p32",    "arm",     "armbe",   "arm64",  "arm64be",
	"loong64", "mips",     "mipsle",      "mips64",  "mips64le", "mips64p32",
	"mips64p32le", "ppc",  "ppc64",       "ppc64le", "riscv",   "riscv64", "s390",
	"s390x",   "sparc",    "sparc64",     "wasm",
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

/* containerd's specifier: letters, digits, '_' and '-' */
static bool specifier_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static int parse_one_word(const char *s, oci_platform_t *p, cb_error_t *err)
{
	oci_platform_host(p);
	char w[32];
	lower_copy(w, sizeof(w), s, strlen(s));
	if (in_list(w, known_os, CB_ARRAY_SIZE(known_os))) {
		snprintf(p->os, sizeof(p->os), "%s", w);
		return 0;
	}
	oci_platform_t a = {0};
	snprintf(a.arch, sizeof(a.arch), "%s", w);
	normalize(&a);
	if (!in_list(a.arch, known_arch, CB_ARRAY_SIZE(known_arch)))
		return cb_error_fail(err, EINVAL,
				     "invalid platform '%s': unknown operating system or architecture "
				     "(want os/arch[/variant], as linux/amd64, linux/arm64, linux/arm/v7)",
				     s);
	snprintf(p->arch, sizeof(p->arch), "%s", a.arch);
	snprintf(p->variant, sizeof(p->variant), "%s", a.variant);
	return 0;
}

int oci_platform_parse(const char *s, oci_platform_t *out, cb_error_t *err)
{
	if (!s || !*s) {
		oci_platform_host(out);
		return 0;
	}
	const char *a = strchr(s, '/');
	const char *v = a ? strchr(a + 1, '/') : NULL;
	if (a && (a == s || !a[1] || (v && (v == a + 1 || !v[1] || strchr(v + 1, '/')))))
		return cb_error_fail(err, EINVAL, "invalid platform '%s': want os/arch[/variant]", s);
	size_t olen = a ? (size_t)(a - s) : strlen(s);
	size_t alen = !a ? 0 : v ? (size_t)(v - a - 1) : strlen(a + 1);
	if (!specifier_ok(s, olen) || (a && !specifier_ok(a + 1, alen)) ||
	    (v && !specifier_ok(v + 1, strlen(v + 1))))
		return cb_error_fail(err, EINVAL,
				     "invalid platform '%s': want os/arch[/variant] (one platform; "
				     "letters, digits, '-' and '_')",
				     s);
	oci_platform_t p = {0};
	if (olen >= sizeof(p.os) || alen >= sizeof(p.arch) ||
	    (v && strlen(v + 1) >= sizeof(p.variant)))
		return cb_error_fail(err, EINVAL, "invalid platform '%s': too long", s);
	if (!a) {
		if (parse_one_word(s, &p, err) < 0)
			return -1;
		*out = p;
		return 0;
	}
	lower_copy(p.os, sizeof(p.os), s, olen);
	lower_copy(p.arch, sizeof(p.arch), a + 1, alen);
	if (v)
		lower_copy(p.variant, sizeof(p.variant), v + 1, strlen(v + 1));
	normalize(&p);
	if (!in_list(p.os, known_os, CB_ARRAY_SIZE(known_os)))
		return cb_error_fail(err, EINVAL, "invalid platform '%s': unknown operating system '%s'",
				     s, p.os);
	if (!in_list(p.arch, known_arch, CB_ARRAY_SIZE(known_arch)))
		return cb_error_fail(err, EINVAL, "invalid platform '%s': unknown architecture '%s'",
				     s, p.arch);
	*out = p;
	return 0;
}

int oci_platform_score(const oci_platform_t *want, const char *os, const char *arch,
		       const char *variant)
{
	if (!os || !arch)
		return 0;
	oci_platform_t have = {0};
	lower_copy(have.os, sizeof(have.os), os, strlen(os));
	lower_copy(have.arch, sizeof(have.arch), arch, strlen(arch));
	if (variant)
		lower_copy(have.variant, sizeof(have.variant), variant, strlen(variant));
	normalize(&have);
	if (strcmp(want->os, have.os) || strcmp(want->arch, have.arch))
		return 0;
	if (!strcmp(want->variant, have.variant))
		return 3;
	/* arm64 has one variant, v8: written or not, it is the same image */
	if (!strcmp(have.arch, "arm64") && (!want->variant[0] || !strcmp(want->variant, "v8")) &&
	    (!have.variant[0] || !strcmp(have.variant, "v8")))
		return 2;
	return want->variant[0] ? 0 : 1;
}

char *oci_platform_string(const char *os, const char *arch, const char *variant)
{
	if (!os || !arch)
		return cb_xstrdup("unknown");
	return variant && *variant ? cb_asprintf("%s/%s/%s", os, arch, variant)
				   : cb_asprintf("%s/%s", os, arch);
}


char *oci_platform_format(const oci_platform_t *p)
{
	return oci_platform_string(p->os, p->arch, p->variant);
}

bool oci_platform_equal(const oci_platform_t *a, const oci_platform_t *b)
{
	return oci_platform_score(a, b->os, b->arch, b->variant[0] ? b->variant : NULL) >= 2;
}

int oci_platform_parse_list(const char *s, oci_platform_t **out, size_t *n, cb_error_t *err)
{
	*out = NULL;
	*n = 0;
	if (!s || !*s)
		return cb_error_fail(err, EINVAL, "invalid platform '': want os/arch[/variant]");
	_cleanup_free_ char *copy = cb_xstrdup(s);
	oci_platform_t *v = cb_xcalloc(strlen(s) / 2 + 2, sizeof(*v));
	size_t k = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		oci_platform_t p;
		if (oci_platform_parse(tok, &p, err) < 0) {
			free(v);
			return -1;
		}
		bool dup = false;
		for (size_t i = 0; i < k && !dup; i++)
			dup = oci_platform_equal(&v[i], &p);
		if (!dup)
			v[k++] = p;
	}
	if (k == 0 || s[strlen(s) - 1] == ',' || s[0] == ',') {
		free(v);
		return cb_error_fail(err, EINVAL, "invalid platform list '%s'", s);
	}
	*out = v;
	*n = k;
	return 0;
}

bool oci_platform_is_native(const oci_platform_t *p)
{
	oci_platform_t host;
	oci_platform_host(&host);
	if (oci_platform_equal(&host, p))
		return true;
	/* an x86-64 kernel runs i386 programs, an arm64 one usually arm/v7 */
	return !strcmp(host.os, p->os) && !strcmp(host.arch, "amd64") && !strcmp(p->arch, "386");
}

void oci_config_set_platform(oci_config_t *c, const oci_platform_t *p)
{
	free(c->os);
	free(c->architecture);
	free(c->variant);
	c->os = cb_xstrdup(p->os);
	c->architecture = cb_xstrdup(p->arch);
	c->variant = p->variant[0] ? cb_xstrdup(p->variant) : NULL;
}

char *oci_config_platform(const oci_config_t *c)
{
	return oci_platform_string(c->os, c->architecture, c->variant);
}

int oci_config_platform_score(const oci_config_t *c, const oci_platform_t *want)
{
	/* a config without os/architecture (old images) is taken as amd64, as
	 * docker does */
	return oci_platform_score(want, c->os ? c->os : "linux",
				  c->architecture ? c->architecture : "amd64", c->variant);
}
