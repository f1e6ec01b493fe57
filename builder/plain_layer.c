/*
 * builder/plain_layer.c - the layers a build keeps plain (issue 29).
 *
 * Every layer step writes its layer as a plain tar, marked to be gzipped
 * when it leaves (store/variant.h): a build gzips nothing, as BuildKit's
 * and buildah's do not; push makes the gzip variants, on threads while the
 * other blobs upload (registry/push.c). Not for an image that must be all
 * gzip when the build ends (all_gzip). See build_t.keep_plain.
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

/* Whether this build keeps its layers plain and marked (build_t.keep_plain):
 * all but all_gzip builds. */
bool bld_keep_plain(const bld_opts_t *o)
{
	return !all_gzip(o);
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
