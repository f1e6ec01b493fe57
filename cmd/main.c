/*
 * cmd/main.c - entry point: global options, the verb table, exit codes.
 *
 * `cbuild -t app:1 .` (no verb) is a build, as in the docs users know.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/fs.h"
#include "common/util.h"
#include "registry/registry.h"

#ifndef CBUILD_VERSION
#define CBUILD_VERSION "0.1"
#endif

static const cmd_def_t commands[] = {
	{"build", cmd_build,
	 "cbuild [build] [-t NAME[:TAG]]... [-f Dockerfile|-] [--build-arg K[=V]]... "
	 "[--target STAGE] [--platform OS/ARCH[/VARIANT][,...]] [--no-cache] [--pull] [--label K=V]... [--network host|none] "
	 "[--format oci|docker] [--compress gzip|zstd|none] [--timestamp EPOCH] [--iidfile F] "
	 "[--progress auto|plain|tty] [--secret id=X,src=F] [--ssh ID[=SOCKET]] [--explain-cache] [--cache-to REF [--cache-to-mode min|max]] [--cache-from REF[,REF]] [--dry-run] [--jobs N] [--allow security.insecure] [--isolation auto|namespaces|chroot] [-q] "
	 "CONTEXT",
	 "build an image from a Dockerfile"},
	{"plan", cmd_plan,
	 "cbuild plan [-f FILE|-] [--target STAGE] [--build-arg K[=V]]... [--platform P] "
	 "[--format text|json] [CONTEXT]",
	 "print the build plan of a Dockerfile (build --dry-run)"},
	{"run", cmd_run,
	 "cbuild run [-d] [-i] [-t] [--rm] [--name NAME] [-e K=V]... [--env-file F] "
	 "[-v HOST:CTR[:ro]]... [-w DIR] [-u USER] [--hostname H] [--network host|none|NETWORK] "
	 "[--entrypoint E] [-p [[IP:]HOSTPORT:]CTRPORT[/tcp|/udp]]... [-P] "
	 "[--network-alias NAME]... [--ip IP] "
	 "[--log-opt max-size=N|max-file=N]... [--platform OS/ARCH[/VARIANT]] "
	 "[--security-opt seccomp=unconfined|PROFILE.json] [--pids-limit N] "
	 "IMAGE [COMMAND [ARG...]]",
	 "run a command in a new container"},
	{"ps", cmd_ps, "cbuild ps [-a] [-q] [--no-trunc] [-f KEY=VALUE]... [--format F]",
	 "list containers"},
	{"port", cmd_port, "cbuild port CONTAINER [PORT[/tcp|/udp]]",
	 "list a container's published ports"},
	{"logs", cmd_logs, "cbuild logs [-f] [--tail N] [-t] [--since T] [--until T] CONTAINER",
	 "show a container's output"},
	{"exec", cmd_exec,
	 "cbuild exec [-i] [-t] [-e K=V]... [-u USER] [-w DIR] CONTAINER COMMAND [ARG...]",
	 "run a command in a running container"},
	{"stop", cmd_stop, "cbuild stop [-t SECONDS] CONTAINER...", "stop running containers"},
	{"start", cmd_start, "cbuild start CONTAINER...", "start stopped containers"},
	{"rm", cmd_rm, "cbuild rm [-f] CONTAINER...", "remove containers"},
	{"diff", cmd_diff, "cbuild diff CONTAINER",
	 "list the files a container added (A), changed (C) or deleted (D)"},
	{"commit", cmd_commit,
	 "cbuild commit [-m MESSAGE] [-a AUTHOR] [-c INSTRUCTION]... [--pause=true|false] "
	 "CONTAINER [IMAGE[:TAG]]",
	 "create an image from a container's changes"},
	{"images", cmd_images, "cbuild images [-q] [--digests] [--no-trunc] [--all-platforms] [--format F] [REPOSITORY[:TAG]]",
	 "list images"},
	{"pull", cmd_pull, "cbuild pull [--platform OS/ARCH[/VARIANT]] [--all-platforms] [--tls-verify=false] IMAGE",
	 "pull an image from a registry"},
	{"push", cmd_push,
	 "cbuild push [--format oci|docker] [--digestfile F] [--tls-verify=false] IMAGE [DEST]",
	 "push an image to a registry or an OCI layout"},
	{"manifest", cmd_manifest,
	 "cbuild manifest create [--amend] [--all] [--format oci|docker] LIST [IMAGE...] | "
	 "add [--all] [--os OS] [--arch ARCH] [--variant V] [--annotation K=V]... LIST IMAGE | "
	 "annotate [--os OS] [--arch ARCH] [--variant V] [--annotation K=V]... LIST DIGEST | "
	 "remove LIST DIGEST | inspect LIST | push [--tls-verify=false] "
	 "[--digestfile F] LIST [DEST] | rm LIST...",
	 "create and push manifest lists (multi-platform images)"},
	{"login", cmd_login, "cbuild login [-u USER] [-p PASS | --password-stdin] REGISTRY",
	 "log in to a registry"},
	{"logout", cmd_logout, "cbuild logout REGISTRY", "log out from a registry"},
	{"tag", cmd_tag, "cbuild tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
	 "give an image another name"},
	{"rmi", cmd_rmi, "cbuild rmi [-f] IMAGE...", "remove images"},
	{"inspect", cmd_inspect, "cbuild inspect [--type image|container] [--platform OS/ARCH[/VARIANT]] [--raw|--sbom|--provenance] NAME...",
	 "show an image's or a container's details as JSON"},
	{"history", cmd_history, "cbuild history [--no-trunc] [-q] [--format FORMAT] [--platform OS/ARCH[/VARIANT]] IMAGE", "show an image's history"},
	{"save", cmd_save, "cbuild save [-o FILE] [--platform OS/ARCH[/VARIANT]] IMAGE...", "save images to a tar archive"},
	{"load", cmd_load, "cbuild load [-i FILE] [-q]", "load images from a tar archive"},
	{"import", cmd_import, "cbuild import [-c INSTRUCTION]... [-m MESSAGE] [--platform OS/ARCH[/VARIANT]] FILE|- [NAME[:TAG]]",
	 "create an image from a root filesystem tarball"},
	{"compose", cmd_compose,
	 "cbuild compose [-f FILE]... [-p PROJECT] [--project-directory DIR] [--env-file FILE] "
	 "build|up|down|ps|logs|push|pull|config [OPTIONS] [SERVICE...]",
	 "build and run the services of a compose file"},
	{"network", cmd_network,
	 "cbuild network create [-d bridge] [--subnet CIDR] [--internal] NETWORK\n"
	 "       cbuild network ls [-q] [--no-trunc]\n"
	 "       cbuild network rm NETWORK...\n"
	 "       cbuild network inspect NETWORK...\n"
	 "       cbuild network connect [--alias NAME]... [--ip IP] NETWORK CONTAINER\n"
	 "       cbuild network disconnect NETWORK CONTAINER\n"
	 "A network is a bridge and a subnet: each container on it has its own\n"
	 "address and reaches the others by name (and alias) on any port.\n"
	 "`cbuild run --network NETWORK` starts a container on it",
	 "manage networks"},
	{"prune", cmd_prune, "cbuild prune [--keep-cache]",
	 "remove the build cache and unused blobs and layers"},
	{"fsck", cmd_fsck, "cbuild fsck [--repair]",
	 "check the store (blobs, references, leases, unpacked layers, tmp/)"},
	{"info", cmd_info, "cbuild info [--isolation auto|namespaces|chroot]",
	 "show the store, the snapshotter and the isolation builds get here (and why)"},
	{"version", cmd_version, "cbuild version", "show the version"},
};

static const cmd_def_t *find_command(const char *name)
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

void cmd_print_usage(const char *verb)
{
	const cmd_def_t *c = find_command(verb);
	if (c)
		fprintf(stderr, "usage: %s\n", c->usage);
}

bool cmd_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	}
	return false;
}

int cmd_usage_error(cb_error_t *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cb_error_setv(err, 0, fmt, ap);
	va_end(ap);
	return CMD_USAGE;
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
	return ctx->store;
}

int cmd_version(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	(void)ctx, (void)argc, (void)argv, (void)err;
	printf("cbuild version %s\n", CBUILD_VERSION);
	return 0;
}

static int run_command(cmd_ctx_t *ctx, const cmd_def_t *c, int argc, char **argv)
{
	cb_error_t err = CB_ERROR_INIT;
	/* run and exec: what follows IMAGE / CONTAINER is the command's own */
	/* network: what follows the subcommand is the subcommand's (its --help) */
	bool leading = !strcmp(c->name, "run") || !strcmp(c->name, "exec") ||
		       !strcmp(c->name, "network");
	int scan = argc;
	for (int i = 1; leading && i < argc; i++)
		if (argv[i][0] != '-') {
			scan = i;
			break;
		}
	if (cmd_wants_help(scan, argv)) {
		printf("usage: %s\n", c->usage);
		return 0;
	}
	int rc = c->fn(ctx, argc, argv, &err);
	if (rc == 0)
		return ctx->exit_code;
	cb_error_print(stderr, "cbuild", &err);
	cb_error_release(&err);
	if (rc == CMD_USAGE) {
		fprintf(stderr, "usage: %s\n", c->usage);
		return 2;
	}
	return 1;
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
	const cmd_def_t *c = find_command(argv[i]);
	int rc;
	if (c) {
		rc = run_command(&ctx, c, argc - i, argv + i);
	} else if (argv[i][0] == '-' || !strcmp(argv[i], "-") || cb_is_dir(argv[i])) {
		/* no verb: a build, with argv[i..] as its arguments */
		const cmd_def_t *b = find_command("build");
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
