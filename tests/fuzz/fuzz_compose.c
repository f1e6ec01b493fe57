/*
 * tests/fuzz/fuzz_compose.c - libFuzzer target for compose files: YAML
 * (anchors, aliases, merge keys), interpolation, the merge of several
 * files, validation, the dependency order, `config` output, and env files
 * (`make fuzz`).
 *
 *   build-fuzz/fuzz/fuzz_compose -max_total_time=300 -max_len=8192 CORPUS_DIR
 *
 * A NUL byte in the input splits it into two files merged in order (as
 * `-f a.yml -f b.yml`). Seed the corpus with testdata/compose*.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "parser/compose.h"

static void load_project(const char *data, size_t size)
{
	df_compose_file_t files[2] = {{"compose.yaml", data, size}, {"override.yaml", "", 0}};
	size_t n = 1;
	const char *nul = memchr(data, '\0', size);
	if (nul) {
		files[0].len = (size_t)(nul - data);
		files[1].data = nul + 1;
		files[1].len = size - files[0].len - 1;
		n = 2;
	}
	char *env[] = {"HOME=/root", "TAG=1", "EMPTY=", "PORT=8080", NULL};
	df_compose_opts_t o = {.files = files, .n_files = n, .project_dir = "/p", .env = env};
	df_compose_project_t *p = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (df_compose_load(&o, &p, &err) < 0) {
		cb_error_release(&err);
		return;
	}
	for (size_t i = 0; i < p->n_services; i++)
		free(df_compose_image_name(p, &p->services[i]));
	size_t *idx = NULL, n_idx = 0;
	if (df_compose_select(p, NULL, true, &idx, &n_idx, &err) == 0)
		free(idx);
	else
		cb_error_release(&err);
	free(df_compose_to_yaml(p));
	free(df_compose_to_json(p));
	df_compose_project_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load_project((const char *)data, size);
	char *env[] = {"A=a", "B=", NULL};
	char **out = NULL;
	cb_error_t err = CB_ERROR_INIT;
	if (df_compose_parse_env_file(".env", (const char *)data, size, env, &out, &err) == 0) {
		char **merged = df_compose_env_merge(env, out);
		cb_strv_free(merged);
		cb_strv_free(out);
	} else {
		cb_error_release(&err);
	}
	char *s = cb_xstrndup((const char *)data, size);
	char **warn = NULL;
	char *r = df_compose_interpolate(s, env, &warn, &err);
	if (r)
		free(r);
	else
		cb_error_release(&err);
	cb_strv_free(warn);
	free(s);
	return 0;
}
