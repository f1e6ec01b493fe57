/* cbuild inspect [--type image|container] [--platform os/arch[/variant]]
 * NAME...: Docker-shaped JSON, one array for all names; a container name or
 * ID is tried before images. A name of an index shows the image of the
 * platform (this machine's by default).
 *
 * cbuild inspect --raw [--platform P] IMAGE...: the manifest or index a
 * name points at, byte for byte (with --platform, an index's image
 * manifest for that platform), as `buildah manifest inspect` shows it.
 *
 * cbuild inspect --sbom|--provenance IMAGE...: the attestations a build
 * with --sbom/--provenance attached (cmd/inspect_attest.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/container.h"
#include "runtime/container_ops.h"
#include "runtime/netavark.h"
#include "cmd/cmd.h"
#include "cmd/template.h"
#include "cmd/images_util.h"
#include "cmd/inspect_attest.h"
#include "cmd/inspect_ctr.h"
#include "common/fs.h"
#include "common/util.h"
#include "registry/reference.h"
#include "store/json.h"
#include "store/variant.h"

static json_t *repo_lists(store_t *st, const image_t *img, json_t **digests)
{
	json_t *tags = json_array();
	*digests = json_array();
	store_ref_t *refs = NULL;
	size_t n = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (store_list_refs(st, &refs, &n, &e) < 0) {
		cb_error_release(&e);
		return tags;
	}
	/* docker lists the digest a registry knows the image by: the index's
	 * when it came in one */
	char pushed[DIGEST_STR_LEN + 1];
	const char *shown = img->index_digest ? img->index_digest
			    : store_variant_manifest(st, img->manifest_digest, pushed) == 1
				    ? pushed
				    : img->manifest_digest;
	for (size_t i = 0; i < n; i++) {
		if (!refs[i].name || (strcmp(refs[i].digest, img->manifest_digest) &&
				      !cb_streq(refs[i].digest, img->index_digest)))
			continue;
		reg_ref_t r;
		if (reg_ref_parse(refs[i].name, REG_REF_NO_DEFAULT_TAG, &r, &e) < 0) {
			cb_error_release(&e);
			continue;
		}
		_cleanup_free_ char *fam = reg_ref_familiar(&r);
		_cleanup_free_ char *repo = reg_ref_familiar_repo(&r);
		_cleanup_free_ char *rd = cb_asprintf("%s@%s", repo, shown);
		json_array_append_new(tags, oci_json_str(fam));
		json_array_append_new(*digests, oci_json_str(rd));
		reg_ref_release(&r);
	}
	store_refs_free(refs, n);
	return tags;
}

/* The image's config with the keys docker's always has (null or "" when
 * unset), so that `inspect -f '{{.Config.Env}}'` says <no value> as docker
 * does instead of failing on a missing key. */
static json_t *docker_config(json_t *config)
{
	static const char *const nulls[] = {"Env", "Cmd", "Entrypoint", "Volumes", "OnBuild", "Labels"};
	static const char *const empty[] = {"Hostname", "Domainname", "User", "Image", "WorkingDir"};
	json_t *c = json_is_object(config) ? json_deep_copy(config) : json_object();
	for (size_t i = 0; i < CB_ARRAY_SIZE(nulls); i++)
		if (!json_object_get(c, nulls[i]))
			json_object_set_new(c, nulls[i], json_null());
	for (size_t i = 0; i < CB_ARRAY_SIZE(empty); i++)
		if (!json_object_get(c, empty[i]))
			json_object_set_new(c, empty[i], oci_json_str(""));
	return c;
}

