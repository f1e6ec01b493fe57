/* The network of a build's RUN steps (see builder/steps.h): as Docker's
 * default build, each RUN is cut off from the host's network namespace (its
 * loopback services, its ports) and reaches the outside through the
 * default bridge's NAT. One namespace per build, set up by netavark once and
 * joined by every RUN: a join is one setns() in the sandbox's child (one more
 * RUN costs nothing measurable, bench/runnet), the setup and teardown are
 * netavark's (0.1-0.4 s each at load 6-10 when the build is the bridge's
 * only member and netavark makes and removes the bridge and its rules).
 *
 * Neither the setup nor the teardown is on the steps' path when it can be
 * helped: the setup starts on a thread of its own as soon as a RUN is known
 * to run (at the build's start with --no-cache, else at the first cache
 * miss in a stage with a RUN after it: every later step of the stage misses
 * too, its key made from the missed one's, and the step that missed, a COPY
 * of a changed file say, runs meanwhile), and the teardown starts when the
 * steps are done, while the last layers and the image are written.
 *
 * A non-root user's build has no bridge (netavark needs root): its RUN
 * steps get the same one namespace per build, connected by pasta as a
 * rootless `run` is (runtime/pasta.h), with pasta's DNS forwarder in
 * resolv.conf. The namespace is a child's ("the holder", in the build's
 * user namespace, which owns the namespace so that RUN steps can join it);
 * pasta's launcher is forked at the build's start, while this process is
 * still in the host's namespaces, where pasta must run. pasta dies with the
 * build (PR_SET_PDEATHSIG, also for kill -9), the holder at the EOF of a
 * pipe only the build holds. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builder/steps.h"
#include "common/fs.h"
#include "common/util.h"
#include "runtime/netavark.h"
#include "runtime/netpool.h"
#include "runtime/network.h"
#include "runtime/pasta.h"
#include "runtime/sandbox.h"

struct bld_runnet {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	store_t *st;
	bool started; /* the setup began (on `worker`, or inline) */
	bool ready;   /* it ended: fd, or the host's network after a warning */
	bool joined;  /* `worker` was joined */
	bool down;    /* the teardown began: no RUN joins any more */
	bool tainted; /* a RUN with CAP_NET_ADMIN joined: not for the pool */
	pthread_t worker;
	int fd;      /* the namespace, -1 = none */
	char id[64]; /* its name under the run directory's netns/ */
	rt_net_t *bridge; /* the network it is on (the pool's entries are per network) */
	/* rootless: pasta (its launcher until the setup), its directory
	 * (pid file, messages, resolv.conf), the holder and its pipe */
	rt_pasta_t pasta;
	char *dir, *resolv;
	pid_t holder;
	int life_fd;
};

/* Fork pasta's launcher now, in the host's namespaces (a non-root user
 * with pasta and /dev/net/tun, as `run`'s default network; else the
 * host's network, as before and as `run`). */
static void pasta_launch(bld_runnet_t *rn)
{
	if (geteuid() == 0 || sbx_in_userns() || !rt_pasta_usable())
		return;
	cb_error_t e = CB_ERROR_INIT;
	rn->dir = store_mkdtemp(rn->st, "pasta-", &e);
	if (!rn->dir || rt_pasta_prepare(NULL, rn->dir, &rn->pasta, &e) < 0) {
		cb_error_wrap(&e, "RUN steps' network: the host's network is used instead");
		cb_warn_error(&e);
		rt_pasta_stop(&rn->pasta);
	}
}

bld_runnet_t *bld_runnet_new(store_t *st, bool isolate)
{
	bld_runnet_t *rn = cb_xcalloc(1, sizeof(*rn));
	pthread_mutex_init(&rn->mu, NULL);
	pthread_cond_init(&rn->cv, NULL);
	rn->st = st;
	rn->fd = -1;
	rn->joined = true;
	rn->life_fd = -1;
	rn->pasta.go_fd = -1;
	if (isolate)
		pasta_launch(rn);
	return rn;
}

