/*
 * cmd/template.h - `inspect --format`: the subset of Go's text/template that
 * people type with docker, evaluated on a JSON document (what inspect prints).
 *
 *   {{.State.Running}}               a field path; "." is the whole object
 *   {{json .Config}}                 JSON of a value
 *   {{index .RepoTags 0}}            an array element or a map key
 *   {{index .Config.Labels "k"}}
 *   {{range .Config.Env}}{{.}} {{end}}, {{range $k, $v := .Config.Labels}}
 *   {{if .State.Running}}up{{else}}down{{end}}
 *   {{len .X}} {{upper .X}} {{lower .X}} {{join .X ","}} {{println .X}}
 *   {{.Config.Cmd}} prints [sh], a map map[k:v], a missing key <no value>,
 *   as Go's fmt does.
 *
 * Lifecycle: tpl_compile() checks the syntax once (a usage error for the
 * caller); tpl_render() renders one document into a malloc'ed string, which
 * the caller frees; tpl_free() is NULL-safe.
 */
#ifndef CB_CMD_TEMPLATE_H
#define CB_CMD_TEMPLATE_H

#include <jansson.h>

#include "common/error.h"

typedef struct tpl tpl_t;

tpl_t *tpl_compile(const char *text, cb_error_t *err);
/* EINVAL "template: ..." for what only a document shows (a field of a
 * string, index out of range). */
char *tpl_render(const tpl_t *t, json_t *doc, cb_error_t *err);
void tpl_free(tpl_t *t);

#endif
