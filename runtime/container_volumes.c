/* A container's volumes from run's -v/--mount and the image's VOLUMEs:
 * anonymous ones get docker's random 64-hex-digit names and are
 * remembered for rm -v and run --rm. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/container_internal.h"
#include "common/util.h"

/* Whether dest (a mount's destination, "DEST" or "DEST:opts") is path. */
static bool dest_is(const char *dest, const char *path)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	return !strncmp(dest, path, n) && (!dest[n] || dest[n] == ':' ||
					   (dest[n] == '/' && (!dest[n + 1] || dest[n + 1] == ':')));
}

/* Whether the run mounts something (-v, --mount, --tmpfs) on path. */
static bool mounted_on(const rt_ctr_t *c, const rt_ctr_spec_t *s, const char *path)
{
	for (size_t i = 0; c->volumes[i]; i++) {
		const char *colon = strchr(c->volumes[i], ':');
		if (colon && dest_is(colon + 1, path))
			return true;
	}
	for (size_t i = 0; s->extra.tmpfs && s->extra.tmpfs[i]; i++)
		if (dest_is(s->extra.tmpfs[i], path))
			return true;
	return false;
}

/* The image's VOLUMEs: an anonymous volume each, as `-v PATH` (docker),
 * unless the run mounts something there itself. Its content is copied up
 * from the image at the first start (build_mounts). */
static void add_image_volumes(rt_ctr_t *c, const rt_ctr_spec_t *s, const oci_config_t *img)
{
	for (size_t i = 0; img->volumes && img->volumes[i]; i++) {
		const char *path = img->volumes[i];
		if (path[0] != '/' || mounted_on(c, s, path))
			continue;
		char name[65];
		cb_random_hex(name, 32);
		c->volumes = cb_strv_push_take(c->volumes, cb_asprintf("%s:%s", name, path));
		c->anon_volumes = cb_strv_push(c->anon_volumes, name);
	}
}

int ctr_fill_volumes(rt_ctr_t *c, const rt_ctr_spec_t *s, const oci_config_t *img,
		     cb_error_t *err)
{
	c->volumes = cb_strv_dup(s->volumes);
	if (!c->volumes)
		c->volumes = cb_xcalloc(1, sizeof(char *));
	c->anon_volumes = cb_xcalloc(1, sizeof(char *));
	for (size_t i = 0; c->volumes[i]; i++) {
		/* `-v /path`: an anonymous volume, a named one with a random name
		 * (docker's 64 hex digits), remembered for rm -v and run --rm */
		const char *sep = strchr(c->volumes[i], ':');
		if (c->volumes[i][0] == '/' && (!sep || sep[1] != '/')) {
			char name[65];
			cb_random_hex(name, 32);
			char *named = cb_asprintf("%s:%s", name, c->volumes[i]);
			free(c->volumes[i]);
			c->volumes[i] = named;
			c->anon_volumes = cb_strv_push(c->anon_volumes, name);
		}
		const char *v = c->volumes[i];
		const char *colon = strchr(v, ':');
		if (!colon || colon == v || colon[1] != '/')
			return cb_error_fail(err, EINVAL, "invalid volume '%s': HOST:/CTR[:ro] "
							  "expected", v);
	}
	add_image_volumes(c, s, img);
	return 0;
}
