/*
 * The sandbox against real namespaces, in the busybox rootfs of
 * testdata/mkrootfs.sh.
 *
 * As root the suite runs rootful, then runs itself again as an unprivileged
 * user (created with useradd, started with setpriv), once with subordinate
 * id ranges in /etc/subuid and /etc/subgid and once without (the files are
 * restored after). The rootless runs get their mode from SBX_TEST_MODE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/sandbox.h"
#include "common/fs.h"
#include "common/util.h"
#include "test_sandbox_util.h"

/* --- tests --- */

static void test_echo_hi(void **state)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.argv = (char *[]){"echo", "hi", NULL};
	sbx_status_t st = must_run(&cfg);
	assert_exited(st, 0);
	assert_string_equal(c.out.data, "hi\n");
	assert_string_equal(c.err.data, "");
	capture_release(&c);
}

static void test_streams_apart(void **state)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.argv = (char *[]){"/bin/sh", "-c", "echo out; echo err >&2", NULL};
	sbx_status_t st = must_run(&cfg);
	assert_exited(st, 0);
	assert_string_equal(c.out.data, "out\n");
	assert_string_equal(c.err.data, "err\n");
	capture_release(&c);
}

static void test_stdout_fd(void **state)
{
	/* given fds instead of a callback: output lands in the file */
	_cleanup_free_ char *path = cb_path_join(g.dir, "out.txt");
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.output_cb = NULL;
	cfg.stdout_fd = fd;
	cfg.stderr_fd = fd;
	cfg.argv = (char *[]){"/bin/sh", "-c", "echo one; echo two >&2", NULL};
	sbx_status_t st = must_run(&cfg);
	assert_exited(st, 0);
	char buf[64] = {0};
	assert_int_equal(pread(fd, buf, sizeof buf - 1, 0), 8);
	assert_string_equal(buf, "one\ntwo\n");
	capture_release(&c);
}

static void test_exit_codes(void **state)
{
	static const int codes[] = {0, 1, 42, 255};
	for (size_t i = 0; i < CB_ARRAY_SIZE(codes); i++) {
		char script[32];
		snprintf(script, sizeof script, "exit %d", codes[i]);
		sbx_status_t st;
		free(sh(script, &st));
		assert_exited(st, codes[i]);
		assert_int_equal(sbx_status_shell_code(&st), codes[i]);
	}
}

static void test_sigkill(void **state)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.argv = (char *[]){"sleep", "100", NULL};
	sbx_handle_t *h = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (sbx_start(&cfg, &h, &err) < 0)
		fail_msg("sbx_start: %s", err.msg);
	assert_true(sbx_handle_pid(h) > 0);
	assert_int_equal(sbx_kill(h, SIGKILL, &err), 0);
	sbx_status_t st;
	assert_int_equal(sbx_wait(h, true, &st, &err), 0);
	assert_true(st.signaled);
	assert_int_equal(st.signal, SIGKILL);
	assert_int_equal(sbx_status_shell_code(&st), 137);
	sbx_handle_free(h);
	capture_release(&c);
}

static void test_killed_inside(void **state)
{
	/* a signal PID 1 has a handler for is delivered from inside too; the
	 * shell re-raises nothing, so use a child killed by SIGSEGV and
	 * report it through the shell's 128+n */
	sbx_status_t st;
	_cleanup_free_ char *out = sh("sh -c 'kill -SEGV $$'; echo $?", &st);
	assert_exited(st, 0);
	assert_non_null(strstr(out, "139\n"));
}

static void test_pid1(void **state)
{
	sbx_status_t st;
	_cleanup_free_ char *out = sh("echo $$", &st);
	assert_exited(st, 0);
	assert_string_equal(out, "1\n");
}

static void test_hostname(void **state)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.hostname = "sbx-test-host";
	cfg.argv = (char *[]){"hostname", NULL};
	sbx_status_t st = must_run(&cfg);
	assert_exited(st, 0);
	assert_string_equal(c.out.data, "sbx-test-host\n");
	capture_release(&c);
}

static void test_proc_only_sandbox(void **state)
{
	sbx_status_t st;
	/* a shell loop: no extra process to show up */
	_cleanup_free_ char *out = sh("for p in /proc/[0-9]*; do echo $p; done", &st);
	assert_exited(st, 0);
	assert_string_equal(out, "/proc/1\n");
}

