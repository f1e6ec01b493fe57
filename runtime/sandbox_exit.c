/* runtime/sandbox_exit.c - a sandboxed process's end as a shell's exit
 * status (see sandbox.h). */
#include <errno.h>
#include <string.h>

#include "runtime/sandbox.h"

int sbx_status_shell_code(const sbx_status_t *st)
{
	return st->signaled ? 128 + st->signal : st->code;
}

int sbx_exec_error_status(const cb_error_t *err)
{
	/* child_exec's messages: "exec 'X' in the image[: ...]", at the
	 * start of the message or after a wrapper's "...: " */
	const char *m = err && err->msg ? err->msg : "";
	const char *e = strstr(m, "exec '");
	if (!e || (e != m && (e - m < 2 || e[-2] != ':')) || !strstr(e, "' in the image"))
		return 0;
	if (strstr(e, "not found in $PATH") || err->code == ENOENT || err->code == ENOTDIR)
		return 127;
	return 126;
}
