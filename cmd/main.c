/*
 * cmd/main.c - entry point: global options, the verb table, exit codes.
 *
 * `cbuild -t app:1 .` (no verb) is a build, as in the docs users know.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/fs.h"
#include "common/util.h"
#include "registry/registry.h"
#include "runtime/container.h"

#ifndef CBUILD_VERSION
#define CBUILD_VERSION "0.1"
#endif

static const cmd_def_t commands[] = {
	{"build", cmd_build, "cbuild [build] [OPTIONS] CONTEXT|-",
	 "build an image from a Dockerfile", cmd_build_opts},
	{"plan", cmd_plan, "cbuild plan [OPTIONS] [CONTEXT]",
	 "print the build plan of a Dockerfile (build --dry-run)", cmd_plan_opts},
	{"run", cmd_run, "cbuild run [OPTIONS] IMAGE [COMMAND [ARG...]]",
	 "run a command in a new container", cmd_run_opts, CMD_OPTS_STOP_AT_ARG | CMD_OPTS_EXIT_125},
	{"ps", cmd_ps, "cbuild ps [OPTIONS]", "list containers", cmd_ps_opts},
	{"port", cmd_port, "cbuild port CONTAINER [PORT[/tcp|/udp]]",
	 "list a container's published ports", cmd_port_opts},
	{"logs", cmd_logs, "cbuild logs [OPTIONS] CONTAINER", "show a container's output",
	 cmd_logs_opts},
	{"exec", cmd_exec, "cbuild exec [OPTIONS] CONTAINER COMMAND [ARG...]",
	 "run a command in a running container", cmd_exec_opts,
	 CMD_OPTS_STOP_AT_ARG | CMD_OPTS_USAGE_125},
	{"stop", cmd_stop, "cbuild stop [OPTIONS] CONTAINER...", "stop running containers",
	 cmd_stop_opts},
	{"start", cmd_start, "cbuild start [-a [-i]] CONTAINER...", "start stopped containers", cmd_start_opts},
	{"rm", cmd_rm, "cbuild rm [OPTIONS] CONTAINER...", "remove containers", cmd_rm_opts},
	{"restart", cmd_restart, "cbuild restart [OPTIONS] CONTAINER...",
	 "stop (STOPSIGNAL, SIGKILL after -t seconds) and start containers", cmd_restart_opts},
	{"kill", cmd_kill, "cbuild kill [OPTIONS] CONTAINER...",
	 "send a signal (SIGKILL by default) to containers' main process", cmd_kill_opts},
	{"wait", cmd_wait, "cbuild wait CONTAINER...",
	 "block until containers stop, print their exit codes", cmd_wait_opts},
	{"rename", cmd_rename, "cbuild rename CONTAINER NEW_NAME", "rename a container",
	 cmd_rename_opts},
	{"cp", cmd_cp,
	 "cbuild cp [OPTIONS] CONTAINER:SRC DEST|-\n"
	 "       cbuild cp [OPTIONS] SRC|- CONTAINER:DEST",
	 "copy files between a container (running or not) and the host", cmd_cp_opts, 0,
	 "An existing directory DEST receives SRC under its own name (with SRC/. :\n"
	 "its contents); a missing DEST becomes the copy; '-' is a tar on stdin or stdout.\n"
	 "Container paths are relative to its root."},
	{"attach", cmd_attach, "cbuild attach [OPTIONS] CONTAINER",
	 "attach to a running container: its output, its stdin (-i), signals, its exit code",
	 cmd_attach_opts, 0,
	 "Ctrl-P Ctrl-Q (--detach-keys) leaves a tty container running. Output shown is\n"
	 "what it prints from now on."},
	{"pause", cmd_pause, "cbuild pause CONTAINER...",
	 "freeze every process of containers (cgroup freezer)", cmd_pause_opts},
	{"unpause", cmd_unpause, "cbuild unpause CONTAINER...", "thaw paused containers",
	 cmd_unpause_opts},
	{"top", cmd_top, "cbuild top CONTAINER [ps OPTIONS]",
	 "show a container's processes (ps -ef by default)", cmd_top_opts, CMD_OPTS_STOP_AT_ARG},
	{"stats", cmd_stats, "cbuild stats [OPTIONS] [CONTAINER...]",
	 "show containers' CPU, memory, network and block I/O use and PIDs", cmd_stats_opts, 0,
	 "Read from /proc for every process of each container (it has no cgroup of\n"
	 "its own): MEM USAGE is their resident memory, LIMIT the host's."},
	{"diff", cmd_diff, "cbuild diff CONTAINER",
	 "list the files a container added (A), changed (C) or deleted (D)", cmd_diff_opts},
	{"commit", cmd_commit, "cbuild commit [OPTIONS] CONTAINER [IMAGE[:TAG]]",
	 "create an image from a container's changes", cmd_commit_opts},
	{"images", cmd_images, "cbuild images [OPTIONS] [REPOSITORY[:TAG]]", "list images",
	 cmd_images_opts},
	{"pull", cmd_pull, "cbuild pull [OPTIONS] IMAGE", "pull an image from a registry",
	 cmd_pull_opts},
	{"push", cmd_push, "cbuild push [OPTIONS] IMAGE [DEST]",
	 "push an image to a registry or an OCI layout", cmd_push_opts,
	 0, "DEST: a registry reference, oci:DIR[:TAG], oci-archive:F[:TAG] or docker-archive:F[:REF]"},
	{"manifest", cmd_group, "cbuild manifest COMMAND",
	 "create and push manifest lists (multi-platform images)", cmd_no_opts,
	 .subs = cmd_manifest_subs},
	{"login", cmd_login, "cbuild login [OPTIONS] [REGISTRY]", "log in to a registry",
	 cmd_login_opts},
	{"logout", cmd_logout, "cbuild logout [REGISTRY]", "log out from a registry",
	 cmd_logout_opts},
	{"tag", cmd_tag, "cbuild tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
	 "give an image another name", cmd_tag_opts},
	{"rmi", cmd_rmi, "cbuild rmi [OPTIONS] IMAGE...", "remove images", cmd_rmi_opts},
	{"inspect", cmd_inspect, "cbuild inspect [OPTIONS] NAME...",
	 "show an image's or a container's details as JSON", cmd_inspect_opts},
	{"history", cmd_history, "cbuild history [OPTIONS] IMAGE", "show an image's history",
	 cmd_history_opts},
	{"save", cmd_save, "cbuild save [OPTIONS] IMAGE...", "save images to a tar archive",
	 cmd_save_opts},
	{"load", cmd_load, "cbuild load [OPTIONS]", "load images from a tar archive", cmd_load_opts},
	{"import", cmd_import, "cbuild import [OPTIONS] FILE|- [NAME[:TAG]]",
	 "create an image from a root filesystem tarball", cmd_import_opts},
	{"compose", cmd_compose, "cbuild compose [OPTIONS] COMMAND [ARGS]",
	 "build and run the services of a compose file", cmd_compose_opts, CMD_OPTS_STOP_AT_ARG,
	 .subs = cmd_compose_subs},
	{"network", cmd_group, "cbuild network COMMAND",
	 "manage networks (a bridge and its address range; containers reach each other by name)",
	 cmd_no_opts, .subs = cmd_network_subs},
	{"volume", cmd_group, "cbuild volume COMMAND",
	 "manage named volumes (volume create, ls, inspect, rm, prune)", cmd_no_opts,
	 .subs = cmd_volume_subs},
	{"system", cmd_group, "cbuild system COMMAND",
	 "housekeeping (system df, system prune, system info)", cmd_no_opts,
	 .subs = cmd_system_subs},
	{"image", cmd_group, "cbuild image COMMAND", "manage images (image ls, rm, inspect, tag, ...)",
	 cmd_no_opts, .subs = cmd_image_subs},
	{"container", cmd_group, "cbuild container COMMAND",
	 "manage containers (container ls, rm, inspect, ...)", cmd_no_opts, .subs = cmd_container_subs},
	{"prune", cmd_prune, "cbuild prune [OPTIONS]",
	 "remove the build cache and unused blobs and layers", cmd_prune_opts},
	{"fsck", cmd_fsck, "cbuild fsck [OPTIONS]",
	 "check the store (blobs, references, leases, unpacked layers, tmp/)", cmd_fsck_opts},
	{"info", cmd_info, "cbuild info [OPTIONS]",
	 "show the store, the snapshotter and the isolation builds get here (and why)",
	 cmd_info_opts},
	{"version", cmd_version, "cbuild version", "show the version", cmd_version_opts},
};

const cmd_def_t *cmd_table(size_t *n)
{
	*n = CB_ARRAY_SIZE(commands);
	return commands;
}

const cmd_def_t *cmd_find(const char *name)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_help(FILE *fp)
{
	fprintf(fp, "usage: cbuild [--root DIR] COMMAND [OPTIONS] [ARGS]\n"
		    "       cbuild [build] [-t NAME[:TAG]]... [-f Dockerfile] CONTEXT\n\n"
		    "A daemonless OCI image builder and container tool.\n\nCommands:\n");
	for (size_t i = 0; i < CB_ARRAY_SIZE(commands); i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(fp, "\nGlobal options:\n"
		    "  --root DIR   store root (default $CBUILD_ROOT, /var/lib/cbuild as root)\n"
		    "  --help       this text; `cbuild COMMAND --help` for a command\n"
		    "  --version    print the version\n");
}

int cmd_usage_error(cb_error_t *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cb_error_setv(err, 0, fmt, ap);
	va_end(ap);
	return CMD_USAGE;
}

static const char *verb_path(const cmd_def_t *v, char *buf, size_t size);

int cmd_nargs(cmd_ctx_t *ctx, int n, int min, int max, cb_error_t *err)
{
	if (n >= min && (max < 0 || n <= max))
		return 0;
	char path[128];
	const char *vp = ctx->verb ? verb_path(ctx->verb, path, sizeof path) : "cbuild";
	/* cobra's words (docker's CLI): "argument" for one, else "arguments" */
	int last = max < 0 ? min : max;
	const char *noun = last == 1 ? "argument" : "arguments";
	if (max == 0)
		cb_error_fail(err, EINVAL, "\"%s\" accepts no arguments.", vp);
	else if (min == max)
		cb_error_fail(err, EINVAL, "\"%s\" requires exactly %d %s.", vp, min, noun);
	else if (max < 0)
		cb_error_fail(err, EINVAL, "\"%s\" requires at least %d %s.", vp, min, noun);
	else if (min == 0)
		cb_error_fail(err, EINVAL, "\"%s\" requires at most %d %s.", vp, max, noun);
	else
		cb_error_fail(err, EINVAL, "\"%s\" requires at least %d and at most %d %s.", vp,
			      min, max, noun);
	return CMD_NARGS;
}

