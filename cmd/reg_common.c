/*
 * cmd/reg_common.c - registry options shared by pull, push, login, logout.
 */
#include "cmd/reg_common.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/cancel.h"
#include "common/util.h"

static char *creds_user, *creds_pass; /* live until exit, like argv */

int cmd_reg_apply(reg_opts_t *o, const cmd_opts_t *p, int key)
{
	switch (key) {
	case 'q': o->quiet = p->on; return 1;
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

static void on_interrupt(int sig) { cb_cancel_request(sig); }

void cmd_catch_interrupts(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	/* SA_RESETHAND: if the command does not stop, a second Ctrl-C kills it */
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	cb_cancel_reset();
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