static void test_network_none(void **state)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.network = SBX_NET_NONE;
	cfg.argv = (char *[]){"/bin/sh", "-c", "ls /sys/class/net; cat /sys/class/net/lo/operstate; "
					       "ip -o link | wc -l",
			      NULL};
	sbx_status_t st = must_run(&cfg);
	assert_exited(st, 0);
	/* lo's operstate is "unknown" when up (it has no carrier) */
	assert_string_equal(c.out.data, "lo\nunknown\n1\n");
	capture_release(&c);
}

static void test_network_host(void **state)
{
	_cleanup_close_ int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(ls >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(ls, 4), 0);
	socklen_t al = sizeof a;
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
	char script[128];
	snprintf(script, sizeof script, "echo ping-from-sandbox | nc 127.0.0.1 %d",
		 ntohs(a.sin_port));
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.argv = (char *[]){"/bin/sh", "-c", script, NULL};
	sbx_handle_t *h = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (sbx_start(&cfg, &h, &err) < 0)
		fail_msg("sbx_start: %s", err.msg);
	_cleanup_close_ int conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	assert_true(conn >= 0);
	char buf[64] = {0};
	ssize_t n = cb_read_all(conn, buf, sizeof buf - 1, &err);
	assert_int_equal(n, 18);
	assert_string_equal(buf, "ping-from-sandbox\n");
	close(conn);
	conn = -1;
	sbx_status_t st;
	assert_int_equal(sbx_wait(h, true, &st, &err), 0);
	assert_exited(st, 0);
	sbx_handle_free(h);
	capture_release(&c);
}

static void test_capabilities(void **state)
{
	sbx_status_t st;
	_cleanup_free_ char *out = sh("grep -E '^Cap(Eff|Prm|Bnd|Inh|Amb)' /proc/self/status; "
				      "grep NoNewPrivs /proc/self/status",
				      &st);
	assert_exited(st, 0);
	assert_string_equal(out, "CapInh:\t0000000000000000\n"
				 "CapPrm:\t00000000a80425fb\n"
				 "CapEff:\t00000000a80425fb\n"
				 "CapBnd:\t00000000a80425fb\n"
				 "CapAmb:\t0000000000000000\n"
				 "NoNewPrivs:\t1\n");
}

static void test_sys_readonly(void **state)
{
	sbx_status_t st;
	_cleanup_free_ char *out =
		sh("echo 1 > /sys/kernel/profiling && echo WROTE; touch /sys/x && echo WROTE", &st);
	assert_exited(st, 1);
	assert_null(strstr(out, "WROTE"));
	assert_non_null(strstr(out, "Read-only file system"));
	/* /proc/sys too, as Docker does; kernel knobs are masked */
	free(out);
	out = sh("echo 3 > /proc/sys/vm/drop_caches && echo WROTE; "
		 "grep -c ' /proc/sys ro,' /proc/self/mountinfo; ls /proc/acpi | wc -l",
		 &st);
	assert_exited(st, 0);
	assert_null(strstr(out, "WROTE"));
	assert_true(cb_str_has_prefix(out, "1\n0\n")); /* stdout, then stderr */
	assert_non_null(strstr(out, "Read-only file system"));
}

static void test_nodev(void **state)
{
	sbx_status_t st;
	/* an unbacked loop device reads 0 bytes when it opens at all */
	_cleanup_free_ char *out = sh("rm -f /tmp/blk; mknod /tmp/blk b 7 0 && echo MADE; "
				      "head -c 1 /tmp/blk >/dev/null 2>&1; echo rc=$?; rm -f /tmp/blk",
				      &st);
	assert_exited(st, 0);
	/* a user namespace may not mknod at all: then there is nothing to open */
	if (!g.rootless)
		assert_non_null(strstr(out, "MADE\n"));
	assert_non_null(strstr(out, "rc=1\n"));
	/* /dev/null, a bind of the host's, still works */
	free(out);
	out = sh("echo x > /dev/null && head -c 4 /dev/zero | wc -c", &st);
	assert_exited(st, 0);
	assert_string_equal(out, "4\n");
}

static void test_user_nobody(void **state)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.user = "nobody";
	cfg.argv = (char *[]){"/bin/sh", "-c", "id -u; id -g; grep CapEff /proc/self/status", NULL};
	if (g.rootless && !g.host.subids) {
		sbx_status_t st;
		cb_error_t err = CB_ERROR_INIT;
		assert_int_equal(sbx_run(&cfg, &st, &err), -1);
		assert_non_null(strstr(err.msg, "is not mapped"));
		cb_error_release(&err);
		capture_release(&c);
		return;
	}
	sbx_status_t st = must_run(&cfg);
	assert_exited(st, 0);
	/* Docker: a non-root user has no effective capabilities */
	assert_string_equal(c.out.data, "65534\n65534\nCapEff:\t0000000000000000\n");
	capture_release(&c);
}

