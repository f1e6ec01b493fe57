#include "store/users.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/find.h"
#include "store/keep.h"

typedef struct ctr_scan {
	store_t *st;
	const char *config_digest;
	char **ids;
} ctr_scan_t;

/* A record that cannot be read keeps nothing here either: gc reads it the
 * same way (keep.h). */
static void match_container(void *ctx, store_keep_kind_t kind, const char *name,
			    const digest_t *digest)
{
	(void)kind;
	ctr_scan_t *s = ctx;
	if (!digest)
		return;
	image_t *img = image_load(s->st, digest->s, NULL);
	if (img && !strcmp(img->config_digest, s->config_digest))
		s->ids = cb_strv_push(s->ids, name);
	image_free(img);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_image_users(store_t *st, const image_t *img, store_image_users_t *u, cb_error_t *err)
{
	size_t kids = 0;
	if (store_image_children(st, img, &kids, err) < 0)
		return -1;
	ctr_scan_t s = {.st = st, .config_digest = img->config_digest, .ids = cb_xcalloc(1, sizeof(char *))};
	if (store_keep_each(st, STORE_KEEP_CONTAINER, match_container, &s, err) < 0) {
		cb_strv_free(s.ids);
		return -1;
	}
	qsort(s.ids, cb_strv_len(s.ids), sizeof(char *), cmp_str);
	u->children = kids;
	u->containers = s.ids;
	return 0;
}

void store_image_users_release(store_image_users_t *u)
{
	if (!u)
		return;
	cb_strv_free(u->containers);
	u->containers = NULL;
	u->children = 0;
}

/* Untagged, and nothing built on it or running from it. */
static bool dangling(store_t *st, const image_t *img)
{
	_cleanup_strv_ char **names = store_image_names(st, img->config_digest, NULL);
	store_image_users_t u = {0};
	if (!names || names[0] || store_image_users(st, img, &u, NULL) < 0)
		return false;
	bool unused = !u.children && !u.containers[0];
	store_image_users_release(&u);
	return unused;
}

/* One pass over the untagged entries. */
static int prune_pass(store_t *st, size_t *removed, cb_error_t *err)
{
	store_ref_t *refs = NULL;
	size_t n = 0;
	if (store_list_refs(st, &refs, &n, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		image_t *img = refs[i].name ? NULL : image_load(st, refs[i].digest, NULL);
		if (img && dangling(st, img)) {
			rc = store_remove_untagged(st, refs[i].digest, err);
			(*removed)++;
		}
		image_free(img);
	}
	store_refs_free(refs, n);
	return rc;
}

int store_prune_dangling(store_t *st, size_t *removed, cb_error_t *err)
{
	*removed = 0;
	/* again while a pass removed one: its parent may be dangling now (a
	 * chain of untagged images goes at once, as with docker) */
	for (size_t before = SIZE_MAX, pass = 0; before != *removed && pass < 64; pass++) {
		before = *removed;
		if (prune_pass(st, removed, err) < 0)
			return -1;
	}
	return 0;
}
