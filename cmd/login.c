/*
 * cmd/login.c - `cbuild login [-u USER] [-p PASS | --password-stdin] REGISTRY`.
 *
 * The credentials are checked against the registry before anything is
 * saved (registry/credentials.c writes ~/.docker/config.json, 0600).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/reg_common.h"
#include "common/fs.h"
#include "common/util.h"
#include "registry/registry.h"

#define SECRET_MAX 8192

/* Read one line from fd (the password), without its line ending. */
static char *read_line_fd(int fd, bool all, cb_error_t *err)
{
	cb_buf_t b;
	cb_buf_init(&b);
	char c;
	ssize_t r;
	while ((r = read(fd, &c, 1)) == 1 || (r < 0 && errno == EINTR)) {
		if (r < 0)
			continue;
		if (c == '\n' && !all)
			break;
		if (b.len >= SECRET_MAX) {
			cb_buf_release(&b);
			cb_error_fail(err, EINVAL, "password longer than %d bytes", SECRET_MAX);
			return NULL;
		}
		cb_buf_addch(&b, c);
	}
	/* --password-stdin: trailing line endings are not part of it */
	while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.data[--b.len] = '\0';
	char *s = cb_buf_detach(&b, NULL);
	cb_buf_release(&b);
	return s;
}

static char *prompt(const char *what, bool secret, cb_error_t *err)
{
	if (!isatty(0)) {
		cb_error_fail(err, EINVAL, "no %s given and stdin is not a terminal", what);
		return NULL;
	}
	fprintf(stderr, "%s: ", what);
	fflush(stderr);
	struct termios old, t;
	bool restore = false;
	if (secret && tcgetattr(0, &old) == 0) {
		t = old;
		t.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(0, TCSAFLUSH, &t) == 0;
	}
	char *s = read_line_fd(0, false, err);
	if (restore) {
		tcsetattr(0, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	return s;
}

enum { O_PASSWORD_STDIN = CMD_OPT_LONG };

const cmd_opt_t cmd_login_opts[] = {
	{"username", 'u', CMD_ARG_REQUIRED, "USER", "the user name"},
	{"password", 'p', CMD_ARG_REQUIRED, "PASS", "the password (visible to other users: prefer --password-stdin)"},
	{"password-stdin", O_PASSWORD_STDIN, CMD_ARG_NONE, NULL, "read the password from standard input"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print less"},
	CMD_REG_OPTS,
	{0}};

int cmd_login(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	reg_opts_t o;
	reg_opts_init(&o);
	const char *user = NULL, *pass = NULL;
	bool from_stdin = false;
	cmd_opts_t p;
	int c;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		if (c == 'u')
			user = p.arg;
		else if (c == 'p')
			pass = p.arg;
		else if (c == O_PASSWORD_STDIN)
			from_stdin = p.on;
		else
			cmd_reg_apply(&o, &p, c);
	}
	if (c < 0)
		return c;
	if (p.nargs > 1)
		return cmd_nargs(ctx, p.nargs, 0, 1, err);
	const char *registry = p.nargs ? p.args[0] : NULL;
	if (!registry)
		registry = "docker.io";
	if (from_stdin && pass)
		return cmd_usage_error(err, "--password and --password-stdin are mutually exclusive");
	if (from_stdin && !user)
		return cmd_usage_error(err, "must provide --username with --password-stdin");
	if (pass)
		fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
	reg_warm_up(); /* libcurl loads while the password is read */
	_cleanup_free_ char *user_buf = NULL, *pass_buf = NULL;
	if (!user) {
		if (!(user_buf = prompt("Username", false, err)))
			return -1;
		user = user_buf;
	}
	if (from_stdin) {
		if (!(pass_buf = read_line_fd(0, true, err)))
			return -1;
		pass = pass_buf;
	} else if (!pass) {
		if (!(pass_buf = prompt("Password", true, err)))
			return -1;
		pass = pass_buf;
	}
	if (!*user)
		return cmd_usage_error(err, "username is empty");
	int r = reg_login(registry, user, pass, &o, err);
	if (pass_buf)
		explicit_bzero(pass_buf, strlen(pass_buf));
	if (r < 0)
		return -1;
	printf("Login Succeeded\n");
	return 0;
}
