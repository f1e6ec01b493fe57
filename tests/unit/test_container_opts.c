/* runtime/container_opts.c and container_keep.c's parsers: --restart,
 * --ulimit, --cap-add/--cap-drop, the healthcheck merge; and cmd/run_opts.c
 * (compiled in: cmd/ is not in libcbuild.a): durations, --memory, --mount. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <cmocka.h>

#include "cmd/run_opts.c"
#include "runtime/container_internal.h"

/* cmd/run_opts.c uses cmd.c's cmd_usage_error: a stand-in */
int cmd_usage_error(cb_error_t *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char buf[512];
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	cb_error_fail(err, EINVAL, "%s", buf);
	return CMD_USAGE;
}

static void test_restart(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int ok, kind, max;
	} cases[] = {
		{"no", 1, RT_CTR_RESTART_NO, 0},
		{"always", 1, RT_CTR_RESTART_ALWAYS, 0},
		{"unless-stopped", 1, RT_CTR_RESTART_UNLESS_STOPPED, 0},
		{"on-failure", 1, RT_CTR_RESTART_ON_FAILURE, 0},
		{"on-failure:5", 1, RT_CTR_RESTART_ON_FAILURE, 5},
		{"always:3", 0, 0, 0},
		{"on-failure:x", 0, 0, 0},
		{"on-failure:-1", 0, 0, 0},
		{"sometimes", 0, 0, 0},
		{"", 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rt_ctr_restart_kind_t k = RT_CTR_RESTART_NO;
		int max = -1;
		cb_error_t e = CB_ERROR_INIT;
		int rc = rt_ctr_parse_restart(cases[i].in, &k, &max, &e);
		assert_int_equal(rc == 0, cases[i].ok);
		if (rc == 0) {
			assert_int_equal(k, cases[i].kind);
			assert_int_equal(max, cases[i].max);
		}
		cb_error_release(&e);
	}
	assert_string_equal(rt_ctr_restart_name(RT_CTR_RESTART_UNLESS_STOPPED), "unless-stopped");
}

static void test_ulimit(void **state)
{
	(void)state;
	sbx_rlimit_t r;
	cb_error_t e = CB_ERROR_INIT;
	assert_int_equal(rt_ctr_parse_ulimit("nofile=123:456", &r, &e), 0);
	assert_int_equal(r.resource, RLIMIT_NOFILE);
	assert_int_equal(r.soft, 123);
	assert_int_equal(r.hard, 456);
	assert_int_equal(rt_ctr_parse_ulimit("nproc=77", &r, &e), 0);
	assert_int_equal(r.soft, 77);
	assert_int_equal(r.hard, 77);
	assert_int_equal(rt_ctr_parse_ulimit("core=-1", &r, &e), 0);
	assert_true(r.soft == RLIM_INFINITY && r.hard == RLIM_INFINITY);
	const char *bad[] = {"bogus=1", "nofile", "nofile=x", "nofile=10:5", "nofile=-2"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(rt_ctr_parse_ulimit(bad[i], &r, &e), -1);
		cb_error_release(&e);
	}
}

static void test_caps(void **state)
{
	(void)state;
	uint64_t caps;
	cb_error_t e = CB_ERROR_INIT;
	assert_int_equal(rt_ctr_caps(NULL, NULL, &caps, &e), 0);
	assert_true(caps == SBX_CAPS_DEFAULT);
	char *add[] = {"NET_ADMIN", NULL}, *drop[] = {"cap_chown", NULL};
	assert_int_equal(rt_ctr_caps(add, drop, &caps, &e), 0);
	assert_true(caps == ((SBX_CAPS_DEFAULT | (UINT64_C(1) << 12)) & ~UINT64_C(1)));
	char *all[] = {"ALL", NULL}, *kill_[] = {"KILL", NULL};
	assert_int_equal(rt_ctr_caps(kill_, all, &caps, &e), 0);
	assert_true(caps == (UINT64_C(1) << 5));
	assert_int_equal(rt_ctr_caps(all, kill_, &caps, &e), 0);
	assert_true(caps == (sbx_caps_all() & ~(UINT64_C(1) << 5)));
	char *bad[] = {"NOSUCH", NULL};
	assert_int_equal(rt_ctr_caps(bad, NULL, &caps, &e), -1);
	cb_error_release(&e);
}

/* docker's merge: each --health-* field over the image's HEALTHCHECK;
 * NONE or --no-healthcheck: none */
