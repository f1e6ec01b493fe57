/* cbuild exec [-i] [-t] [-e K=V]... [-u USER] [-w DIR] CONTAINER CMD...:
 * a process in a running container's namespaces; its exit code is ours. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtime/container.h"
#include "runtime/container_ops.h"
#include "runtime/sandbox.h"
#include "cmd/cmd.h"
#include "common/util.h"

static char **merge_env(char *const *base, char *const *extra)
{
	char **env = cb_strv_dup(base);
	if (!env)
		env = cb_xcalloc(1, sizeof(char *));
	for (size_t i = 0; extra && extra[i]; i++) {
		const char *eq = strchr(extra[i], '=');
		size_t k = eq ? (size_t)(eq - extra[i]) : strlen(extra[i]);
		bool replaced = false;
		for (size_t j = 0; env[j] && !replaced; j++)
			if (!strncmp(env[j], extra[i], k) && env[j][k] == '=') {
				free(env[j]);
				env[j] = cb_xstrdup(extra[i]);
				replaced = true;
			}
		if (!replaced && eq)
			env = cb_strv_push(env, extra[i]);
	}
	return env;
}

const cmd_opt_t cmd_exec_opts[] = {
	{"interactive", 'i', CMD_ARG_NONE, NULL, "keep standard input open"},
	{"tty", 't', CMD_ARG_NONE, NULL, "give the command a terminal"},
	{"env", 'e', CMD_ARG_REQUIRED, "K=V", "set an environment variable", CMD_OPT_REPEAT},
	{"user", 'u', CMD_ARG_REQUIRED, "USER[:GROUP]", "user (name or UID) to run as"},
	{"workdir", 'w', CMD_ARG_REQUIRED, "DIR", "working directory inside the container"},
	{0}};

int cmd_exec(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	bool interactive = false, tty = false;
	const char *user = NULL, *cwd = NULL;
	_cleanup_strv_ char **extra = NULL;
	cmd_opts_t p;
	int o;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0) {
		switch (o) {
		case 'i': interactive = p.on; break;
		case 't': tty = p.on; break;
		case 'e': extra = cb_strv_push(extra, p.arg); break;
		case 'u': user = p.arg; break;
		case 'w': cwd = p.arg; break;
		}
	}
	if (o < 0)
		return o;
	if (p.nargs < 2)
		return cmd_nargs(ctx, p.nargs, 2, -1, err);
	store_t *st = cmd_store(ctx, err);
	rt_ctr_t *c = st ? rt_ctr_load(st, p.args[0], err) : NULL;
	if (!c)
		return -1;
	if (c->status != RT_CTR_RUNNING || rt_ctr_paused(c)) {
		/* a frozen container would hang the exec: docker refuses it too */
		int rc = cb_error_fail(err, EINVAL, "container '%s' is %s", p.args[0],
				       c->status == RT_CTR_RUNNING ? "paused: unpause it first"
								   : "not running");
		rt_ctr_free(c);
		return rc;
	}
	_cleanup_strv_ char **env = merge_env(c->env, extra);
	if (tty) {
		char **with_term = merge_env(env, (char *[]){"TERM=xterm", NULL});
		cb_strv_free(env);
		env = with_term;
	}
	sbx_config_t cfg;
	sbx_config_init(&cfg);
	cfg.argv = p.args + 1;
	cfg.env = env;
	cfg.cwd = cwd ? cwd : c->cwd;
	cfg.user = user ? user : (c->user && *c->user ? c->user : NULL);
	cfg.tty = tty;
	cfg.stdin_mode = interactive ? SBX_STDIN_INHERIT : SBX_STDIN_NULL;
	sbx_status_t status;
	fflush(stdout);
	sbx_scmp_profile_t *profile = NULL; /* the container's, as docker exec */
	int rc = rt_ctr_seccomp(c, &cfg, &profile, err);
	if (rc == 0)
		rc = sbx_exec(c->pid, &cfg, &status, err);
	/* docker exec: 126 for a command that could not be started, found or not */
	if (rc < 0 && sbx_exec_error_status(err))
		ctx->fail_code = 126;
	sbx_seccomp_free(profile);
	rt_ctr_free(c);
	if (rc < 0)
		return -1;
	ctx->exit_code = sbx_status_shell_code(&status);
	return 0;
}
