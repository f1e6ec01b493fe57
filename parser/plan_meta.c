/*
 * parser/plan_meta.c - the instructions that change the image config:
 * ENV ARG LABEL USER WORKDIR EXPOSE VOLUME STOPSIGNAL CMD ENTRYPOINT SHELL
 * HEALTHCHECK ONBUILD MAINTAINER.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "parser/internal.h"
#include "parser/plan_internal.h"

static int do_kv(struct df_parse_ctx *pc, bool is_env)
{
	PC_LOCALS(pc);
	const df_node_t *n = nc->n;
	if (n->n_args == 0)
		return nerr(nc, "%s requires at least one argument", is_env ? "ENV" : "LABEL");
	_cleanup_free_ char **env = df_step_env(b);
	size_t nkv = n->n_args / 2;
	s->u.kv.kvs = cb_xcalloc(nkv ? nkv : 1, sizeof(df_kv_t));
	for (size_t i = 0; i + 1 < n->n_args; i += 2) {
		df_kv_t *kv = &s->u.kv.kvs[s->u.kv.n_kvs++];
		if (df_xword(b, nc, n->args[i], env, 0, &kv->key) < 0 ||
		    df_xword(b, nc, n->args[i + 1], env, 0, &kv->value) < 0)
			return -1;
		if (!df_valid_var_name(kv->key))
			return nerr(nc, "%s names can not be blank", is_env ? "ENV" : "LABEL");
	}
	if (is_env)
		for (size_t i = 0; i < s->u.kv.n_kvs; i++)
			df_strv_set(&b->s.env, s->u.kv.kvs[i].key, s->u.kv.kvs[i].value);
	return 0;
}

static const char *predefined_value(struct df_plan_priv *pv, const char *k)
{
	return df_strv_get(pv->meta_env, k) && (cb_str_has_prefix(k, "TARGET") ||
						cb_str_has_prefix(k, "BUILD"))
		       ? df_strv_get(pv->meta_env, k)
		       : NULL;
}

static bool is_predefined(const char *k)
{
	static const char *const names[] = {
		"TARGETPLATFORM",
		"TARGETOS",
		"TARGETARCH",
		"TARGETVARIANT",
		"BUILDPLATFORM",
		"BUILDOS",
		"BUILDARCH",
		"BUILDVARIANT",
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(names); i++)
		if (!strcmp(names[i], k))
			return true;
	return false;
}

int df_parse_arg(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	const df_node_t *n = nc->n;
	struct df_plan_priv *pv = b->c->pv;
	if (n->n_args == 0)
		return nerr(nc, "ARG requires at least one argument");
	_cleanup_free_ char **env = df_step_env(b);
	s->u.kv.kvs = cb_xcalloc(n->n_args, sizeof(df_kv_t));
	for (size_t i = 0; i < n->n_args; i++) {
		df_kv_t *kv = &s->u.kv.kvs[s->u.kv.n_kvs++];
		const char *w = n->args[i];
		const char *eq = strchr(w, '=');
		kv->key = eq ? cb_xstrndup(w, (size_t)(eq - w)) : cb_xstrdup(w);
		if (!*kv->key)
			return nerr(nc, "ARG names can not be blank");
		if (eq && df_xword(b, nc, eq + 1, env, 0, &kv->value) < 0)
			return -1;
	}
	for (size_t i = 0; i < s->u.kv.n_kvs; i++) {
		df_kv_t *kv = &s->u.kv.kvs[i];
		const char *ba = df_build_arg(pv, kv->key);
		df_consume_arg(pv, kv->key);
		const char *v = ba ? ba : kv->value;
		if (!v && !kv->value) {
			/* re-declaring a global ARG (or a predefined one) brings it in */
			if (df_strv_contains(pv->meta_declared, kv->key) || is_predefined(kv->key))
				v = df_strv_get(pv->meta_env, kv->key);
			if (!v && is_predefined(kv->key))
				v = predefined_value(pv, kv->key);
		}
		if (v) {
			df_strv_set(&b->s.args, kv->key, v);
			if (v != kv->value) {
				free(kv->value);
				kv->value = cb_xstrdup(v);
			}
		}
	}
	return 0;
}