static void test_user_specs(void **state)
{
	if (g.rootless && !g.host.subids)
		skip();
	static const struct {
		const char *spec, *want;
	} cases[] = {
		{"0", "0 0 0\n"},
		{"root", "0 0 0\n"},
		{"1234", "1234 0 0\n"},
		{"1234:5678", "1234 5678 5678\n"},
		{"nobody:root", "65534 0 0\n"},
		{"root:nogroup", "0 65534 65534\n"},
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(cases); i++) {
		sbx_config_t cfg;
		struct capture c;
		base_cfg(&cfg, &c);
		cfg.user = cases[i].spec;
		cfg.argv = (char *[]){"/bin/sh", "-c", "echo $(id -u) $(id -g) $(id -G)", NULL};
		sbx_status_t st = must_run(&cfg);
		assert_exited(st, 0);
		if (strcmp(c.out.data, cases[i].want))
			fail_msg("user '%s': got '%s' want '%s'", cases[i].spec, c.out.data,
				 cases[i].want);
		capture_release(&c);
	}
}

static void test_chown(void **state)
{
	/* files owned by other users: what a build of a real image needs */
	sbx_status_t st;
	_cleanup_free_ char *out = sh("rm -f /tmp/own; touch /tmp/own && chown 1000:1000 /tmp/own "
				      "&& stat -c %u:%g /tmp/own; rm -f /tmp/own",
				      &st);
	if (g.rootless && !g.host.subids) {
		/* only root is mapped: a clear failure, not a silent one */
		assert_non_null(strstr(out, "Invalid argument"));
		return;
	}
	assert_exited(st, 0);
	assert_string_equal(out, "1000:1000\n");
}

static void test_user_unknown(void **state)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.user = "nosuchuser";
	cfg.argv = (char *[]){"true", NULL};
	sbx_status_t st;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(sbx_run(&cfg, &st, &err), -1);
	assert_string_equal(err.msg,
			    "unable to find user 'nosuchuser': no matching entries in passwd file");
	cb_error_release(&err);
	cfg.user = "root:nosuchgroup";
	assert_int_equal(sbx_run(&cfg, &st, &err), -1);
	assert_string_equal(err.msg,
			    "unable to find group 'nosuchgroup': no matching entries in group file");
	cb_error_release(&err);
	capture_release(&c);
}

static void test_resolve_user_in_root(void **state)
{
	/* the image's passwd, never the host's: the host has no user 'sbxonly' */
	_cleanup_free_ char *dir = cb_path_join(g.dir, "fakeroot");
	assert_int_equal(shell("mkdir -p %s/etc && printf 'sbxonly:x:4242:4343::/home/s:/bin/sh\\n' "
			       "> %s/etc/passwd && printf 'g1:x:4343:\\ng2:x:77:other,sbxonly\\n' > "
			       "%s/etc/group",
			       dir, dir, dir),
			 0);
	sbx_user_t u;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(sbx_resolve_user(dir, "sbxonly", &u, &err), 0);
	assert_int_equal(u.uid, 4242);
	assert_int_equal(u.gid, 4343);
	assert_string_equal(u.home, "/home/s");
	assert_int_equal(u.n_groups, 2);
	assert_int_equal(u.groups[0], 4343);
	assert_int_equal(u.groups[1], 77);
	sbx_user_release(&u);
	/* a symlinked passwd resolves inside the root, not on the host */
	assert_int_equal(shell("cd %s/etc && mv passwd real && ln -s /etc/real passwd", dir), 0);
	assert_int_equal(sbx_resolve_user(dir, "sbxonly", &u, &err), 0);
	assert_int_equal(u.uid, 4242);
	sbx_user_release(&u);
	assert_int_equal(shell("cd %s/etc && rm passwd && ln -s ../../../../../../etc/passwd passwd",
			       dir),
			 0);
	/* "root" exists on the host but the link cannot reach it */
	assert_int_equal(sbx_resolve_user(dir, "root", &u, &err), -1);
	cb_error_release(&err);
}