static json_t *image_json(store_t *st, const image_t *img)
{
	_cleanup_free_ char *cj = oci_config_to_json(img->config);
	json_t *c = json_loads(cj, 0, NULL);
	json_t *digests = NULL;
	json_t *tags = repo_lists(st, img, &digests);
	json_t *j = json_object();
	json_object_set_new(j, "Id", oci_json_str(img->config_digest));
	json_object_set_new(j, "RepoTags", tags);
	json_object_set_new(j, "RepoDigests", digests);
	json_object_set_new(j, "Parent", oci_json_str(""));
	json_object_set_new(j, "Comment", oci_json_str(""));
	json_object_set(j, "Created", json_object_get(c, "created") ?: oci_json_str(""));
	json_object_set_new(j, "Author", oci_json_str(img->config->author ? img->config->author : ""));
	json_object_set_new(j, "Config", docker_config(json_object_get(c, "config")));
	json_object_set(j, "Architecture", json_object_get(c, "architecture"));
	if (img->config->variant)
		json_object_set_new(j, "Variant", oci_json_str(img->config->variant));
	json_object_set(j, "Os", json_object_get(c, "os"));
	json_object_set_new(j, "Size", json_integer(image_unpacked_size(st, img)));
	json_t *rootfs = json_pack("{s:s, s:O}", "Type", "layers", "Layers",
				   json_object_get(json_object_get(c, "rootfs"), "diff_ids"));
	json_object_set_new(j, "RootFS", rootfs);
	json_object_set(j, "History", json_object_get(c, "history"));
	json_object_set_new(j, "ManifestDigest", oci_json_str(img->manifest_digest));
	json_object_set_new(j, "ManifestMediaType", oci_json_str(img->manifest->media_type));
	if (img->index_digest)
		json_object_set_new(j, "IndexDigest", oci_json_str(img->index_digest));
	json_decref(c);
	return j;
}

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, oci_json_str(v[i]));
	return a;
}

static json_t *time_json(int64_t t)
{
	if (t < 0)
		return oci_json_str("0001-01-01T00:00:00Z");
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return oci_json_str(buf);
}

/* Docker's container object, the fields cbuild has. */
/* {"80/tcp": [{"HostIp", "HostPort"}]}: as configured (HostConfig's
 * PortBindings, "" for a port picked at start), or the host ports in use
 * while it runs (NetworkSettings' Ports; empty otherwise, as docker) */
static json_t *port_map(const rt_ctr_t *c, bool live)
{
	json_t *m = json_object();
	if (live && c->status != RT_CTR_RUNNING)
		return m;
	for (size_t i = 0; i < c->n_ports; i++) {
		const rt_ctr_port_t *p = &c->ports[i];
		char key[32], port[16] = "";
		snprintf(key, sizeof key, "%u/%s", (unsigned)p->ctr_port, p->udp ? "udp" : "tcp");
		uint16_t host = live ? p->bound_port : p->host_port;
		if (host)
			snprintf(port, sizeof port, "%u", (unsigned)host);
		json_t *v = json_object_get(m, key);
		if (!v)
			json_object_set_new(m, key, v = json_array());
		json_array_append_new(v, json_pack("{s:s, s:s}", "HostIp", p->host_ip, "HostPort",
						   port));
	}
	return m;
}

/* NetworkSettings: each network's address while it runs, and the ports */
static json_t *network_settings(const rt_ctr_t *c)
{
	bool running = c->status == RT_CTR_RUNNING;
	json_t *nets = json_object();
	for (size_t i = 0; c->networks && c->networks[i]; i++) {
		_cleanup_free_ char *ip = running ? rt_nav_address(c->id, c->networks[i])
						  : cb_xstrdup("");
		json_t *aliases = json_array();
		json_array_append_new(aliases, json_string(c->name));
		json_array_append_new(aliases, json_sprintf("%.12s", c->id));
		char **more = rt_ctr_net_values(c->net_aliases, c->networks[i]);
		for (size_t k = 0; more[k]; k++)
			json_array_append_new(aliases, json_string(more[k]));
		cb_strv_free(more);
		json_object_set_new(nets, c->networks[i],
				    json_pack("{s:s, s:o}", "IPAddress", ip, "Aliases", aliases));
	}
	return json_pack("{s:o, s:o}", "Networks", nets, "Ports", port_map(c, true));
}

