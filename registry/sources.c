/*
 * registry/sources.c - the blob source record. See sources.h.
 */
#include "registry/sources.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/fs.h"
#include "common/util.h"
#include "store/json.h"
#include "store/places.h"

#define SOURCES_MAX (16u << 20)
#define PER_BLOB_MAX 8 /* newest repositories kept per blob */

static json_t *load(store_t *st)
{
	_cleanup_free_ char *p = store_place_registry_sources(st);
	char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	json_t *j = NULL;
	if (cb_read_file(p, SOURCES_MAX, &data, &len, &e) == 0)
		j = json_loadb(data, len, 0, NULL);
	cb_error_release(&e);
	free(data);
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	return j;
}

/* Replace the file by rename, without fsync: it is a hint (a torn or lost
 * file after a crash is ignored), not worth two journal commits a pull. */
static void write_hint(store_t *st, const char *text)
{
	_cleanup_free_ char *p = store_place_registry_sources(st);
	_cleanup_free_ char *tmp = store_place_tmp_file(st, "sources-XXXXXX");
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return;
	cb_error_t e = CB_ERROR_INIT;
	bool ok = fchmod(fd, 0644) == 0 && cb_write_all(fd, text, strlen(text), &e) == 0;
	cb_error_release(&e);
	close(fd);
	if (!ok || rename(tmp, p) < 0)
		unlink(tmp);
}

void reg_sources_add(store_t *st, const char *const *digests, size_t n, const char *repo_full)
{
	cb_error_t e = CB_ERROR_INIT;
	if (store_lock(st, &e) < 0) {
		cb_error_release(&e);
		return;
	}
	json_t *j = load(st);
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_object_get(j, digests[i]);
		if (!json_is_array(a)) {
			a = json_array();
			json_object_set_new(j, digests[i], a);
		}
		size_t k;
		json_t *v;
		json_array_foreach(a, k, v) if (cb_streq(json_string_value(v), repo_full)) break;
		if (k < json_array_size(a))
			json_array_remove(a, k);
		json_array_insert_new(a, 0, oci_json_str(repo_full));
		while (json_array_size(a) > PER_BLOB_MAX)
			json_array_remove(a, json_array_size(a) - 1);
	}
	char *text = oci_json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (text)
		write_hint(st, text);
	free(text);
	json_decref(j);
	store_unlock(st);
}

char **reg_sources_get(store_t *st, const char *digest)
{
	json_t *j = load(st);
	json_t *a = json_object_get(j, digest);
	char **out = NULL;
	size_t k;
	json_t *v;
	json_array_foreach(a, k, v) if (json_is_string(v)) out = cb_strv_push(out, json_string_value(v));
	json_decref(j);
	return out;
}