int df_parse_workdir(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	if (df_need_args(nc, 1, 1) < 0)
		return -1;
	_cleanup_free_ char **env = df_step_env(b);
	_cleanup_free_ char *w = NULL;
	if (df_xword(b, nc, nc->n->args[0], env, 0, &w) < 0)
		return -1;
	if (!*w)
		return nerr(nc, "WORKDIR path can not be empty");
	s->u.value = w[0] == '/' ? path_clean(w) : df_path_join_clean(b->s.workdir, w);
	free(b->s.workdir);
	b->s.workdir = cb_xstrdup(s->u.value);
	free(s->workdir);
	s->workdir = cb_xstrdup(b->s.workdir);
	return 0;
}

/* One argument, expanded when the table says so. */
static int do_simple(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	if (df_need_args(nc, 1, 1) < 0)
		return -1;
	if (!(df_instruction(s->kind)->expand & DF_XW_ARGS)) {
		s->u.value = cb_xstrdup(nc->n->args[0]);
		return 0;
	}
	_cleanup_free_ char **env = df_step_env(b);
	return df_xword(b, nc, nc->n->args[0], env, 0, &s->u.value);
}

static bool valid_signal(const char *v)
{
	static const char *const sigs[] = {
		"ABRT",
		"ALRM",
		"BUS",
		"CHLD",
		"CLD",
		"CONT",
		"FPE",
		"HUP",
		"ILL",
		"INT",
		"IO",
		"IOT",
		"KILL",
		"PIPE",
		"POLL",
		"PROF",
		"PWR",
		"QUIT",
		"SEGV",
		"STKFLT",
		"STOP",
		"SYS",
		"TERM",
		"TRAP",
		"TSTP",
		"TTIN",
		"TTOU",
		"URG",
		"USR1",
		"USR2",
		"VTALRM",
		"WINCH",
		"XCPU",
		"XFSZ",
		"RTMIN",
		"RTMAX",
	};
	if (!*v)
		return false;
	bool digits = true;
	for (const char *p = v; *p; p++)
		if (!isdigit((unsigned char)*p))
			digits = false;
	if (digits)
		return strlen(v) < 4 && atoi(v) > 0 && atoi(v) <= 64;
	const char *name = v;
	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	for (size_t i = 0; i < CB_ARRAY_SIZE(sigs); i++) {
		size_t l = strlen(sigs[i]);
		if (!strncasecmp(name, sigs[i], l)) {
			const char *r = name + l;
			if (!*r)
				return true;
			if ((!strcmp(sigs[i], "RTMIN") && *r == '+') ||
			    (!strcmp(sigs[i], "RTMAX") && *r == '-')) {
				for (const char *q = r + 1; *q; q++)
					if (!isdigit((unsigned char)*q))
						return false;
				return r[1] != '\0';
			}
		}
	}
	return false;
}

