/* cbuild stats [-a] [--no-stream] [--no-trunc] [--format F] [CONTAINER...]:
 * CPU, memory, network, block I/O and PIDs of running containers, in
 * docker's columns and units. */
#include <stdio.h>
#include <string.h>

#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "cmd/format.h"
#include "cmd/images_util.h"
#include "common/util.h"

enum { O_NO_STREAM = CMD_OPT_LONG, O_NO_TRUNC, O_FORMAT };

const cmd_opt_t cmd_stats_opts[] = {
	{"all", 'a', CMD_ARG_NONE, NULL, "every container (default: the running ones)"},
	{"no-stream", O_NO_STREAM, CMD_ARG_NONE, NULL, "print one reading and exit"},
	{"no-trunc", O_NO_TRUNC, CMD_ARG_NONE, NULL, "full container IDs"},
	{"format", O_FORMAT, CMD_ARG_REQUIRED, "FORMAT",
	 "a Go template ({{.Name}}, {{.CPUPerc}}, {{.MemUsage}}, ...), table or json"},
	{0}};

static const cmd_fmt_field_t fields[] = {
	{"ID", "CONTAINER ID"},   {"Name", "NAME"},   {"CPUPerc", "CPU %"},
	{"MemUsage", "MEM USAGE / LIMIT"}, {"MemPerc", "MEM %"}, {"NetIO", "NET I/O"},
	{"BlockIO", "BLOCK I/O"}, {"PIDs", "PIDS"}, {"Container", "CONTAINER"},
};

static void add_row(cmd_fmt_t *f, const rt_ctr_t *c, const rt_ctr_stats_t *s, bool no_trunc,
		    const char *as_typed)
{
	char id[65], cpu[32], mem[64], memp[32], net[64], blk[64], pids[32], a[24], b[24];
	snprintf(id, sizeof id, "%.*s", no_trunc ? 64 : 12, c->id);
	snprintf(cpu, sizeof cpu, "%.2f%%", s->cpu_percent);
	cmd_human_units(s->mem_usage, true, 4, a, sizeof a);
	cmd_human_units(s->mem_limit, true, 4, b, sizeof b);
	snprintf(mem, sizeof mem, "%s / %s", a, b);
	snprintf(memp, sizeof memp, "%.2f%%",
		 s->mem_limit ? 100.0 * (double)s->mem_usage / (double)s->mem_limit : 0.0);
	cmd_human_units(s->net_rx, false, 3, a, sizeof a);
	cmd_human_units(s->net_tx, false, 3, b, sizeof b);
	snprintf(net, sizeof net, "%s / %s", a, b);
	cmd_human_units(s->blk_read, false, 3, a, sizeof a);
	cmd_human_units(s->blk_write, false, 3, b, sizeof b);
	snprintf(blk, sizeof blk, "%s / %s", a, b);
	snprintf(pids, sizeof pids, "%llu", (unsigned long long)s->pids);
	const char *row[] = {id, c->name, cpu, mem, memp, net, blk, pids, as_typed};
	cmd_fmt_row(f, row);
}

/* The containers to show: those named, else the running ones (all with -a). */
static int pick(store_t *st, cmd_opts_t *p, bool all, rt_ctr_t ***out, size_t *n,
		cb_error_t *err)
{
	rt_ctr_t **v = cb_xcalloc(1, sizeof *v);
	size_t len = 0;
	_cleanup_strv_ char **ids = NULL;
	if (!p->nargs && rt_ctr_list(st, &ids, err) < 0) {
		free(v);
		return -1;
	}
	size_t total = p->nargs ? (size_t)p->nargs : cb_strv_len(ids);
	for (size_t i = 0; i < total; i++) {
		rt_ctr_t *c = rt_ctr_load(st, p->nargs ? p->args[i] : ids[i], err);
		if (!c) {
			for (size_t k = 0; k < len; k++)
				rt_ctr_free(v[k]);
			free(v);
			return -1;
		}
		if (!p->nargs && !all && c->status != RT_CTR_RUNNING) {
			rt_ctr_free(c);
			continue;
		}
		v = cb_xreallocarray(v, len + 2, sizeof *v);
		v[len++] = c;
	}
	*out = v;
	*n = len;
	return 0;
}

int cmd_stats(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	bool all = false, no_stream = false, no_trunc = false;
	const char *format = NULL;
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0) {
		if (o == 'a')
			all = p.on;
		else if (o == O_NO_STREAM)
			no_stream = p.on;
		else if (o == O_NO_TRUNC)
			no_trunc = p.on;
		else if (o == O_FORMAT)
			format = p.arg;
	}
	if (o < 0)
		return o;
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	for (bool first = true;; first = false) {
		cmd_fmt_t *f = NULL;
		if (cmd_fmt_new(format ? format : "table", "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t"
				"{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
				fields, CB_ARRAY_SIZE(fields), &f, err) < 0)
			return CMD_USAGE;
		rt_ctr_t **cs = NULL;
		size_t n = 0;
		if (pick(st, &p, all, &cs, &n, err) < 0) {
			cmd_fmt_free(f);
			return -1;
		}
		rt_ctr_stats_t *s = cb_xcalloc(n + 1, sizeof *s);
		int rc = rt_ctr_stats(cs, n, first ? 1000 : 2000, s, err);
		for (size_t i = 0; i < n; i++) {
			if (rc == 0)
				add_row(f, cs[i], &s[i], no_trunc,
					p.nargs ? p.args[i] : cs[i]->name);
			rt_ctr_free(cs[i]);
		}
		free(cs);
		free(s);
		/* streaming: the screen redrawn each reading, as docker does */
		if (rc == 0 && !no_stream)
			printf("\033[2J\033[H");
		if (rc == 0)
			cmd_fmt_print(f, stdout);
		cmd_fmt_free(f);
		fflush(stdout);
		if (rc < 0 || no_stream)
			return rc;
	}
}
