/*
 * cmd/reg_common.c - registry options shared by pull, push, login, logout.
 */
#include "cmd/reg_common.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/util.h"

const char *cmd_opt_value(const char *name, int argc, char **argv, int *i, bool *missing)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	*missing = false;
	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n])
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static char *creds_user, *creds_pass; /* live until exit, like argv */

int cmd_reg_apply(reg_opts_t *o, const cmd_opts_t *p, int key)
{
	switch (key) {
	case CMD_O_TLS_VERIFY: o->tls_verify = p->on; return 1;
	case CMD_O_AUTHFILE: o->auth_file = p->arg; return 1;
	case CMD_O_CERT_DIR: o->certs_dir = p->arg; return 1;
	case CMD_O_CREDS: {
		free(creds_user);
		free(creds_pass);
		const char *colon = strchr(p->arg, ':');
		creds_user = colon ? cb_xstrndup(p->arg, (size_t)(colon - p->arg)) : cb_xstrdup(p->arg);
		creds_pass = cb_xstrdup(colon ? colon + 1 : "");
		o->username = creds_user;
		o->password = creds_pass;
		return 1;
	}
	}
	return 0;
}

int cmd_reg_option(reg_opts_t *o, int argc, char **argv, int *i, cb_error_t *err)
{
	const char *a = argv[*i];
	bool missing = false;
	const char *v;
	if (!strcmp(a, "--tls-verify")) {
		o->tls_verify = true;
		return 1;
	}
	if (cb_str_has_prefix(a, "--tls-verify=")) {
		v = a + 13;
		if (!strcmp(v, "true") || !strcmp(v, "1"))
			o->tls_verify = true;
		else if (!strcmp(v, "false") || !strcmp(v, "0"))
			o->tls_verify = false;
		else
			return cmd_usage_error(err, "invalid --tls-verify value '%s'", v);
		return 1;
	}
	if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
		o->quiet = true;
		return 1;
	}
	if ((v = cmd_opt_value("--authfile", argc, argv, i, &missing))) {
		o->auth_file = v;
		return 1;
	}
	if (!missing && (v = cmd_opt_value("--cert-dir", argc, argv, i, &missing))) {
		o->certs_dir = v;
		return 1;
	}
	if (!missing && (v = cmd_opt_value("--creds", argc, argv, i, &missing))) {
		free(creds_user);
		free(creds_pass);
		const char *colon = strchr(v, ':');
		creds_user = colon ? cb_xstrndup(v, (size_t)(colon - v)) : cb_xstrdup(v);
		creds_pass = cb_xstrdup(colon ? colon + 1 : "");
		o->username = creds_user;
		o->password = creds_pass;
		return 1;
	}
	if (missing)
		return cmd_usage_error(err, "option '%s' needs a value", a);
	return 0;
}
