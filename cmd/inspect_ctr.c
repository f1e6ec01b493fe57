/* Docker's inspect fields for run's options (cmd/inspect_ctr.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cmd/inspect_ctr.h"
#include "runtime/volume.h"
#include "common/util.h"
#include "store/json.h"

static json_t *strv_or_null(char *const *v)
{
	if (!v)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; v[i]; i++)
		json_array_append_new(a, oci_json_str(v[i]));
	return a;
}

json_t *cmd_ctr_labels(const rt_ctr_t *c, json_t *image_labels)
{
	json_t *l = image_labels ? json_deep_copy(image_labels) : json_object();
	for (size_t i = 0; c->extra.labels && c->extra.labels[i]; i++) {
		const char *kv = c->extra.labels[i];
		const char *eq = strchr(kv, '=');
		_cleanup_free_ char *k = eq ? cb_xstrndup(kv, (size_t)(eq - kv)) : cb_xstrdup(kv);
		json_object_set_new(l, k, oci_json_str(eq ? eq + 1 : ""));
	}
	return l;
}

static json_t *tmpfs_json(char *const *v)
{
	json_t *o = json_object();
	for (size_t i = 0; v && v[i]; i++) {
		const char *colon = strchr(v[i], ':');
		_cleanup_free_ char *k = colon ? cb_xstrndup(v[i], (size_t)(colon - v[i]))
					       : cb_xstrdup(v[i]);
		json_object_set_new(o, k, oci_json_str(colon ? colon + 1 : ""));
	}
	return o;
}

static json_t *ulimits_json(char *const *v)
{
	if (!v)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; v[i]; i++) {
		sbx_rlimit_t r;
		cb_error_t e = CB_ERROR_INIT;
		if (rt_ctr_parse_ulimit(v[i], &r, &e) < 0) {
			cb_error_release(&e);
			continue;
		}
		json_array_append_new(a, json_pack("{s:s%, s:I, s:I}", "Name", v[i],
						   strcspn(v[i], "="), "Hard",
						   (json_int_t)(r.hard == RLIM_INFINITY ? -1 : (json_int_t)r.hard),
						   "Soft",
						   (json_int_t)(r.soft == RLIM_INFINITY ? -1 : (json_int_t)r.soft)));
	}
	return a;
}

static json_t *health_json(const rt_ctr_health_t *h)
{
	json_t *o = json_pack("{s:o}", "Test", strv_or_null(h->test));
	if (h->interval_ns)
		json_object_set_new(o, "Interval", json_integer(h->interval_ns));
	if (h->timeout_ns)
		json_object_set_new(o, "Timeout", json_integer(h->timeout_ns));
	if (h->start_period_ns)
		json_object_set_new(o, "StartPeriod", json_integer(h->start_period_ns));
	if (h->retries)
		json_object_set_new(o, "Retries", json_integer(h->retries));
	return o;
}

void cmd_inspect_ctr_options(const rt_ctr_t *c, json_t *image_labels, json_t *config,
			     json_t *host)
{
	const rt_ctr_extra_t *e = &c->extra;
	json_object_set_new(config, "Labels", cmd_ctr_labels(c, image_labels));
	if (c->health.test)
		json_object_set_new(config, "Healthcheck", health_json(&c->health));
	if (e->stop_timeout_set)
		json_object_set_new(config, "StopTimeout", json_integer(e->stop_timeout));
	json_object_set_new(host, "RestartPolicy",
			    json_pack("{s:s, s:i}", "Name", rt_ctr_restart_name(c->restart),
				      "MaximumRetryCount", c->restart_max));
	json_object_set_new(host, "Memory", json_integer(e->memory));
	json_object_set_new(host, "NanoCpus", json_integer(e->nano_cpus));
	json_object_set_new(host, "PidsLimit", c->pids_limit > 0 ? json_integer(c->pids_limit)
								  : json_null());
	json_object_set_new(host, "CapAdd", strv_or_null(e->cap_add));
	json_object_set_new(host, "CapDrop", strv_or_null(e->cap_drop));
	json_object_set_new(host, "ReadonlyRootfs", json_boolean(e->read_only));
	if (e->tmpfs)
		json_object_set_new(host, "Tmpfs", tmpfs_json(e->tmpfs));
	json_object_set_new(host, "ExtraHosts", strv_or_null(e->extra_hosts));
	json_object_set_new(host, "Dns", e->dns ? strv_or_null(e->dns) : json_array());
	json_object_set_new(host, "Init", e->init ? json_true() : json_null());
	json_object_set_new(host, "Ulimits", ulimits_json(e->ulimits));
}

/* One -v spec "SRC:DST[:ro]": a path SRC binds it, a name is a volume. */
static json_t *mount_json(store_t *st, const char *spec, bool anon)
{
	_cleanup_free_ char *s = cb_xstrdup(spec);
	char *dst = strchr(s, ':');
	if (!dst)
		return NULL;
	*dst++ = '\0';
	char *mode = strchr(dst, ':');
	if (mode)
		*mode++ = '\0';
	bool ro = mode && cb_streq(mode, "ro");
	bool bind = s[0] == '/';
	json_t *m = json_object();
	json_object_set_new(m, "Type", json_string(bind ? "bind" : "volume"));
	if (!bind)
		json_object_set_new(m, "Name", json_string(s));
	char *source = NULL;
	rt_vol_info_t vi = {0};
	cb_error_t e = CB_ERROR_INIT;
	if (!bind && rt_vol_inspect(st, s, false, &vi, &e) == 0)
		source = cb_xstrdup(vi.mountpoint);
	cb_error_release(&e);
	rt_vol_info_release(&vi);
	json_object_set_new(m, "Source", json_string(source ? source : bind ? s : ""));
	free(source);
	json_object_set_new(m, "Destination", json_string(dst));
	if (!bind)
		json_object_set_new(m, "Driver", json_string("local"));
	json_object_set_new(m, "Mode", json_string(mode ? mode : bind || anon ? "" : "z"));
	json_object_set_new(m, "RW", json_boolean(!ro));
	json_object_set_new(m, "Propagation", json_string(bind ? "rprivate" : ""));
	return m;
}

