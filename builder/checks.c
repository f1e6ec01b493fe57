/*
 * builder/checks.c - the build checks during a build and for --check: the
 * parser's rules (parser/checks.h) run once the base images are resolved
 * (so UndefinedVar sees their Env), plus InvalidBaseImagePlatform, which
 * only the builder can judge: it holds the pulled image's config.
 *
 * The configuration is the Dockerfile's `# check=` directive, then the
 * BUILDKIT_DOCKERFILE_CHECK build arg (BuildKit's override, so a CI job can
 * turn rules off without editing the file).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "builder/internal.h"
#include "builder/steps.h"
#include "parser/checks.h"

static int check_config(build_t *b, const df_tree_t *t, df_check_config_t *cfg, cb_error_t *err)
{
	if (df_check_config_parse(t->check, cfg, err) < 0)
		return cb_error_wrap(err, "%s: # check=", b->o->dockerfile_name);
	static const char key[] = "BUILDKIT_DOCKERFILE_CHECK=";
	for (size_t i = 0; b->o->build_args && b->o->build_args[i]; i++)
		if (!strncmp(b->o->build_args[i], key, sizeof(key) - 1) &&
		    df_check_config_parse(b->o->build_args[i] + sizeof(key) - 1, cfg, err) < 0)
			return cb_error_wrap(err, "--build-arg BUILDKIT_DOCKERFILE_CHECK");
	return 0;
}

/* The platform a stage's base must have: FROM --platform, else the
 * build's --platform, else this machine's. */
static void base_platform_rule(build_t *b, const df_check_config_t *cfg, df_check_list_t *out)
{
	for (size_t pos = 0; pos < b->plan->n_stages; pos++) {
		const df_stage_t *st = &b->plan->stages[pos];
		const oci_config_t *c = b->bases[st->index].config;
		if (st->base_kind != DF_BASE_IMAGE || !c)
			continue;
		oci_platform_t want;
		cb_error_t e = CB_ERROR_INIT;
		if (oci_platform_parse(st->platform ? st->platform : b->o->platform, &want, &e) < 0) {
			cb_error_release(&e);
			continue;
		}
		if (oci_platform_score(&want, c->os, c->architecture, c->variant) > 0)
			continue;
		_cleanup_free_ char *have = oci_platform_string(c->os, c->architecture, c->variant);
		_cleanup_free_ char *exp = oci_platform_string(want.os, want.arch,
							       want.variant[0] ? want.variant : NULL);
		df_check_add(out, cfg, "InvalidBaseImagePlatform", st->line, 1,
			     cb_asprintf("pull '%s' for %s, or say FROM --platform=%s if it is meant",
					 st->base_image, exp, have),
			     "Base image %s was pulled with platform \"%s\", expected \"%s\" for current "
			     "build",
			     st->base_image, have, exp);
	}
}

static void print_warnings(build_t *b, const df_tree_t *t, const df_check_list_t *l)
{
	for (size_t i = 0; i < l->n; i++) {
		/* the planner already said it, in its own words */
		if (!b->o->check_only && !strcmp(l->v[i].rule, "NoEmptyContinuation"))
			continue;
		_cleanup_free_ char *s = df_check_format(t, &l->v[i]);
		if (b->o->check_only)
			fputs(s, b->o->log ? b->o->log : stderr);
		else
			bld_log(b, "%s", s);
	}
}

int bld_run_checks(build_t *b, size_t *n_warnings, cb_error_t *err)
{
	df_check_config_t cfg;
	df_check_config_init(&cfg);
	int rc = check_config(b, b->plan->tree, &cfg, err);
	if (rc < 0)
		goto out;
	size_t n = (size_t)b->plan->n_total_stages;
	df_check_base_t *bases = cb_xcalloc(n + 1, sizeof(*bases));
	for (size_t i = 0; i < n; i++) {
		const oci_config_t *c = b->bases[i].config;
		if (!c)
			continue;
		bases[i] = (df_check_base_t){true, c->env, c->working_dir};
	}
	df_check_input_t in = {.tree = b->plan->tree,
			       .config = &cfg,
			       .ignore = b->ctx.ignore,
			       .bases = bases,
			       .n_bases = n};
	df_check_list_t out = {0};
	df_check_run(&in, &out);
	base_platform_rule(b, &cfg, &out);
	free(bases);
	print_warnings(b, b->plan->tree, &out);
	*n_warnings = out.n;
	if (out.n && cfg.error && !b->o->check_only) {
		_cleanup_free_ char *sum = df_check_summary(&out);
		rc = cb_error_fail(err, EINVAL, "%s", sum);
	}
	df_check_list_release(&out);
out:
	df_check_config_release(&cfg);
	return rc;
}

void bld_checks_unplanned(build_t *b)
{
	df_tree_t *t = NULL;
	cb_error_t e = CB_ERROR_INIT;
	df_check_config_t cfg;
	df_check_config_init(&cfg);
	if (df_parse(b->o->dockerfile_name, b->o->dockerfile, b->o->dockerfile_len, &t, &e) == 0 &&
	    check_config(b, t, &cfg, &e) == 0) {
		df_check_input_t in = {.tree = t, .config = &cfg, .ignore = b->ctx.ignore};
		df_check_list_t out = {0};
		df_check_run(&in, &out);
		print_warnings(b, t, &out);
		df_check_list_release(&out);
	}
	cb_error_release(&e);
	df_check_config_release(&cfg);
	df_tree_free(t);
}