static void test_health_merge(void **state)
{
	(void)state;
	oci_config_t img = {0};
	img.healthcheck = json_pack("{s:[s,s], s:I, s:i}", "Test", "CMD-SHELL", "curl x",
				    "Interval", (json_int_t)5000000000, "Retries", 4);
	rt_ctr_spec_t s = {0};
	rt_ctr_health_t h;
	ctr_health_resolve(&s, &img, &h);
	assert_string_equal(h.test[1], "curl x");
	assert_int_equal(h.interval_ns, 5000000000);
	assert_int_equal(h.retries, 4);
	cb_strv_free(h.test);
	s.health_cmd = "true";
	s.health_retries = 1;
	ctr_health_resolve(&s, &img, &h);
	assert_string_equal(h.test[0], "CMD-SHELL");
	assert_string_equal(h.test[1], "true");
	assert_int_equal(h.interval_ns, 5000000000);
	assert_int_equal(h.retries, 1);
	cb_strv_free(h.test);
	s.no_healthcheck = true;
	ctr_health_resolve(&s, &img, &h);
	assert_null(h.test);
	json_decref(img.healthcheck);
	img.healthcheck = json_pack("{s:[s]}", "Test", "NONE");
	rt_ctr_spec_t none = {0};
	ctr_health_resolve(&none, &img, &h);
	assert_null(h.test);
	json_decref(img.healthcheck);
}

static void test_duration(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int64_t ns; /* -1: invalid */
	} cases[] = {{"0", 0}, {"1s", 1000000000}, {"500ms", 500000000}, {"1m30s", 90000000000},
		     {"2h", 7200000000000}, {"1.5s", 1500000000}, {"5", -1}, {"s", -1},
		     {"-1s", -1}, {"1x", -1}, {"", -1}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t ns = -7;
		cb_error_t e = CB_ERROR_INIT;
		int rc = cmd_parse_duration("health-interval", cases[i].in, &ns, &e);
		if (cases[i].ns < 0) {
			assert_int_equal(rc, CMD_USAGE);
			cb_error_release(&e);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(ns, cases[i].ns);
		}
	}
}

static void test_memory_and_mount(void **state)
{
	(void)state;
	rt_ctr_extra_t e = {0};
	char **volumes = NULL;
	cmd_run_extra_t x = {&e, &volumes};
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(cmd_run_extra_opt(&x, "memory", "512m", true, &err), 0);
	assert_int_equal(e.memory, 512LL * 1024 * 1024);
	assert_int_equal(cmd_run_extra_opt(&x, "memory", "1g", true, &err), 0);
	assert_int_equal(e.memory, 1024LL * 1024 * 1024);
	assert_int_equal(cmd_run_extra_opt(&x, "memory", "1k", true, &err), CMD_USAGE);
	cb_error_release(&err);
	assert_int_equal(cmd_run_extra_opt(&x, "mount", "type=volume,source=data,target=/d,readonly",
					   true, &err), 0);
	assert_string_equal(volumes[0], "data:/d:ro");
	assert_int_equal(cmd_run_extra_opt(&x, "mount", "type=tmpfs,target=/t,tmpfs-size=1m", true,
					   &err), 0);
	assert_string_equal(e.tmpfs[0], "/t:size=1m");
	assert_int_equal(cmd_run_extra_opt(&x, "mount", "type=bind,source=/nonexistent-x,target=/b",
					   true, &err), CMD_USAGE);
	cb_error_release(&err);
	assert_int_equal(cmd_run_extra_opt(&x, "mount", "type=bind,target=relative", true, &err),
			 CMD_USAGE);
	cb_error_release(&err);
	assert_int_equal(cmd_run_extra_opt(&x, "stop-timeout", "3", true, &err), 0);
	assert_true(e.stop_timeout_set && e.stop_timeout == 3);
	assert_int_equal(cmd_run_extra_opt(&x, "stop-signal", "NOPE", true, &err), CMD_USAGE);
	cb_error_release(&err);
	assert_int_equal(cmd_run_extra_opt(&x, "no-such-option", "", true, &err), 1);
	cmd_run_extra_release(&e);
	cb_strv_free(volumes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart),       cmocka_unit_test(test_ulimit),
		cmocka_unit_test(test_caps),          cmocka_unit_test(test_health_merge),
		cmocka_unit_test(test_duration),      cmocka_unit_test(test_memory_and_mount),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
