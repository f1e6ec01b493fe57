/* store: leases (store/lease.h). A lease is alive while its owner process
 * lives and stale once it is killed; gc keeps what a live lease names and
 * collects it after the owner's death; a dead writer's tmp/ directory goes
 * with the next store_open, its complete blobs (ok-HEX) moved into blobs/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/gc.h"
#include "store/lease.h"
#include "store/store.h"
#define TEST_STORE_DIR_ONLY
#include "test_store_util.h"

/* A child opens the store, stores a blob (leased by the commit) and
 * writes its lease ID to the pipe, then waits to be killed. */
static pid_t leasing_child(const char *text, char id[128])
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		cb_error_t err = CB_ERROR_INIT;
		store_t *st = NULL;
		if (store_open(tmp, &st, &err) < 0 ||
		    store_put_blob(st, text, strlen(text), NULL, NULL, &err) < 0)
			_exit(1);
		char *dir = store_tmp_dir(st); /* and a writer's directory */
		free(dir);
		const char *lid = store_lease_id(st);
		if (write(p[1], lid, strlen(lid) + 1) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	ssize_t n = read(p[0], id, 127);
	close(p[0]);
	assert_true(n > 1);
	id[n] = 0;
	return pid;
}

static void kill_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_alive_then_stale(void **state)
{
	(void)state;
	char id[128];
	pid_t pid = leasing_child("leased blob", id);
	cb_error_t err = CB_ERROR_INIT;
	store_t *st = NULL;
	assert_int_equal(store_open(tmp, &st, &err), 0);
	assert_true(store_lease_alive(st, id));
	char *dir = cb_asprintf("%s/tmp/L-%s", tmp, id);
	assert_true(cb_is_dir(dir));
	store_free(st);
	kill_child(pid);
	assert_int_equal(store_open(tmp, &st, &err), 0); /* cleans after the dead */
	assert_false(store_lease_alive(st, id));
	assert_false(cb_path_exists(dir));
	char *lf = cb_asprintf("%s/leases/%s", tmp, id);
	assert_false(cb_path_exists(lf));
	free(lf);
	free(dir);
	store_free(st);
}

static void test_gc_honours_live_leases(void **state)
{
	(void)state;
	char id[128], d[DIGEST_STR_LEN + 1];
	digest_buffer("kept while leased", strlen("kept while leased"), d);
	pid_t pid = leasing_child("kept while leased", id);
	cb_error_t err = CB_ERROR_INIT;
	store_t *st = NULL;
	assert_int_equal(store_open(tmp, &st, &err), 0);
	assert_int_equal(store_gc(st, 0, true, NULL, &err), 0);
	char *p = store_blob_path(st, d);
	assert_true(cb_path_exists(p)); /* unreferenced but leased */
	kill_child(pid);
	store_gc_stats_t stats;
	assert_int_equal(store_gc(st, 0, true, &stats, &err), 0);
	assert_false(cb_path_exists(p)); /* the lease died with its owner */
	assert_int_equal(stats.blobs_removed, 1);
	free(p);
	store_free(st);
}

static void test_dead_pull_blobs_are_kept(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	store_t *st = NULL;
	assert_int_equal(store_open(tmp, &st, &err), 0);
	store_free(st);
	/* what a killed pull leaves: a lease nobody holds, a complete blob
	 * and a partial one in its directory */
	char d[DIGEST_STR_LEN + 1];
	digest_buffer("complete", 8, d);
	char *dir = cb_asprintf("%s/tmp/L-1-1-dead", tmp);
	char *lease = cb_asprintf("%s/leases/1-1-dead", tmp);
	char *ok = cb_asprintf("%s/ok-%s", dir, digest_hex(d));
	char *bad = cb_asprintf("%s/ok-%064d", dir, 0);
	char *part = cb_asprintf("%s/blob-XYZ", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(cb_write_file_atomic(lease, NULL, "pid 1\n", 6, 0600, &err), 0);
	assert_int_equal(cb_write_file_atomic(ok, NULL, "complete", 8, 0644, &err), 0);
	assert_int_equal(cb_write_file_atomic(bad, NULL, "not that", 8, 0644, &err), 0);
	assert_int_equal(cb_write_file_atomic(part, NULL, "compl", 5, 0644, &err), 0);
	assert_int_equal(store_open(tmp, &st, &err), 0);
	assert_true(store_has_blob(st, d));
	assert_false(cb_path_exists(dir));
	assert_false(cb_path_exists(lease));
	char zero[DIGEST_STR_LEN + 1];
	snprintf(zero, sizeof zero, "sha256:%064d", 0);
	assert_false(store_has_blob(st, zero)); /* a wrong hash is not kept */
	store_free(st);
	free(dir), free(lease), free(ok), free(bad), free(part);
}

/* A writer that dies while a gc's store is open: gc finds its stale lease
 * (and salvages its blobs under the leases lock it holds) without hanging. */
static void test_gc_drops_a_stale_lease(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	store_t *st = NULL;
	assert_int_equal(store_open(tmp, &st, &err), 0);
	char d[DIGEST_STR_LEN + 1];
	digest_buffer("complete", 8, d);
	char *dir = cb_asprintf("%s/tmp/L-1-1-dead", tmp);
	char *lease = cb_asprintf("%s/leases/1-1-dead", tmp);
	char *ok = cb_asprintf("%s/ok-%s", dir, digest_hex(d));
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(cb_write_file_atomic(lease, NULL, "pid 1\n", 6, 0600, &err), 0);
	assert_int_equal(cb_write_file_atomic(ok, NULL, "complete", 8, 0644, &err), 0);
	assert_int_equal(store_gc(st, 0, true, NULL, &err), 0);
	assert_false(cb_path_exists(dir));
	assert_false(cb_path_exists(lease));
	store_free(st);
	free(dir), free(lease), free(ok);
}

/* A forked child that writes gets a lease of its own: the parent's ends
 * with the parent, and the child's objects must stay leased after that. */
static void test_forked_child_leases_for_itself(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	store_t *st = NULL;
	assert_int_equal(store_open(tmp, &st, &err), 0);
	assert_int_equal(store_put_blob(st, "parent", 6, NULL, NULL, &err), 0);
	char parent_id[128];
	snprintf(parent_id, sizeof parent_id, "%s", store_lease_id(st));
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	if (pid == 0) {
		cb_error_t e = CB_ERROR_INIT;
		if (store_put_blob(st, "child", 5, NULL, NULL, &e) < 0)
			_exit(1);
		const char *id = store_lease_id(st);
		if (write(p[1], id, strlen(id) + 1) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	char child_id[128];
	ssize_t n = read(p[0], child_id, sizeof child_id - 1);
	close(p[0]);
	assert_true(n > 1);
	child_id[n] = 0;
	assert_string_not_equal(child_id, parent_id);
	store_free(st); /* the parent's lease ends */
	assert_int_equal(store_open(tmp, &st, &err), 0);
	assert_true(store_lease_alive(st, child_id));
	assert_int_equal(store_gc(st, 0, true, NULL, &err), 0);
	char d[DIGEST_STR_LEN + 1];
	digest_buffer("child", 5, d);
	char *bp = store_blob_path(st, d);
	assert_true(cb_path_exists(bp));
	kill_child(pid);
	free(bp);
	store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alive_then_stale, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_gc_honours_live_leases, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_dead_pull_blobs_are_kept, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_gc_drops_a_stale_lease, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_forked_child_leases_for_itself, tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
