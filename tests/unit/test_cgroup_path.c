/*
 * runtime/cgroup_path: where this host puts a controller and a process's
 * cgroup in it, checked against /proc/self/cgroup itself. The three users
 * (pids limit, memory/cpu limits, pause) are covered end to end by t2034,
 * t7210 and t7130.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup_path.h"
#include "common/util.h"

/* Our own cgroup for ctl is a directory whose path ends as the
 * /proc/self/cgroup line for the hierarchy says. */
static void check_own(const char *ctl)
{
	char *dir = NULL, *mnt = NULL;
	bool v2 = false;
	cb_error_t err = CB_ERROR_INIT;
	if (rt_cgroup_dir(ctl, 0, &dir, &mnt, &v2, &err) < 0) {
		print_message("# skip %s: %s\n", ctl, err.msg);
		assert_true(err.code == ENOTSUP || err.code == ENOENT);
		cb_error_release(&err);
		return;
	}
	struct stat sb;
	assert_int_equal(stat(dir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_true(cb_str_has_prefix(dir, mnt));
	/* the pid form names the same cgroup */
	char *again = NULL;
	bool v2b = !v2;
	assert_int_equal(rt_cgroup_dir(ctl, getpid(), &again, NULL, &v2b, &err), 0);
	assert_string_equal(again, dir);
	assert_int_equal(v2b, v2);
	free(again);
	free(dir);
	free(mnt);
}

static void test_own_pids(void **state) { check_own("pids"); }
static void test_own_memory(void **state) { check_own("memory"); }
static void test_own_freezer(void **state) { check_own("freezer"); }

static void test_unknown_controller(void **state)
{
	char *dir = NULL;
	bool v2;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(rt_cgroup_dir("no-such-controller", 0, &dir, NULL, &v2, &err), -1);
	assert_int_equal(err.code, ENOTSUP);
	assert_non_null(strstr(err.msg, "no no-such-controller cgroup controller"));
	assert_null(dir);
	cb_error_release(&err);
}

static void test_gone_process(void **state)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	char *dir = NULL;
	bool v2;
	cb_error_t err = CB_ERROR_INIT;
	int rc = rt_cgroup_dir("pids", pid, &dir, NULL, &v2, &err);
	assert_int_equal(rc, -1); /* reaped: no /proc/PID/cgroup (or no pids controller) */
	assert_null(dir);
	cb_error_release(&err);
}

static void test_write(void **state)
{
	char tmpl[] = "/tmp/cbuild-cgpath-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	_cleanup_free_ char *f = cb_asprintf("%s/x.max", tmpl);
	FILE *fp = fopen(f, "w");
	assert_non_null(fp);
	fclose(fp);
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(rt_cgroup_write(tmpl, "x.max", "42", &err), 0);
	char buf[16] = "";
	fp = fopen(f, "r");
	assert_non_null(fgets(buf, sizeof buf, fp));
	fclose(fp);
	assert_string_equal(buf, "42");
	assert_int_equal(rt_cgroup_write(tmpl, "missing", "1", &err), -1);
	assert_non_null(strstr(err.msg, "write '1' to '"));
	cb_error_release(&err);
	unlink(f);
	rmdir(tmpl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_pids),
		cmocka_unit_test(test_own_memory),
		cmocka_unit_test(test_own_freezer),
		cmocka_unit_test(test_unknown_controller),
		cmocka_unit_test(test_gone_process),
		cmocka_unit_test(test_write),
	};
	return cmocka_run_group_tests_name("cgroup_path", tests, NULL, NULL);
}
