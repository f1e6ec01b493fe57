/*
 * cmd/plan.c - `cbuild plan`: parse a Dockerfile and print the build plan
 * (what `build --dry-run` would run), as text or JSON. A base image in the
 * store gives the planner its config as the build's does (its Env,
 * WorkingDir, Shell, User and ONBUILD triggers), so the plan printed is the
 * plan the build runs; a base not in the store is named in a note.
 *
 *   cbuild plan [-f FILE|-] [--target S] [--build-arg K[=V]]...
 *               [--platform OS/ARCH] [--format text|json] [CONTEXT]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "builder/builder.h"
#include "cmd/cmd.h"
#include "cmd/resolve.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/image.h"
#include "parser/plan.h"

#define MAX_DOCKERFILE (16u << 20)

static int read_stdin(char **data, size_t *len, cb_error_t *err)
{
	cb_buf_t b;
	cb_buf_init(&b);
	char tmp[65536];
	for (;;) {
		ssize_t n = cb_read_all(STDIN_FILENO, tmp, sizeof(tmp), err);
		if (n < 0) {
			cb_buf_release(&b);
			return cb_error_wrap(err, "read Dockerfile from stdin");
		}
		cb_buf_add(&b, tmp, (size_t)n);
		if (b.len > MAX_DOCKERFILE) {
			cb_buf_release(&b);
			return cb_error_set(err, EFBIG, "Dockerfile on stdin is larger than %u bytes",
					    MAX_DOCKERFILE);
		}
		if ((size_t)n < sizeof(tmp))
			break;
	}
	*data = cb_buf_detach(&b, len);
	cb_buf_release(&b);
	return 0;
}

/* The platform this machine builds on, as BuildKit names it. */
static char *host_platform(void)
{
	struct utsname u;
	const char *arch = "amd64";
	if (uname(&u) == 0) {
		if (!strcmp(u.machine, "aarch64") || !strcmp(u.machine, "arm64"))
			arch = "arm64";
		else if (!strncmp(u.machine, "armv7", 5))
			return cb_xstrdup("linux/arm/v7");
		else if (!strcmp(u.machine, "i686") || !strcmp(u.machine, "i386"))
			arch = "386";
		else if (!strcmp(u.machine, "ppc64le") || !strcmp(u.machine, "s390x") ||
			 !strcmp(u.machine, "riscv64"))
			arch = u.machine;
	}
	return cb_asprintf("linux/%s", arch);
}

/* The store, when there is one: `plan` reads images but never makes a store. */
static store_t *existing_store(cmd_ctx_t *ctx)
{
	_cleanup_free_ char *root =
		ctx->root_override ? cb_xstrdup(ctx->root_override) : store_default_root();
	_cleanup_free_ char *index = cb_path_join(root, "index.json");
	if (access(index, F_OK) < 0)
		return NULL;
	cb_error_t e = CB_ERROR_INIT;
	store_t *st = cmd_store(ctx, &e);
	if (!st) {
		cb_warn("%s", e.msg);
		cb_error_release(&e);
	}
	return st;
}

/* df_base_resolver_t of `plan`: a base image in the store gives its config
 * (bld_base_config, as the build does), so that `plan` shows what the build
 * will run; for one the store lacks, a note says what could not be applied. */
typedef struct plan_bases {
	cmd_ctx_t *ctx;
	const char *platform;
	store_t *st;
	bool looked;
	image_t *img; /* the last one given: the planner copies its config */
	char **notes;
} plan_bases_t;

static int plan_base(void *ctx, const df_stage_t *stage, df_base_config_t *cfg, cb_error_t *err)
{
	plan_bases_t *pb = ctx;
	if (!pb->looked) {
		pb->st = existing_store(pb->ctx);
		pb->looked = true;
	}
	const char *plat = stage->platform ? stage->platform : pb->platform;
	_cleanup_free_ char *md = NULL;
	int found = pb->st ? cmd_find_local_image(pb->st, stage->base_image, plat, &md, err) : 0;
	if (found < 0)
		return -1;
	if (!found) {
		pb->notes = cb_strv_push_take(
			pb->notes, cb_asprintf("# base image \"%s\" not in the store: its ENV, "
					       "WORKDIR, SHELL, USER and ONBUILD are not applied",
					       stage->base_image));
		return 0;
	}
	image_free(pb->img);
	pb->img = image_load(pb->st, md, err);
	if (!pb->img)
		return cb_error_wrap(err, "base image '%s'", stage->base_image);
	bld_base_config(pb->img->config, cfg);
	return 1;
}

