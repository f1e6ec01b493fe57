/*
 * runtime/compose.h - the compose supervisor: one process per project that
 * starts its containers in order and keeps them.
 *
 * rt_compose_up() forks it (setsid, its output to supervisor.log) and
 * returns once every service started, or one failed. Networking is each
 * container's own, as docker compose has it: the caller makes the project's
 * networks (runtime/network.h) and creates each container on them with its
 * service's name as an alias and its published ports, so starting a
 * container sets up its namespace, address, names and port forwarders.
 * The supervisor
 *
 *   - starts services in dependency order, waiting for started, healthy (it
 *     runs the healthcheck inside the container with sbx_exec) or completed
 *     successfully;
 *   - honours restart policies and keeps running health checks until
 *     rt_compose_stop() (SIGTERM) ends it. It leaves the containers as they
 *     are: stopping them is the caller's.
 *
 * Its state: ROOT/compose/PROJECT/ {supervisor (pid + start time),
 * health-SERVICE ("starting", "healthy", "unhealthy"), supervisor.log}; the
 * caller keeps its own files there too (rt_compose_path).
 *
 * The compose file's model is parser/'s: cmd/ translates a service into an
 * rt_compose_svc_t (every pointer borrowed for the call).
 */
#ifndef CB_RUNTIME_COMPOSE_H
#define CB_RUNTIME_COMPOSE_H

#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "runtime/container.h"
#include "store/store.h"

typedef enum rt_compose_condition {
	RT_DEP_STARTED = 0, /* service_started */
	RT_DEP_HEALTHY,     /* service_healthy: its healthcheck passed */
	RT_DEP_COMPLETED,   /* service_completed_successfully: exited 0 */
} rt_compose_condition_t;

typedef struct rt_compose_dep {
	const char *service; /* a service not in the project's list is not waited for */
	rt_compose_condition_t condition;
} rt_compose_dep_t;

typedef enum rt_compose_restart_kind {
	RT_RESTART_NO = 0,
	RT_RESTART_ALWAYS,
	RT_RESTART_ON_FAILURE,
	RT_RESTART_UNLESS_STOPPED,
} rt_compose_restart_kind_t;

typedef struct rt_compose_restart {
	rt_compose_restart_kind_t kind;
	int max_retries; /* on-failure:N; 0 = unlimited */
} rt_compose_restart_t;

/* Docker's Healthcheck: test ["CMD", arg...], ["CMD-SHELL", "cmd"],
 * ["NONE"] or NULL (none); times in ns, 0 = default; retries 0 = 3. The
 * same record a container keeps. */
typedef rt_ctr_health_t rt_compose_health_t;

typedef struct rt_compose_svc {
	const char *name;
	rt_ctr_t *ctr;            /* created, not running; the supervisor starts it */
	rt_compose_health_t health;
	const rt_compose_dep_t *deps;
	size_t n_deps;
	rt_compose_restart_t restart;
} rt_compose_svc_t;

typedef struct rt_compose_project {
	const char *name;
	rt_compose_svc_t *services;
	size_t n_services;
	/* called as each service starts (by the caller's process, while it waits) */
	void (*on_started)(void *ctx, const char *service);
	void *ctx;
} rt_compose_project_t;

/* Fork the project's supervisor and wait until every service started.
 * EIO with the supervisor's first error when one could not start. */
int rt_compose_up(store_t *st, const rt_compose_project_t *p, cb_error_t *err);

/* The project's supervisor's pid while it is alive (pid and start time
 * match), else 0. */
pid_t rt_compose_supervisor(store_t *st, const char *project);

/* End the project's supervisor (SIGTERM, SIGKILL after 5 s); its containers
 * are left as they are. */
void rt_compose_stop(store_t *st, const char *project);

/* ROOT/compose/PROJECT[/file] (caller frees). */
char *rt_compose_path(store_t *st, const char *project, const char *file);

#endif
