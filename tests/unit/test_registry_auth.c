/* registry/credentials: credentials files (docker config.json, containers
 * auth.json), host normalization, 0600 writes. HOME and friends point at a
 * temporary directory: the real ~/.docker is never touched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fs.h"
#include "common/util.h"
#include "registry/registry.h"

static char *tmp;

static int setup(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	tmp = cb_mkdtemp_in("/tmp", "cbuild-auth-", &err);
	if (!tmp)
		return -1;
	setenv("HOME", tmp, 1);
	unsetenv("DOCKER_CONFIG");
	unsetenv("REGISTRY_AUTH_FILE");
	char *run = cb_path_join(tmp, "run");
	setenv("XDG_RUNTIME_DIR", run, 1);
	free(run);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	cb_rm_rf(tmp, &err);
	free(tmp);
	return 0;
}

static void write_text(const char *path, const char *text)
{
	cb_error_t err = CB_ERROR_INIT;
	char *dir = cb_xstrdup(path);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(cb_mkdir_p(dir, 0700, &err), 0);
	assert_int_equal(cb_write_file_atomic(path, NULL, text, strlen(text), 0600, &err), 0);
	free(dir);
}

static void expect_creds(const char *reg, const char *file, const char *u, const char *p)
{
	cb_error_t err = CB_ERROR_INIT;
	char *gu = NULL, *gp = NULL;
	if (reg_auth_lookup(reg, file, &gu, &gp, &err) < 0)
		fail_msg("lookup '%s': %s", reg, err.msg);
	if (!u) {
		assert_null(gu);
		assert_null(gp);
		return;
	}
	assert_non_null(gu);
	assert_string_equal(gu, u);
	assert_string_equal(gp, p);
	free(gu);
	free(gp);
}

static void test_normalize(void **state)
{
	(void)state;
	static const char *const t[][2] = {
		{"", "docker.io"},
		{"docker.io", "docker.io"},
		{"https://index.docker.io/v1/", "docker.io"},
		{"index.docker.io", "docker.io"},
		{"registry-1.docker.io", "docker.io"},
		{"localhost:5000", "localhost:5000"},
		{"http://127.0.0.1:5000/v2/", "127.0.0.1:5000"},
		{"https://ghcr.io", "ghcr.io"},
		{"quay.io/org/repo", "quay.io"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *h = reg_auth_normalize_host(t[i][0]);
		assert_string_equal(h, t[i][1]);
		free(h);
	}
}

static void test_save_lookup_remove(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	char *cfg = reg_auth_default_file();
	char *want = cb_asprintf("%s/.docker/config.json", tmp);
	assert_string_equal(cfg, want);
	free(want);
	/* other keys of the file survive */
	write_text(cfg, "{\"auths\":{},\"psFormat\":\"table\"}");
	expect_creds("localhost:5000", NULL, NULL, NULL);
	assert_int_equal(reg_auth_save(NULL, "localhost:5000", "u1", "p:1", &err), 0);
	assert_int_equal(reg_auth_save(NULL, "docker.io", "hub", "secret", &err), 0);
	struct stat sb;
	assert_int_equal(stat(cfg, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	char *data = NULL;
	size_t len;
	assert_int_equal(cb_read_file(cfg, 1 << 20, &data, &len, &err), 0);
	assert_non_null(strstr(data, "\"psFormat\": \"table\""));
	assert_non_null(strstr(data, "\"https://index.docker.io/v1/\""));
	assert_non_null(strstr(data, "\"auth\": \"dTE6cDox\"")); /* base64("u1:p:1") */
	free(data);
	expect_creds("localhost:5000", NULL, "u1", "p:1");
	expect_creds("http://localhost:5000", NULL, "u1", "p:1");
	expect_creds("docker.io", NULL, "hub", "secret");
	expect_creds("index.docker.io", NULL, "hub", "secret");
	/* saving again replaces */
	assert_int_equal(reg_auth_save(NULL, "localhost:5000", "u2", "p2", &err), 0);
	expect_creds("localhost:5000", NULL, "u2", "p2");
	assert_int_equal(reg_auth_remove(NULL, "localhost:5000", &err), 0);
	expect_creds("localhost:5000", NULL, NULL, NULL);
	expect_creds("docker.io", NULL, "hub", "secret");
	assert_int_equal(reg_auth_remove(NULL, "localhost:5000", &err), -1);
	assert_int_equal(err.code, ENOENT);
	cb_error_release(&err);
	assert_int_equal(reg_auth_remove(NULL, "https://index.docker.io/v1/", &err), 0);
	expect_creds("docker.io", NULL, NULL, NULL);
	free(cfg);
}

static void test_search_order(void **state)
{
	(void)state;
	char *xdg = cb_asprintf("%s/run/containers/auth.json", tmp);
	char *env = cb_asprintf("%s/env-auth.json", tmp);
	char *cfg = reg_auth_default_file();
	/* XDG only */
	write_text(xdg, "{\"auths\":{\"r.io\":{\"auth\":\"eDp5\"}}}"); /* x:y */
	write_text(cfg, "{}");
	expect_creds("r.io", NULL, "x", "y");
	/* docker's config.json comes before it */
	write_text(cfg, "{\"auths\":{\"https://r.io\":{\"username\":\"d\",\"password\":\"e\"}}}");
	expect_creds("r.io", NULL, "d", "e");
	/* $REGISTRY_AUTH_FILE before both */
	write_text(env, "{\"auths\":{\"r.io/some/path\":{\"auth\":\"YTpi\"}}}"); /* a:b */
	setenv("REGISTRY_AUTH_FILE", env, 1);
	expect_creds("r.io", NULL, "a", "b");
	unsetenv("REGISTRY_AUTH_FILE");
	/* an explicit file is the only one read */
	expect_creds("r.io", env, "a", "b");
	expect_creds("r.io", xdg, "x", "y");
	/* a broken file is an error, not silence */
	write_text(cfg, "{not json");
	cb_error_t err = CB_ERROR_INIT;
	char *u = NULL, *p = NULL;
	assert_int_equal(reg_auth_lookup("r.io", NULL, &u, &p, &err), -1);
	assert_non_null(strstr(err.msg, "config.json"));
	cb_error_release(&err);
	write_text(cfg, "{\"auths\":{\"r.io\":{\"auth\":\"!!!\"}}}");
	assert_int_equal(reg_auth_lookup("r.io", NULL, &u, &p, &err), -1);
	cb_error_release(&err);
	unlink(cfg);
	unlink(xdg);
	/* a missing file is simply empty */
	expect_creds("r.io", NULL, NULL, NULL);
	free(xdg);
	free(env);
	free(cfg);
}

static void test_docker_config_env(void **state)
{
	(void)state;
	char *dc = cb_path_join(tmp, "dc");
	setenv("DOCKER_CONFIG", dc, 1);
	char *f = reg_auth_default_file();
	char *want = cb_path_join(dc, "config.json");
	assert_string_equal(f, want);
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(reg_auth_save(NULL, "h:1", "u", "p", &err), 0);
	assert_true(cb_path_exists(want));
	expect_creds("h:1", NULL, "u", "p");
	unsetenv("DOCKER_CONFIG");
	free(f);
	free(want);
	free(dc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_save_lookup_remove),
		cmocka_unit_test(test_search_order),
		cmocka_unit_test(test_docker_config_env),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
