/*
 * cbuild compose up / down / ps / logs - the project's containers.
 *
 * Waits for the container library (builder/container.h, issue 8).
 */
#include <errno.h>

#include "cmd/compose.h"

static int not_yet(const char *what, cb_error_t *err)
{
	return cb_error_fail(err, ENOSYS, "compose %s: containers are not available in this "
			     "build yet", what);
}

int compose_up(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	(void)c, (void)argc, (void)argv;
	return not_yet("up", err);
}

int compose_down(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	(void)c, (void)argc, (void)argv;
	return not_yet("down", err);
}

int compose_ps(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	(void)c, (void)argc, (void)argv;
	return not_yet("ps", err);
}

int compose_logs(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	(void)c, (void)argc, (void)argv;
	return not_yet("logs", err);
}
