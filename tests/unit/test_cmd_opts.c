/* cmd/opts: the one option parser. Syntax as docker's (pflag) CLI: long and
 * short forms, "=VALUE", bundles, --flag=false, mixed operands, "--", and
 * run's stop at the first operand. cmd/ is not in libcbuild.a: the parser
 * is compiled in here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmd/opts.c"

enum { O_RM = CMD_OPT_LONG, O_NAME };

static const cmd_opt_t opts[] = {
	{"detach", 'd', CMD_ARG_NONE, NULL, "detach"},
	{"interactive", 'i', CMD_ARG_NONE, NULL, "stdin"},
	{"tty", 't', CMD_ARG_NONE, NULL, "tty"},
	{"rm", O_RM, CMD_ARG_NONE, NULL, "remove"},
	{"name", O_NAME, CMD_ARG_REQUIRED, "NAME", "name"},
	{"env", 'e', CMD_ARG_REQUIRED, "K=V", "env", CMD_OPT_REPEAT},
	{"net", O_NAME + 1, CMD_ARG_REQUIRED, "NET", "hidden", CMD_OPT_HIDDEN},
	{0}};

static const cmd_def_t mixed = {"x", NULL, "cbuild x [OPTIONS] ARG...", "a test verb", opts};
static const cmd_def_t stop = {"x", NULL, "cbuild x [OPTIONS] IMAGE [CMD...]", "run-like", opts,
			       CMD_OPTS_STOP_AT_ARG};

/* Parse argv (NULL-terminated) and describe every result in one string:
 * "d i e=A name=N | op op" (operands after the bar). */
static int parse(const cmd_def_t *def, char *out, size_t size, ...)
{
	char *argv[32] = {"x"};
	int argc = 1;
	va_list ap;
	va_start(ap, size);
	for (char *a; (a = va_arg(ap, char *)); )
		argv[argc++] = a;
	va_end(ap);
	cmd_opts_t p;
	cb_error_t err = CB_ERROR_INIT;
	cmd_opts_init(&p, def, argc, argv);
	int o;
	out[0] = 0;
	while ((o = cmd_opts_next(&p, &err)) > 0) {
		char item[64];
		const char *name = o < CMD_OPT_LONG ? (char[2]){(char)o, 0} : p.opt->name;
		if (p.opt->kind == CMD_ARG_REQUIRED)
			snprintf(item, sizeof(item), "%s=%s ", name, p.arg);
		else
			snprintf(item, sizeof(item), "%s%s ", p.on ? "" : "!", name);
		strncat(out, item, size - strlen(out) - 1);
	}
	if (o < 0) {
		snprintf(out, size, "ERR %s", err.msg ? err.msg : "");
		cb_error_release(&err);
		return o;
	}
	strncat(out, "|", size - strlen(out) - 1);
	for (int i = 0; i < p.nargs; i++) {
		strncat(out, " ", size - strlen(out) - 1);
		strncat(out, p.args[i], size - strlen(out) - 1);
	}
	assert_null(p.args[p.nargs]);
	return 0;
}

static void test_forms(void **state)
{
	(void)state;
	char out[256];
	assert_int_equal(parse(&mixed, out, sizeof(out), "-d", "--name", "a", "--name=b", "-eK=V",
			       "-e", "X=1", "--env=Y", "img", NULL), 0);
	assert_string_equal(out, "d name=a name=b e=K=V e=X=1 e=Y | img");
	assert_int_equal(parse(&mixed, out, sizeof(out), "-dit", "-de", "A=1", "--rm=false",
			       "-d=false", NULL), 0);
	assert_string_equal(out, "d i t d e=A=1 !rm !d |");
	/* an argument that looks like an option is still the argument */
	assert_int_equal(parse(&mixed, out, sizeof(out), "--name", "-1", "-e", "--x", NULL), 0);
	assert_string_equal(out, "name=-1 e=--x |");
	assert_int_equal(parse(&mixed, out, sizeof(out), "--net", "host", NULL), 0);
	assert_string_equal(out, "net=host |");
}

static void test_operands(void **state)
{
	(void)state;
	char out[256];
	/* mixed: options after operands still count, "-" is an operand */
	assert_int_equal(parse(&mixed, out, sizeof(out), "a", "-d", "b", "-", "--", "-i", NULL), 0);
	assert_string_equal(out, "d | a b - -i");
	/* run: everything from the image on is the command's */
	assert_int_equal(parse(&stop, out, sizeof(out), "-d", "img", "sh", "-c", "--rm", NULL), 0);
	assert_string_equal(out, "d | img sh -c --rm");
}

static void test_errors(void **state)
{
	(void)state;
	char out[256];
	assert_int_equal(parse(&mixed, out, sizeof(out), "--bogus", NULL), CMD_BAD_FLAG);
	assert_string_equal(out, "ERR unknown flag: --bogus");
	assert_int_equal(parse(&mixed, out, sizeof(out), "-dz", NULL), CMD_BAD_FLAG);
	assert_string_equal(out, "ERR unknown shorthand flag: 'z' in -z");
	assert_int_equal(parse(&mixed, out, sizeof(out), "--name", NULL), CMD_BAD_FLAG);
	assert_string_equal(out, "ERR flag needs an argument: --name");
	assert_int_equal(parse(&mixed, out, sizeof(out), "--rm=maybe", NULL), CMD_BAD_FLAG);
	assert_string_equal(out, "ERR invalid argument 'maybe' for '--rm' flag: expected true or false");
	/* no prefix matching: --det is not --detach (pflag has none either) */
	assert_int_equal(parse(&mixed, out, sizeof(out), "--det", NULL), CMD_BAD_FLAG);
}

static void test_int(void **state)
{
	(void)state;
	cmd_opts_t p = {.arg = "12", .opt = &opts[4]};
	long long v = 0;
	cb_error_t err = CB_ERROR_INIT;
	assert_int_equal(cmd_opts_int(&p, 0, 100, &v, &err), 0);
	assert_int_equal(v, 12);
	p.arg = "101";
	assert_int_equal(cmd_opts_int(&p, 0, 100, &v, &err), CMD_BAD_FLAG);
	assert_string_equal(err.msg, "invalid argument '101' for '--name' flag");
	cb_error_release(&err);
}

static void test_help(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	cmd_opts_print_help(&mixed, fp);
	fclose(fp);
	assert_non_null(strstr(buf, "usage: cbuild x [OPTIONS] ARG...\n\nA test verb\n"));
	assert_non_null(strstr(buf, "  -d, --detach        detach\n"));
	assert_non_null(strstr(buf, "      --name NAME     name\n"));
	assert_non_null(strstr(buf, "  -e, --env K=V       env (repeatable)\n"));
	assert_non_null(strstr(buf, "  -h, --help          print this help\n"));
	assert_null(strstr(buf, "--net")); /* hidden */
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),  cmocka_unit_test(test_operands),
		cmocka_unit_test(test_errors), cmocka_unit_test(test_int),
		cmocka_unit_test(test_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
