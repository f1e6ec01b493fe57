/* cbuild port CONTAINER [PORT[/PROTO]]: a running container's published
 * ports as docker prints them: "80/tcp -> 0.0.0.0:32768" for each, or only
 * "0.0.0.0:32768" for the port asked for. A container that does not run has
 * none (docker's NetworkSettings.Ports is empty then). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/container.h"
#include "cmd/cmd.h"
#include "common/util.h"

static int by_port(const void *a, const void *b)
{
	const rt_ctr_port_t *x = a, *y = b;
	if (x->ctr_port != y->ctr_port)
		return x->ctr_port < y->ctr_port ? -1 : 1;
	if (x->udp != y->udp)
		return x->udp ? 1 : -1;
	return strcmp(x->host_ip, y->host_ip);
}

/* "80", "80/udp" -> port and proto; -1 when it is neither. */
static int parse_filter(const char *s, uint16_t *port, bool *udp)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || v <= 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	*udp = !strcmp(end, "/udp");
	return *end && !*udp && strcmp(end, "/tcp") ? -1 : 0;
}

const cmd_opt_t cmd_port_opts[] = {{0}};

int cmd_port(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	cmd_opts_t op;
	cmd_opts_init(&op, ctx->verb, argc, argv);
	int o = cmd_opts_next(&op, err);
	if (o != 0)
		return o;
	if (op.nargs < 1 || op.nargs > 2)
		return cmd_nargs(ctx, op.nargs, 1, 2, err);
	uint16_t want = 0;
	bool udp = false;
	if (op.nargs == 2 && parse_filter(op.args[1], &want, &udp) < 0)
		return cmd_usage_error(err, "invalid port '%s': PORT[/tcp|/udp] expected", op.args[1]);
	store_t *st = cmd_store(ctx, err);
	rt_ctr_t *c = st ? rt_ctr_load(st, op.args[0], err) : NULL;
	if (!c)
		return -1;
	size_t n = c->status == RT_CTR_RUNNING ? c->n_ports : 0;
	rt_ctr_port_t *v = cb_xcalloc(n + 1, sizeof *v);
	if (n)
		memcpy(v, c->ports, n * sizeof *v);
	qsort(v, n, sizeof *v, by_port);
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		const rt_ctr_port_t *p = &v[i];
		if (!p->bound_port || (want && (p->ctr_port != want || p->udp != udp)))
			continue;
		if (want)
			printf("%s:%u\n", p->host_ip, (unsigned)p->bound_port);
		else
			printf("%u/%s -> %s:%u\n", (unsigned)p->ctr_port, p->udp ? "udp" : "tcp",
			       p->host_ip, (unsigned)p->bound_port);
		shown++;
	}
	int rc = 0;
	if (want && !shown)
		rc = cb_error_fail(err, ENOENT, "no public port '%u/%s' published for '%s'",
				   (unsigned)want, udp ? "udp" : "tcp", op.args[0]);
	free(v);
	rt_ctr_free(c);
	return rc;
}