int cmd_operands(cmd_ctx_t *ctx, const cmd_opts_t *p, int min, int max, store_t **st,
		 cb_error_t *err)
{
	int rc = cmd_nargs(ctx, p->nargs, min, max, err);
	if (rc != 0)
		return rc;
	if (st && !(*st = cmd_store(ctx, err)))
		return -1;
	return 0;
}

int cmd_each(store_t *st, char *const *names, int n, cmd_each_fn fn, void *opaque,
	     cb_error_t *err)
{
	int rc = 0;
	for (int i = 0; i < n; i++) {
		cb_error_t e = CB_ERROR_INIT;
		if (fn(opaque, st, names[i], &e) == 0)
			continue;
		rc = -1;
		if (cb_error_is_set(err))
			cb_error_print(stderr, "cbuild", err), cb_error_release(err);
		if (!cb_error_is_set(&e))
			cb_error_fail(&e, 0, "'%s' failed", names[i]);
		cb_error_move(err, &e);
	}
	return rc;
}

int cmd_each_name(cmd_ctx_t *ctx, int argc, char **argv, cmd_each_fn fn, cb_error_t *err)
{
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	int c;
	while ((c = cmd_opts_next(&p, err)) > 0)
		;
	store_t *st = NULL;
	if (c == 0)
		c = cmd_operands(ctx, &p, 1, -1, &st, err);
	return c < 0 ? c : cmd_each(st, p.args, p.nargs, fn, NULL, err);
}

