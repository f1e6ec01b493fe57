/*
 * builder/plain_layer.c - the one layer a build keeps plain (issue 29).
 *
 * The target stage's last layer step writes its layer as a plain tar,
 * marked to be gzipped when it leaves (store/variant.h): the build's end
 * waits for its snapshot, not its gzip. See build_t.plain_step. So does
 * every layer step of a stage whose layers no image of the build names
 * (build_t.plain_stage): a normal build never pushes them.
 */
#include <stdlib.h>
#include <string.h>

#include "builder/steps.h"
#include "common/util.h"
#include "store/mediatype.h"
#include "store/variant.h"

/* Whether every layer of the image must be gzip when the build ends:
 * - it goes into an index (several platforms, attestations): the index
 *   names its manifests by digest, and push rewrites a manifest whose
 *   layer it gzips, so the pushed index would name one the registry lacks;
 * - its steps are exported as a cache (--cache-to): the artifact keeps the
 *   layers as stored, and another runner's hit has no mark, so its push
 *   would send the layer uncompressed. */
static bool all_gzip(const bld_opts_t *o)
{
	return o->index_child || o->sbom || o->provenance != BLD_PROVENANCE_NONE ||
	       o->cache_to != BLD_CACHE_NONE;
}

/* The target stage's last step that makes a layer (build_t.plain_step),
 * unless all_gzip. */
const df_step_t *bld_plain_step(const build_t *b, const df_stage_t *stage)
{
	if (stage->index != b->plan->target || all_gzip(b->o))
		return NULL;
	for (size_t i = stage->n_steps; i-- > 0;)
		if (df_instruction(stage->steps[i].kind)->makes_layer)
			return &stage->steps[i];
	return NULL;
}

/* Whether stage idx's layers are the image's: the target's and those of
 * its ancestors through FROM <stage>. */
static bool exported_stage(const df_plan_t *p, int idx)
{
	for (int i = p->target; i >= 0;) {
		if (i == idx)
			return true;
		const df_stage_t *s = df_plan_stage(p, i);
		i = s ? s->base_stage : -1;
	}
	return false;
}

/* A stage that only other stages use (COPY --from, RUN --mount=from) keeps
 * every layer plain and marked, unless all_gzip: the --cache-to artifact
 * (mode=max names such stages' entries) and an index want gzip. A later
 * build that exports one of these layers (--target of that stage, from the
 * cache) pushes its gzip variant, made then (store/variant.h). */
bool bld_plain_stage(const build_t *b, const df_stage_t *stage)
{
	return !all_gzip(b->o) && !exported_stage(b->plan, stage->index);
}

/* With all_gzip the image keeps no plain layer that is marked; a cache hit
 * (or a committed base) can still bring one: its gzip variant (the bytes a
 * build writes, LAYER_GZIP_LEVEL) takes its place. */
int bld_gzip_plain_layers(build_t *b, bld_state_t *s, bool *changed, cb_error_t *err)
{
	if (!all_gzip(b->o))
		return 0;
	for (size_t i = 0; i < s->n_layers; i++) {
		oci_descriptor_t *l = &s->layers[i];
		bool docker = cb_streq(l->media_type, MT_DOCKER_LAYER);
		if (l->size < 0 || (!docker && !cb_streq(l->media_type, MT_OCI_LAYER)))
			continue;
		store_variant_t v;
		int r = store_variant_get(b->st, l->digest, &v, err);
		if (r == 0)
			continue;
		if (r < 0 || store_variant_gzip(b->st, l->digest, &v, err) < 0)
			return -1;
		free(l->media_type);
		l->media_type = cb_xstrdup(docker ? MT_DOCKER_LAYER_GZIP : MT_OCI_LAYER_GZIP);
		free(l->digest);
		l->digest = cb_xstrdup(v.digest);
		l->size = v.size;
		*changed = true;
	}
	return 0;
}
