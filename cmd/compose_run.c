/*
 * cbuild compose up [-d] [--build] [--no-build] [--no-deps] [SERVICE...]
 *               down [-v] [-t SECONDS]
 *               ps [-a] [-q] [--services]
 *               logs [-f] [--tail N] [-t] [--no-log-prefix] [SERVICE...]
 *
 * The project's containers are named PROJECT-SERVICE-1 (or container_name)
 * and made by the container library (runtime/container.h). Networks are
 * docker compose's: `up` makes the project's networks (PROJECT_default and
 * the file's `networks:`, runtime/network.h) and puts each container on
 * its service's networks with the service's name (and its aliases) as
 * names there, resolved by the network's aardvark-dns, and its `ports:`
 * published as `run -p` does. It hands the project to the runtime's
 * compose supervisor (runtime/compose.h): start order, health checks,
 * restarts, until `down` ends it; `down` removes the containers, then the
 * networks the project made (an external one stays).
 *
 * Its state: ROOT/compose/PROJECT/ {supervisor (pid + start time),
 * health-SERVICE, supervisor.log}. Named volumes are the container
 * library's named volumes, ROOT/volumes/PROJECT_VOLUME/; `down -v` removes
 * them, plain `down` keeps them.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "runtime/compose.h"
#include "runtime/container.h"
#include "runtime/forward.h"
#include "runtime/network.h"
#include "runtime/log.h"
#include "runtime/seccomp.h"
#include "cmd/compose.h"
#include "cmd/resolve.h"
#include "common/fs.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/image.h"
#include "store/places.h"

/* ---- names and paths ---- */

static char *ctr_name(const compose_t *c, const df_compose_service_t *s)
{
	return s->container_name ? cb_xstrdup(s->container_name)
				 : cb_asprintf("%s-%s-1", c->p->name, s->name);
}

static char *state_path(store_t *st, const compose_t *c, const char *file)
{
	return rt_compose_path(st, c->p->name, file);
}

/* The service's container, or NULL (ENOENT released) when it has none. */
static rt_ctr_t *load_ctr(store_t *st, const compose_t *c, const df_compose_service_t *s,
			  cb_error_t *err)
{
	_cleanup_free_ char *name = ctr_name(c, s);
	cb_error_t e = CB_ERROR_INIT;
	rt_ctr_t *ctr = rt_ctr_load(st, name, &e);
	if (!ctr && e.code != ENOENT)
		cb_error_move(err, &e);
	cb_error_release(&e);
	return ctr;
}

/* ---- creating the containers ---- */

static char *volume_spec(const compose_t *c, const df_compose_service_t *s, size_t i,
			 cb_error_t *err)
{
	const df_compose_mount_t *m = &s->volumes[i];
	const char *ro = m->read_only ? ":ro" : "";
	if (m->type == DF_MOUNT_BIND) {
		if (!cb_path_exists(m->source)) {
			if (!m->create_host_path)
				return cb_error_fail(err, ENOENT, "service '%s': bind source '%s' does "
						     "not exist", s->name, m->source), NULL;
			if (cb_mkdir_p(m->source, 0755, err) < 0)
				return NULL;
		}
		return cb_asprintf("%s:%s%s", m->source, m->target, ro);
	}
	if (m->type == DF_MOUNT_TMPFS) {
		cb_warn("service '%s': tmpfs on '%s' is not supported, ignored", s->name, m->target);
		return cb_xstrdup("");
	}
	if (!m->source)
		return cb_asprintf("%s_%s_anon%zu:%s%s", c->p->name, s->name, i, m->target, ro);
	const df_compose_volume_t *v = df_compose_volume(c->p, m->source);
	return cb_asprintf("%s:%s%s", v ? v->name : m->source, m->target, ro);
}

static void effective_health(store_t *st, const df_compose_service_t *s, const char *digest,
			     rt_compose_health_t *hc);

/* A service's security_opt, as docker compose hands it to the engine:
 * seccomp=unconfined|FILE (also "seccomp:"; the file is read now, relative
 * to the project directory, and checked); no-new-privileges[:true] is what
 * cbuild always sets; label= and apparmor= have nothing to apply to on
 * this host (no SELinux or AppArmor confinement): a warning. Anything else
 * is an error, as `run --security-opt` has it. *seccomp: NULL (Docker's
 * default profile), "unconfined" or a profile's text (caller frees). */
