/* cbuild ps [-a] [-q] [--no-trunc]: containers as docker lists them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builder/container.h"
#include "cmd/cmd.h"
#include "cmd/images_util.h"
#include "common/util.h"
#include "registry/reference.h"

enum { COL_ID, COL_IMAGE, COL_COMMAND, COL_CREATED, COL_STATUS, COL_PORTS, COL_NAMES, NCOLS };

/* "sh -c 'echo hi…" quoted and cut at 20 characters, as docker shows it */
static char *command_text(const bld_ctr_t *c, bool no_trunc)
{
	cb_buf_t b;
	cb_buf_init(&b);
	for (size_t i = 0; c->argv && c->argv[i]; i++)
		cb_buf_addf(&b, "%s%s", i ? " " : "", c->argv[i]);
	if (!no_trunc && b.len > 20) {
		size_t cut = 19;
		while (cut && (b.data[cut] & 0xC0) == 0x80)
			cut--;
		b.len = cut;
		b.data[cut] = 0;
		cb_buf_addstr(&b, "\xe2\x80\xa6");
	}
	char *s = cb_asprintf("\"%s\"", b.data);
	cb_buf_release(&b);
	return s;
}

static char *status_text(const bld_ctr_t *c)
{
	char d[64];
	switch (c->status) {
	case BLD_CTR_RUNNING:
		cmd_human_duration((int64_t)time(NULL) - c->started, d, sizeof d);
		return cb_asprintf("Up %s", d);
	case BLD_CTR_EXITED:
		cmd_human_ago(c->finished, d, sizeof d);
		return cb_asprintf("Exited (%d) %s", c->exit_code, d);
	default:
		return cb_xstrdup("Created");
	}
}

static char *ports_text(const bld_ctr_t *c)
{
	cb_buf_t b;
	cb_buf_init(&b);
	for (size_t i = 0; i < c->n_ports; i++)
		cb_buf_addf(&b, "%s%s:%u->%u/tcp", i ? ", " : "", c->ports[i].host_ip,
			    (unsigned)c->ports[i].host_port, (unsigned)c->ports[i].ctr_port);
	return cb_buf_detach(&b, NULL);
}

/* the image as the user typed it, in its familiar form */
static char *image_text(const bld_ctr_t *c)
{
	reg_ref_t r;
	cb_error_t e = CB_ERROR_INIT;
	if (c->image_name && reg_ref_parse(c->image_name, 0, &r, &e) == 0) {
		char *s = reg_ref_familiar(&r);
		reg_ref_release(&r);
		if (cb_str_has_suffix(s, ":latest"))
			s[strlen(s) - 7] = 0;
		return s;
	}
	cb_error_release(&e);
	return cb_xstrdup(c->image_name ? c->image_name : c->image);
}

/* display width: UTF-8 continuation bytes take no column */
static size_t dwidth(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void print_row(char *const *row, const size_t *width)
{
	for (int k = 0; k < NCOLS - 1; k++)
		printf("%s%*s", row[k], (int)(width[k] - dwidth(row[k]) + 3), "");
	printf("%s\n", row[NCOLS - 1]);
}

int cmd_ps(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	static const struct option longopts[] = {{"all", no_argument, NULL, 'a'},
						 {"quiet", no_argument, NULL, 'q'},
						 {"no-trunc", no_argument, NULL, 'T'},
						 {NULL, 0, NULL, 0}};
	bool all = false, quiet = false, no_trunc = false;
	int o;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "aq", longopts, NULL)) != -1) {
		if (o == 'a')
			all = true;
		else if (o == 'q')
			quiet = true;
		else if (o == 'T')
			no_trunc = true;
		else
			return cmd_usage_error(err, "unknown option '%s'", argv[optind - 1]);
	}
	if (optind != argc)
		return cmd_usage_error(err, "'ps' takes no arguments");
	store_t *st = cmd_store(ctx, err);
	_cleanup_strv_ char **ids = NULL;
	if (!st || bld_ctr_list(st, &ids, err) < 0)
		return -1;
	static const char *const heads[NCOLS] = {"CONTAINER ID", "IMAGE",  "COMMAND", "CREATED",
						 "STATUS",       "PORTS",  "NAMES"};
	size_t n = cb_strv_len(ids), rows = 0;
	char *(*cells)[NCOLS] = cb_xcalloc(n + 1, sizeof(*cells));
	size_t width[NCOLS];
	for (int k = 0; k < NCOLS; k++)
		width[k] = strlen(heads[k]);
	for (size_t i = 0; i < n; i++) {
		cb_error_t e = CB_ERROR_INIT;
		bld_ctr_t *c = bld_ctr_load(st, ids[i], &e);
		if (!c) {
			cb_error_release(&e); /* removed meanwhile */
			continue;
		}
		if (all || c->status == BLD_CTR_RUNNING) {
			char **row = cells[rows++];
			char created[64];
			cmd_human_ago(c->created, created, sizeof created);
			row[COL_ID] = no_trunc ? cb_xstrdup(c->id) : cb_asprintf("%.12s", c->id);
			row[COL_IMAGE] = image_text(c);
			row[COL_COMMAND] = command_text(c, no_trunc);
			row[COL_CREATED] = cb_xstrdup(created);
			row[COL_STATUS] = status_text(c);
			row[COL_PORTS] = ports_text(c);
			row[COL_NAMES] = cb_xstrdup(c->name);
			for (int k = 0; k < NCOLS; k++)
				if (dwidth(row[k]) > width[k])
					width[k] = dwidth(row[k]);
		}
		bld_ctr_free(c);
	}
	if (!quiet)
		print_row((char *const *)heads, width);
	for (size_t i = 0; i < rows; i++) {
		if (quiet)
			printf("%s\n", cells[i][COL_ID]);
		else
			print_row(cells[i], width);
		for (int k = 0; k < NCOLS; k++)
			free(cells[i][k]);
	}
	free(cells);
	return 0;
}
