/* The network of a build's RUN steps (see builder/steps.h): as Docker's
 * default build, each RUN is cut off from the host's network namespace (its
 * loopback services, its ports) and reaches the outside through the
 * default bridge's NAT. One namespace per build, set up by netavark at the
 * first RUN that needs it and joined by every later one: a setup costs
 * tens of ms (netavark, iptables), a join costs nothing. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/steps.h"
#include "common/util.h"
#include "runtime/netavark.h"
#include "runtime/network.h"
#include "runtime/sandbox.h"

struct bld_runnet {
	pthread_mutex_t mu;
	bool tried;  /* the setup ran (fd, or the host's network after a warning) */
	int fd;      /* the namespace, -1 = none */
	char id[64]; /* its name under the run directory's netns/ */
};

bld_runnet_t *bld_runnet_new(void)
{
	bld_runnet_t *rn = cb_xcalloc(1, sizeof(*rn));
	pthread_mutex_init(&rn->mu, NULL);
	rn->fd = -1;
	return rn;
}

/* Bridges need root in the host's user namespace and netavark (as `run`). */
static bool can_bridge(void)
{
	return geteuid() == 0 && !sbx_in_userns() && access("/usr/lib/podman/netavark", X_OK) == 0;
}

static void setup(bld_runnet_t *rn, store_t *st)
{
	rn->tried = true;
	if (!can_bridge())
		return; /* rootless: the host's network, as before (no user-mode network yet) */
	rt_nav_sweep("build-"); /* what builds killed with -9 left */
	char hex[17];
	cb_random_hex(hex, 8);
	/* the pid lets a later build see that this one is gone */
	snprintf(rn->id, sizeof rn->id, "build-%ld-%s", (long)getpid(), hex);
	cb_error_t e = CB_ERROR_INIT;
	rt_net_t *bridge = rt_net_load(st, "bridge", &e);
	rt_net_t *nets[] = {bridge, NULL};
	if (!bridge || rt_nav_make_ns(rn->id, rn->id, nets, &rn->fd, &e) < 0) {
		cb_error_wrap(&e, "RUN steps' network: the host's network is used instead");
		cb_warn_error(&e);
		rn->fd = -1;
		rn->id[0] = 0;
	}
	rt_net_free(bridge);
}

int bld_runnet_fd(bld_runnet_t *rn, store_t *st)
{
	if (!rn)
		return -1;
	pthread_mutex_lock(&rn->mu);
	if (!rn->tried)
		setup(rn, st);
	int fd = rn->fd;
	pthread_mutex_unlock(&rn->mu);
	return fd;
}

void bld_run_network(build_t *b, int run_network, sbx_config_t *cfg)
{
	bool none = b->o->network_none || run_network == DF_NETWORK_NONE;
	cfg->network = none ? SBX_NET_NONE : SBX_NET_HOST;
	if (!none && run_network != DF_NETWORK_HOST && !b->o->network_host)
		cfg->netns_fd = bld_runnet_fd(b->runnet, b->st);
}

void bld_runnet_free(bld_runnet_t *rn)
{
	if (!rn)
		return;
	if (rn->fd >= 0)
		close(rn->fd);
	if (rn->id[0])
		rt_nav_detach(rn->id);
	pthread_mutex_destroy(&rn->mu);
	free(rn);
}
