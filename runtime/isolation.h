/*
 * runtime/isolation.h - the isolation a build asked for and the isolation it
 * got, with the reason for every fallback taken on the way.
 *
 * In an unprivileged CI container some of what the sandbox does is refused
 * (Docker's seccomp profile refuses pivot_root, Docker's masked /proc makes
 * a fresh proc mount fail, root lacks CAP_SYS_ADMIN, newuidmap is refused).
 * With --isolation auto the runtime then takes a weaker or different road
 * (chroot instead of pivot_root, the outer /proc bound instead of a fresh
 * one, a user namespace with an identity map, a single-id map) and records
 * here what it did and why; nothing is dropped silently: each fallback is
 * printed once on stderr (`cbuild: isolation: ...`) and `cbuild info` lists
 * them. An explicit --isolation that cannot be had is an error instead.
 *
 * Process-wide state: set the mode before the first sandbox, read the
 * report after.
 */
#ifndef CB_RUNTIME_ISOLATION_H
#define CB_RUNTIME_ISOLATION_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

typedef enum rt_isolation {
	RT_ISO_AUTO = 0,   /* namespaces and pivot_root; fall back where refused */
	RT_ISO_NAMESPACES, /* pivot_root and a fresh /proc, or an error */
	RT_ISO_CHROOT,     /* namespaces, but chroot and the outer /proc bound
			    * (buildah's chroot isolation) from the start */
	RT_ISO_NONE,       /* no namespaces and no mounts (kaniko's way, for
			    * Docker's default profile): RUN is chroot'ed into
			    * the step's tree, mounts are emulated by placing
			    * files there (runtime/isolation_none.c); auto
			    * comes here when no namespace can be made */
} rt_isolation_t;

/* "auto" | "namespaces" | "chroot" | "none"; EINVAL naming the choices otherwise. */
int rt_isolation_parse(const char *s, rt_isolation_t *out, cb_error_t *err);
const char *rt_isolation_name(rt_isolation_t mode);
void rt_isolation_set(rt_isolation_t mode);
rt_isolation_t rt_isolation_get(void);

/* What was obtained; NULL = not known yet (nothing ran). */
typedef struct rt_iso_report {
	const char *idmap; /* user namespace of the build process: NULL = none
			    * (host root), "identity", "subordinate ranges",
			    * "single id" */
	const char *root;  /* "pivot_root" | "chroot" */
	const char *proc;  /* "fresh" | "outer /proc bound" */
	char **fallbacks;  /* "what: why", in the order taken, each once */
	size_t n_fallbacks;
} rt_iso_report_t;

const rt_iso_report_t *rt_iso_report(void);
void rt_iso_set_idmap(const char *kind);
void rt_iso_set_root(const char *how);
void rt_iso_set_proc(const char *how);

/* Record a fallback "what: why" (kept once; printed once on stderr as
 * "cbuild: isolation: what: why"). */
void rt_iso_fallback(const char *what, const char *why);

/* auto, when no namespace can be made: switch to RT_ISO_NONE, record why
 * and say once what it costs ("cbuild: running without namespaces: ..."). */
void rt_iso_fall_to_none(const char *why);

/* --- runtime/isolation_probe.c --- */

/* Enter the namespaces a build enters (rt_enter_mount_ns) and run the whole
 * sandbox setup once in an empty temporary root, filling the report as a
 * RUN step would. An error is what a RUN step would meet. */
int rt_iso_probe(cb_error_t *err);

/* "v2 (unified)", "v1 (hybrid: ...)", "v1" or "none (...)". */
const char *rt_cgroup_version(void);

/* This process's seccomp mode (0 none, 1 strict, 2 filter), -1 unknown. */
int rt_outer_seccomp(void);

#endif