static json_t *container_json(store_t *st, const rt_ctr_t *c)
{
	static const char *const status[] = {"created", "running", "exited"};
	bool running = c->status == RT_CTR_RUNNING;
	json_t *state = json_object();
	json_object_set_new(state, "Status",
			    oci_json_str(c->restarting	     ? "restarting"
					 : rt_ctr_paused(c) ? "paused"
							     : status[c->status]));
	json_object_set_new(state, "Restarting", json_boolean(c->restarting));
	json_object_set_new(state, "Running", json_boolean(running));
	json_object_set_new(state, "Paused", json_boolean(rt_ctr_paused(c)));
	json_object_set_new(state, "Pid", json_integer(running ? c->pid : 0));
	json_object_set_new(state, "ExitCode", json_integer(c->exit_code));
	json_object_set_new(state, "StartedAt", time_json(c->started));
	json_object_set_new(state, "FinishedAt", time_json(c->finished));
	json_t *health = rt_ctr_health_json(c);
	if (health)
		json_object_set_new(state, "Health", health);
	json_t *bindings = port_map(c, false);
	json_t *config = json_object();
	json_object_set_new(config, "Hostname", oci_json_str(c->hostname));
	json_object_set_new(config, "User", oci_json_str(c->user ? c->user : ""));
	json_object_set_new(config, "Tty", json_boolean(c->tty));
	json_object_set_new(config, "OpenStdin", json_boolean(c->interactive));
	json_object_set_new(config, "Image", oci_json_str(c->image_name ? c->image_name : ""));
	if (c->stop_signal)
		json_object_set_new(config, "StopSignal", oci_json_str(c->stop_signal));
	json_t *host = json_object();
	json_object_set_new(host, "NetworkMode",
			    oci_json_str(c->networks && c->networks[0] ? c->networks[0]
					 : c->net_pasta                ? "pasta"
					 : c->net_none                 ? "none"
								       : "host"));
	json_object_set_new(host, "PortBindings", bindings);
	json_object_set_new(host, "AutoRemove", json_boolean(c->auto_remove));
	_cleanup_free_ char *upper = cb_path_join(c->dir, "upper");
	_cleanup_free_ char *work = cb_path_join(c->dir, "work");
	_cleanup_free_ char *merged = cb_path_join(c->dir, "rootfs");
	_cleanup_free_ char *logp = cb_path_join(c->dir, "log");
	json_t *graph = json_pack("{s:s, s:{s:o, s:o, s:o}}", "Name", "overlay", "Data",
				  "UpperDir", oci_json_str(upper), "WorkDir", oci_json_str(work),
				  "MergedDir", oci_json_str(merged));
	_cleanup_free_ char *name = cb_asprintf("/%s", c->name);
	cb_error_t e = CB_ERROR_INIT;
	image_t *img = image_load(st, c->image, &e);
	cb_error_release(&e);
	json_t *j = json_object();
	json_object_set_new(j, "Id", oci_json_str(c->id));
	json_object_set_new(j, "Created", time_json(c->created));
	json_object_set_new(j, "Path", oci_json_str(c->argv && c->argv[0] ? c->argv[0] : ""));
	json_object_set_new(j, "Args", strv_json(c->argv && c->argv[0] ? c->argv + 1 : NULL));
	json_object_set_new(j, "State", state);
	json_object_set_new(j, "RestartCount", json_integer(c->restart_count));
	json_object_set_new(j, "Image", oci_json_str(img ? img->config_digest : c->image));
	json_object_set_new(j, "ImageManifest", oci_json_str(c->image));
	json_object_set_new(j, "LogPath", oci_json_str(logp));
	json_object_set_new(j, "Name", oci_json_str(name));
	json_object_set_new(j, "Driver", oci_json_str("overlay"));
	json_object_set_new(j, "HostConfig", host);
	json_object_set_new(j, "Mounts", cmd_ctr_mounts(st, c));
	json_object_set_new(j, "NetworkSettings", network_settings(c));
	json_object_set_new(j, "GraphDriver", graph);
	json_object_set_new(j, "Config", config);
	cmd_inspect_ctr_options(c, img && img->config ? img->config->labels : NULL, config, host);
	cmd_inspect_ctr_config(c, img ? img->config : NULL, config, host);
	image_free(img);
	return j;
}

/* A container when `what` names one (and --type allows), else an image. */
static json_t *inspect_one(store_t *st, const char *type, const char *platform, const char *what,
			   cb_error_t *err)
{
	if (!cb_streq(type, "image")) {
		cb_error_t e = CB_ERROR_INIT;
		rt_ctr_t *c = rt_ctr_load(st, what, &e);
		if (c) {
			json_t *j = container_json(st, c);
			rt_ctr_free(c);
			return j;
		}
		if (cb_streq(type, "container")) {
			cb_error_move(err, &e);
			return NULL;
		}
		cb_error_release(&e);
	}
	image_t *img = cmd_load_image_platform(st, what, platform, err);
	if (!img)
		return NULL;
	json_t *j = image_json(st, img);
	image_free(img);
	return j;
}

/* --format: each object through the template, a line each (what docker
 * prints, {{json .}} included); go on past a missing object, as docker. */