static int service_security(const compose_t *c, const df_compose_service_t *s, char **seccomp,
			    cb_error_t *err)
{
	for (size_t i = 0; s->security_opt && s->security_opt[i]; i++) {
		const char *o = s->security_opt[i];
		if (!strcmp(o, "no-new-privileges") || !strcmp(o, "no-new-privileges:true") ||
		    !strcmp(o, "no-new-privileges=true"))
			continue;
		if (cb_str_has_prefix(o, "label") || cb_str_has_prefix(o, "apparmor")) {
			cb_warn("service '%s': security_opt '%s' has no effect here (ignored)", s->name, o);
			continue;
		}
		static const char known[] = "seccomp=unconfined, seccomp=PROFILE.json, no-new-privileges";
		if (strncmp(o, "seccomp=", 8) && strncmp(o, "seccomp:", 8))
			return cb_error_fail(err, EINVAL, "service '%s': unsupported security_opt '%s' (%s)",
					     s->name, o, known);
		free(*seccomp);
		*seccomp = NULL;
		if (!strcmp(o + 8, "unconfined")) {
			*seccomp = cb_xstrdup("unconfined");
			continue;
		}
		if (!o[8])
			return cb_error_fail(err, EINVAL, "service '%s': seccomp= needs a profile or 'unconfined'",
					     s->name);
		_cleanup_free_ char *path = o[8] == '/' ? cb_xstrdup(o + 8) : cb_path_join(c->p->dir, o + 8);
		size_t len = 0;
		if (cb_read_file(path, 1 << 20, seccomp, &len, err) < 0)
			return cb_error_wrap(err, "service '%s': seccomp profile", s->name);
		sbx_scmp_profile_t *p = sbx_seccomp_parse(*seccomp, path, err);
		if (!p)
			return cb_error_wrap(err, "service '%s'", s->name);
		sbx_seccomp_free(p);
	}
	return 0;
}

static const df_compose_network_t *project_net(const compose_t *c, const char *key)
{
	for (size_t i = 0; i < c->p->n_networks; i++)
		if (!strcmp(c->p->networks[i].key, key))
			return &c->p->networks[i];
	return NULL; /* the parser checked every key */
}

/* A service's names on one of its networks: its own, then its aliases. */
static char **net_aliases(const df_compose_service_t *s, const df_compose_svc_net_t *sn)
{
	char **v = cb_strv_push(NULL, s->name);
	for (size_t i = 0; sn->aliases && sn->aliases[i]; i++)
		v = cb_strv_push(v, sn->aliases[i]);
	return v;
}

/* `ports:` as `run -p` has them; published 0 is not published. */
static char **port_specs(const df_compose_service_t *s)
{
	char **v = cb_xcalloc(1, sizeof(char *));
	for (size_t p = 0; p < s->n_ports; p++) {
		const df_compose_port_t *pt = &s->ports[p];
		if (!pt->published)
			continue;
		const char *ip = pt->host_ip ? pt->host_ip : "";
		v = cb_strv_push_take(v, cb_asprintf("%s%s%u:%u/%s", ip, *ip ? ":" : "",
						     pt->published, pt->target, pt->protocol));
	}
	return v;
}

/* The service's other networks (the first one is the spec's): joined at
 * its first start, as `network connect` of a created container. That
 * changes its config on disk: *ctr is loaded again. */
static int connect_more(compose_t *c, store_t *st, const df_compose_service_t *s,
			rt_ctr_t **ctr, cb_error_t *err)
{
	if (s->n_networks < 2)
		return 0;
	for (size_t i = 1; i < s->n_networks; i++) {
		const df_compose_svc_net_t *sn = &s->networks[i];
		_cleanup_strv_ char **aliases = net_aliases(s, sn);
		if (rt_net_connect(st, project_net(c, sn->key)->name, (*ctr)->id, aliases,
				   sn->ipv4_address, err) < 0)
			return cb_error_wrap(err, "service '%s'", s->name);
	}
	rt_ctr_t *again = rt_ctr_load(st, (*ctr)->id, err);
	if (!again)
		return -1;
	rt_ctr_free(*ctr);
	*ctr = again;
	return 0;
}

