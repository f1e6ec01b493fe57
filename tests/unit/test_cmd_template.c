/* cmd/template: inspect --format's Go-template subset, table-driven: each
 * case renders a template on one inspect-like document and compares with
 * what docker's Go templates print (or fails as they do). cmd/ is not in
 * libcbuild.a: the engine is compiled in here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmd/template.c"

static const char *doc_text =
	"{\"Id\":\"sha256:abc\",\"Name\":\"/web\",\"RepoTags\":[\"app:1\",\"app:latest\"],"
	"\"Size\":1985598,\"State\":{\"Running\":true,\"Status\":\"running\",\"ExitCode\":0},"
	"\"Config\":{\"Cmd\":[\"sh\",\"-c\",\"echo hi\"],\"Env\":null,\"Entrypoint\":null,"
	"\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\"ExposedPorts\":{\"80/tcp\":{}},\"Tty\":false}}";

typedef struct {
	const char *tpl, *want; /* want NULL: the render fails */
} tcase_t;

static const tcase_t cases[] = {
	{"{{.Id}}", "sha256:abc"},
	{"{{.State.Running}} {{.State.Status}} {{.State.ExitCode}}", "true running 0"},
	{"{{.Size}}", "1985598"},
	{"{{.Config.Cmd}}", "[sh -c echo hi]"},
	{"{{json .Config.Cmd}}", "[\"sh\",\"-c\",\"echo hi\"]"},
	{"{{.Config.Env}}", "<no value>"},
	{"{{json .Config.Env}}", "null"},
	{"{{.Config.Labels}}", "map[a:1 b:2]"},
	{"{{index .RepoTags 1}}", "app:latest"},
	{"{{index .Config.Labels \"b\"}}", "2"},
	{"{{range .RepoTags}}[{{.}}]{{end}}", "[app:1][app:latest]"},
	{"{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", "a=1;b=2;"},
	{"{{range $i, $t := .RepoTags}}{{$i}}{{end}}", "01"},
	{"{{range .Config.Env}}x{{else}}none{{end}}", "none"},
	{"{{if .State.Running}}up{{else}}down{{end}}", "up"},
	{"{{if .Config.Tty}}tty{{else}}no tty{{end}}", "no tty"},
	{"{{len .RepoTags}} {{len .Config.Labels}}", "2 2"},
	{"{{upper .State.Status}} {{lower \"ABC\"}}", "RUNNING abc"},
	{"{{join .RepoTags \", \"}}", "app:1, app:latest"},
	{"{{json .State}}", "{\"Running\":true,\"Status\":\"running\",\"ExitCode\":0}"},
	{"{{$.Name}} {{ .Name }}", "/web /web"},
	{"a {{- \" b\" -}} c", "a bc"},
	{"{{.Config.Env.Foo}}", "<no value>"}, /* below a null */
	{"{{.Nope}}", NULL},                   /* docker: map has no entry for key */
	{"{{.Name.Foo}}", NULL},               /* a field of a string */
	{"{{index .RepoTags 5}}", NULL},
	{"{{nosuchfunc .Id}}", NULL},
};

static void test_render(void **state)
{
	(void)state;
	json_t *doc = json_loads(doc_text, JSON_PRESERVE_ORDER, NULL);
	assert_non_null(doc);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cb_error_t err = CB_ERROR_INIT;
		tpl_t *t = tpl_compile(cases[i].tpl, &err);
		assert_non_null(t);
		char *out = tpl_render(t, doc, &err);
		if (!cases[i].want) {
			if (out)
				fail_msg("'%s' rendered '%s', want an error", cases[i].tpl, out);
			assert_true(cb_error_is_set(&err));
			cb_error_release(&err);
		} else {
			if (!out)
				fail_msg("'%s' failed: %s", cases[i].tpl, err.msg);
			if (strcmp(out, cases[i].want))
				fail_msg("'%s' rendered '%s', want '%s'", cases[i].tpl, out, cases[i].want);
		}
		free(out);
		tpl_free(t);
	}
	json_decref(doc);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {"{{.Id", "{{range .RepoTags}}x", "{{end}}",
					  "{{if}}x{{end}}", "{{\"unterminated}}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cb_error_t err = CB_ERROR_INIT;
		tpl_t *t = tpl_compile(bad[i], &err);
		if (t)
			fail_msg("'%s' compiled", bad[i]);
		assert_true(cb_error_is_set(&err));
		cb_error_release(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_syntax_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
