/* cbuild attach [--sig-proxy=false] [--no-stdin] CONTAINER: a running
 * container's output from now on, signals passed on, its exit code. */
#include <signal.h>
#include <stdio.h>

#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "common/util.h"

enum { O_SIG_PROXY = CMD_OPT_LONG, O_NO_STDIN, O_DETACH_KEYS };

const cmd_opt_t cmd_attach_opts[] = {
	{"sig-proxy", O_SIG_PROXY, CMD_ARG_NONE, NULL,
	 "pass the signals cbuild gets (SIGINT, SIGTERM, ...) to the container (default true)"},
	{"no-stdin", O_NO_STDIN, CMD_ARG_NONE, NULL,
	 "do not attach stdin (never attached yet: output and signals only)"},
	{"detach-keys", O_DETACH_KEYS, CMD_ARG_REQUIRED, "KEYS",
	 "accepted for docker; without stdin there is nothing to detach from (Ctrl-C "
	 "with --sig-proxy=false ends the attach)"},
	{0}};

static volatile sig_atomic_t pending;

static void on_signal(int sig) { pending = sig; }

int cmd_attach(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	bool proxy = true;
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0)
		if (o == O_SIG_PROXY)
			proxy = p.on;
	if (o < 0)
		return o;
	if (p.nargs != 1)
		return cmd_usage_error(err, "'attach' needs exactly 1 container");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	rt_ctr_t *c = rt_ctr_load(st, p.args[0], err);
	if (!c)
		return -1;
	if (proxy) {
		static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
		struct sigaction sa = {.sa_handler = on_signal};
		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < CB_ARRAY_SIZE(sigs); i++)
			sigaction(sigs[i], &sa, NULL);
	}
	fflush(stdout);
	rt_attach_t a = {1, 2, proxy ? &pending : NULL};
	int code = 0;
	int rc = rt_ctr_attach(st, c, &a, &code, err);
	rt_ctr_free(c);
	if (rc == 0)
		ctx->exit_code = code; /* docker attach exits with the container's code */
	return rc;
}
