/* cbuild commit [-m MSG] [-a AUTHOR] [-c INSTRUCTION]... [--pause=true]
 * CONTAINER [IMAGE[:TAG]]: the container's changes as a new image. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "builder/builder.h"
#include "cmd/cmd.h"
#include "runtime/container.h"
#include "common/util.h"
#include "registry/reference.h"

int cmd_commit(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	enum { O_PAUSE = 256, O_FORMAT };
	static const struct option longopts[] = {{"message", required_argument, NULL, 'm'},
						 {"author", required_argument, NULL, 'a'},
						 {"change", required_argument, NULL, 'c'},
						 {"pause", optional_argument, NULL, 'p'},
						 {"format", required_argument, NULL, O_FORMAT},
						 {NULL, 0, NULL, 0}};
	rt_ctr_commit_opts_t co = {.pause = true};
	_cleanup_strv_ char **changes = NULL;
	int o;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "m:a:c:p", longopts, NULL)) != -1) {
		switch (o) {
		case 'm': co.message = optarg; break;
		case 'a': co.author = optarg; break;
		case 'c': changes = cb_strv_push(changes, optarg); break;
		case 'p':
			if (optarg && strcmp(optarg, "true") && strcmp(optarg, "false"))
				return cmd_usage_error(err, "invalid --pause value '%s'", optarg);
			co.pause = !optarg || !strcmp(optarg, "true");
			break;
		case O_FORMAT:
			if (strcmp(optarg, "oci") && strcmp(optarg, "docker"))
				return cmd_usage_error(err, "invalid --format '%s'", optarg);
			co.docker_format = !strcmp(optarg, "docker");
			break;
		default: return cmd_usage_error(err, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return cmd_usage_error(err, "'commit' needs a container and an optional image name");
	co.changes = changes;
	co.apply_changes = bld_apply_changes;
	_cleanup_free_ char *name = NULL;
	if (argc - optind == 2 && !(name = reg_ref_normalize(argv[optind + 1], err)))
		return -1;
	store_t *st = cmd_store(ctx, err);
	rt_ctr_t *c = st ? rt_ctr_load(st, argv[optind], err) : NULL;
	if (!c)
		return -1;
	image_t *img = rt_ctr_commit(st, c, &co, err);
	rt_ctr_free(c);
	if (!img)
		return -1;
	int rc = store_set_ref(st, name, img->manifest_digest, img->manifest->media_type,
			       img->manifest_size, err);
	if (rc == 0)
		printf("%s\n", img->config_digest);
	image_free(img);
	return rc;
}
