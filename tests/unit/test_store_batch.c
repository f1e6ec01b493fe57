/* store: batched blob commits (store_blob_batch_*), used by pull. A blob
 * appears in blobs/ only after publish; a digest mismatch keeps nothing;
 * freeing an unpublished batch leaves tmp/ empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <dirent.h>
#include <cmocka.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/store.h"

static char *tmp;
static store_t *st;

static int setup(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	tmp = cb_mkdtemp_in("/tmp", "cbuild-batch-", &err);
	if (!tmp || store_open(tmp, &st, &err) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	store_free(st);
	cb_rm_rf(tmp, &err);
	free(tmp);
	return 0;
}

static void add(store_blob_batch_t *b, const char *text, char digest[DIGEST_STR_LEN + 1])
{
	cb_error_t err = CB_ERROR_INIT;
	digest_buffer(text, strlen(text), digest);
	store_blob_writer_t *w = store_blob_writer_new(st, &err);
	assert_non_null(w);
	assert_int_equal(store_blob_writer_write(w, text, strlen(text), &err), 0);
	assert_int_equal(store_blob_batch_add(b, w, digest, NULL, &err), 0);
}

static size_t tmp_entries(void)
{
	char *p = store_path(st, "tmp");
	DIR *d = opendir(p);
	size_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	free(p);
	return n;
}

static void test_publish(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	char d1[DIGEST_STR_LEN + 1], d2[DIGEST_STR_LEN + 1], d3[DIGEST_STR_LEN + 1];
	store_blob_batch_t *b = store_blob_batch_new(st);
	add(b, "first blob", d1);
	add(b, "second blob", d2);
	assert_false(store_has_blob(st, d1));
	assert_false(store_has_blob(st, d2));
	assert_int_equal(store_blob_batch_publish(b, &err), 0);
	assert_true(store_has_blob(st, d1));
	assert_true(store_has_blob(st, d2));
	/* more after a publish, published again */
	add(b, "third blob", d3);
	assert_false(store_has_blob(st, d3));
	assert_int_equal(store_blob_batch_publish(b, &err), 0);
	assert_true(store_has_blob(st, d3));
	assert_int_equal(store_verify_blob(st, d3, &err), 0);
	store_blob_batch_free(b);
	assert_true(store_has_blob(st, d1));
	assert_int_equal(tmp_entries(), 0);
}

static void test_mismatch_and_free(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	char d[DIGEST_STR_LEN + 1];
	store_blob_batch_t *b = store_blob_batch_new(st);
	store_blob_writer_t *w = store_blob_writer_new(st, &err);
	assert_int_equal(store_blob_writer_write(w, "abc", 3, &err), 0);
	digest_buffer("abd", 3, d);
	assert_int_equal(store_blob_batch_add(b, w, d, NULL, &err), -1);
	assert_int_equal(err.code, EBADMSG);
	cb_error_release(&err);
	add(b, "never published", d);
	assert_int_equal(tmp_entries(), 1);
	store_blob_batch_free(b);
	assert_false(store_has_blob(st, d));
	assert_int_equal(tmp_entries(), 0);
	store_blob_batch_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mismatch_and_free, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
