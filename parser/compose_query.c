/*
 * parser/compose_query.c - questions asked of a loaded compose project: a
 * service or volume by name, a service's image name, and the services to
 * act on (named ones, with their dependencies, in start order).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "parser/compose.h"

const df_compose_service_t *df_compose_service(const df_compose_project_t *p, const char *name)
{
	for (size_t i = 0; i < p->n_services; i++)
		if (p->services[i].name && !strcmp(p->services[i].name, name))
			return &p->services[i];
	return NULL;
}

const df_compose_volume_t *df_compose_volume(const df_compose_project_t *p, const char *key)
{
	for (size_t i = 0; i < p->n_volumes; i++)
		if (!strcmp(p->volumes[i].key, key))
			return &p->volumes[i];
	return NULL;
}

char *df_compose_image_name(const df_compose_project_t *p, const df_compose_service_t *s)
{
	return s->image ? cb_xstrdup(s->image) : cb_asprintf("%s-%s", p->name, s->name);
}

static void mark(const df_compose_project_t *p, size_t i, bool deps, bool *sel)
{
	if (sel[i])
		return;
	sel[i] = true;
	for (size_t d = 0; deps && d < p->services[i].n_depends_on; d++)
		mark(p, (size_t)(df_compose_service(p, p->services[i].depends_on[d].service) -
				 p->services), deps, sel);
}

int df_compose_select(const df_compose_project_t *p, char *const *names, bool deps,
		      size_t **idx, size_t *n, cb_error_t *err)
{
	_cleanup_free_ bool *sel = cb_xcalloc(p->n_services + 1, sizeof(bool));
	for (size_t i = 0; names && names[i]; i++) {
		const df_compose_service_t *s = df_compose_service(p, names[i]);
		if (!s)
			return cb_error_fail(err, ENOENT, "no such service: '%s'", names[i]);
		mark(p, (size_t)(s - p->services), deps, sel);
	}
	bool all = !names || !names[0];
	size_t *v = cb_xcalloc(p->n_services + 1, sizeof(size_t)), k = 0;
	for (size_t i = 0; i < p->n_services; i++)
		if (all || sel[p->order[i]])
			v[k++] = p->order[i];
	*idx = v;
	*n = k;
	return 0;
}