static int create_one(compose_t *c, store_t *st, const df_compose_service_t *s, rt_ctr_t **out, rt_compose_health_t *hc,
		      cb_error_t *err)
{
	_cleanup_free_ char *ref = compose_image_ref(c, s, err);
	if (!ref)
		return -1;
	_cleanup_free_ char *digest = NULL;
	bool always = s->pull_policy && !strcmp(s->pull_policy, "always");
	if (cmd_resolve_image(c->ctx, st, ref, always, NULL, &digest, err) < 0)
		return cb_error_wrap(err, "service '%s'", s->name);
	_cleanup_strv_ char **env = NULL, **vols = NULL, **cmd = NULL;
	if (compose_service_env(c, s, &env, err) < 0)
		return -1;
	for (size_t i = 0; i < s->n_volumes; i++) {
		char *v = volume_spec(c, s, i, err);
		if (!v)
			return -1;
		if (*v)
			vols = cb_strv_push_take(vols, v);
		else
			free(v);
	}
	_cleanup_free_ char *name = ctr_name(c, s);
	_cleanup_free_ char *shown = reg_ref_shorten(ref);
	rt_ctr_spec_t spec = {0};
	spec.image = digest;
	spec.image_name = shown;
	spec.name = name;
	if (s->entrypoint_set) { /* Docker: a new entrypoint drops the image's CMD */
		spec.entrypoint = "";
		cmd = cb_strv_dup(s->entrypoint);
		for (size_t i = 0; s->command && s->command[i]; i++)
			cmd = cb_strv_push(cmd, s->command[i]);
		if (!cmd || !cmd[0])
			return cb_error_fail(err, EINVAL, "service '%s': empty entrypoint", s->name);
	} else if (s->command_set && s->command && s->command[0]) {
		cmd = cb_strv_dup(s->command);
	}
	spec.cmd = cmd;
	spec.env = env;
	spec.cwd = s->working_dir;
	spec.user = s->user;
	spec.hostname = s->hostname ? s->hostname : s->name;
	spec.volumes = vols;
	_cleanup_strv_ char **aliases = NULL, **ports = port_specs(s);
	if (s->network_mode) {
		spec.network = s->network_mode;
	} else {
		spec.network = project_net(c, s->networks[0].key)->name;
		aliases = net_aliases(s, &s->networks[0]);
		spec.aliases = aliases;
		spec.ip = s->networks[0].ipv4_address;
	}
	spec.ports = ports;
	spec.extra.extra_hosts = s->extra_hosts;
	spec.pids_limit = s->pids_limit;
	_cleanup_free_ char *seccomp = NULL;
	if (service_security(c, s, &seccomp, err) < 0)
		return -1;
	spec.seccomp = seccomp;
	if (rt_ctr_create(st, &spec, out, err) < 0)
		return cb_error_wrap(err, "service '%s'", s->name);
	if (connect_more(c, st, s, out, err) < 0)
		return -1;
	effective_health(st, s, digest, hc);
	return 0;
}

/* The healthcheck a service runs: its own, else its image's HEALTHCHECK
 * (Docker's Healthcheck object: Test, Interval, Timeout, StartPeriod,
 * StartInterval in ns, Retries). */
static void effective_health(store_t *st, const df_compose_service_t *s, const char *digest,
			     rt_compose_health_t *hc)
{
	const df_compose_healthcheck_t *own = &s->healthcheck;
	*hc = (rt_compose_health_t){.interval_ns = own->interval_ns, .timeout_ns = own->timeout_ns,
				    .start_period_ns = own->start_period_ns,
				    .start_interval_ns = own->start_interval_ns,
				    .retries = own->retries};
	if (s->healthcheck.test) {
		hc->test = cb_strv_dup(s->healthcheck.test);
		return;
	}
	cb_error_t e = CB_ERROR_INIT;
	image_t *img = image_load(st, digest, &e);
	cb_error_release(&e);
	rt_health_from_image(img ? img->config : NULL, hc);
	image_free(img);
}

/* ---- ports ---- */

/* Each container binds its own ports as it starts; a port in use is found
 * here first, so that it fails `up` before anything started (docker
 * compose would start the services before it and fail half-way). */
static int check_ports(const compose_t *c, const size_t *idx, size_t n, cb_error_t *err)
{
	for (size_t i = 0; i < n; i++) {
		const df_compose_service_t *s = &c->p->services[idx[i]];
		for (size_t p = 0; p < s->n_ports; p++) {
			const df_compose_port_t *pt = &s->ports[p];
			if (!pt->published)
				continue;
			int fd = rt_fwd_listen(pt->host_ip ? pt->host_ip : "0.0.0.0",
					       (uint16_t)pt->published, !strcmp(pt->protocol, "udp"));
			if (fd < 0)
				return cb_error_errno(err, "service '%s': publish port %u", s->name,
						      pt->published);
			close(fd);
		}
	}
	return 0;
}

/* ---- networks ---- */

static bool net_used(const compose_t *c, const size_t *idx, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		const df_compose_service_t *s = &c->p->services[idx[i]];
		for (size_t k = 0; k < s->n_networks; k++)
			if (!strcmp(s->networks[k].key, key))
				return true;
	}
	return false;
}

