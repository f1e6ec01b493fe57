#include "store/places.h"

#include <string.h>

#include "common/util.h"

/* The one place that knows these folder names (with store_open's list of
 * the folders it makes and gc's and fsck's walks). */

char *store_place_tmp(const store_t *st)
{
	return cb_asprintf("%s/tmp", store_root(st));
}

char *store_place_tmp_file(const store_t *st, const char *name)
{
	return cb_asprintf("%s/tmp/%s", store_root(st), name);
}

char *store_place_containers(const store_t *st)
{
	return cb_asprintf("%s/containers", store_root(st));
}

char *store_place_container(const store_t *st, const char *id, const char *file)
{
	if (file)
		return cb_asprintf("%s/containers/%s/%s", store_root(st), id, file);
	return cb_asprintf("%s/containers/%s", store_root(st), id);
}

char *store_place_volume(const store_t *st, const char *name)
{
	return cb_asprintf("%s/volumes/%s", store_root(st), name);
}

char *store_place_networks(const store_t *st)
{
	return cb_asprintf("%s/networks", store_root(st));
}

char *store_place_network(const store_t *st, const char *name)
{
	return cb_asprintf("%s/networks/%s.json", store_root(st), name);
}

char *store_place_compose(const store_t *st, const char *project, const char *file)
{
	if (file)
		return cb_asprintf("%s/compose/%s/%s", store_root(st), project, file);
	return cb_asprintf("%s/compose/%s", store_root(st), project);
}

char *store_place_cache_mount(const store_t *st, const char *name)
{
	char digest[DIGEST_STR_LEN + 1];
	digest_buffer(name, strlen(name), digest);
	return cb_asprintf("%s/mounts/cache/%.32s", store_root(st), digest_hex(digest));
}

char *store_place_ctxsum(const store_t *st, const char *digest)
{
	return cb_asprintf("%s/cache/ctxsum-%.32s.txt", store_root(st), digest_hex(digest));
}

char *store_place_explain(const store_t *st, const char *digest)
{
	return cb_asprintf("%s/cache/explain-%.32s.json", store_root(st), digest_hex(digest));
}

char *store_place_registry_sources(const store_t *st)
{
	return cb_asprintf("%s/registry-sources.json", store_root(st));
}
