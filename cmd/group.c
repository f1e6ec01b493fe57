/* cmd/group.c - verbs made of subcommands (network, image, container) and
 * docker's management forms: `cbuild image ls` is `cbuild images`,
 * `cbuild container rm` is `cbuild rm`, each with the same option table. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"

static void print_group_help(const cmd_def_t *group, const cmd_def_t *subs, FILE *fp)
{
	fprintf(fp, "usage: %s\n\n%c%s\n\nCommands:\n", group->usage,
		group->summary[0] - 'a' + 'A', group->summary + 1);
	for (const cmd_def_t *s = subs; s->name; s++)
		if (s->summary) /* aliases have none */
			fprintf(fp, "  %-12s %s\n", s->name, s->summary);
	fprintf(fp, "\nRun 'cbuild %s COMMAND --help' for more information on a command.\n",
		group->name);
}

int cmd_group(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const cmd_def_t *group = ctx->verb, *subs = group->subs;
	/* `cbuild image`, `cbuild image --help`: the list, as docker (exit 0) */
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_group_help(group, subs, stdout);
		return CMD_HELP;
	}
	for (const cmd_def_t *s = subs; s->name; s++) {
		if (strcmp(argv[1], s->name))
			continue;
		ctx->verb = s; /* its table parses, its usage is printed on errors */
		return s->fn(ctx, argc - 1, argv + 1, err);
	}
	return cmd_usage_error(err, "unknown %s command '%s'", group->name, argv[1]);
}

/* docker image COMMAND: the image verbs under their management names */
const cmd_def_t cmd_image_subs[] = {
	{"build", cmd_build, "cbuild image build [OPTIONS] CONTEXT|-",
	 "build an image from a Dockerfile", cmd_build_opts},
	{"history", cmd_history, "cbuild image history [OPTIONS] IMAGE", "show an image's history",
	 cmd_history_opts},
	{"import", cmd_import, "cbuild image import [OPTIONS] FILE|- [NAME[:TAG]]",
	 "create an image from a root filesystem tarball", cmd_import_opts},
	{"inspect", cmd_inspect, "cbuild image inspect [OPTIONS] IMAGE...",
	 "show images' details as JSON", cmd_inspect_opts},
	{"load", cmd_load, "cbuild image load [OPTIONS]", "load images from a tar archive",
	 cmd_load_opts},
	{"ls", cmd_images, "cbuild image ls [OPTIONS] [REPOSITORY[:TAG]]", "list images",
	 cmd_images_opts},
	{"list", cmd_images, "cbuild image ls [OPTIONS] [REPOSITORY[:TAG]]", NULL, cmd_images_opts},
	{"prune", cmd_prune, "cbuild image prune [OPTIONS]",
	 "remove untagged images, the build cache and unused layers", cmd_prune_opts},
	{"pull", cmd_pull, "cbuild image pull [OPTIONS] IMAGE", "pull an image from a registry",
	 cmd_pull_opts},
	{"push", cmd_push, "cbuild image push [OPTIONS] IMAGE [DEST]",
	 "push an image to a registry or an OCI layout", cmd_push_opts},
	{"rm", cmd_rmi, "cbuild image rm [OPTIONS] IMAGE...", "remove images", cmd_rmi_opts},
	{"remove", cmd_rmi, "cbuild image rm [OPTIONS] IMAGE...", NULL, cmd_rmi_opts},
	{"save", cmd_save, "cbuild image save [OPTIONS] IMAGE...", "save images to a tar archive",
	 cmd_save_opts},
	{"tag", cmd_tag, "cbuild image tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
	 "give an image another name", cmd_tag_opts},
	{0}};

