/*
 * builder/provenance.c - the SLSA provenance v1 predicate of a build, in
 * the shape BuildKit gives it (docs/attestations/slsa-definitions.md):
 *
 *   buildDefinition.externalParameters  the Dockerfile (name, sha256), the
 *       request (target, platform, build args: never secrets, and not the
 *       proxy args, which BuildKit also leaves out: they may carry
 *       credentials)
 *   buildDefinition.resolvedDependencies  the base images by digest, the
 *       context by the checksum of what the build could read of it
 *   runDetails  the builder (cbuild and its version), start and end times:
 *       SOURCE_DATE_EPOCH (--timestamp) for both when given, so that
 *       reproducible builds stay bit-identical
 *
 * mode=max adds what min leaves out: the Dockerfile's text and each
 * stage's steps as run (buildDefinition.internalParameters.buildConfig).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builder/attest.h"
#include "builder/internal.h"
#include "store/json.h"

static bool is_hidden_arg(const char *kv)
{
	static const char *const proxies[] = {"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY",
					      "ALL_PROXY"};
	size_t n = strcspn(kv, "=");
	for (size_t i = 0; i < CB_ARRAY_SIZE(proxies); i++)
		if (strlen(proxies[i]) == n && !strncasecmp(kv, proxies[i], n))
			return true;
	return false;
}

static json_t *request(build_t *b)
{
	json_t *args = json_object();
	for (size_t i = 0; b->o->build_args && b->o->build_args[i]; i++) {
		const char *kv = b->o->build_args[i];
		if (is_hidden_arg(kv))
			continue;
		const char *eq = strchr(kv, '=');
		_cleanup_free_ char *k = cb_asprintf("build-arg:%.*s", (int)(eq ? eq - kv : (long)strlen(kv)), kv);
		oci_json_set(args, k, oci_json_str(eq ? eq + 1 : ""));
	}
	if (b->o->target)
		json_object_set_new(args, "target", oci_json_str(b->o->target));
	if (b->o->platform)
		json_object_set_new(args, "platform", oci_json_str(b->o->platform));
	char dd[DIGEST_STR_LEN + 1];
	digest_buffer(b->o->dockerfile, b->o->dockerfile_len, dd);
	return json_pack("{s:{s:s, s:s, s:{s:s}}, s:{s:s, s:o}}", "configSource", "uri", "context",
			 "path", b->o->dockerfile_name ? b->o->dockerfile_name : "Dockerfile",
			 "digest", "sha256", digest_hex(dd), "request", "frontend", "dockerfile.v0",
			 "args", args);
}

static json_t *dependencies(build_t *b)
{
	json_t *v = json_array();
	for (size_t i = 0; b->base_refs && b->base_refs[i]; i++) {
		const char *at = strrchr(b->base_refs[i], '@');
		json_array_append_new(v, json_pack("{s:o, s:{s:s}}", "uri",
						   json_sprintf("pkg:docker/%.*s", (int)(at - b->base_refs[i]),
								b->base_refs[i]),
						   "digest", "sha256", digest_hex(at + 1)));
	}
	/* the context as the build saw it (.dockerignore applied) */
	char sum[DIGEST_STR_LEN + 1];
	char *all[] = {".", NULL};
	bld_source_t src = {b->ctx.dirfd, b->ctx.dir, b->ctx.ignore, true, b->ctx.sums, NULL};
	cb_error_t e = CB_ERROR_INIT;
	if (bld_sources_checksum(&src, all, sum, NULL, &e) == 0)
		json_array_append_new(v, json_pack("{s:s, s:{s:s}}", "uri", "context", "digest",
						   "sha256", digest_hex(sum)));
	else
		bld_log(b, "warning: provenance: no context digest: %s\n", e.msg);
	cb_error_release(&e);
	return v;
}

static json_t *build_config(build_t *b)
{
	json_t *stages = json_array();
	for (size_t s = 0; s < b->plan->n_stages; s++) {
		const df_stage_t *st = &b->plan->stages[s];
		json_t *steps = json_array();
		json_array_append_new(steps, oci_json_str(st->original));
		for (size_t i = 0; i < st->n_steps; i++)
			json_array_append_new(steps, oci_json_str(st->steps[i].original));
		json_array_append_new(stages, json_pack("{s:i, s:o*, s:o}", "index", st->index, "name",
							oci_json_str(st->name), "steps", steps));
	}
	/* the Dockerfile's own bytes may not be UTF-8 (stage names too): repaired
	 * as the parser repairs them, or json_pack would fail */
	size_t n = b->o->dockerfile_len;
	_cleanup_free_ char *text = cb_utf8_valid(b->o->dockerfile, n)
					    ? cb_xstrndup(b->o->dockerfile, n)
					    : cb_utf8_fix(b->o->dockerfile, n, NULL);
	return json_pack("{s:o, s:s}", "stages", stages, "dockerfile", text);
}

json_t *bld_provenance(build_t *b, const char *version)
{
	_cleanup_free_ char *started = oci_time_now(b->o->timestamp >= 0 ? b->o->timestamp : b->started);
	_cleanup_free_ char *finished = oci_time_now(b->o->timestamp);
	oci_platform_t host;
	oci_platform_host(&host);
	_cleanup_free_ char *hp = oci_platform_string(host.os, host.arch, host.variant[0] ? host.variant : NULL);
	json_t *internal = json_pack("{s:s}", "builderPlatform", hp);
	if (b->o->provenance == BLD_PROVENANCE_MAX)
		json_object_set_new(internal, "buildConfig", build_config(b));
	return json_pack("{s:{s:s, s:o, s:o, s:o}, s:{s:{s:s, s:{s:s}}, s:{s:s, s:s, s:s}}}",
			 "buildDefinition", "buildType",
			 "https://mobyproject.org/buildkit@v1", "externalParameters", request(b),
			 "internalParameters", internal, "resolvedDependencies", dependencies(b),
			 "runDetails", "builder", "id", "", "version", "cbuild", version, "metadata",
			 "invocationID", "", "startedOn", started, "finishedOn", finished);
}
