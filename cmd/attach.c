/* cbuild attach [--sig-proxy=false] [--no-stdin] [--detach-keys K]
 * CONTAINER: a running container's output from now on, what is typed to
 * its stdin (started with -i), signals passed on, its exit code; Ctrl-P
 * Ctrl-Q leaves it running. */
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/container_ops.h"
#include "cmd/cmd.h"
#include "common/util.h"

enum { O_SIG_PROXY = CMD_OPT_LONG, O_NO_STDIN, O_DETACH_KEYS };

const cmd_opt_t cmd_attach_opts[] = {
	{"sig-proxy", O_SIG_PROXY, CMD_ARG_NONE, NULL,
	 "pass the signals cbuild gets (SIGINT, SIGTERM, ...) to the container (default true)"},
	{"no-stdin", O_NO_STDIN, CMD_ARG_NONE, NULL, "do not send what is typed to its stdin"},
	{"detach-keys", O_DETACH_KEYS, CMD_ARG_REQUIRED, "KEYS",
	 "the keys that detach from a tty container, leaving it running (default "
	 "ctrl-p,ctrl-q)"},
	{0}};

static volatile sig_atomic_t pending;

/* docker's --detach-keys: "ctrl-p,ctrl-q", "a", "ctrl-@" ... (at most 15). */
static int parse_keys(const char *spec, char out[16], cb_error_t *err)
{
	size_t n = 0;
	_cleanup_free_ char *copy = cb_xstrdup(spec);
	char *save = NULL;
	for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		if (n == 15)
			return cmd_usage_error(err, "--detach-keys '%s': too many keys", spec);
		if (!strncasecmp(k, "ctrl-", 5) && k[5] && !k[6] &&
		    (isalpha((unsigned char)k[5]) || strchr("@[\\]^_", k[5])))
			out[n++] = (char)(toupper((unsigned char)k[5]) & 0x1f);
		else if (strlen(k) == 1)
			out[n++] = k[0];
		else
			return cmd_usage_error(err, "--detach-keys: invalid key '%s'", k);
	}
	out[n] = 0;
	return 0;
}

static void on_signal(int sig) { pending = sig; }

int cmd_attach_terminal(store_t *st, rt_ctr_t *c, rt_attach_t *a, int *code, cb_error_t *err)
{
	/* a tty container from a terminal: keys go through one by one
	 * (Ctrl-C, Ctrl-P as bytes), its pty sized as ours */
	struct termios saved, raw;
	bool restore = false;
	if (a->in_fd >= 0 && c->interactive && c->tty && isatty(a->in_fd) &&
	    tcgetattr(a->in_fd, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		restore = tcsetattr(a->in_fd, TCSANOW, &raw) == 0;
		cb_error_t e = CB_ERROR_INIT;
		if (rt_ctr_refresh(st, c, &e) == 0)
			rt_ctr_resize_from(c, a->in_fd);
		cb_error_release(&e);
	}
	fflush(stdout);
	int rc = rt_ctr_attach(st, c, a, code, err);
	if (restore)
		tcsetattr(a->in_fd, TCSANOW, &saved);
	return rc;
}

int cmd_attach(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	bool proxy = true, no_stdin = false;
	char keys[16] = "\x10\x11"; /* Ctrl-P Ctrl-Q */
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0) {
		if (o == O_SIG_PROXY)
			proxy = p.on;
		else if (o == O_NO_STDIN)
			no_stdin = p.on;
		else if (o == O_DETACH_KEYS && parse_keys(p.arg, keys, err) < 0)
			return CMD_USAGE;
	}
	store_t *st = NULL;
	if (o == 0)
		o = cmd_operands(ctx, &p, 1, 1, &st, err);
	if (o < 0)
		return o;
	rt_ctr_t *c = rt_ctr_load(st, p.args[0], err);
	if (!c)
		return -1;
	/* a tty container: keys go through one by one (Ctrl-C as a byte) */
	if (proxy && !c->tty) {
		static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
		struct sigaction sa = {.sa_handler = on_signal};
		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < CB_ARRAY_SIZE(sigs); i++)
			sigaction(sigs[i], &sa, NULL);
	}
	rt_attach_t a = {.out_fd = 1, .err_fd = 2, .in_fd = no_stdin ? -1 : 0,
			 .detach_keys = keys, .pending_signal = proxy ? &pending : NULL};
	int code = 0;
	/* --rm: its monitor removes it at the exit; hold that until we have
	 * read the code, as run does (docker's attach gets it from its wait) */
	int hold = c->auto_remove ? rt_ctr_hold_removal(c, err) : -1;
	int rc = c->auto_remove && hold < 0 ? -1 : cmd_attach_terminal(st, c, &a, &code, err);
	if (hold >= 0)
		close(hold);
	rt_ctr_free(c);
	if (rc == 0 && !a.detached)
		ctx->exit_code = code; /* docker attach exits with the container's code */
	if (rc == 0 && a.detached)
		/* docker 20.10's attach ends so after the keys (its run -it: 0) */
		return cb_error_fail(err, 0, "read escape sequence");
	return rc;
}
