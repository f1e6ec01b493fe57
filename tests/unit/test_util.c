/* common/util: cb_thread_alloc gives each thread its own blocks, aligned,
 * writable to their size, and frees them when the thread exits (the heap
 * is back where it was after the join; make asan's leak check says the
 * same). */
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/util.h"

#define BLOCK (64 * 1024) /* under malloc's mmap threshold: counted in uordblks */
#define BLOCKS 3

typedef struct {
	char *p[BLOCKS];
	/* the two threads compared hold their blocks at the same time: one that
	 * ran to its end first would have freed them for the other to reuse */
	pthread_barrier_t *together;
} blocks_t;

static void *alloc_main(void *arg)
{
	blocks_t *b = arg;
	for (int i = 0; i < BLOCKS; i++) {
		b->p[i] = cb_thread_alloc(BLOCK);
		memset(b->p[i], 'a' + i, BLOCK);
	}
	void *bad = NULL;
	for (int i = 0; i < BLOCKS; i++)
		if (b->p[i][0] != 'a' + i || b->p[i][BLOCK - 1] != 'a' + i)
			bad = (void *)1; /* the blocks overlap */
	if (b->together)
		pthread_barrier_wait(b->together);
	return bad;
}

static void test_blocks_per_thread_freed_at_exit(void **state)
{
	(void)state;
	/* a first thread, so that the arenas and caches threads use exist */
	blocks_t warm = {0};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, alloc_main, &warm), 0);
	assert_int_equal(pthread_join(t, NULL), 0);

	size_t before = mallinfo2().uordblks;
	pthread_barrier_t together;
	assert_int_equal(pthread_barrier_init(&together, NULL, 2), 0);
	blocks_t a = {.together = &together}, b = {.together = &together};
	void *ra, *rb;
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, alloc_main, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, alloc_main, &b), 0);
	assert_int_equal(pthread_join(ta, &ra), 0);
	assert_int_equal(pthread_join(tb, &rb), 0);
	pthread_barrier_destroy(&together);
	assert_null(ra);
	assert_null(rb);
	for (int i = 0; i < BLOCKS; i++) {
		assert_true(a.p[i] != b.p[i]);
		assert_int_equal((uintptr_t)a.p[i] % _Alignof(max_align_t), 0);
	}
	size_t after = mallinfo2().uordblks;
	/* 2 x 3 x 64 KiB were allocated; what is left is the threads' noise */
	assert_true(after < before + BLOCK);
}

static void test_main_thread_blocks(void **state)
{
	(void)state;
	char *p = cb_thread_alloc(16);
	char *q = cb_thread_alloc(16);
	assert_true(p != q);
	strcpy(p, "fifteen chars..");
	strcpy(q, "another fifteen");
	assert_string_equal(p, "fifteen chars..");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_per_thread_freed_at_exit),
		cmocka_unit_test(test_main_thread_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