/* docker's question before a prune; yes only for y/Y/yes. */
bool cmd_confirm(const char *warning)
{
	fprintf(stderr, "%s\nAre you sure you want to continue? [y/N] ", warning);
	fflush(stderr);
	char line[64];
	if (!fgets(line, sizeof line, stdin))
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

store_t *cmd_store(cmd_ctx_t *ctx, cb_error_t *err)
{
	if (ctx->store)
		return ctx->store;
	_cleanup_free_ char *root =
		ctx->root_override ? cb_xstrdup(ctx->root_override) : store_default_root();
	if (store_open(root, &ctx->store, err) < 0)
		return NULL;
	/* blobs of remote build-cache hits come from their registry on use */
	store_set_blob_fetcher(ctx->store, reg_fetch_blob, NULL);
	/* no daemon starts containers after a reboot: the first command does */
	rt_ctr_boot(ctx->store);
	return ctx->store;
}

const cmd_opt_t cmd_version_opts[] = {{0}};

int cmd_version(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	int c = cmd_opts_next(&p, err);
	if (c != 0)
		return c;
	if (p.nargs)
		return cmd_nargs(ctx, p.nargs, 0, 0, err);
	printf("cbuild version %s\n", CBUILD_VERSION);
	return 0;
}

/* "cbuild network create" out of its usage line: the words before the
 * first option or operand. */
static const char *verb_path(const cmd_def_t *v, char *buf, size_t size)
{
	size_t n = 0;
	for (const char *w = v->usage; *w && n + 1 < size;) {
		size_t len = strcspn(w, " ");
		if (w[0] == '[' || w[0] == '-' || (w[0] >= 'A' && w[0] <= 'Z') || n + len + 2 > size)
			break;
		if (n)
			buf[n++] = ' ';
		memcpy(buf + n, w, len);
		n += len;
		w += len + (w[len] == ' ');
	}
	buf[n] = 0;
	/* "cbuild [build] ...": the verb is optional there, not in the path */
	if (!strcmp(buf, "cbuild") && v->name && strchr(v->name, ' ') == NULL)
		snprintf(buf, size, "cbuild %s", v->name);
	return buf;
}

static int run_command(cmd_ctx_t *ctx, const cmd_def_t *c, int argc, char **argv)
{
	char path[128];
	cb_error_t err = CB_ERROR_INIT;
	ctx->verb = c;
	int rc = c->fn(ctx, argc, argv, &err);
	if (rc == 0)
		return ctx->exit_code;
	if (rc == CMD_HELP)
		return 0;
	const cmd_def_t *v = ctx->verb ? ctx->verb : c;
	if (rc == CMD_NARGS) {
		/* docker's layout for a wrong operand count, exit 1 */
		fprintf(stderr, "%s\nSee '%s --help'.\n\nUsage:  %s\n\n%s\n", err.msg,
			verb_path(v, path, sizeof(path)), v->usage, v->summary ? v->summary : "");
		cb_error_release(&err);
		return 1;
	}
	cb_error_print(stderr, "cbuild", &err);
	cb_error_release(&err);
	bool usage = rc == CMD_USAGE || rc == CMD_BAD_FLAG;
	if (!usage && ctx->fail_code)
		return ctx->fail_code;
	/* docker's run says 125 for its own failures, usage included, so that
	 * a script tells them from the command's exit status; exec for usage */
	/* a subcommand's own usage and flags (network create, container run):
	 * v above */
	if (usage) {
		fprintf(stderr, "usage: %s\nSee '%s --help'.\n", v->usage, verb_path(v, path, sizeof(path)));
		if (rc == CMD_BAD_FLAG)
			return 125;
		return v->flags & (CMD_OPTS_EXIT_125 | CMD_OPTS_USAGE_125) ? 125 : 2;
	}
	return v->flags & CMD_OPTS_EXIT_125 ? 125 : 1;
}

int main(int argc, char **argv)
{
	cmd_ctx_t ctx = {0};
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--root") && i + 1 < argc) {
			ctx.root_override = argv[++i];
		} else if (!strncmp(argv[i], "--root=", 7)) {
			ctx.root_override = argv[i] + 7;
		} else if (!strcmp(argv[i], "--debug")) {
			ctx.debug = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			print_help(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-v")) {
			printf("cbuild version %s\n", CBUILD_VERSION);
			return 0;
		} else {
			break;
		}
	}
	if (i >= argc) {
		print_help(stderr);
		return 2;
	}
	const cmd_def_t *c = cmd_find(argv[i]);
	/* not in the table: no help, no completion lists it */
	static const cmd_def_t doc = {"__doc", cmd___doc, "cbuild __doc man PAGE|man-list|bash|zsh",
				      "write the man pages and completions", cmd_no_opts};
	if (!c && !strcmp(argv[i], "__doc"))
		c = &doc;
	int rc;
	if (c) {
		rc = run_command(&ctx, c, argc - i, argv + i);
	} else if (argv[i][0] == '-' || !strcmp(argv[i], "-") || cb_is_dir(argv[i])) {
		/* no verb: a build, with argv[i..] as its arguments */
		const cmd_def_t *b = cmd_find("build");
		if (!b) {
			fprintf(stderr, "cbuild: error: unknown command '%s'\n", argv[i]);
			return 2;
		}
		char **bargv = cb_xcalloc((size_t)(argc - i + 2), sizeof(char *));
		bargv[0] = "build";
		memcpy(bargv + 1, argv + i, (size_t)(argc - i) * sizeof(char *));
		rc = run_command(&ctx, b, argc - i + 1, bargv);
		free(bargv);
	} else {
		fprintf(stderr, "cbuild: error: unknown command '%s'\nsee 'cbuild --help'\n", argv[i]);
		rc = 2;
	}
	reg_warm_up_join(); /* before exit() tears libcurl and OpenSSL down */
	store_free(ctx.store);
	return rc;
}
