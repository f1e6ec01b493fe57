/* The isolation asked for and obtained, and why each fallback was taken. */
#include "runtime/isolation.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

static rt_isolation_t mode;
static rt_iso_report_t report;

static const char *const names[] = {"auto", "namespaces", "chroot", "none"};

int rt_isolation_parse(const char *s, rt_isolation_t *out, cb_error_t *err)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (s && !strcmp(s, names[i])) {
			*out = (rt_isolation_t)i;
			return 0;
		}
	return cb_error_fail(err, EINVAL, "invalid isolation '%s' (auto, namespaces, chroot or none)",
			     s ? s : "");
}

const char *rt_isolation_name(rt_isolation_t m)
{
	return (size_t)m < sizeof names / sizeof names[0] ? names[m] : "?";
}

void rt_isolation_set(rt_isolation_t m)
{
	mode = m;
}
rt_isolation_t rt_isolation_get(void)
{
	return mode;
}

const rt_iso_report_t *rt_iso_report(void)
{
	return &report;
}
void rt_iso_set_idmap(const char *kind)
{
	report.idmap = kind;
}
void rt_iso_set_root(const char *how)
{
	report.root = how;
}
void rt_iso_set_proc(const char *how)
{
	report.proc = how;
}

void rt_iso_fallback(const char *what, const char *why)
{
	_cleanup_free_ char *line = cb_asprintf("%s: %s", what, why);
	for (size_t i = 0; i < report.n_fallbacks; i++)
		if (!strcmp(report.fallbacks[i], line))
			return;
	/* every RUN takes the same road: say it once, at the first */
	fprintf(stderr, "cbuild: isolation: %s\n", line);
	report.fallbacks = cb_xrealloc(report.fallbacks,
				       (report.n_fallbacks + 1) * sizeof *report.fallbacks);
	report.fallbacks[report.n_fallbacks++] = line;
	line = NULL;
}

void rt_iso_fall_to_none(const char *why)
{
	mode = RT_ISO_NONE;
	fprintf(stderr, "cbuild: running without namespaces: RUN steps are not isolated from "
			"this container\n");
	rt_iso_fallback("namespaces", why);
}
