/*
 * tests/unit/test_store_util.h - a fresh temp dir, and a store opened in
 * it, for each test of a store/ unit suite:
 *
 *     cmocka_unit_test_setup_teardown(test_x, store_setup, store_teardown)
 *
 * gives test_x `tmp` (the dir) and `st` (the store), both gone after it.
 * Suites that open their stores themselves (several at once, or in a
 * child) define TEST_STORE_DIR_ONLY first and use tmp_setup/tmp_teardown.
 * Include once, after cmocka.h.
 */
#ifndef CB_TESTS_STORE_UTIL_H
#define CB_TESTS_STORE_UTIL_H

#include <stdlib.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/store.h"

static char *tmp; /* this test's temp dir */

static inline int tmp_setup(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	tmp = cb_mkdtemp_in("/tmp", "cbuild-unit-", &err);
	cb_error_release(&err);
	return tmp ? 0 : -1;
}

static inline int tmp_teardown(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	if (tmp && cb_rm_rf(tmp, &err) < 0)
		cb_error_release(&err);
	free(tmp);
	tmp = NULL;
	return 0;
}

#ifndef TEST_STORE_DIR_ONLY
static store_t *st; /* a store in tmp */

static inline int store_setup(void **state)
{
	cb_error_t err = CB_ERROR_INIT;
	if (tmp_setup(state) < 0)
		return -1;
	if (store_open(tmp, &st, &err) < 0) {
		cb_error_release(&err);
		return -1;
	}
	return 0;
}

static inline int store_teardown(void **state)
{
	store_free(st);
	st = NULL;
	return tmp_teardown(state);
}
#endif

#endif
