/*
 * parser/instructions.c - the instruction table (see instructions.h).
 */
#include "parser/instructions.h"

#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "parser/internal.h"
#include "parser/plan_internal.h"

#define FLAGS(a) .flags = (a), .n_flags = CB_ARRAY_SIZE(a)

static const df_flag_def_t from_flags[] = {
	{"platform", DF_FLAG_STRING},
};
static const df_flag_def_t run_flags[] = {
	{"mount", DF_FLAG_STRINGS},
	{"network", DF_FLAG_STRING},
	{"security", DF_FLAG_STRING},
};
static const df_flag_def_t copy_flags[] = {
	{"from", DF_FLAG_STRING},
	{"chown", DF_FLAG_STRING},
	{"chmod", DF_FLAG_STRING},
	{"link", DF_FLAG_BOOL},
	{"parents", DF_FLAG_BOOL},
	{"exclude", DF_FLAG_STRINGS},
};
static const df_flag_def_t add_flags[] = {
	{"chown", DF_FLAG_STRING},
	{"chmod", DF_FLAG_STRING},
	{"link", DF_FLAG_BOOL},
	{"exclude", DF_FLAG_STRINGS},
	{"checksum", DF_FLAG_STRING},
	{"keep-git-dir", DF_FLAG_BOOL},
	{"unpack", DF_FLAG_BOOL},
};
static const df_flag_def_t health_flags[] = {
	{"interval", DF_FLAG_STRING},
	{"timeout", DF_FLAG_STRING},
	{"start-period", DF_FLAG_STRING},
	{"start-interval", DF_FLAG_STRING},
	{"retries", DF_FLAG_STRING},
};

/* Indexed by df_kind_t. Expansion and cache keys follow BuildKit's
 * dispatchers: RUN, CMD, ENTRYPOINT, SHELL and HEALTHCHECK words go to the
 * shell or the config as written; ONBUILD keeps its trigger as text. */
