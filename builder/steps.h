/*
 * builder/steps.h - the running build and what each kind of step does.
 * Internal to builder/.
 */
#ifndef CB_BUILDER_STEPS_H
#define CB_BUILDER_STEPS_H

#include "builder/internal.h"

typedef struct build {
	store_t *st;
	const bld_opts_t *o;
	df_plan_t *plan;
	bld_context_t ctx;
	bld_state_t *stages; /* by Dockerfile stage index */
	bool *stage_done;
	char *created;       /* timestamp of this build's history entries */
	bool cmd_set;        /* CMD given in the current stage (ENTRYPOINT rule) */
} build_t;

void bld_log(build_t *b, const char *fmt, ...) CB_PRINTF(2, 3);

/* What besides its text a step depends on (ADD/COPY: the files; COPY
 * --from a stage: that stage's key). *inputs may be NULL. */
int bld_step_inputs(build_t *b, const df_step_t *step, const bld_state_t *s, char **inputs,
		    cb_error_t *err);

/* Run the step on state s (config and layers change; history appended). */
int bld_step_execute(build_t *b, const df_step_t *step, bld_state_t *s, cb_error_t *err);

/* Ctrl-C / SIGTERM: set by the build's signal handler; the running RUN is
 * killed and the build stops with "interrupted" at the next check. */
bool bld_interrupted(void);
void bld_kill_running(void);

#endif
