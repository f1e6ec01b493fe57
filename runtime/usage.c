/* system df: the store's and the containers' disk usage. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/container_internal.h"
#include "runtime/network.h"
#include "runtime/usage.h"
#include "runtime/netpool.h"
#include "runtime/volume.h"
#include "common/util.h"
#include "store/gc.h"
#include "store/image.h"

/* A set of strings with a size each (layer digests). */
typedef struct sized_set {
	char **keys;
	uint64_t *sizes;
	size_t n;
} sized_set_t;

static bool set_has(const sized_set_t *s, const char *k)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->keys[i], k))
			return true;
	return false;
}

static void set_add(sized_set_t *s, const char *k, uint64_t size)
{
	if (set_has(s, k))
		return;
	s->keys = cb_xreallocarray(s->keys, s->n + 1, sizeof(char *));
	s->sizes = cb_xreallocarray(s->sizes, s->n + 1, sizeof(uint64_t));
	s->keys[s->n] = cb_xstrdup(k);
	s->sizes[s->n++] = size;
}

static uint64_t set_total(const sized_set_t *s)
{
	uint64_t t = 0;
	for (size_t i = 0; i < s->n; i++)
		t += s->sizes[i];
	return t;
}

static void set_release(sized_set_t *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->keys[i]);
	free(s->keys);
	free(s->sizes);
}

static void add_layers(store_t *st, const image_t *img, sized_set_t *s)
{
	for (size_t i = 0; i < img->manifest->n_layers; i++) {
		const oci_descriptor_t *l = &img->manifest->layers[i];
		if (!set_has(s, l->digest))
			set_add(s, l->digest, (uint64_t)image_layer_unpacked_size(st, l));
	}
}

/* Containers: their row, and the image IDs they use. */
static void count_containers(store_t *st, rt_usage_row_t *row, char ***used)
{
	cb_error_t e = CB_ERROR_INIT;
	*used = cb_xcalloc(1, sizeof(char *));
	rt_ctr_t **all = ctr_load_all(st);
	for (size_t i = 0; all[i]; i++) {
		rt_ctr_t *c = all[i];
		_cleanup_free_ char *upper = ctr_path(c, "upper");
		uint64_t size = rt_du(upper);
		row->total++;
		row->size += size;
		if (c->status == RT_CTR_RUNNING)
			row->active++;
		else
			row->reclaimable += size;
		image_t *img = image_load(st, c->image, &e);
		if (img)
			*used = cb_strv_push(*used, img->config_digest);
		else
			cb_error_release(&e);
		image_free(img);
	}
	ctr_free_all(all);
}

static bool strv_has(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static int count_images(store_t *st, char *const *used, rt_usage_row_t *row, sized_set_t *all,
			cb_error_t *err)
{
	store_ref_t *refs = NULL;
	size_t n = 0;
	if (store_list_refs(st, &refs, &n, err) < 0)
		return -1;
	sized_set_t active = {0};
	_cleanup_strv_ char **seen = cb_xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		cb_error_t e = CB_ERROR_INIT;
		image_t *img = image_load(st, refs[i].digest, &e);
		if (!img) {
			cb_error_release(&e); /* a manifest list of other platforms */
			continue;
		}
		if (!strv_has(seen, img->config_digest)) {
			seen = cb_strv_push(seen, img->config_digest);
			row->total++;
			add_layers(st, img, all);
			if (strv_has(used, img->config_digest)) {
				row->active++;
				add_layers(st, img, &active);
			}
		}
		image_free(img);
	}
	store_refs_free(refs, n);
	row->size = set_total(all);
	row->reclaimable = row->size - set_total(&active);
	set_release(&active);
	return 0;
}