/* docker container COMMAND */
const cmd_def_t cmd_container_subs[] = {
	{"attach", cmd_attach, "cbuild container attach [OPTIONS] CONTAINER",
	 "attach to a running container: its output, its stdin (-i), signals", cmd_attach_opts},
	{"commit", cmd_commit, "cbuild container commit [OPTIONS] CONTAINER [IMAGE[:TAG]]",
	 "create an image from a container's changes", cmd_commit_opts},
	{"cp", cmd_cp, "cbuild container cp [OPTIONS] CONTAINER:SRC DEST|- | SRC|- CONTAINER:DEST",
	 "copy files between a container and the host", cmd_cp_opts},
	{"diff", cmd_diff, "cbuild container diff CONTAINER",
	 "list the files a container added (A), changed (C) or deleted (D)", cmd_diff_opts},
	{"exec", cmd_exec, "cbuild container exec [OPTIONS] CONTAINER COMMAND [ARG...]",
	 "run a command in a running container", cmd_exec_opts,
	 CMD_OPTS_STOP_AT_ARG | CMD_OPTS_USAGE_125},
	{"inspect", cmd_inspect, "cbuild container inspect [OPTIONS] CONTAINER...",
	 "show containers' details as JSON", cmd_inspect_opts},
	{"kill", cmd_kill, "cbuild container kill [OPTIONS] CONTAINER...",
	 "send a signal (SIGKILL by default) to containers' main process", cmd_kill_opts},
	{"logs", cmd_logs, "cbuild container logs [OPTIONS] CONTAINER", "show a container's output",
	 cmd_logs_opts},
	{"ls", cmd_ps, "cbuild container ls [OPTIONS]", "list containers", cmd_ps_opts},
	{"list", cmd_ps, "cbuild container ls [OPTIONS]", NULL, cmd_ps_opts},
	{"ps", cmd_ps, "cbuild container ls [OPTIONS]", NULL, cmd_ps_opts},
	{"pause", cmd_pause, "cbuild container pause CONTAINER...",
	 "freeze every process of containers", cmd_pause_opts},
	{"port", cmd_port, "cbuild container port CONTAINER [PORT[/tcp|/udp]]",
	 "list a container's published ports", cmd_port_opts},
	{"prune", cmd_container_prune, "cbuild container prune [OPTIONS]",
	 "remove every stopped container", cmd_container_prune_opts},
	{"rename", cmd_rename, "cbuild container rename CONTAINER NEW_NAME", "rename a container",
	 cmd_rename_opts},
	{"restart", cmd_restart, "cbuild container restart [OPTIONS] CONTAINER...",
	 "stop and start containers", cmd_restart_opts},
	{"rm", cmd_rm, "cbuild container rm [OPTIONS] CONTAINER...", "remove containers",
	 cmd_rm_opts},
	{"remove", cmd_rm, "cbuild container rm [OPTIONS] CONTAINER...", NULL, cmd_rm_opts},
	{"run", cmd_run, "cbuild container run [OPTIONS] IMAGE [COMMAND [ARG...]]",
	 "run a command in a new container", cmd_run_opts, CMD_OPTS_STOP_AT_ARG | CMD_OPTS_EXIT_125},
	{"stats", cmd_stats, "cbuild container stats [OPTIONS] [CONTAINER...]",
	 "show containers' CPU, memory, network and block I/O use and PIDs", cmd_stats_opts},
	{"start", cmd_start, "cbuild container start [-a [-i]] CONTAINER...", "start stopped containers",
	 cmd_start_opts},
	{"stop", cmd_stop, "cbuild container stop [OPTIONS] CONTAINER...", "stop running containers",
	 cmd_stop_opts},
	{"top", cmd_top, "cbuild container top CONTAINER [ps OPTIONS]",
	 "show a container's processes", cmd_top_opts, CMD_OPTS_STOP_AT_ARG},
	{"unpause", cmd_unpause, "cbuild container unpause CONTAINER...", "thaw paused containers",
	 cmd_unpause_opts},
	{"wait", cmd_wait, "cbuild container wait CONTAINER...",
	 "block until containers stop, print their exit codes", cmd_wait_opts},
	{0}};

