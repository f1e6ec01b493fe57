/*
 * bench/parser/bench.c - time df_parse and df_plan_build on one file.
 * Prints parse ms, plan ms (best of N runs) and peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "common/fs.h"
#include "common/util.h"
#include "parser/plan.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench FILE [RUNS]\n");
		return 2;
	}
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	char *data = NULL;
	size_t len = 0;
	cb_error_t err = CB_ERROR_INIT;
	if (cb_read_file(argv[1], 1 << 28, &data, &len, &err) < 0) {
		cb_error_print(stderr, "bench", &err);
		return 1;
	}
	double best_parse = 1e9, best_plan = 1e9;
	size_t nodes = 0, steps = 0;
	for (int r = 0; r < runs; r++) {
		double t0 = now_ms();
		df_tree_t *t = NULL;
		if (df_parse("Dockerfile", data, len, &t, &err) < 0) {
			cb_error_print(stderr, "bench", &err);
			return 1;
		}
		double t1 = now_ms();
		df_plan_t *p = NULL;
		if (df_plan_build(t, NULL, &p, NULL, &err) < 0) {
			cb_error_print(stderr, "bench", &err);
			return 1;
		}
		double t2 = now_ms();
		nodes = t->n_nodes;
		steps = (size_t)p->total_steps;
		df_plan_free(p);
		df_tree_free(t);
		if (t1 - t0 < best_parse)
			best_parse = t1 - t0;
		if (t2 - t1 < best_plan)
			best_plan = t2 - t1;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("bytes=%zu instructions=%zu planned_steps=%zu parse_ms=%.2f plan_ms=%.2f "
	       "total_ms=%.2f peak_rss_kb=%ld\n",
	       len, nodes, steps, best_parse, best_plan, best_parse + best_plan, ru.ru_maxrss);
	free(data);
	return 0;
}
