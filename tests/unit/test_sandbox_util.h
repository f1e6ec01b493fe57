/*
 * tests/unit/test_sandbox_util.h - the fixture of test_sandbox.c: the
 * busybox rootfs (testdata/mkrootfs.sh) extracted in a temp dir by the
 * group setup, the root/rootless mode, and helpers that run a command in
 * it and capture its output. Include once, after cmocka.h.
 */
#ifndef CB_TESTS_SANDBOX_UTIL_H
#define CB_TESTS_SANDBOX_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/sandbox.h"
#include "common/fs.h"
#include "common/util.h"

#define TEST_USER "cbuild-sbxtest"

static struct {
	char *dir;    /* our temp dir */
	char *tar;    /* the rootfs tarball */
	char *rootfs; /* dir/rootfs, extracted */
	bool rootless;
	sbx_host_info_t host;
} g;

static char *const test_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", NULL};

static int shell(const char *fmt, ...) CB_PRINTF(1, 2);
static int shell(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *cmd = cb_vasprintf(fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static int group_setup(void **state)
{
	/* run by a plain user, the suite is the rootless one */
	g.rootless = cb_streq(getenv("SBX_TEST_MODE"), "rootless") || geteuid() != 0;
	const char *wd = getenv("SBX_TEST_WORKDIR");
	cb_error_t err = CB_ERROR_INIT;
	g.dir = wd ? cb_xstrdup(wd) : cb_mkdtemp_in("/tmp", "cbuild-sbx-", &err);
	if (!g.dir) {
		print_message("temp dir: %s\n", err.msg);
		return -1;
	}
	chmod(g.dir, 0755);
	const char *tar = getenv("SBX_TEST_ROOTFS_TAR");
	if (tar) {
		g.tar = cb_xstrdup(tar);
	} else {
		g.tar = cb_path_join(g.dir, "rootfs.tar");
		if (shell("testdata/mkrootfs.sh %s", g.tar) != 0) {
			print_message("testdata/mkrootfs.sh failed (run from the source tree)\n");
			return -1;
		}
		chmod(g.tar, 0644);
	}
	g.rootfs = cb_path_join(g.dir, "rootfs");
	if (shell("mkdir -p %s && tar -xf %s -C %s", g.rootfs, g.tar, g.rootfs) != 0) {
		print_message("extracting the rootfs failed\n");
		return -1;
	}
	sbx_host_probe(&g.host);
	print_message("# sandbox suite: %s%s\n", g.rootless ? "rootless" : "root",
		      g.rootless ? (g.host.subids ? ", with subids" : ", without subids") : "");
	return 0;
}

static int group_teardown(void **state)
{
	if (g.dir && !getenv("SBX_TEST_WORKDIR"))
		shell("rm -rf %s", g.dir);
	free(g.dir);
	free(g.tar);
	free(g.rootfs);
	return 0;
}

/* --- helpers --- */

struct capture {
	cb_buf_t out, err;
};

static int capture_cb(void *opaque, int stream, const char *data, size_t len, cb_error_t *err)
{
	struct capture *c = opaque;
	cb_buf_add(stream == 2 ? &c->err : &c->out, data, len);
	return 0;
}

static void base_cfg(sbx_config_t *cfg, struct capture *c)
{
	sbx_config_init(cfg);
	cfg->rootfs = g.rootfs;
	cfg->env = test_env;
	cfg->output_cb = capture_cb;
	cfg->output_opaque = c;
	cfg->forward_signals = false;
	cb_buf_init(&c->out);
	cb_buf_init(&c->err);
}

static void capture_release(struct capture *c)
{
	cb_buf_release(&c->out);
	cb_buf_release(&c->err);
}

/* Run cfg, which must start; returns the status. */
static sbx_status_t must_run(const sbx_config_t *cfg)
{
	sbx_status_t st;
	cb_error_t err = CB_ERROR_INIT;
	if (sbx_run(cfg, &st, &err) < 0)
		fail_msg("sbx_run: %s (%s)", err.msg, strerror(err.code));
	return st;
}

/* sh -c script with the defaults; stdout+stderr as one string (owned). */
static char *sh(const char *script, sbx_status_t *st)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
	cfg.argv = argv;
	*st = must_run(&cfg);
	cb_buf_add(&c.out, c.err.data, c.err.len);
	char *s = cb_buf_detach(&c.out, NULL);
	cb_buf_release(&c.err);
	return s;
}

#define assert_exited(st, n)                                 \
	do {                                                 \
		assert_false((st).signaled);                 \
		assert_int_equal((st).code, (n));            \
	} while (0)

#endif