static void test_background_killed(void **state)
{
	/* a unique argument tells our sleeper from anybody else's */
	char arg[32], script[96];
	snprintf(arg, sizeof arg, "%d.5", 100000 + (int)getpid());
	snprintf(script, sizeof script, "sleep %s & echo started", arg);
	sbx_status_t st;
	_cleanup_free_ char *out = sh(script, &st);
	assert_exited(st, 0);
	assert_string_equal(out, "started\n");
	char want[64];
	int wn = snprintf(want, sizeof want, "sleep%c%s", 0, arg);
	DIR *d = opendir("/proc");
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		char p[300], buf[128];
		snprintf(p, sizeof p, "/proc/%s/cmdline", de->d_name);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf);
		close(fd);
		if (n >= wn && !memcmp(buf, want, (size_t)wn))
			fail_msg("background sleep survived as pid %s", de->d_name);
	}
	closedir(d);
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Our part of the host's mount table: the lines naming our temp dir (the
 * rest changes with whatever else runs on the machine). */
static char *our_mounts(void)
{
	char *all = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (cb_read_file("/proc/self/mountinfo", 1 << 22, &all, NULL, &err) < 0)
		fail_msg("read mountinfo: %s", err.msg);
	cb_buf_t b;
	cb_buf_init(&b);
	char *save = NULL;
	for (char *l = strtok_r(all, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (strstr(l, g.dir))
			cb_buf_addstr(&b, l), cb_buf_addch(&b, '\n');
	free(all);
	return cb_buf_detach(&b, NULL);
}

static void test_no_leaks_200(void **state)
{
	char *before = our_mounts(), *after = NULL;
	int fds = count_fds();
	for (int i = 0; i < 200; i++) {
		sbx_config_t cfg;
		struct capture c;
		base_cfg(&cfg, &c);
		cfg.argv = (char *[]){"true", NULL};
		if (i % 2)
			cfg.network = SBX_NET_NONE;
		sbx_status_t st = must_run(&cfg);
		assert_exited(st, 0);
		capture_release(&c);
	}
	after = our_mounts();
	assert_string_equal(before, after);
	assert_int_equal(count_fds(), fds);
	free(before);
	free(after);
}

static void test_no_fd_inherited(void **state)
{
	/* an fd the caller forgot to mark CLOEXEC does not reach the process */
	int fd = fcntl(1, F_DUPFD, 77);
	assert_true(fd >= 77);
	sbx_status_t st;
	_cleanup_free_ char *out = sh("ls /proc/self/fd | tr '\\n' ' '", &st);
	close(fd);
	assert_exited(st, 0);
	assert_string_equal(out, "0 1 2 3 ");
}

static void test_exec_missing(void **state)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.argv = (char *[]){"/bin/nosuch", NULL};
	sbx_status_t st;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(sbx_run(&cfg, &st, &err), -1);
	assert_string_equal(err.msg, "exec '/bin/nosuch' in the image");
	assert_int_equal(err.code, ENOENT);
	cb_error_release(&err);
	cfg.argv = (char *[]){"nosuch", NULL};
	assert_int_equal(sbx_run(&cfg, &st, &err), -1);
	assert_string_equal(err.msg, "exec 'nosuch' in the image: executable file not found in $PATH");
	cb_error_release(&err);
	cfg.argv = (char *[]){"/etc/passwd", NULL};
	assert_int_equal(sbx_run(&cfg, &st, &err), -1);
	assert_int_equal(err.code, EACCES);
	cb_error_release(&err);
	capture_release(&c);
}

static void test_setup_error_named(void **state)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	sbx_mount_t m = {.type = SBX_MOUNT_BIND, .source = "/nonexistent-sbx", .dest = "/mnt/x"};
	cfg.mounts = &m;
	cfg.n_mounts = 1;
	cfg.argv = (char *[]){"true", NULL};
	sbx_status_t st;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(sbx_run(&cfg, &st, &err), -1);
	assert_string_equal(err.msg, "bind mount '/mnt/x': stat source '/nonexistent-sbx'");
	assert_int_equal(err.code, ENOENT);
	cb_error_release(&err);
	capture_release(&c);
}

