/* store/find: finding images by ID, prefix, name and digest; untagged
 * entries kept by a retag; the parent relation. In a real store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/find.h"
#include "store/image.h"

static char *tmp;
static store_t *st;

static int setup(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	tmp = cb_mkdtemp_in("/tmp", "cbuild-find-", &err);
	if (!tmp || store_open(tmp, &st, &err) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	store_free(st);
	cb_rm_rf(tmp, &err);
	free(tmp);
	return 0;
}

/* An image with n history entries "step 0".."step n-1" (no layers). */
static image_t *make_image(int n, const char *tag)
{
	cb_error_t err = CB_ERROR_INIT;
	oci_config_t *c = oci_config_new();
	for (int i = 0; i < n; i++) {
		char by[32];
		snprintf(by, sizeof by, "step %d", i);
		oci_config_add_history(c, "2024-01-01T00:00:00Z", by, NULL, true);
	}
	image_t *img = image_commit(st, c, NULL, 0, false, &err);
	oci_config_free(c);
	assert_non_null(img);
	assert_int_equal(store_set_ref(st, tag, img->manifest_digest, img->manifest->media_type,
				       img->manifest_size, &err),
			 0);
	return img;
}

static int find(const char *text, const char *full, char **md, char **name)
{
	cb_error_t err = CB_ERROR_INIT;
	int rc = store_image_find(st, text, full, md, name, &err);
	int code = err.code;
	cb_error_release(&err);
	return rc < 0 ? -code : 0;
}

static void test_find(void **state)
{
	(void)state;
	image_t *a = make_image(1, NULL); /* untagged */
	image_t *b = make_image(2, "docker.io/library/b:1");
	char *md = NULL, *name = NULL;
	const char *ahex = digest_hex(a->config_digest);

	assert_int_equal(find(a->config_digest, NULL, &md, &name), 0);
	assert_string_equal(md, a->manifest_digest);
	assert_null(name);
	free(md);
	assert_int_equal(find(ahex, NULL, &md, NULL), 0);
	free(md);
	char p12[13];
	snprintf(p12, sizeof p12, "%s", ahex);
	assert_int_equal(find(p12, NULL, &md, NULL), 0);
	assert_string_equal(md, a->manifest_digest);
	free(md);

	/* a tag, and name@digest */
	assert_int_equal(find("b:1", "docker.io/library/b:1", &md, &name), 0);
	assert_string_equal(md, b->manifest_digest);
	assert_string_equal(name, "docker.io/library/b:1");
	free(md);
	free(name);
	char *at = cb_asprintf("docker.io/library/b@%s", b->manifest_digest);
	assert_int_equal(find(at, at, &md, &name), 0);
	assert_string_equal(md, b->manifest_digest);
	assert_null(name);
	free(md);
	free(at);

	/* missing; a name that is no image */
	assert_int_equal(find("0000000000000000000000000000000000000000000000000000000000000000",
			      NULL, &md, NULL),
			 -ENOENT);
	assert_int_equal(find("nope", "docker.io/library/nope:latest", &md, NULL), -ENOENT);

	/* ambiguous: the empty prefix of hex "" is not hex; a one-digit
	 * prefix shared by both IDs is, when they share it */
	if (a->config_digest[7] == b->config_digest[7]) {
		char one[2] = {a->config_digest[7], 0};
		assert_int_equal(find(one, NULL, &md, NULL), -EINVAL);
	}
	assert_true(store_image_id_like("sha256:abc"));
	assert_false(store_image_id_like("app"));

	/* b is built on a */
	size_t kids = 9;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(store_image_children(st, a, &kids, &err), 0);
	assert_int_equal(kids, 1);
	assert_int_equal(store_image_children(st, b, &kids, &err), 0);
	assert_int_equal(kids, 0);
	char *parent = store_image_untagged_parent(st, b, &err);
	assert_non_null(parent);
	assert_string_equal(parent, a->manifest_digest);
	free(parent);
	image_free(a);
	image_free(b);
}

static bool has_untagged(const char *digest)
{
	store_ref_t *refs = NULL;
	size_t n = 0;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(store_list_refs(st, &refs, &n, &err), 0);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found |= !refs[i].name && !strcmp(refs[i].digest, digest);
	store_refs_free(refs, n);
	return found;
}

static void test_retag_keeps_old(void **state)
{
	(void)state;
	cb_error_t err = CB_ERROR_INIT;
	image_t *old = make_image(3, "docker.io/library/r:1");
	assert_false(has_untagged(old->manifest_digest));
	image_t *new = make_image(4, "docker.io/library/r:1");
	/* the old target is untagged now, still found by its ID */
	assert_true(has_untagged(old->manifest_digest));
	char *md = NULL;
	assert_int_equal(find(old->config_digest, NULL, &md, NULL), 0);
	free(md);
	char **names = store_image_names(st, old->config_digest, &err);
	assert_non_null(names);
	assert_null(names[0]);
	cb_strv_free(names);
	/* tagging it again drops its untagged entry */
	assert_int_equal(store_set_ref(st, "docker.io/library/r:old", old->manifest_digest,
				       old->manifest->media_type, old->manifest_size, &err),
			 0);
	assert_false(has_untagged(old->manifest_digest));
	/* a retag to the same image keeps nothing extra */
	assert_int_equal(store_set_ref(st, "docker.io/library/r:1", new->manifest_digest,
				       new->manifest->media_type, new->manifest_size, &err),
			 0);
	assert_false(has_untagged(new->manifest_digest));
	/* forget drops the untagged entries of an ID */
	assert_int_equal(store_set_ref(st, NULL, new->manifest_digest, new->manifest->media_type,
				       new->manifest_size, &err),
			 0);
	assert_true(has_untagged(new->manifest_digest));
	assert_int_equal(store_image_forget(st, new->config_digest, &err), 0);
	assert_false(has_untagged(new->manifest_digest));
	image_free(old);
	image_free(new);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retag_keeps_old, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