static int print_formatted(store_t *st, const char *type, const char *platform, const char *format,
			   char **names, int n, cb_error_t *err)
{
	tpl_t *t = tpl_compile(format, err);
	if (!t)
		return CMD_USAGE;
	int rc = 0;
	for (int i = 0; i < n; i++) {
		cb_error_t e = CB_ERROR_INIT;
		json_t *j = inspect_one(st, type, platform, names[i], &e);
		char *line = j ? tpl_render(t, j, &e) : NULL;
		json_decref(j);
		if (line) {
			printf("%s\n", line);
			free(line);
			continue;
		}
		if (cb_error_is_set(err))
			cb_error_print(stderr, "cbuild", err), cb_error_release(err);
		cb_error_move(err, &e);
		rc = -1;
	}
	tpl_free(t);
	return rc;
}

static int print_raw(store_t *st, const char *platform, const char *what, cb_error_t *err)
{
	_cleanup_free_ char *md = NULL, *data = NULL;
	size_t len = 0;
	if (cmd_find_image(st, what, &md, NULL, err) < 0)
		return -1;
	if (platform) {
		char *child = NULL;
		if (image_resolve(st, md, platform, &child, err) < 0)
			return cb_error_wrap(err, "image '%s'", what);
		free(md);
		md = child;
	}
	if (store_read_blob(st, md, IMAGE_JSON_MAX, &data, &len, err) < 0)
		return cb_error_wrap(err, "image '%s'", what);
	fwrite(data, 1, len, stdout);
	putchar('\n');
	return 0;
}

enum { O_TYPE = CMD_OPT_LONG, O_PLATFORM, O_RAW, O_SBOM, O_PROVENANCE };

const cmd_opt_t cmd_inspect_opts[] = {
	{"type", O_TYPE, CMD_ARG_REQUIRED, "image|container", "only look for this kind of object"},
	{"format", 'f', CMD_ARG_REQUIRED, "TEMPLATE", "print each object through a Go template ({{.Id}})"},
	{"platform", O_PLATFORM, CMD_ARG_REQUIRED, "OS/ARCH[/VARIANT]", "the platform of a multi-platform image"},
	{"raw", O_RAW, CMD_ARG_NONE, NULL, "print the image's manifest as stored"},
	{"sbom", O_SBOM, CMD_ARG_NONE, NULL, "print the image's SBOM attestation"},
	{"provenance", O_PROVENANCE, CMD_ARG_NONE, NULL, "print the image's provenance attestation"},
	{0}};

int cmd_inspect(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	const char *type = NULL, *platform = NULL, *format = NULL;
	bool raw = false;
	int attest = 0; /* 'S' or 'V' */
	int c;
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0) {
		if (c == O_TYPE)
			type = p.arg;
		else if (c == O_PLATFORM && cmd_check_platform(p.arg, err) < 0)
			return CMD_USAGE;
		else if (c == O_PLATFORM)
			platform = p.arg;
		else if (c == O_RAW)
			raw = p.on;
		else if (c == 'f')
			format = p.arg;
		else if (c == O_SBOM || c == O_PROVENANCE)
			attest = c;
	}
	if (c < 0)
		return c;
	argc = 1 + p.nargs; /* the operands are argv[1..] */
	int first = 1;
	if (type && strcmp(type, "image") && strcmp(type, "container"))
		return cmd_usage_error(err, "unknown --type '%s' (image, container)", type);
	if (argc <= first)
		return cmd_nargs(ctx, argc - first, 1, -1, err);
	if (raw && cb_streq(type, "container"))
		return cmd_usage_error(err, "--raw shows images only");
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	for (int i = first; attest && i < argc; i++)
		if (cmd_print_attestation(st, argv[i], platform, attest == O_SBOM, err) < 0)
			return -1;
	if (attest)
		return 0;
	for (int i = first; raw && i < argc; i++)
		if (print_raw(st, platform, argv[i], err) < 0)
			return -1;
	if (raw)
		return 0;
	if (format && *format && strcmp(format, "json"))
		return print_formatted(st, type, platform, format, p.args, p.nargs, err);
	json_t *out = json_array();
	for (int i = first; i < argc; i++) {
		json_t *j = inspect_one(st, type, platform, argv[i], err);
		if (!j) {
			json_decref(out);
			return -1;
		}
		json_array_append_new(out, j);
	}
	char *s = oci_json_dumps(out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	printf("%s\n", s);
	free(s);
	json_decref(out);
	return 0;
}