static void test_env_exact_cwd_umask(void **state)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	char *env[] = {"PATH=/bin", "A=1", "B=two words", NULL};
	cfg.env = env;
	cfg.cwd = "/new/work/dir";
	cfg.argv = (char *[]){"/bin/sh", "-c", "env | sort; pwd; umask", NULL};
	sbx_status_t st = must_run(&cfg);
	assert_exited(st, 0);
	/* busybox sh adds PWD, SHLVL; the sandbox HOME (passwd); nothing else */
	assert_string_equal(c.out.data,
			    "A=1\nB=two words\nHOME=/root\nPATH=/bin\nPWD=/new/work/dir\nSHLVL=1\n"
			    "/new/work/dir\n0022\n");
	capture_release(&c);
}

static void test_mounts(void **state)
{
	_cleanup_free_ char *src = cb_path_join(g.dir, "bindsrc");
	assert_int_equal(shell("mkdir -p %s && echo data > %s/f", src, src), 0);
	_cleanup_free_ char *file = cb_path_join(g.dir, "resolv");
	assert_int_equal(shell("echo 'nameserver 127.0.0.53' > %s", file), 0);
	sbx_mount_t m[] = {
		{.type = SBX_MOUNT_BIND, .source = src, .dest = "/ro", .readonly = true},
		{.type = SBX_MOUNT_BIND, .source = src, .dest = "/rw/deep"},
		{.type = SBX_MOUNT_TMPFS, .dest = "/scratch", .options = "size=1m,mode=0700"},
	};
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.mounts = m;
	cfg.n_mounts = CB_ARRAY_SIZE(m);
	cfg.resolv_conf = file;
	cfg.argv = (char *[]){"/bin/sh", "-c",
			      "cat /ro/f; touch /ro/g 2>/dev/null || echo ro-ok; "
			      "echo new > /rw/deep/g && cat /rw/deep/g; "
			      "stat -c %a /scratch; grep -c ' /scratch .*tmpfs' /proc/self/mountinfo; "
			      "cat /etc/resolv.conf",
			      NULL};
	sbx_status_t st = must_run(&cfg);
	assert_exited(st, 0);
	assert_string_equal(c.out.data, "data\nro-ok\nnew\n700\n1\nnameserver 127.0.0.53\n");
	capture_release(&c);
	_cleanup_free_ char *g2 = cb_path_join(src, "g");
	assert_true(cb_path_exists(g2));
}

static void test_readonly_rootfs(void **state)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.readonly_rootfs = true;
	cfg.argv = (char *[]){"/bin/sh", "-c", "touch /x 2>&1; touch /dev/shm/y && echo shm-ok", NULL};
	sbx_status_t st = must_run(&cfg);
	assert_exited(st, 0);
	assert_non_null(strstr(c.out.data, "Read-only file system"));
	assert_non_null(strstr(c.out.data, "shm-ok"));
	capture_release(&c);
}

static void test_dev(void **state)
{
	sbx_status_t st;
	_cleanup_free_ char *out = sh("ls /dev | tr '\\n' ' '; readlink /dev/ptmx; readlink /dev/fd", &st);
	assert_exited(st, 0);
	assert_string_equal(out, "core fd full mqueue null ptmx pts random shm stderr stdin stdout "
				 "tty urandom zero pts/ptmx\n/proc/self/fd\n");
}

static void test_tty(void **state)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.tty = true;
	cfg.tty_rows = 33;
	cfg.tty_cols = 101;
	cfg.argv = (char *[]){"/bin/sh", "-c", "tty; stty size; echo $$", NULL};
	sbx_status_t st = must_run(&cfg);
	assert_exited(st, 0);
	assert_string_equal(c.out.data, "/dev/pts/0\r\n33 101\r\n1\r\n");
	capture_release(&c);
}

/* A pipe whose read end holds `text` then EOF. */
static int pipe_with(const char *text)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
	close(p[1]);
	return p[0];
}

static void test_stdin(void **state)
{
	/* passed through as is */
	_cleanup_close_ int in = pipe_with("line one\nline two\n");
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.stdin_mode = SBX_STDIN_INHERIT;
	cfg.stdin_fd = in;
	cfg.argv = (char *[]){"wc", "-l", NULL};
	sbx_status_t st = must_run(&cfg);
	assert_exited(st, 0);
	assert_string_equal(c.out.data, "2\n");
	capture_release(&c);
	/* default: /dev/null */
	base_cfg(&cfg, &c);
	cfg.argv = (char *[]){"wc", "-c", NULL};
	st = must_run(&cfg);
	assert_string_equal(c.out.data, "0\n");
	capture_release(&c);
}