/* Make the networks the selected services are on; an external one must
 * exist already. */
static int make_networks(compose_t *c, store_t *st, const size_t *idx, size_t n,
			 cb_error_t *err)
{
	for (size_t i = 0; i < c->p->n_networks; i++) {
		const df_compose_network_t *nw = &c->p->networks[i];
		if (!net_used(c, idx, n, nw->key))
			continue;
		cb_error_t e = CB_ERROR_INIT;
		rt_net_t *have = rt_net_load(st, nw->name, &e);
		rt_net_free(have);
		if (have)
			continue;
		if (e.code != ENOENT || nw->external) {
			cb_error_move(err, &e);
			return nw->external ? cb_error_wrap(err, "external network '%s'", nw->name) : -1;
		}
		cb_error_release(&e);
		rt_net_t *made = NULL;
		if (rt_net_create(st, nw->name, nw->subnet, nw->internal, &made, err) < 0)
			return cb_error_wrap(err, "network '%s'", nw->key);
		rt_net_free(made);
		fprintf(stderr, "Network %s  Created\n", nw->name);
	}
	return 0;
}

/* Remove the networks the project made; one that is missing is done. */
static int remove_networks(compose_t *c, store_t *st, cb_error_t *err)
{
	for (size_t i = 0; i < c->p->n_networks; i++) {
		const df_compose_network_t *nw = &c->p->networks[i];
		if (nw->external)
			continue;
		cb_error_t e = CB_ERROR_INIT;
		if (rt_net_remove(st, nw->name, &e) == 0) {
			fprintf(stderr, "Network %s  Removed\n", nw->name);
			continue;
		}
		if (e.code == ENOENT) {
			cb_error_release(&e);
			continue;
		}
		cb_error_move(err, &e);
		return -1;
	}
	return 0;
}

/* ---- logs ---- */

typedef struct follow {
	const df_compose_service_t *s;
	rt_ctr_t *ctr;
	char *name;
	rt_log_reader_t log;
	cb_buf_t partial;
} follow_t;

static void print_log(follow_t *f, const char *rec, size_t len, int width, bool stamps,
		      bool prefix)
{
	rt_log_record_t r;
	if (!rt_log_parse(rec, len, &r))
		return;
	cb_buf_add(&f->partial, r.text, r.text_len);
	if (!r.full)
		return;
	if (prefix)
		printf("%-*s | ", width, f->name);
	if (stamps)
		printf("%.*s ", (int)r.time_len, r.time);
	printf("%s\n", f->partial.data);
	cb_buf_reset(&f->partial);
}

/* Print what the log has past what was read (complete records only);
 * tail >= 0 keeps only the last tail records of this first read. */
static void read_log(follow_t *f, int width, long tail, bool stamps, bool prefix)
{
	const char *buf;
	size_t use;
	cb_error_t e = CB_ERROR_INIT;
	if (rt_log_read(&f->log, &buf, &use, &e) < 0) {
		cb_error_release(&e);
		return;
	}
	const char *p = buf;
	if (tail >= 0) {
		long lines = 0;
		for (const char *q = buf + use; q > buf; q--)
			if (q[-1] == '\n' && ++lines > tail) {
				p = q;
				break;
			}
	}
	while (p < buf + use) {
		const char *nl = memchr(p, '\n', (size_t)(buf + use - p));
		print_log(f, p, (size_t)(nl - p), width, stamps, prefix);
		p = nl + 1;
	}
	fflush(stdout);
	rt_log_consume(&f->log, use);
	rt_log_follow_rotation(&f->log);
}

typedef struct logs_opts {
	bool follow, stamps, prefix;
	long tail;
} logs_opts_t;

static volatile sig_atomic_t logs_stop;
static void on_logs_sig(int sig) { (void)sig; logs_stop = 1; }