enum { O_TARGET = CMD_OPT_LONG, O_FORMAT, O_PLATFORM, O_BUILD_ARG };

const cmd_opt_t cmd_plan_opts[] = {
	{"file", 'f', CMD_ARG_REQUIRED, "FILE", "the Dockerfile (default CONTEXT/Dockerfile; - for stdin)"},
	{"target", O_TARGET, CMD_ARG_REQUIRED, "STAGE", "plan up to this stage"},
	{"build-arg", O_BUILD_ARG, CMD_ARG_REQUIRED, "K[=V]", "set a build-time ARG (no =V: from the environment)",
	 CMD_OPT_REPEAT},
	{"platform", O_PLATFORM, CMD_ARG_REQUIRED, "OS/ARCH[/VARIANT]", "the target platform"},
	{"format", O_FORMAT, CMD_ARG_REQUIRED, "text|json", "output format (default text)"},
	{0}};

int cmd_plan(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const char *file = NULL, *target = NULL, *format = "text", *context = NULL;
	const char *platform = NULL;
	_cleanup_strv_ char **build_args = NULL;
	cmd_opts_t p;
	int c;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		const char *v = p.arg;
		if (c == 'f') {
			file = v;
		} else if (c == O_TARGET) {
			target = v;
		} else if (c == O_FORMAT) {
			format = v;
		} else if (c == O_PLATFORM) {
			platform = v;
		} else if (strchr(v, '=')) {
			build_args = cb_strv_push(build_args, v);
		} else {
			/* like docker: a bare KEY takes its value from the environment */
			const char *e = getenv(v);
			if (e) {
				_cleanup_free_ char *kv = cb_asprintf("%s=%s", v, e);
				build_args = cb_strv_push(build_args, kv);
			}
		}
	}
	if (c < 0)
		return c;
	if (p.nargs > 1)
		return cmd_usage_error(err, "more than one context given ('%s')", p.args[1]);
	context = p.nargs ? p.args[0] : NULL;
	if (strcmp(format, "text") && strcmp(format, "json"))
		return cmd_usage_error(err, "unknown format '%s' (text or json)", format);
	if (!context)
		context = ".";
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *name = NULL;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (file && !strcmp(file, "-")) {
		name = cb_xstrdup("Dockerfile");
		if (read_stdin(&data, &len, err) < 0)
			return -1;
	} else {
		path = file ? cb_xstrdup(file) : cb_path_join(context, "Dockerfile");
		name = !file && !strcmp(context, ".") ? cb_xstrdup("Dockerfile") : cb_xstrdup(path);
		if (cb_read_file(path, MAX_DOCKERFILE, &data, &len, err) < 0)
			return cb_error_wrap(err, "read Dockerfile '%s'", path);
	}
	/* --platform is the target (normalized as build's; of a list, the
	 * first); the build platform is this machine */
	_cleanup_free_ char *host = host_platform();
	_cleanup_free_ char *norm = NULL;
	if (platform) {
		oci_platform_t *pl = NULL;
		size_t npl = 0;
		cb_error_t e = CB_ERROR_INIT;
		if (oci_platform_parse_list(platform, &pl, &npl, &e) < 0) {
			int r = cmd_usage_error(err, "--platform: %s", e.msg);
			cb_error_release(&e);
			return r;
		}
		norm = oci_platform_format(&pl[0]);
		free(pl);
		platform = norm;
	}
	plan_bases_t pb = {.ctx = ctx, .platform = platform};
	df_plan_opts_t opts = {
		.build_args = build_args,
		.target = target,
		.platform = {.build_platform = host, .target_platform = platform},
		.base = {plan_base, &pb},
	};
	df_plan_t *plan = NULL;
	_cleanup_strv_ char **warnings = NULL;
	int prc = df_plan_from_bytes(name, data, len, &opts, &plan, &warnings, err);
	image_free(pb.img);
	_cleanup_strv_ char **notes = pb.notes;
	if (prc < 0)
		return -1;
	for (size_t i = 0; warnings && warnings[i]; i++)
		cb_warn("%s", warnings[i]);
	bool json = !strcmp(format, "json");
	for (size_t i = 0; notes && notes[i]; i++) { /* JSON stays parseable */
		if (json)
			cb_warn("%s", notes[i] + 2);
		else
			printf("%s\n", notes[i]);
	}
	_cleanup_free_ char *out = json ? df_plan_to_json(plan) : df_plan_to_text(plan);
	fputs(out, stdout);
	df_plan_free(plan);
	return 0;
}