static void test_tty_stdin(void **state)
{
	/* typed input goes through the pty: the shell reads it interactively */
	_cleanup_close_ int in = pipe_with("echo typed $((40+2))\nexit 5\n");
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.tty = true;
	cfg.stdin_mode = SBX_STDIN_INHERIT;
	cfg.stdin_fd = in;
	cfg.argv = (char *[]){"/bin/sh", NULL};
	sbx_status_t st = must_run(&cfg);
	assert_exited(st, 5);
	assert_non_null(strstr(c.out.data, "typed 42\r\n"));
	capture_release(&c);
}

static void test_rlimits(void **state)
{
	sbx_rlimit_t r = {.resource = RLIMIT_NOFILE, .soft = 321, .hard = 321};
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.rlimits = &r;
	cfg.n_rlimits = 1;
	cfg.argv = (char *[]){"/bin/sh", "-c", "ulimit -n", NULL};
	sbx_status_t st = must_run(&cfg);
	assert_exited(st, 0);
	assert_string_equal(c.out.data, "321\n");
	capture_release(&c);
}

static void test_exec_join(void **state)
{
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.hostname = "joined";
	cfg.network = SBX_NET_NONE;
	cfg.argv = (char *[]){"/bin/sh", "-c", "echo there > /tmp/joinmark; exec sleep 100", NULL};
	sbx_handle_t *h = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (sbx_start(&cfg, &h, &err) < 0)
		fail_msg("sbx_start: %s", err.msg);
	/* wait (no timing) for the mark the container writes */
	_cleanup_free_ char *mark = cb_path_join(g.rootfs, "tmp/joinmark");
	while (!cb_path_exists(mark))
		usleep(1000);

	sbx_config_t ec;
	struct capture ecap;
	base_cfg(&ec, &ecap);
	ec.rootfs = NULL;
	ec.cwd = "/made/by/exec";
	ec.argv = (char *[]){"/bin/sh", "-c",
			     "hostname; cat /tmp/joinmark; pwd; ls /sys/class/net; "
			     "tr '\\0' ' ' < /proc/1/cmdline; echo; [ $$ != 1 ] && echo not-pid-1; "
			     "grep CapEff /proc/self/status; exit 3",
			     NULL};
	sbx_status_t st;
	if (sbx_exec(sbx_handle_pid(h), &ec, &st, &err) < 0)
		fail_msg("sbx_exec: %s", err.msg);
	assert_exited(st, 3);
	assert_string_equal(ecap.out.data, "joined\nthere\n/made/by/exec\nlo\nsleep 100 \n"
					   "not-pid-1\nCapEff:\t00000000a80425fb\n");
	capture_release(&ecap);

	/* killed by a signal: reported as such through the intermediate */
	base_cfg(&ec, &ecap);
	ec.argv = (char *[]){"/bin/sh", "-c", "kill -KILL $$", NULL};
	if (sbx_exec(sbx_handle_pid(h), &ec, &st, &err) < 0)
		fail_msg("sbx_exec: %s", err.msg);
	assert_true(st.signaled);
	assert_int_equal(st.signal, SIGKILL);
	capture_release(&ecap);

	/* a background process left by the exec'ed command (it holds our output
	 * pipe) does not keep sbx_exec waiting */
	base_cfg(&ec, &ecap);
	ec.argv = (char *[]){"/bin/sh", "-c", "sleep 100 & echo bg", NULL};
	if (sbx_exec(sbx_handle_pid(h), &ec, &st, &err) < 0)
		fail_msg("sbx_exec: %s", err.msg);
	assert_exited(st, 0);
	assert_string_equal(ecap.out.data, "bg\n");
	capture_release(&ecap);

	/* a missing binary is an error, as for sbx_run */
	base_cfg(&ec, &ecap);
	ec.argv = (char *[]){"/bin/nosuch", NULL};
	assert_int_equal(sbx_exec(sbx_handle_pid(h), &ec, &st, &err), -1);
	assert_string_equal(err.msg, "exec '/bin/nosuch' in the image");
	cb_error_release(&err);
	capture_release(&ecap);

	assert_int_equal(sbx_kill(h, SIGKILL, &err), 0);
	assert_int_equal(sbx_wait(h, true, &st, &err), 0);
	assert_true(st.signaled);
	sbx_handle_free(h);
	capture_release(&c);
	unlink(mark);
}