static int follow_logs(compose_t *c, store_t *st, const size_t *idx, size_t n,
		       const logs_opts_t *o, cb_error_t *err)
{
	follow_t *fs = cb_xcalloc(n + 1, sizeof(*fs));
	size_t nf = 0;
	int width = 0;
	for (size_t i = 0; i < n; i++) {
		const df_compose_service_t *s = &c->p->services[idx[i]];
		rt_ctr_t *ctr = load_ctr(st, c, s, err);
		if (!ctr) {
			if (cb_error_is_set(err))
				goto out;
			continue;
		}
		fs[nf] = (follow_t){.s = s, .ctr = ctr, .name = ctr_name(c, s)};
		rt_log_init(&fs[nf].log, ctr);
		cb_buf_init(&fs[nf].partial);
		if ((int)strlen(fs[nf].name) > width)
			width = (int)strlen(fs[nf].name);
		nf++;
	}
	for (size_t i = 0; i < nf; i++)
		read_log(&fs[i], width, o->tail, o->stamps, o->prefix);
	if (o->follow) {
		struct sigaction sa = {.sa_handler = on_logs_sig}, old_int, old_term;
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		int quiet_rounds = 0;
		while (!logs_stop && quiet_rounds < 3) {
			usleep(150000);
			bool running = false;
			for (size_t i = 0; i < nf; i++) {
				cb_error_t e = CB_ERROR_INIT;
				if (rt_ctr_refresh(st, fs[i].ctr, &e) < 0)
					cb_error_release(&e);
				running |= fs[i].ctr->status == RT_CTR_RUNNING;
				read_log(&fs[i], width, -1, o->stamps, o->prefix);
			}
			/* restart policies can bring an exited one back: wait a little */
			quiet_rounds = running || rt_compose_supervisor(st, c->p->name) ? 0 : quiet_rounds + 1;
		}
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
out:
	for (size_t i = 0; i < nf; i++) {
		rt_log_release(&fs[i].log);
		rt_ctr_free(fs[i].ctr);
		free(fs[i].name);
		cb_buf_release(&fs[i].partial);
	}
	free(fs);
	return cb_error_is_set(err) ? -1 : 0;
}

enum { O_NO_PREFIX = CMD_OPT_LONG, O_BUILD, O_NO_BUILD, O_NO_DEPS, O_SERVICES };

const cmd_opt_t compose_logs_opts[] = {
	{"follow", 'f', CMD_ARG_NONE, NULL, "keep printing what the services write"},
	{"timestamps", 't', CMD_ARG_NONE, NULL, "show when each line was written"},
	{"no-log-prefix", O_NO_PREFIX, CMD_ARG_NONE, NULL, "do not prefix lines with the service's name"},
	{"tail", 'n', CMD_ARG_REQUIRED, "N|all", "only the last N lines of each"},
	{0}};

int compose_logs(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	logs_opts_t o = {.prefix = true, .tail = -1};
	_cleanup_strv_ char **names = NULL;
	cmd_opts_t p;
	int k;
	cmd_opts_init(&p, c->ctx->verb, argc, argv);
	while ((k = cmd_opts_next(&p, err)) > 0) {
		if (k == 'f')
			o.follow = p.on;
		else if (k == 't')
			o.stamps = p.on;
		else if (k == O_NO_PREFIX)
			o.prefix = !p.on;
		else if (k == 'n')
			o.tail = strcmp(p.arg, "all") ? atol(p.arg) : -1;
	}
	if (k < 0)
		return k;
	for (int i = 0; i < p.nargs; i++)
		names = cb_strv_push(names, p.args[i]);
	store_t *st = cmd_store(c->ctx, err);
	_cleanup_free_ size_t *idx = NULL;
	size_t n = 0;
	if (!st || df_compose_select(c->p, names, false, &idx, &n, err) < 0)
		return -1;
	return follow_logs(c, st, idx, n, &o, err);
}

/* ---- down ---- */

static int stop_timeout(const df_compose_service_t *s, int given)
{
	if (given >= 0)
		return given;
	return s->stop_grace_period_ns > 0 ? (int)(s->stop_grace_period_ns / 1000000000) : 10;
}

/* volumes (down -v): their anonymous volumes too (an image's VOLUMEs). */
static int remove_services(compose_t *c, store_t *st, int timeout, bool volumes,
			   cb_error_t *err)
{
	for (size_t k = c->p->n_services; k-- > 0;) {
		const df_compose_service_t *s = &c->p->services[c->p->order[k]];
		rt_ctr_t *ctr = load_ctr(st, c, s, err);
		if (!ctr) {
			if (cb_error_is_set(err))
				return -1;
			continue;
		}
		int rc = rt_ctr_stop(st, ctr, stop_timeout(s, timeout), err);
		if (rc == 0)
			rc = rt_ctr_remove(st, ctr, true, err);
		if (rc == 0 && volumes)
			rt_ctr_remove_anon_volumes(st, ctr);
		if (rc == 0)
			fprintf(stderr, "Container %s  Removed\n", ctr->name);
		rt_ctr_free(ctr);
		if (rc < 0)
			return cb_error_wrap(err, "service '%s'", s->name);
	}
	return 0;
}

static int remove_volumes(compose_t *c, store_t *st, cb_error_t *err)
{
	_cleanup_strv_ char **names = NULL;
	for (size_t i = 0; i < c->p->n_volumes; i++)
		if (!c->p->volumes[i].external)
			names = cb_strv_push(names, c->p->volumes[i].name);
	for (size_t i = 0; i < c->p->n_services; i++)
		for (size_t k = 0; k < c->p->services[i].n_volumes; k++)
			if (c->p->services[i].volumes[k].type == DF_MOUNT_VOLUME &&
			    !c->p->services[i].volumes[k].source)
				names = cb_strv_push_take(names, cb_asprintf("%s_%s_anon%zu", c->p->name,
									     c->p->services[i].name, k));
	for (size_t i = 0; names && names[i]; i++) {
		_cleanup_free_ char *p = store_place_volume(st, names[i]);
		if (!cb_path_exists(p))
			continue;
		if (cb_rm_rf(p, err) < 0)
			return cb_error_wrap(err, "remove volume '%s'", names[i]);
		fprintf(stderr, "Volume %s  Removed\n", names[i]);
	}
	return 0;
}

const cmd_opt_t compose_down_opts[] = {
	{"volumes", 'v', CMD_ARG_NONE, NULL, "remove the project's named volumes too"},
	{"timeout", 't', CMD_ARG_REQUIRED, "SECONDS", "wait this long for each to stop before killing it"},
	{0}};

int compose_down(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	bool volumes = false;
	int timeout = -1;
	cmd_opts_t p;
	int k;
	long long t = 0;
	cmd_opts_init(&p, c->ctx->verb, argc, argv);
	while ((k = cmd_opts_next(&p, err)) > 0) {
		if (k == 'v')
			volumes = p.on;
		else if (cmd_opts_int(&p, 0, 86400, &t, err) < 0)
			return CMD_USAGE;
		else
			timeout = (int)t;
	}
	if (k < 0)
		return k;
	if (p.nargs)
		return cmd_usage_error(err, "'compose down' takes no arguments");
	store_t *st = cmd_store(c->ctx, err);
	if (!st)
		return -1;
	rt_compose_stop(st, c->p->name);
	if (remove_services(c, st, timeout, volumes, err) < 0 || remove_networks(c, st, err) < 0)
		return -1;
	if (volumes && remove_volumes(c, st, err) < 0)
		return -1;
	_cleanup_free_ char *dir = state_path(st, c, NULL);
	return cb_rm_rf(dir, err);
}

/* ---- up ---- */

typedef struct up_opts {
	bool detach, build, no_build, no_deps;
	char **names;
} up_opts_t;

const cmd_opt_t compose_up_opts[] = {
	{"detach", 'd', CMD_ARG_NONE, NULL, "run in the background"},
	{"build", O_BUILD, CMD_ARG_NONE, NULL, "build the images first"},
	{"no-build", O_NO_BUILD, CMD_ARG_NONE, NULL, "never build a missing image"},
	{"no-deps", O_NO_DEPS, CMD_ARG_NONE, NULL, "do not start the services' dependencies"},
	{0}};

static int parse_up(compose_t *c, int argc, char **argv, up_opts_t *o, cb_error_t *err)
{
	cmd_opts_t p;
	int k;
	cmd_opts_init(&p, c->ctx->verb, argc, argv);
	while ((k = cmd_opts_next(&p, err)) > 0) {
		if (k == 'd')
			o->detach = p.on;
		else if (k == O_BUILD)
			o->build = p.on;
		else if (k == O_NO_BUILD)
			o->no_build = p.on;
		else if (k == O_NO_DEPS)
			o->no_deps = p.on;
	}
	if (k < 0)
		return k;
	for (int i = 0; i < p.nargs; i++)
		o->names = cb_strv_push(o->names, p.args[i]);
	if (o->build && o->no_build)
		return cmd_usage_error(err, "--build and --no-build exclude each other");
	return 0;
}

/* Build what --build asks for, and what has a build but no image yet. */
static int build_missing(compose_t *c, store_t *st, const size_t *idx, size_t n,
			 const up_opts_t *o, cb_error_t *err)
{
	_cleanup_free_ size_t *todo = cb_xcalloc(n + 1, sizeof(size_t));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const df_compose_service_t *s = &c->p->services[idx[i]];
		if (!s->build || o->no_build)
			continue;
		_cleanup_free_ char *ref = compose_image_ref(c, s, err);
		if (!ref)
			return -1;
		store_ref_t r = {0};
		bool have = store_get_ref(st, ref, &r, NULL) == 0;
		store_ref_release(&r);
		if (o->build || !have)
			todo[k++] = idx[i];
	}
	if (!k)
		return 0;
	compose_build_opts_t bo = {0};
	return compose_build_services(c, todo, k, &bo, err);
}

