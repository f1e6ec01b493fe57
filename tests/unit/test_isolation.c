/* runtime/isolation.h: the --isolation modes, the fallback record (each
 * reason once), and the identity map root gets without CAP_SYS_ADMIN: every
 * id onto itself but the last, so the namespace is not taken for the host's
 * (overlays then need userxattr). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fs.h"
#include "common/util.h"
#include "runtime/isolation.h"
#include "runtime/sandbox.h"

static void test_parse(void **state)
{
	(void)state;
	rt_isolation_t m = RT_ISO_AUTO;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(rt_isolation_parse("chroot", &m, &err), 0);
	assert_int_equal(m, RT_ISO_CHROOT);
	assert_int_equal(rt_isolation_parse("namespaces", &m, &err), 0);
	assert_int_equal(m, RT_ISO_NAMESPACES);
	assert_string_equal(rt_isolation_name(m), "namespaces");
	assert_int_equal(rt_isolation_parse("none", &m, &err), -1);
	assert_string_equal(err.msg, "invalid isolation 'none' (auto, namespaces or chroot)");
	cb_error_release(&err);
}

static void test_fallback_once(void **state)
{
	(void)state;
	rt_iso_fallback("root", "pivot_root: refused");
	rt_iso_fallback("root", "pivot_root: refused");
	rt_iso_fallback("/proc", "fresh proc: refused");
	const rt_iso_report_t *r = rt_iso_report();
	assert_int_equal(r->n_fallbacks, 2);
	assert_string_equal(r->fallbacks[0], "root: pivot_root: refused");
	assert_string_equal(r->fallbacks[1], "/proc: fresh proc: refused");
}

static void test_identity_map(void **state)
{
	(void)state;
	if (geteuid() != 0 || !cb_in_initial_userns())
		skip();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		cb_error_t err = CB_ERROR_INIT;
		if (sbx_enter_userns_identity(CLONE_NEWNS, &err) < 0)
			_exit(10);
		char *map = NULL;
		if (cb_read_file("/proc/self/uid_map", 4096, &map, NULL, &err) < 0)
			_exit(11);
		unsigned long in, out, count;
		if (sscanf(map, "%lu %lu %lu", &in, &out, &count) != 3 || in || out ||
		    count != 4294967294UL)
			_exit(12);
		if (cb_in_initial_userns() || !sbx_in_userns() || geteuid() != 0)
			_exit(13);
		if (strcmp(rt_iso_report()->idmap, "identity"))
			_exit(14);
		_exit(0);
	}
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_fallback_once),
		cmocka_unit_test(test_identity_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
