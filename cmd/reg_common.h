/*
 * cmd/reg_common.h - options shared by pull, push, login and logout.
 */
#ifndef CB_CMD_REG_COMMON_H
#define CB_CMD_REG_COMMON_H

#include "cmd/opts.h"
#include "common/error.h"
#include "registry/registry.h"

/* The registry options as table entries (pull, push, login, logout put
 * CMD_REG_OPTS in their tables) and their keys, far above a verb's own. */
enum { CMD_O_TLS_VERIFY = CMD_OPT_LONG + 200, CMD_O_AUTHFILE, CMD_O_CERT_DIR, CMD_O_CREDS };
#define CMD_REG_OPTS                                                                               \
	{"tls-verify", CMD_O_TLS_VERIFY, CMD_ARG_NONE, NULL,                                       \
	 "verify the registry's TLS certificate (--tls-verify=false: also plain HTTP)"},           \
	{"authfile", CMD_O_AUTHFILE, CMD_ARG_REQUIRED, "FILE",                                     \
	 "credentials file (default ~/.docker/config.json)"},                                      \
	{"cert-dir", CMD_O_CERT_DIR, CMD_ARG_REQUIRED, "DIR", "CA certificates for the registry"}, \
	{"creds", CMD_O_CREDS, CMD_ARG_REQUIRED, "USER[:PASS]", "credentials for this command only"}

/* Apply the registry option `key` (p's current option) to o: 1 when it was
 * one, 0 when not. -q/--quiet is the verb's own. */
int cmd_reg_apply(reg_opts_t *o, const cmd_opts_t *p, int key);

#endif
