/* cbuild history [--no-trunc] [-q] [--platform os/arch[/variant]] IMAGE */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "common/util.h"

int cmd_history(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	static const struct option longopts[] = {{"no-trunc", no_argument, NULL, 'n'},
						 {"quiet", no_argument, NULL, 'q'},
						 {"platform", required_argument, NULL, 'P'},
						 {NULL, 0, NULL, 0}};
	bool no_trunc = false, quiet = false;
	const char *platform = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+q", longopts, NULL)) != -1) {
		if (c == 'n')
			no_trunc = true;
		else if (c == 'q')
			quiet = true;
		else if (c == 'P' && cmd_check_platform(optarg, err) == 0)
			platform = optarg;
		else if (c == 'P')
			return CMD_USAGE;
		else
			return cmd_usage_error(err, "unknown option '%s'", argv[optind - 1]);
	}
	if (argc - optind != 1)
		return cmd_usage_error(err, "'history' needs exactly 1 argument");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	image_t *img = cmd_load_image_platform(st, argv[optind], platform, err);
	if (!img)
		return -1;
	char id[13];
	cmd_short_id(img->config_digest, id);
	if (quiet) {
		printf("%s\n", id);
		image_free(img);
		return 0;
	}
	printf("%-12s %-18s %-46s %-10s %s\n", "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT");
	/* newest first, as docker prints; layers are counted from the bottom */
	size_t n = img->config->n_history, layer_of[n + 1], layer = 0;
	for (size_t i = 0; i < n; i++) {
		layer_of[i] = layer;
		if (!img->config->history[i].empty_layer)
			layer++;
	}
	for (size_t i = n; i-- > 0;) {
		size_t l = layer_of[i];
		if (i + 1 == n)
			printf("%-12s ", id);
		else
			printf("%-12s ", "<missing>");
		char created[64], size[32] = "0B";
		const oci_history_t *h = &img->config->history[i];
		cmd_human_ago(oci_time_parse(h->created), created, sizeof(created));
		if (!h->empty_layer && l < img->manifest->n_layers)
			cmd_human_size(img->manifest->layers[l].size, size, sizeof(size));
		const char *by = h->created_by ? h->created_by : "";
		printf("%-18s %-46.*s %-10s %s\n", created, no_trunc ? (int)strlen(by) : 45, by, size,
		       h->comment ? h->comment : "");
	}
	image_free(img);
	return 0;
}