int df_parse_expose(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	if (df_need_args(nc, 1, SIZE_MAX) < 0)
		return -1;
	_cleanup_free_ char **env = df_step_env(b);
	for (size_t i = 0; i < nc->n->n_args; i++) {
		char **words = NULL;
		cb_error_t e = CB_ERROR_INIT;
		if (df_expand_words(nc->n->args[i], env, b->c->pv->xflags, &words, &e) < 0) {
			nerr(nc, "%s", e.msg);
			cb_error_release(&e);
			return -1;
		}
		for (size_t w = 0; words[w]; w++) {
			char *p = words[w];
			char *proto = strchr(p, '/');
			const char *pr = "tcp";
			if (proto) {
				*proto++ = '\0';
				for (char *q = proto; *q; q++)
					*q = (char)tolower((unsigned char)*q);
				pr = proto;
				if (strcmp(pr, "tcp") && strcmp(pr, "udp") && strcmp(pr, "sctp")) {
					nerr(nc, "invalid proto: %s", proto);
					cb_strv_free(words);
					return -1;
				}
			}
			char *dash = strchr(p, '-');
			char *end1 = NULL, *end2 = NULL;
			long lo = strtol(p, &end1, 10), hi = lo;
			bool ok = end1 != p && (dash ? end1 == dash : *end1 == '\0');
			if (ok && dash) {
				hi = strtol(dash + 1, &end2, 10);
				ok = end2 != dash + 1 && *end2 == '\0';
			}
			if (!ok || lo < 0 || hi > 65535 || lo > hi) {
				nerr(nc, "invalid containerPort: %s", p);
				cb_strv_free(words);
				return -1;
			}
			for (long port = lo; port <= hi; port++) {
				_cleanup_free_ char *spec = cb_asprintf("%ld/%s", port, pr);
				if (!df_strv_contains(s->u.list, spec))
					s->u.list = cb_strv_push(s->u.list, spec);
			}
		}
		cb_strv_free(words);
	}
	return 0;
}

int df_parse_volume(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	if (df_need_args(nc, 1, SIZE_MAX) < 0)
		return -1;
	_cleanup_free_ char **env = df_step_env(b);
	for (size_t i = 0; i < nc->n->n_args; i++) {
		char *v = NULL;
		if (df_xword(b, nc, nc->n->args[i], env, 0, &v) < 0)
			return -1;
		if (!*v) {
			free(v);
			return nerr(nc, "VOLUME specified can not be an empty string");
		}
		s->u.list = cb_strv_push_take(s->u.list, v);
	}
	return 0;
}

char **df_with_shell(char *const *shell, const char *cmd)
{
	char **v = cb_strv_dup(shell);
	return cb_strv_push(v, cmd);
}

int df_parse_cmdline(struct df_parse_ctx *pc)
{
	PC_LOCALS(pc);
	const df_node_t *n = nc->n;
	if (s->kind == DF_SHELL) {
		if (!n->json)
			return nerr(nc, "SHELL requires the arguments to be in JSON form");
		if (n->n_args == 0)
			return nerr(nc, "SHELL requires at least one argument");
	}
	s->u.cmd.exec_form = n->json;
	if (n->json) {
		s->u.cmd.argv = cb_strv_dup(n->args);
	} else {
		s->u.cmd.argv = df_with_shell(b->s.shell, n->n_args ? n->args[0] : "");
	}
	if (s->kind == DF_SHELL) {
		cb_strv_free(b->s.shell);
		b->s.shell = cb_strv_dup(n->args);
	}
	return 0;
}

/* Go time.ParseDuration, to nanoseconds. */
static int parse_duration(const char *s, int64_t *out)
{
	const char *p = s;
	bool neg = false;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!strcmp(p, "0")) {
		*out = 0;
		return 0;
	}
	if (!*p)
		return -1;
	double total = 0;
	while (*p) {
		char *e;
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
		double v = strtod(p, &e);
		if (e == p)
			return -1;
		p = e;
		double unit;
		if (!strncmp(p, "ns", 2))
			unit = 1, p += 2;
		else if (!strncmp(p, "us", 2))
			unit = 1e3, p += 2;
		else if (!strncmp(p, "\xC2\xB5s", 3))
			unit = 1e3, p += 3;
		else if (!strncmp(p, "ms", 2))
			unit = 1e6, p += 2;
		else if (*p == 's')
			unit = 1e9, p += 1;
		else if (*p == 'm')
			unit = 60e9, p += 1;
		else if (*p == 'h')
			unit = 3600e9, p += 1;
		else
			return -1;
		total += v * unit;
	}
	if (total > 9.2e18)
		return -1;
	*out = (int64_t)(neg ? -total : total);
	return 0;
}