/* clang-format off: one row an instruction, fields aligned */
static const df_instruction_t table[DF_N_KINDS] = {
	[DF_FROM] = {.kind = DF_FROM, .name = "FROM", FLAGS(from_flags), .expand = DF_XW_ARGS | DF_XW_FLAGS},
	[DF_RUN] = {.kind = DF_RUN, .name = "RUN", FLAGS(run_flags), .expand = DF_XW_FLAGS, .makes_layer = true, .cache_key = DF_KEY_RUNENV, .shape = DF_SHAPE_RUN, .onbuild_ok = true, .parse = df_parse_run},
	[DF_COPY] = {.kind = DF_COPY, .name = "COPY", FLAGS(copy_flags), .expand = DF_XW_ARGS | DF_XW_FLAGS, .makes_layer = true, .cache_key = DF_KEY_WORKDIR | DF_KEY_SOURCES, .shape = DF_SHAPE_COPY, .onbuild_ok = true, .parse = df_parse_copy},
	[DF_ADD] = {.kind = DF_ADD, .name = "ADD", FLAGS(add_flags), .expand = DF_XW_ARGS | DF_XW_FLAGS, .makes_layer = true, .cache_key = DF_KEY_WORKDIR | DF_KEY_SOURCES, .shape = DF_SHAPE_COPY, .onbuild_ok = true, .parse = df_parse_copy},
	[DF_ENV] = {.kind = DF_ENV, .name = "ENV", .expand = DF_XW_ARGS, .shape = DF_SHAPE_KV, .onbuild_ok = true, .parse = df_parse_env},
	[DF_ARG] = {.kind = DF_ARG, .name = "ARG", .expand = DF_XW_ARGS, .shape = DF_SHAPE_KV, .onbuild_ok = true, .parse = df_parse_arg},
	[DF_LABEL] = {.kind = DF_LABEL, .name = "LABEL", .expand = DF_XW_ARGS, .shape = DF_SHAPE_KV, .onbuild_ok = true, .parse = df_parse_label},
	[DF_EXPOSE] = {.kind = DF_EXPOSE, .name = "EXPOSE", .expand = DF_XW_ARGS, .shape = DF_SHAPE_LIST, .onbuild_ok = true, .parse = df_parse_expose},
	[DF_VOLUME] = {.kind = DF_VOLUME, .name = "VOLUME", .expand = DF_XW_ARGS, .shape = DF_SHAPE_LIST, .onbuild_ok = true, .parse = df_parse_volume},
	[DF_USER] = {.kind = DF_USER, .name = "USER", .expand = DF_XW_ARGS, .shape = DF_SHAPE_VALUE, .onbuild_ok = true, .parse = df_parse_user},
	/* WORKDIR makes the directory: a layer, as BuildKit's mkdir */
	[DF_WORKDIR] = {.kind = DF_WORKDIR, .name = "WORKDIR", .expand = DF_XW_ARGS, .makes_layer = true, .shape = DF_SHAPE_VALUE, .onbuild_ok = true, .parse = df_parse_workdir},
	[DF_CMD] = {.kind = DF_CMD, .name = "CMD", .shape = DF_SHAPE_CMDLINE, .onbuild_ok = true, .parse = df_parse_cmdline},
	[DF_ENTRYPOINT] = {.kind = DF_ENTRYPOINT, .name = "ENTRYPOINT", .shape = DF_SHAPE_CMDLINE, .onbuild_ok = true, .parse = df_parse_cmdline},
	[DF_SHELL] = {.kind = DF_SHELL, .name = "SHELL", .shape = DF_SHAPE_CMDLINE, .onbuild_ok = true, .parse = df_parse_cmdline},
	[DF_STOPSIGNAL] = {.kind = DF_STOPSIGNAL, .name = "STOPSIGNAL", .expand = DF_XW_ARGS, .shape = DF_SHAPE_VALUE, .onbuild_ok = true, .parse = df_parse_stopsignal},
	[DF_HEALTHCHECK] = {.kind = DF_HEALTHCHECK, .name = "HEALTHCHECK", FLAGS(health_flags), .shape = DF_SHAPE_HEALTH, .onbuild_ok = true, .parse = df_parse_healthcheck},
	[DF_ONBUILD] = {.kind = DF_ONBUILD, .name = "ONBUILD", .shape = DF_SHAPE_VALUE, .parse = df_parse_onbuild},
	[DF_MAINTAINER] = {.kind = DF_MAINTAINER, .name = "MAINTAINER", .shape = DF_SHAPE_VALUE, .parse = df_parse_maintainer},
};
/* clang-format on */

const df_instruction_t *df_instruction(df_kind_t k)
{
	if ((unsigned)k >= DF_N_KINDS)
		CB_BUG("instruction kind %d", (int)k);
	return &table[k];
}

const df_instruction_t *df_instruction_lookup(const char *name)
{
	for (size_t i = 0; i < DF_N_KINDS; i++)
		if (!strcasecmp(table[i].name, name))
			return &table[i];
	return NULL;
}

const char *df_kind_name(df_kind_t k)
{
	return (unsigned)k < DF_N_KINDS ? table[k].name : "?";
}

bool df_is_instruction(const char *lower)
{
	return df_instruction_lookup(lower) != NULL;
}

const char *df_suggest_instruction(const char *word)
{
	const char *best = NULL;
	size_t bestd = 99;
	for (size_t i = 0; i < DF_N_KINDS; i++) {
		size_t d = df_edit_distance(word, table[i].name);
		/* ties go to the first name in alphabetical order */
		if (d < bestd || (d == bestd && best && strcmp(table[i].name, best) < 0)) {
			bestd = d;
			best = table[i].name;
		}
	}
	/* Like BuildKit's suggest: close relative to the word's length. */
	size_t len = strlen(word);
	size_t max = len <= 3 ? 1 : len <= 6 ? 2
					     : 3;
	return bestd <= max ? best : NULL;
}
