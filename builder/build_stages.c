/*
 * The stages of a build in dependency order: one after another, or, when
 * some do not need each other, up to --jobs of them at once on threads of
 * their own (each with its own copy of the build's state); the first
 * failure or Ctrl-C stops the others.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "builder/attest.h"
#include "builder/internal.h"
#include "builder/steps.h"
#include "common/util.h"

static int build_sequentially(build_t *b, cb_error_t *err)
{
	for (size_t i = 0; i < b->plan->n_stages; i++) {
		int idx = b->plan->stages[i].index;
		if (bld_build_stage(b, i, &b->stages[idx], err) < 0)
			return -1;
		b->stage_done[idx] = true;
	}
	return 0;
}

/* ---- stages that do not depend on each other, concurrently ---- */

typedef struct sched {
	pthread_mutex_t mu;
	pthread_cond_t cv;     /* a stage finished */
	size_t running;
	_Atomic bool failed;
	int first_failed;      /* position of the stage whose error is reported */
} sched_t;

typedef struct stage_job {
	build_t b;             /* the stage's own copy (prefix, cmd_set, url_dir) */
	sched_t *sc;
	size_t pos;
	pthread_t thread;
	bool started, finished;
	cb_error_t err;
} stage_job_t;

static void *stage_thread(void *arg)
{
	stage_job_t *j = arg;
	sched_t *sc = j->sc;
	int idx = j->b.plan->stages[j->pos].index;
	bld_state_t s;
	int rc;
	rc = bld_build_stage(&j->b, j->pos, &s, &j->err);
	bld_url_cleanup(&j->b);
	pthread_mutex_lock(&sc->mu);
	if (rc == 0) {
		j->b.stages[idx] = s;
		j->b.stage_done[idx] = true;
	} else if (!sc->failed) {
		sc->failed = true;
		sc->first_failed = (int)j->pos;
		bld_kill_running(); /* the other stages stop too */
	}
	j->finished = true;
	sc->running--;
	pthread_cond_signal(&sc->cv);
	pthread_mutex_unlock(&sc->mu);
	return NULL;
}

static bool deps_done(const build_t *b, const df_stage_t *st)
{
	for (size_t k = 0; k < st->n_deps; k++)
		if (!b->stage_done[st->deps[k]])
			return false;
	return true;
}

/* Does the stage at position `later` need the one at `earlier`, directly
 * or through others? (Positions are in dependency order.) */
static bool needs(const df_plan_t *p, size_t later, size_t earlier)
{
	const df_stage_t *st = &p->stages[later];
	for (size_t k = 0; k < st->n_deps; k++)
		for (size_t q = earlier; q < later; q++)
			if (p->stages[q].index == st->deps[k] && (q == earlier || needs(p, q, earlier)))
				return true;
	return false;
}

/* Whether any two stages could build at the same time. */
static bool has_independent_stages(const df_plan_t *p)
{
	for (size_t j = 1; j < p->n_stages; j++)
		for (size_t i = 0; i < j; i++)
			if (!needs(p, j, i))
				return true;
	return false;
}

static size_t jobs_wanted(const bld_opts_t *o)
{
	long n = o->jobs > 0 ? o->jobs : sysconf(_SC_NPROCESSORS_ONLN);
	if (o->jobs <= 0 && n > 4)
		n = 4;
	return n < 1 ? 1 : n > 32 ? 32 : (size_t)n;
}

static void start_job(build_t *b, stage_job_t *j, sched_t *sc, size_t pos)
{
	const df_stage_t *st = &b->plan->stages[pos];
	j->b = *b;
	j->b.cmd_set = false;
	j->b.url_dir = NULL;
	j->b.prefix = st->name ? cb_asprintf("[%s] ", st->name)
			       : cb_asprintf("[stage-%d] ", st->index);
	j->sc = sc;
	j->pos = pos;
	cb_error_t e = CB_ERROR_INIT;
	j->err = e;
	if (pthread_create(&j->thread, NULL, stage_thread, j) != 0)
		CB_BUG("pthread_create failed");
	j->started = true;
	sc->running++;
}

/* Start every stage whose dependencies are built, up to `jobs` at once, in
 * plan order; the first failure (or Ctrl-C) stops the others. */
static int build_concurrently(build_t *b, size_t jobs, cb_error_t *err)
{
	size_t n = b->plan->n_stages;
	stage_job_t *js = cb_xcalloc(n, sizeof(*js));
	sched_t sc = {.first_failed = -1};
	pthread_mutex_init(&sc.mu, NULL);
	pthread_cond_init(&sc.cv, NULL);
	b->failed = &sc.failed;
	pthread_mutex_t trail_mu = PTHREAD_MUTEX_INITIALIZER;
	b->shared_mu = &trail_mu;
	if (b->o->cache_to && !b->cache_trail) /* made now: every stage's copy shares it */
		b->cache_trail = json_array();
	pthread_mutex_lock(&sc.mu);
	for (;;) {
		size_t done = 0;
		for (size_t i = 0; i < n; i++)
			done += js[i].finished;
		bool stop = sc.failed || bld_interrupted();
		if (done == n || (stop && sc.running == 0))
			break;
		for (size_t i = 0; i < n && !stop && sc.running < jobs; i++)
			if (!js[i].started && deps_done(b, &b->plan->stages[i]))
				start_job(b, &js[i], &sc, i);
		if (sc.running == 0)
			CB_BUG("no stage can start: the plan's order is not a dependency order");
		pthread_cond_wait(&sc.cv, &sc.mu);
	}
	pthread_mutex_unlock(&sc.mu);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (!js[i].started)
			continue;
		pthread_join(js[i].thread, NULL);
		if ((int)i == sc.first_failed)
			cb_error_move(err, &js[i].err);
		cb_error_release(&js[i].err);
		free((char *)js[i].b.prefix);
	}
	if (sc.failed || bld_interrupted())
		rc = cb_error_is_set(err) ? -1 : cb_error_fail(err, EINTR, "build interrupted");
	b->failed = NULL;
	b->shared_mu = NULL;
	pthread_mutex_destroy(&trail_mu);
	pthread_cond_destroy(&sc.cv);
	pthread_mutex_destroy(&sc.mu);
	free(js);
	return rc;
}

int bld_build_stages(build_t *b, size_t *n_checks, cb_error_t *err)
{
	if (bld_run_checks(b, n_checks, err) < 0)
		return -1;
	bld_attest_note_bases(b);
	if (b->o->check_only)
		return 0;
	size_t jobs = jobs_wanted(b->o);
	if (jobs < 2 || !has_independent_stages(b->plan))
		return build_sequentially(b, err);
	return build_concurrently(b, jobs, err);
}