int df_parse_healthcheck(struct df_parse_ctx *pc)
{
	nctx_t *nc = pc->nc;
	df_step_t *s = pc->s;
	const df_node_t *n = nc->n;
	fdef_t *f = pc->f;
	int rc = -1;
	if (n->n_args == 0) {
		nerr(nc, "HEALTHCHECK requires at least one argument");
		goto out;
	}
	df_healthcheck_t *h = &s->u.health;
	const char *typ = n->args[0];
	if (!strcasecmp(typ, "NONE")) {
		if (n->n_args > 1 || n->flags) {
			nerr(nc, "HEALTHCHECK NONE takes no arguments");
			goto out;
		}
		h->test = cb_strv_push(NULL, "NONE");
		rc = 0;
		goto out;
	}
	if (strcasecmp(typ, "CMD")) {
		nerr(nc, "unknown type \"%s\" in HEALTHCHECK (try CMD)", typ);
		goto out;
	}
	if (n->n_args < 2 && !n->json) {
		nerr(nc, "missing command after HEALTHCHECK CMD");
		goto out;
	}
	if (n->json) {
		h->test = cb_strv_push(NULL, "CMD");
		for (size_t i = 1; i < n->n_args; i++)
			h->test = cb_strv_push(h->test, n->args[i]);
	} else {
		h->test = cb_strv_push(NULL, "CMD-SHELL");
		h->test = cb_strv_push(h->test, n->args[1]);
	}
	int64_t *durs[] = {&h->interval_ns, &h->timeout_ns, &h->start_period_ns,
			   &h->start_interval_ns};
	for (size_t i = 0; i < 4; i++) {
		if (!f[i].used)
			continue;
		int64_t d;
		if (parse_duration(f[i].value, &d) < 0) {
			df_nerr_col(nc, f[i].col, "invalid duration \"%s\" for --%s", f[i].value,
				    f[i].name);
			goto out;
		}
		if (d < 0) {
			df_nerr_col(nc, f[i].col, "--%s cannot be negative", f[i].name);
			goto out;
		}
		if (d != 0 && d < 1000000) {
			df_nerr_col(nc, f[i].col, "--%s cannot be less than 1ms", f[i].name);
			goto out;
		}
		*durs[i] = d;
	}
	if (f[4].used) {
		char *e;
		long r = strtol(f[4].value, &e, 10);
		if (!*f[4].value || *e || r > 1000000000L) {
			df_nerr_col(nc, f[4].col, "invalid value \"%s\" for --retries", f[4].value);
			goto out;
		}
		if (r < 0) {
			df_nerr_col(nc, f[4].col, "--retries cannot be negative");
			goto out;
		}
		h->retries = (int)r;
	}
	rc = 0;
out:
	return rc;
}

int df_parse_env(struct df_parse_ctx *pc)
{
	return do_kv(pc, true);
}

int df_parse_label(struct df_parse_ctx *pc)
{
	return do_kv(pc, false);
}

int df_parse_user(struct df_parse_ctx *pc)
{
	if (do_simple(pc) < 0)
		return -1;
	free(pc->b->s.user);
	pc->b->s.user = cb_xstrdup(pc->s->u.value);
	return 0;
}

int df_parse_stopsignal(struct df_parse_ctx *pc)
{
	if (do_simple(pc) < 0)
		return -1;
	if (!valid_signal(pc->s->u.value))
		return nerr(pc->nc, "invalid signal: %s", pc->s->u.value);
	return 0;
}

int df_parse_maintainer(struct df_parse_ctx *pc)
{
	return do_simple(pc);
}

int df_parse_onbuild(struct df_parse_ctx *pc)
{
	const df_node_t *n = pc->nc->n;
	if (n->n_args == 0)
		return nerr(pc->nc, "ONBUILD requires at least one argument");
	pc->s->u.value = cb_xstrdup(n->args[0]);
	pc->st->onbuild = cb_strv_push(pc->st->onbuild, n->args[0]);
	pc->b->s.onbuild = cb_strv_push(pc->b->s.onbuild, n->args[0]);
	return 0;
}