/* Whether a -v spec "SRC:DST" is one of the container's anonymous volumes. */
static bool is_anon(const rt_ctr_t *c, const char *spec)
{
	const char *colon = strchr(spec, ':');
	for (size_t i = 0; colon && c->anon_volumes && c->anon_volumes[i]; i++)
		if (strlen(c->anon_volumes[i]) == (size_t)(colon - spec) &&
		    !strncmp(spec, c->anon_volumes[i], colon - spec))
			return true;
	return false;
}

/* Docker splits a run's volumes: HostConfig.Binds has the SRC:DST ones
 * (null when none), Config.Volumes the destinations of anonymous ones,
 * `-v /path` and the image's VOLUMEs ({"/path": {}}, null when none). */
static void volumes_json(const rt_ctr_t *c, json_t *config, json_t *host)
{
	json_t *binds = json_array(), *vols = json_object();
	for (size_t i = 0; c->volumes && c->volumes[i]; i++) {
		const char *colon = strchr(c->volumes[i], ':');
		if (!colon)
			continue;
		if (!is_anon(c, c->volumes[i])) {
			json_array_append_new(binds, oci_json_str(c->volumes[i]));
			continue;
		}
		_cleanup_free_ char *dst = cb_xstrdup(colon + 1);
		char *opt = strchr(dst, ':');
		if (opt)
			*opt = '\0';
		json_object_set_new(vols, dst, json_object());
	}
	json_object_set_new(host, "Binds", json_array_size(binds) ? binds : json_null());
	json_object_set_new(config, "Volumes", json_object_size(vols) ? vols : json_null());
	if (!json_array_size(binds))
		json_decref(binds);
	if (!json_object_size(vols))
		json_decref(vols);
}

/* Whether argv starts with the n words of prefix. */
static bool starts_with(char *const *argv, char *const *prefix, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!argv || !argv[i] || strcmp(argv[i], prefix[i]))
			return false;
	return true;
}

void cmd_inspect_ctr_config(const rt_ctr_t *c, const oci_config_t *img, json_t *config,
			    json_t *host)
{
	/* docker's null for no Env, no Entrypoint, no Cmd */
	json_object_set_new(config, "Domainname", oci_json_str(""));
	json_object_set_new(config, "Env", strv_or_null(c->config_env && c->config_env[0]
								? c->config_env : NULL));
	size_t n = img ? cb_strv_len(img->entrypoint) : 0;
	bool ep = n && starts_with(c->argv, img->entrypoint, n);
	char *const *cmd = c->argv ? c->argv + (ep ? n : 0) : NULL;
	json_object_set_new(config, "Entrypoint", ep ? strv_or_null(img->entrypoint) : json_null());
	json_object_set_new(config, "Cmd", strv_or_null(cmd && cmd[0] ? cmd : NULL));
	/* no WORKDIR and no -w: docker says "" (the process starts in /) */
	bool wd = (img && img->working_dir && *img->working_dir) || !cb_streq(c->cwd, "/");
	json_object_set_new(config, "WorkingDir", oci_json_str(wd && c->cwd ? c->cwd : ""));
	volumes_json(c, config, host);
}

json_t *cmd_ctr_mounts(store_t *st, const rt_ctr_t *c)
{
	json_t *a = json_array();
	for (size_t i = 0; c->volumes && c->volumes[i]; i++) {
		json_t *m = mount_json(st, c->volumes[i], is_anon(c, c->volumes[i]));
		if (m)
			json_array_append_new(a, m);
	}
	return a;
}