static void test_socket_in(void **state)
{
	/* a server on the container's own loopback (network none), reached
	 * from here through a socket made in its namespace */
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.network = SBX_NET_NONE;
	cfg.argv = (char *[]){"/bin/sh", "-c", "echo hello-from-ns | nc -l -p 8080", NULL};
	sbx_handle_t *h = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (sbx_start(&cfg, &h, &err) < 0)
		fail_msg("sbx_start: %s", err.msg);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(8080),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s;
	for (;;) { /* until nc listens */
		s = sbx_socket_in(sbx_handle_pid(h), AF_INET, SOCK_STREAM, &err);
		if (s < 0)
			fail_msg("sbx_socket_in: %s", err.msg);
		if (connect(s, (struct sockaddr *)&a, sizeof a) == 0)
			break;
		assert_int_equal(errno, ECONNREFUSED);
		close(s);
		usleep(2000);
	}
	char buf[64] = {0};
	assert_int_equal(cb_read_all(s, buf, sizeof buf - 1, &err), 14);
	assert_string_equal(buf, "hello-from-ns\n");
	close(s);
	sbx_status_t st;
	assert_int_equal(sbx_wait(h, true, &st, &err), 0);
	assert_exited(st, 0);
	sbx_handle_free(h);
	capture_release(&c);
}

static void test_signal_forwarded(void **state)
{
	/* sbx_run forwards SIGTERM: the shell (PID 1) has a handler for it */
	_cleanup_free_ char *mark = cb_path_join(g.rootfs, "tmp/fwdready");
	unlink(mark);
	pid_t parent = getpid();
	pid_t helper = fork();
	assert_true(helper >= 0);
	if (helper == 0) {
		while (!cb_path_exists(mark))
			usleep(1000);
		kill(parent, SIGTERM);
		_exit(0);
	}
	sbx_config_t cfg;
	struct capture c;
	base_cfg(&cfg, &c);
	cfg.forward_signals = true;
	cfg.argv = (char *[]){"/bin/sh", "-c",
			      "trap 'echo got-term; exit 7' TERM; touch /tmp/fwdready; "
			      "while :; do sleep 1; done",
			      NULL};
	sbx_status_t st = must_run(&cfg);
	waitpid(helper, NULL, 0);
	assert_exited(st, 7);
	assert_string_equal(c.out.data, "got-term\n");
	capture_release(&c);
	unlink(mark);
}

/* --- the rootless runs (as root only) --- */

static char *read_or_empty(const char *path)
{
	char *data = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (cb_read_file(path, 1 << 20, &data, NULL, &err) < 0) {
		cb_error_release(&err);
		data = cb_xstrdup("");
	}
	return data;
}

/* Content of a subid file without TEST_USER's lines, plus `extra`. */
static char *without_user(const char *content, const char *extra)
{
	cb_buf_t b;
	cb_buf_init(&b);
	const char *p = content;
	while (*p) {
		const char *nl = strchrnul(p, '\n');
		if (!(cb_str_has_prefix(p, TEST_USER ":")))
			cb_buf_add(&b, p, (size_t)(nl - p)), cb_buf_addch(&b, '\n');
		p = *nl ? nl + 1 : nl;
	}
	cb_buf_addstr(&b, extra);
	return cb_buf_detach(&b, NULL);
}

static int put(const char *path, const char *content)
{
	cb_error_t err = CB_ERROR_INIT;
	int rc = cb_write_file_atomic(path, NULL, content, strlen(content), 0644, &err);
	cb_error_release(&err);
	return rc;
}

