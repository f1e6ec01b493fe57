/* runtime/isolation.h: the --isolation modes, the fallback record (each
 * reason once), and the identity map root gets without CAP_SYS_ADMIN: every
 * id onto itself but the last, so the namespace is not taken for the host's
 * (overlays then need userxattr). And --isolation none: a RUN chroot'ed
 * without namespaces, its mounts emulated by files placed in the root and
 * taken back after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
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
	assert_int_equal(rt_isolation_parse("none", &m, &err), 0);
	assert_int_equal(m, RT_ISO_NONE);
	assert_string_equal(rt_isolation_name(m), "none");
	assert_int_equal(rt_isolation_parse("vfs", &m, &err), -1);
	assert_string_equal(err.msg, "invalid isolation 'vfs' (auto, namespaces, chroot or none)");
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

static void put(const char *path, const char *text)
{
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(cb_write_file_atomic(path, NULL, text, strlen(text), 0644, &err), 0);
}

static char *get(const char *path)
{
	cb_error_t err = CB_ERROR_INIT;
	char *data = NULL;
	if (cb_read_file(path, 4096, &data, NULL, &err) < 0) {
		cb_error_release(&err);
		return NULL;
	}
	return data;
}

/* In a child (the mode is process-wide): the bound file replaces the
 * image's for the run only, a writable directory is the source itself (what
 * the step writes stays there), a tmpfs is empty and gone after, /dev/null
 * is a device during the run and gone after. */
static void test_none_places_and_takes_back(void **state)
{
	(void)state;
	if (geteuid() != 0 || access("/usr/bin/busybox", X_OK) != 0)
		skip();
	/* the step loads a seccomp filter: valgrind has no seccomp(2) */
	uint32_t action = SECCOMP_RET_KILL_PROCESS;
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0 && errno == ENOSYS)
		skip();
	cb_error_t err = CB_ERROR_INIT;
	_cleanup_free_ char *dir = cb_mkdtemp_in("/tmp", "cbuild-none-", &err);
	assert_non_null(dir);
	_cleanup_free_ char *root = cb_path_join(dir, "root");
	_cleanup_free_ char *bin = cb_path_join(root, "bin");
	_cleanup_free_ char *etc = cb_path_join(root, "etc");
	_cleanup_free_ char *cache = cb_path_join(dir, "cache");
	assert_int_equal(cb_mkdir_p(bin, 0755, &err), 0);
	assert_int_equal(cb_mkdir_p(etc, 0755, &err), 0);
	assert_int_equal(cb_mkdir_p(cache, 0755, &err), 0);
	_cleanup_free_ char *sh = cb_path_join(bin, "sh");
	_cleanup_free_ char *cmd = cb_asprintf("cp /usr/bin/busybox %s && ln -s sh %s/grep && "
						"ln -s sh %s/test", sh, bin, bin);
	assert_int_equal(system(cmd), 0);
	_cleanup_free_ char *hosts = cb_path_join(etc, "hosts");
	_cleanup_free_ char *myhosts = cb_path_join(dir, "hosts");
	put(hosts, "image\n");
	put(myhosts, "bound\n");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		rt_isolation_set(RT_ISO_NONE);
		sbx_mount_t m[] = {{.type = SBX_MOUNT_BIND, .source = cache, .dest = "/var/c"},
				   {.type = SBX_MOUNT_TMPFS, .dest = "/t"}};
		sbx_config_t cfg;
		sbx_config_init(&cfg);
		cfg.rootfs = root;
		cfg.hosts = myhosts;
		cfg.mounts = m;
		cfg.n_mounts = 2;
		cfg.forward_signals = false;
		cfg.argv = (char *[]){"/bin/sh", "-c",
				      "/bin/sh -c 'grep -q bound /etc/hosts && test -c /dev/null && "
				      "echo x >/dev/null && echo kept >/var/c/f && test -d /t && "
				      "echo gone >/t/f' && exit 7",
				      NULL};
		cfg.env = (char *[]){"PATH=/bin", NULL};
		sbx_status_t st;
		if (sbx_run(&cfg, &st, &err) < 0) {
			cb_error_print(stderr, "test_isolation", &err);
			_exit(10);
		}
		_exit(st.signaled ? 11 : st.code);
	}
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 7);
	char *h = get(hosts);
	assert_string_equal(h, "image\n");
	free(h);
	_cleanup_free_ char *kept = cb_path_join(cache, "f");
	char *k = get(kept);
	assert_non_null(k);
	assert_string_equal(k, "kept\n");
	free(k);
	_cleanup_free_ char *devnull = cb_path_join(root, "dev/null");
	_cleanup_free_ char *tf = cb_path_join(root, "t/f");
	_cleanup_free_ char *vc = cb_path_join(root, "var/c");
	assert_false(cb_path_exists(devnull));
	assert_false(cb_path_exists(tf));
	assert_true(cb_is_dir(vc)); /* the mount point, as the sandbox leaves it */
	assert_int_equal(cb_rm_rf(dir, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_fallback_once),
		cmocka_unit_test(test_identity_map),
		cmocka_unit_test(test_none_places_and_takes_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