/* The holder, after its fork (no allocation): a network namespace of its
 * own, "r" on `ready`, then it waits for the EOF of `life`. Ctrl-C is the
 * build's to handle. */
static _Noreturn void holder(int ready, int life)
{
	if (dup2(life, 0) < 0 || dup2(ready, 1) < 0)
		_exit(127);
	syscall(SYS_close_range, 2U, ~0U, 0); /* nothing of the build's stays open */
	signal(SIGINT, SIG_IGN);
	if (unshare(CLONE_NEWNET) < 0 || write(1, "r", 1) != 1)
		_exit(1);
	char b;
	while (read(0, &b, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static int holder_start(bld_runnet_t *rn, cb_error_t *err)
{
	int ready[2], life[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return cb_error_errno(err, "pipe");
	if (pipe2(life, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return cb_error_errno(err, "pipe");
	}
	pid_t pid = fork();
	if (pid == 0)
		holder(ready[1], life[0]);
	int e = errno;
	close(ready[1]);
	close(life[0]);
	if (pid < 0) {
		close(ready[0]);
		close(life[1]);
		return cb_error_set(err, e, "fork");
	}
	rn->holder = pid;
	rn->life_fd = life[1];
	char b;
	ssize_t n;
	while ((n = read(ready[0], &b, 1)) < 0 && errno == EINTR)
		;
	close(ready[0]);
	if (n != 1)
		return cb_error_fail(err, EPERM, "unshare network namespace");
	return 0;
}

/* resolv.conf of the RUN steps: pasta's forwarder, the host's search
 * domains and options (its nameservers may be on its loopback, out of
 * reach) */
static int write_resolv(bld_runnet_t *rn, cb_error_t *err)
{
	cb_buf_t b;
	cb_buf_init(&b);
	cb_buf_addstr(&b, "nameserver " RT_PASTA_DNS "\n");
	char *host = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file("/etc/resolv.conf", 1 << 16, &host, &len, &e) < 0)
		cb_error_release(&e);
	for (char *line = host, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (!strncmp(line, "search", 6) || !strncmp(line, "options", 7))
			cb_buf_add(&b, line, (size_t)(next - line));
	}
	free(host);
	rn->resolv = cb_asprintf("%s/resolv.conf", rn->dir);
	int rc = cb_write_file_replace(rn->resolv, NULL, b.data, b.len, 0644, false, err);
	cb_buf_release(&b);
	return rc;
}

/* End pasta (or its launcher) and the holder; remove the directory. */
static void pasta_stop(bld_runnet_t *rn)
{
	rt_pasta_stop(&rn->pasta);
	if (rn->life_fd >= 0)
		close(rn->life_fd); /* EOF: the holder ends */
	rn->life_fd = -1;
	if (rn->holder > 0)
		while (waitpid(rn->holder, NULL, 0) < 0 && errno == EINTR)
			;
	rn->holder = 0;
	if (rn->dir) {
		cb_error_t e = CB_ERROR_INIT;
		if (cb_rm_rf(rn->dir, &e) < 0)
			cb_error_release(&e);
	}
	free(rn->dir);
	free(rn->resolv);
	rn->dir = rn->resolv = NULL;
}

/* The namespace through pasta: the holder's, configured by pasta. */
static int pasta_setup(bld_runnet_t *rn)
{
	cb_error_t e = CB_ERROR_INIT;
	int fd = -1;
	if (!sbx_in_userns()) { /* no namespaces at all (RT_ISO_NONE), said already */
		pasta_stop(rn);
		return -1;
	}
	if (holder_start(rn, &e) == 0 && rt_pasta_go_for(&rn->pasta, rn->holder, &e) == 0 &&
	    rt_pasta_ready(&rn->pasta, &e) == 0 && write_resolv(rn, &e) == 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/ns/net", (int)rn->holder);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			cb_error_errno(&e, "open '%s'", path);
	}
	if (fd < 0) {
		cb_error_wrap(&e, "RUN steps' network: the host's network is used instead");
		cb_warn_error(&e);
		pasta_stop(rn);
	}
	return fd;
}

/* Bridges need root in the host's user namespace and netavark (as `run`). */
static bool can_bridge(void)
{
	return geteuid() == 0 && !sbx_in_userns() && access("/usr/lib/podman/netavark", X_OK) == 0;
}

/* Make the namespace (no lock held: it takes long). */
static void publish(bld_runnet_t *rn, int fd, const char *id)
{
	pthread_mutex_lock(&rn->mu);
	rn->fd = fd;
	snprintf(rn->id, sizeof rn->id, "%s", id);
	rn->ready = true;
	pthread_cond_broadcast(&rn->cv);
	pthread_mutex_unlock(&rn->mu);
}

/* A namespace of the store's pool (a rename and an open), else a new one. */
static void setup(bld_runnet_t *rn)
{
	if (rn->pasta.pid > 0) {
		publish(rn, pasta_setup(rn), "");
		return;
	}
	if (!can_bridge()) {
		/* rootless: the host's network, as before (no user-mode network yet) */
		publish(rn, -1, "");
		return;
	}
	cb_error_t e = CB_ERROR_INIT;
	rt_net_t *bridge = rt_net_load(rn->st, "bridge", &e);
	char id[64] = "";
	int fd = -1;
	if (bridge && rt_netpool_take(store_root(rn->st), bridge, id, sizeof id, &fd) == 0) {
		rn->bridge = bridge;
		publish(rn, fd, id);
		return;
	}
	rt_nav_sweep("build-"); /* what builds killed with -9 left */
	char hex[17];
	cb_random_hex(hex, 8);
	/* the pid lets a later build see that this one is gone */
	snprintf(id, sizeof id, "build-%ld-%s", (long)getpid(), hex);
	rt_net_t *nets[] = {bridge, NULL};
	if (!bridge || rt_nav_make_ns(id, id, nets, &fd, &e) < 0) {
		cb_error_wrap(&e, "RUN steps' network: the host's network is used instead");
		cb_warn_error(&e);
		fd = -1;
		id[0] = 0;
	}
	rn->bridge = bridge; /* read after `ready`, under rn->mu */
	publish(rn, fd, id);
}

static void *setup_thread(void *arg)
{
	setup(arg);
	return NULL;
}

void bld_runnet_prepare(bld_runnet_t *rn)
{
	if (!rn)
		return;
	pthread_mutex_lock(&rn->mu);
	if (!rn->started && !rn->down) {
		rn->started = true;
		/* no thread (a full process table): the first RUN sets it up */
		if (pthread_create(&rn->worker, NULL, setup_thread, rn) == 0)
			rn->joined = false;
		else
			rn->started = false;
	}
	pthread_mutex_unlock(&rn->mu);
}

/* Wait for the setup thread, once (rn->mu held). */
static void join_worker(bld_runnet_t *rn)
{
	while (rn->started && !rn->ready)
		pthread_cond_wait(&rn->cv, &rn->mu);
	if (!rn->joined) {
		rn->joined = true;
		pthread_join(rn->worker, NULL); /* it has ended, or is about to */
	}
}

int bld_runnet_fd(bld_runnet_t *rn)
{
	if (!rn)
		return -1;
	pthread_mutex_lock(&rn->mu);
	if (!rn->started) {
		rn->started = true;
		pthread_mutex_unlock(&rn->mu);
		setup(rn);
		pthread_mutex_lock(&rn->mu);
	}
	join_worker(rn);
	int fd = rn->down ? -1 : rn->fd;
	pthread_mutex_unlock(&rn->mu);
	return fd;
}

void bld_run_network(build_t *b, int run_network, sbx_config_t *cfg)
{
	bool none = b->o->network_none || run_network == DF_NETWORK_NONE;
	cfg->network = none ? SBX_NET_NONE : SBX_NET_HOST;
	if (bld_run_network_default(b, run_network))
		cfg->netns_fd = bld_runnet_fd(b->runnet);
	/* pasta's namespace: its forwarder is the nameserver (set once the
	 * setup ended, which bld_runnet_fd waited for) */
	if (cfg->netns_fd >= 0 && b->runnet->resolv)
		cfg->resolv_conf = b->runnet->resolv;
}

bool bld_run_network_default(const build_t *b, int run_network)
{
	return !b->o->network_none && !b->o->network_host && run_network == DF_NETWORK_DEFAULT;
}

bool bld_plan_needs_runnet(const build_t *b)
{
	for (size_t i = 0; i < b->plan->n_stages; i++) {
		const df_stage_t *stage = &b->plan->stages[i];
		for (size_t k = 0; k < stage->n_steps; k++)
			if (stage->steps[k].kind == DF_RUN &&
			    bld_run_network_default(b, stage->steps[k].u.run.network))
				return true;
	}
	return false;
}

bool bld_stage_needs_runnet(const build_t *b, int stage_idx, size_t from)
{
	const df_stage_t *stage = df_plan_stage(b->plan, stage_idx);
	for (size_t k = from; stage && k < stage->n_steps; k++)
		if (stage->steps[k].kind == DF_RUN &&
		    bld_run_network_default(b, stage->steps[k].u.run.network))
			return true;
	return false;
}

bool bld_tree_needs_runnet(const build_t *b)
{
	if (b->o->network_none || b->o->network_host)
		return false;
	for (size_t i = 0; i < b->tree->n_nodes; i++) {
		const df_node_t *n = &b->tree->nodes[i];
		bool other = false;
		for (size_t k = 0; n->flags && n->flags[k]; k++)
			other |= !strncmp(n->flags[k], "--network=", 10) &&
				 strcmp(n->flags[k], "--network=default");
		if (!strcmp(n->cmd, "run") && !other)
			return true;
	}
	return false;
}

/* Tear the namespace down on a thread of its own (and drop our lease of
 * it, when it came from the pool). */
struct td {
	char *root;
	char id[64];
};

static void *teardown_thread(void *arg)
{
	struct td *t = arg;
	rt_netpool_drop(t->root, t->id);
	free(t->root);
	free(t);
	return NULL;
}

void bld_runnet_free(bld_runnet_t *rn)
{
	if (!rn)
		return;
	bld_runnet_release(rn);
	pthread_mutex_lock(&rn->mu);
	join_worker(rn); /* the teardown's own thread, when it had one */
	pthread_mutex_unlock(&rn->mu);
	pthread_cond_destroy(&rn->cv);
	pthread_mutex_destroy(&rn->mu);
	rt_net_free(rn->bridge);
	free(rn);
}

void bld_runnet_taint(bld_runnet_t *rn)
{
	if (!rn)
		return;
	pthread_mutex_lock(&rn->mu);
	rn->tainted = true;
	pthread_mutex_unlock(&rn->mu);
}

void bld_runnet_release(bld_runnet_t *rn)
{
	if (!rn)
		return;
	pthread_mutex_lock(&rn->mu);
	join_worker(rn);
	rn->down = true;
	if (rn->fd >= 0)
		close(rn->fd);
	rn->fd = -1;
	/* back to the store's pool for the next build (one rename), else torn
	 * down as before */
	if (rn->id[0] && !rn->tainted && rt_netpool_put(store_root(rn->st), rn->id, rn->bridge))
		rn->id[0] = 0;
	pasta_stop(rn); /* a SIGTERM and two reaps: quick */
	if (rn->id[0]) {
		struct td *id = cb_xcalloc(1, sizeof *id);
		id->root = cb_xstrdup(store_root(rn->st));
		snprintf(id->id, sizeof id->id, "%s", rn->id);
		rn->id[0] = 0;
		/* joined by bld_runnet_free; inline when no thread can start */
		rn->started = rn->ready = true;
		if (pthread_create(&rn->worker, NULL, teardown_thread, id) == 0)
			rn->joined = false;
		else
			teardown_thread(id);
	}
	pthread_mutex_unlock(&rn->mu);
}