#define SUBIDS_LOCK "/tmp/cbuild-test-subids.lock"
static void run_rootless(bool subids)
{
	if (g.rootless)
		skip();
	if (access("/usr/sbin/useradd", X_OK) || access("/usr/bin/setpriv", X_OK)) {
		print_message("SKIP: rootless part needs useradd and setpriv\n");
		skip();
	}
	/* one checkout at a time; one fd per process (asserts longjmp past close) */
	static int lock = -1;
	lock = lock >= 0 ? lock : open(SUBIDS_LOCK, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	assert_true(lock >= 0);
	while (flock(lock, LOCK_EX) < 0)
		assert_int_equal(errno, EINTR);

	if (!getpwnam(TEST_USER) &&
	    shell("useradd -M -N -d /nonexistent -s /usr/sbin/nologin " TEST_USER) != 0)
		fail_msg("useradd " TEST_USER " failed");
	struct passwd *pw = getpwnam(TEST_USER);
	assert_non_null(pw);
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;

	bool had_su = cb_path_exists("/etc/subuid"), had_sg = cb_path_exists("/etc/subgid");
	_cleanup_free_ char *su = read_or_empty("/etc/subuid");
	_cleanup_free_ char *sg = read_or_empty("/etc/subgid");
	_cleanup_free_ char *nsu = without_user(su, subids ? TEST_USER ":300000:65536\n" : "");
	_cleanup_free_ char *nsg = without_user(sg, subids ? TEST_USER ":300000:65536\n" : "");
	assert_int_equal(put("/etc/subuid", nsu), 0);
	assert_int_equal(put("/etc/subgid", nsg), 0);

	_cleanup_free_ char *wd = cb_asprintf("%s/rootless-%d", g.dir, subids);
	_cleanup_free_ char *bin = cb_asprintf("%s/test_sandbox", g.dir);
	shell("rm -rf %s; mkdir -p %s && chown %u:%u %s && cp /proc/%d/exe %s && chmod 755 %s", wd,
	      wd, (unsigned)uid, (unsigned)gid, wd, (int)getpid(), bin, bin);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("SBX_TEST_MODE", "rootless", 1);
		setenv("SBX_TEST_WORKDIR", wd, 1);
		setenv("SBX_TEST_ROOTFS_TAR", g.tar, 1);
		char u[32], gg[32];
		snprintf(u, sizeof u, "%u", (unsigned)uid);
		snprintf(gg, sizeof gg, "%u", (unsigned)gid);
		if (chdir(wd) < 0)
			_exit(126);
		execl("/usr/bin/setpriv", "setpriv", "--reuid", u, "--regid", gg, "--clear-groups",
		      "--", bin, (char *)NULL);
		_exit(127);
	}
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	/* restore before asserting: a failure must not leave the host changed */
	if (had_su)
		put("/etc/subuid", su);
	else
		unlink("/etc/subuid");
	if (had_sg)
		put("/etc/subgid", sg);
	else
		unlink("/etc/subgid");
	shell("rm -rf %s %s", wd, bin);
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		fail_msg("rootless suite (%s subids) failed: status %d", subids ? "with" : "without",
			 ws);
}

static void test_rootless_with_subids(void **state) { run_rootless(true); }
static void test_rootless_without_subids(void **state) { run_rootless(false); }

int main(void)
{
	sbx_host_info_t host;
	sbx_host_probe(&host);
	if (!host.root && !host.userns) {
		printf("# SKIP test_sandbox: not root and user namespaces are disabled on this host\n");
		return 0;
	}
	if (syscall(SYS_openat2, AT_FDCWD, "/", &(struct open_how){.flags = O_PATH},
		    sizeof(struct open_how)) < 0 &&
	    errno == ENOSYS) {
		printf("# SKIP test_sandbox: no openat2 (valgrind), the sandbox refuses to start\n");
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_hi),
		cmocka_unit_test(test_streams_apart),
		cmocka_unit_test(test_stdout_fd),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_sigkill),
		cmocka_unit_test(test_killed_inside),
		cmocka_unit_test(test_pid1),
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_proc_only_sandbox),
		cmocka_unit_test(test_network_none),
		cmocka_unit_test(test_network_host),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_sys_readonly),
		cmocka_unit_test(test_nodev),
		cmocka_unit_test(test_user_nobody),
		cmocka_unit_test(test_user_specs),
		cmocka_unit_test(test_chown),
		cmocka_unit_test(test_user_unknown),
		cmocka_unit_test(test_resolve_user_in_root),
		cmocka_unit_test(test_background_killed),
		cmocka_unit_test(test_no_leaks_200),
		cmocka_unit_test(test_no_fd_inherited),
		cmocka_unit_test(test_exec_missing),
		cmocka_unit_test(test_setup_error_named),
		cmocka_unit_test(test_env_exact_cwd_umask),
		cmocka_unit_test(test_mounts),
		cmocka_unit_test(test_readonly_rootfs),
		cmocka_unit_test(test_dev),
		cmocka_unit_test(test_tty),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_tty_stdin),
		cmocka_unit_test(test_rlimits),
		cmocka_unit_test(test_exec_join),
		cmocka_unit_test(test_signal_forwarded),
		cmocka_unit_test(test_socket_in),
		cmocka_unit_test(test_rootless_with_subids),
		cmocka_unit_test(test_rootless_without_subids),
	};
	return cmocka_run_group_tests_name(getenv("SBX_TEST_MODE") ? "sandbox (rootless)" : "sandbox",
					   tests, group_setup, group_teardown);
}