/* Remove what a previous `up` left of the selected services. */
static int clear_old(compose_t *c, store_t *st, const size_t *idx, size_t n, cb_error_t *err)
{
	for (size_t i = 0; i < n; i++) {
		const df_compose_service_t *s = &c->p->services[idx[i]];
		rt_ctr_t *ctr = load_ctr(st, c, s, err);
		if (!ctr) {
			if (cb_error_is_set(err))
				return -1;
			continue;
		}
		int rc = rt_ctr_remove(st, ctr, true, err);
		rt_ctr_free(ctr);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The runtime's view of a service: its dependencies and restart policy
 * (v->ctr and v->health are create_one's). */
static void svc_from(const df_compose_service_t *s, rt_compose_svc_t *v)
{
	static const rt_compose_condition_t conds[] = {
		[DF_DEP_STARTED] = RT_DEP_STARTED,
		[DF_DEP_HEALTHY] = RT_DEP_HEALTHY,
		[DF_DEP_COMPLETED] = RT_DEP_COMPLETED,
	};
	static const rt_compose_restart_kind_t kinds[] = {
		[DF_RESTART_NO] = RT_RESTART_NO,
		[DF_RESTART_ALWAYS] = RT_RESTART_ALWAYS,
		[DF_RESTART_ON_FAILURE] = RT_RESTART_ON_FAILURE,
		[DF_RESTART_UNLESS_STOPPED] = RT_RESTART_UNLESS_STOPPED,
	};
	rt_compose_dep_t *deps = cb_xcalloc(s->n_depends_on + 1, sizeof(*deps));
	for (size_t d = 0; d < s->n_depends_on; d++)
		deps[d] = (rt_compose_dep_t){.service = s->depends_on[d].service,
					     .condition = conds[s->depends_on[d].condition]};
	v->name = s->name;
	v->deps = deps;
	v->n_deps = s->n_depends_on;
	v->restart = (rt_compose_restart_t){.kind = kinds[s->restart.kind],
					    .max_retries = s->restart.max_retries};
}

static void print_started(void *ctx, const char *service)
{
	const compose_t *c = ctx;
	const df_compose_service_t *s = df_compose_service(c->p, service);
	_cleanup_free_ char *cn = s ? ctr_name(c, s) : cb_xstrdup(service);
	fprintf(stderr, "Container %s  Started\n", cn);
}

static volatile sig_atomic_t up_interrupted;
static void on_up_sig(int sig) { (void)sig; up_interrupted = 1; }

int compose_up(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	up_opts_t o = {0};
	int rc = parse_up(c, argc, argv, &o, err);
	if (rc) {
		cb_strv_free(o.names);
		return rc;
	}
	_cleanup_strv_ char **names = o.names;
	store_t *st = cmd_store(c->ctx, err);
	_cleanup_free_ size_t *idx = NULL;
	size_t n = 0;
	if (!st || df_compose_select(c->p, names, !o.no_deps, &idx, &n, err) < 0)
		return -1;
	if (rt_compose_supervisor(st, c->p->name))
		return cb_error_fail(err, EBUSY, "project '%s' is already up: run 'compose down' "
				     "first", c->p->name);
	_cleanup_free_ char *dir = state_path(st, c, NULL);
	if (build_missing(c, st, idx, n, &o, err) < 0 || cb_mkdir_p(dir, 0700, err) < 0 ||
	    clear_old(c, st, idx, n, err) < 0 || make_networks(c, st, idx, n, err) < 0)
		return -1;
	rt_compose_svc_t *v = cb_xcalloc(n + 1, sizeof(*v));
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const df_compose_service_t *s = &c->p->services[idx[i]];
		rc = create_one(c, st, s, &v[i].ctr, &v[i].health, err);
		if (rc == 0)
			fprintf(stderr, "Container %s  Created\n", v[i].ctr->name);
		svc_from(s, &v[i]);
	}
	if (rc == 0)
		rc = check_ports(c, idx, n, err);
	rt_compose_project_t pr = {.name = c->p->name, .services = v, .n_services = n,
				   .on_started = print_started, .ctx = c};
	if (rc == 0)
		rc = rt_compose_up(st, &pr, err);
	if (rc == 0 && !o.detach) {
		/* attached: follow the logs; Ctrl-C stops the project's containers */
		logs_opts_t lo = {.follow = true, .prefix = true, .tail = -1};
		struct sigaction sa = {.sa_handler = on_up_sig}, old;
		sigaction(SIGINT, &sa, &old);
		rc = follow_logs(c, st, idx, n, &lo, err);
		sigaction(SIGINT, &old, NULL);
		if (logs_stop || up_interrupted) {
			fprintf(stderr, "Gracefully stopping... (press Ctrl+C again to force)\n");
			rt_compose_stop(st, c->p->name);
			for (size_t i = 0; i < n; i++) {
				cb_error_t e = CB_ERROR_INIT;
				if (rt_ctr_stop(st, v[i].ctr, stop_timeout(&c->p->services[idx[i]], -1),
						&e) < 0)
					cb_warn_error(&e);
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		rt_ctr_free(v[i].ctr);
		cb_strv_free(v[i].health.test);
		free((void *)v[i].deps);
	}
	free(v);
	return rc;
}

/* ---- ps ---- */

static void ago(char *buf, size_t len, int64_t secs)
{
	if (secs < 60)
		snprintf(buf, len, "%lld seconds", (long long)secs);
	else if (secs < 3600)
		snprintf(buf, len, "%lld minutes", (long long)(secs / 60));
	else
		snprintf(buf, len, "%lld hours", (long long)(secs / 3600));
}

const cmd_opt_t compose_ps_opts[] = {
	{"all", 'a', CMD_ARG_NONE, NULL, "show stopped containers too"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print only container IDs"},
	{"services", O_SERVICES, CMD_ARG_NONE, NULL, "print only the services' names"},
	{0}};

int compose_ps(compose_t *c, int argc, char **argv, cb_error_t *err)
{
	bool all = false, quiet = false, services = false;
	cmd_opts_t po;
	int opt;
	cmd_opts_init(&po, c->ctx->verb, argc, argv);
	while ((opt = cmd_opts_next(&po, err)) > 0) {
		if (opt == 'a')
			all = po.on;
		else if (opt == 'q')
			quiet = po.on;
		else if (opt == O_SERVICES)
			services = po.on;
	}
	if (opt < 0)
		return opt;
	store_t *st = cmd_store(c->ctx, err);
	if (!st)
		return -1;
	if (!quiet && !services)
		printf("%-24s %-28s %-10s %-28s %s\n", "NAME", "IMAGE", "SERVICE", "STATUS", "PORTS");
	int64_t now = time(NULL);
	for (size_t k = 0; k < c->p->n_services; k++) {
		const df_compose_service_t *s = &c->p->services[c->p->order[k]];
		rt_ctr_t *ctr = load_ctr(st, c, s, err);
		if (!ctr) {
			if (cb_error_is_set(err))
				return -1;
			continue;
		}
		bool running = ctr->status == RT_CTR_RUNNING;
		if (running || all) {
			char status[128], when[64];
			_cleanup_free_ char *hf = cb_asprintf("health-%s", s->name);
			_cleanup_free_ char *hp = state_path(st, c, hf);
			_cleanup_free_ char *health = NULL;
			size_t hl = 0;
			cb_error_t e = CB_ERROR_INIT;
			if (!running || cb_read_file(hp, 64, &health, &hl, &e) < 0)
				cb_error_release(&e);
			if (running) {
				ago(when, sizeof(when), now - ctr->started);
				snprintf(status, sizeof(status), "Up %s%s%s%s", when,
					 health && *health ? " (" : "", health ? health : "",
					 health && *health ? ")" : "");
			} else {
				ago(when, sizeof(when), ctr->finished > 0 ? now - ctr->finished : 0);
				snprintf(status, sizeof(status), "Exited (%d) %s ago", ctr->exit_code, when);
			}
			cb_buf_t ports;
			cb_buf_init(&ports);
			for (size_t p = 0; p < s->n_ports; p++)
				if (s->ports[p].published)
					cb_buf_addf(&ports, "%s%s:%u->%u/%s", ports.len ? ", " : "",
						    s->ports[p].host_ip ? s->ports[p].host_ip : "0.0.0.0",
						    s->ports[p].published, s->ports[p].target,
						    s->ports[p].protocol);
			if (quiet)
				printf("%s\n", ctr->id);
			else if (services)
				printf("%s\n", s->name);
			else
				printf("%-24s %-28s %-10s %-28s %s\n", ctr->name, ctr->image_name, s->name,
				       status, ports.data);
			cb_buf_release(&ports);
		}
		rt_ctr_free(ctr);
	}
	return 0;
}