static void count_cache(store_t *st, const sized_set_t *images, rt_usage_row_t *row)
{
	_cleanup_strv_ char **mds = store_cache_manifests(st);
	sized_set_t own = {0};
	for (size_t i = 0; mds[i]; i++) {
		cb_error_t e = CB_ERROR_INIT;
		image_t *img = image_load(st, mds[i], &e);
		if (!img) {
			cb_error_release(&e);
			continue;
		}
		row->total++;
		for (size_t k = 0; k < img->manifest->n_layers; k++) {
			const oci_descriptor_t *l = &img->manifest->layers[k];
			if (!set_has(images, l->digest))
				set_add(&own, l->digest, (uint64_t)image_layer_unpacked_size(st, l));
		}
		image_free(img);
	}
	row->size = row->reclaimable = set_total(&own);
	set_release(&own);
}

static void count_volumes(store_t *st, rt_usage_row_t *row)
{
	_cleanup_strv_ char **names = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (rt_vol_list(st, &names, &e) < 0) {
		cb_error_release(&e);
		return;
	}
	for (size_t i = 0; names[i]; i++) {
		rt_vol_info_t v;
		if (rt_vol_inspect(st, names[i], true, &v, &e) < 0) {
			cb_error_release(&e);
			continue;
		}
		row->total++;
		row->size += v.size;
		if (v.users[0])
			row->active++;
		else
			row->reclaimable += v.size;
		rt_vol_info_release(&v);
	}
}

int rt_usage(store_t *st, rt_usage_t *u, cb_error_t *err)
{
	memset(u, 0, sizeof *u);
	_cleanup_strv_ char **used = NULL;
	count_containers(st, &u->containers, &used);
	sized_set_t layers = {0};
	int rc = count_images(st, used, &u->images, &layers, err);
	if (rc == 0) {
		count_cache(st, &layers, &u->cache);
		count_volumes(st, &u->volumes);
	}
	set_release(&layers);
	return rc;
}

int rt_prune_containers(store_t *st, char ***removed, uint64_t *bytes, cb_error_t *err)
{
	_cleanup_strv_ char **ids = NULL;
	if (rt_ctr_list(st, &ids, err) < 0)
		return -1;
	char **gone = cb_xcalloc(1, sizeof(char *));
	*bytes = 0;
	for (size_t i = 0; ids[i]; i++) {
		cb_error_t e = CB_ERROR_INIT;
		rt_ctr_t *c = ctr_load_id(st, ids[i], &e);
		if (!c || c->status == RT_CTR_RUNNING) {
			cb_error_release(&e);
			rt_ctr_free(c);
			continue;
		}
		_cleanup_free_ char *upper = ctr_path(c, "upper");
		uint64_t size = rt_du(upper);
		/* not forced: one started meanwhile stays */
		if (rt_ctr_remove(st, c, false, &e) == 0) {
			gone = cb_strv_push(gone, c->id);
			*bytes += size;
		} else if (e.code != EBUSY) {
			cb_warn_error(&e);
		} else {
			cb_error_release(&e);
		}
		rt_ctr_free(c);
	}
	*removed = gone;
	return 0;
}

int rt_prune_networks(store_t *st, char ***removed, cb_error_t *err)
{
	/* the namespaces builds keep ready on the default network go too: with
	 * them, the bridge and its NAT rules (runtime/netpool.h) */
	rt_netpool_drain(store_root(st));
	rt_net_t **nets = NULL;
	size_t n = 0;
	if (rt_net_list(st, &nets, &n, err) < 0)
		return -1;
	char **gone = cb_xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *name = nets[i]->name;
		_cleanup_strv_ char **members = NULL;
		cb_error_t e = CB_ERROR_INIT;
		if (!nets[i]->builtin && rt_net_members(st, name, &members, &e) == 0 && !members[0]) {
			if (rt_net_remove(st, name, &e) == 0)
				gone = cb_strv_push(gone, name);
			else
				cb_error_release(&e); /* joined meanwhile */
		}
		/* the default bridge stays, but a member's setup or teardown cut
		 * short can leave its rules with no member to take them */
		if (nets[i]->builtin && nets[i]->bridge)
			rt_net_scrub_unused(st, name);
		cb_error_release(&e);
		rt_net_free(nets[i]);
	}
	free(nets);
	*removed = gone;
	return 0;
}
