/*
 * The sandbox resolves mount points inside the image with openat2
 * (RESOLVE_IN_ROOT). The kernel answers EAGAIN for a lookup that goes
 * through `..` while anything on the machine renames a file or mounts
 * (another build, another container starting): it cannot prove the `..`
 * stayed inside. Images do have such links (/etc/resolv.conf ->
 * ../run/systemd/resolve/stub-resolv.conf), so a container must start
 * anyway: the child asks again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/sandbox.h"
#include "common/fs.h"
#include "common/util.h"
#include "test_sandbox_util.h"

typedef struct renamer {
	const char *dir;
	atomic_int stop;
} renamer_t;

/* What the rest of the machine does to the kernel's rename count: a
 * rename every 50-100 us, not back to back, so that an attempt meets one
 * now and then (the old code failed a run) but not every time, however idle
 * the machine (the retries succeed). */
static void *rename_loop(void *arg)
{
	renamer_t *r = arg;
	_cleanup_free_ char *a = cb_path_join(r->dir, "ren-a");
	_cleanup_free_ char *b = cb_path_join(r->dir, "ren-b");
	int fd = open(a, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	while (!atomic_load(&r->stop)) {
		if (rename(a, b) == 0)
			(void)rename(b, a);
		usleep(20);
	}
	return NULL;
}

static void test_resolv_link_with_dotdot(void **state)
{
	/* the image's resolv.conf is a link that climbs out and back 100
	 * times: a walk through `..` long enough (~30 us) to meet a rename */
	cb_buf_t t;
	cb_buf_init(&t);
	for (int i = 0; i < 100; i++)
		cb_buf_add(&t, "../etc/", 7);
	cb_buf_add(&t, "resolv-real", 11);
	_cleanup_free_ char *target = cb_buf_detach(&t, NULL);
	_cleanup_free_ char *link = cb_path_join(g.rootfs, "etc/resolv.conf");
	unlink(link);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(shell("echo image > %s/etc/resolv-real", g.rootfs), 0);
	_cleanup_free_ char *file = cb_path_join(g.dir, "resolv");
	assert_int_equal(shell("echo 'nameserver 127.0.0.9' > %s", file), 0);

	renamer_t r = {.dir = g.dir};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, rename_loop, &r), 0);
	int failed = 0;
	char last[256] = "";
	for (int i = 0; i < 60; i++) {
		sbx_config_t cfg;
		struct capture c;
		base_cfg(&cfg, &c);
		cfg.resolv_conf = file;
		cfg.argv = (char *[]){"/bin/cat", "/etc/resolv.conf", NULL};
		sbx_status_t st;
		cb_error_t err = CB_ERROR_INIT;
		if (sbx_run(&cfg, &st, &err) < 0 || st.signaled || st.code != 0) {
			failed++;
			snprintf(last, sizeof last, "%s (%s)", err.msg, strerror(err.code));
		} else if (strcmp(c.out.data ? c.out.data : "", "nameserver 127.0.0.9\n")) {
			failed++;
			snprintf(last, sizeof last, "read '%s'", c.out.data ? c.out.data : "");
		}
		cb_error_release(&err);
		capture_release(&c);
	}
	atomic_store(&r.stop, 1);
	pthread_join(th, NULL);
	if (failed)
		fail_msg("%d of 60 runs failed, the last: %s", failed, last);
}

int main(void)
{
	(void)sh; /* the fixture's helper this suite does not need */
	sbx_host_info_t host;
	sbx_host_probe(&host);
	if (!host.root && !host.userns) {
		printf("# SKIP test_sandbox_dotdot: no root and no user namespaces here\n");
		return 0;
	}
	if (syscall(SYS_openat2, AT_FDCWD, "/", &(struct open_how){.flags = O_PATH},
		    sizeof(struct open_how)) < 0 &&
	    errno == ENOSYS) {
		printf("# SKIP test_sandbox_dotdot: no openat2 (valgrind), no sandbox\n");
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolv_link_with_dotdot),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
