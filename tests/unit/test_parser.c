/*
 * tests/unit/test_parser.c - the lexer and line parser (df_parse), table
 * driven: each case is a Dockerfile and either the expected tree, dumped
 * one node per line, or the expected first line of the error.
 *
 * Dump of a node: cmd[@line:col] {flags} J?(arg|arg...) <<name:e/c=content>>
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* table rows leave trailing fields out */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "common/util.h"
#include "parser/dockerfile.h"

static char *dump(const df_tree_t *t)
{
	cb_buf_t b;
	cb_buf_init(&b);
	for (size_t i = 0; i < t->n_nodes; i++) {
		const df_node_t *n = &t->nodes[i];
		if (i)
			cb_buf_addch(&b, '\n');
		cb_buf_addf(&b, "%s@%d:%d", n->cmd, n->line, n->column);
		if (n->flags) {
			cb_buf_addstr(&b, " {");
			for (size_t k = 0; n->flags[k]; k++)
				cb_buf_addf(&b, "%s%s", k ? " " : "", n->flags[k]);
			cb_buf_addch(&b, '}');
		}
		cb_buf_addstr(&b, n->json ? " J(" : " (");
		for (size_t k = 0; k < n->n_args; k++)
			cb_buf_addf(&b, "%s%s", k ? "|" : "", n->args[k]);
		cb_buf_addch(&b, ')');
		for (size_t h = 0; h < n->n_heredocs; h++)
			cb_buf_addf(&b, " <<%s:%c%c=%s>>", n->heredocs[h].name,
				    n->heredocs[h].expand ? 'e' : '-', n->heredocs[h].chomp ? 'c' : '-',
				    n->heredocs[h].content);
	}
	char *s = cb_buf_detach(&b, NULL);
	cb_buf_release(&b);
	return s;
}

typedef struct tcase {
	const char *name;
	const char *in;
	const char *out; /* dump, or NULL when err is expected */
	const char *err; /* first line of the error */
} tcase_t;

static const tcase_t cases[] = {
	/* basics */
	{"simple", "FROM alpine\nRUN echo hi\n", "from@1:1 (alpine)\nrun@2:1 (echo hi)"},
	{"lowercase", "from alpine\nrun echo\n", "from@1:1 (alpine)\nrun@2:1 (echo)"},
	{"mixed case", "FrOm alpine\n", "from@1:1 (alpine)"},
	{"leading blanks", "   FROM alpine\n\tRUN x\n", "from@1:4 (alpine)\nrun@2:2 (x)"},
	{"comments and blanks", "# c\n\nFROM a\n  # indented comment\n\nRUN b\n",
	 "from@3:1 (a)\nrun@6:1 (b)"},
	{"no trailing newline", "FROM a", "from@1:1 (a)"},
	{"trailing blanks trimmed", "FROM a   \t\n", "from@1:1 (a)"},
	{"crlf", "FROM a\r\nRUN b\r\n", "from@1:1 (a)\nrun@2:1 (b)"},
	{"bom", "\xEF\xBB\xBF" "FROM a\n", "from@1:1 (a)"},
	{"bom crlf", "\xEF\xBB\xBF" "FROM a\r\nRUN x \\\r\n y\r\n", "from@1:1 (a)\nrun@2:1 (x  y)"},
	{"empty file", "", NULL, "Dockerfile:1: file with no instructions"},
	{"only comments", "# a\n# b\n", NULL, "Dockerfile:2: file with no instructions"},
	/* continuations */
	{"continuation", "FROM a\nRUN a \\\n  b\n", "from@1:1 (a)\nrun@2:1 (a   b)"},
	{"continuation spaces after", "FROM a\nRUN a \\  \n b\n", "from@1:1 (a)\nrun@2:1 (a  b)"},
	{"continuation comment inside", "FROM a\nRUN a \\\n# c\n  b\n", "from@1:1 (a)\nrun@2:1 (a   b)"},
	{"continuation indented comment", "FROM a\nRUN a \\\n   # c\n b\n",
	 "from@1:1 (a)\nrun@2:1 (a  b)"},
	{"continuation empty line", "FROM a\nRUN a \\\n\n b\n", "from@1:1 (a)\nrun@2:1 (a  b)"},
	{"continuation many", "FROM a\nRUN a \\\n b \\\n c \\\n d\n",
	 "from@1:1 (a)\nrun@2:1 (a  b  c  d)"},
	{"double escape not continuation", "FROM a\nRUN echo \\\\\nRUN b\n",
	 "from@1:1 (a)\nrun@2:1 (echo \\\\)\nrun@3:1 (b)"},
	{"escape alone on a line", "FROM a\nRUN a \\\n\\\n b\n", "from@1:1 (a)\nrun@2:1 (a  b)"},
	{"backslash at eof", "FROM a\nRUN echo hi \\", "from@1:1 (a)\nrun@2:1 (echo hi)"},
	{"backslash at eof after newline", "FROM a\nRUN echo hi \\\n",
	 "from@1:1 (a)\nrun@2:1 (echo hi)"},
	{"lone continuation at eof", "FROM a\n\\\n", NULL,
	 "Dockerfile:2:1: line continuation at the end of the file with nothing to continue"},
	{"continuation keeps keyword line", "FROM a\nRUN \\\n echo\n", "from@1:1 (a)\nrun@2:1 (echo)"},
	{"continued keyword", "FR\\\nOM a\n", "from@1:1 (a)"},
	/* directives */
	{"escape backtick", "# escape=`\nFROM a\nRUN a `\n b\n", "from@2:1 (a)\nrun@3:1 (a  b)"},
	{"escape backtick windows", "# escape=`\r\nFROM a\r\nCOPY C:\\src C:\\dst\r\nRUN dir `\r\n c:\\\r\n",
	 "from@2:1 (a)\ncopy@3:1 (C:\\src|C:\\dst)\nrun@4:1 (dir  c:\\)"},
	{"escape backslash explicit", "# escape=\\\nFROM a\n", "from@2:1 (a)"},
	{"escape spaces", "#   escape  =  `\nFROM a\nRUN a `\nb\n", "from@2:1 (a)\nrun@3:1 (a b)"},
	{"escape uppercase", "# ESCAPE=`\nFROM a\nRUN a `\nb\n", "from@2:1 (a)\nrun@3:1 (a b)"},
	{"escape after comment ignored", "# hello\n# escape=`\nFROM a\nRUN a \\\nb\n",
	 "from@3:1 (a)\nrun@4:1 (a b)"},
	{"escape after blank ignored", "\n# escape=`\nFROM a\nRUN a \\\nb\n",
	 "from@3:1 (a)\nrun@4:1 (a b)"},
	{"escape after instruction ignored", "FROM a\n# escape=`\nRUN a \\\nb\n",
	 "from@1:1 (a)\nrun@3:1 (a b)"},
	{"bad escape", "# escape=x\nFROM a\n", NULL,
	 "Dockerfile:1:1: invalid escape token 'x' does not match ` or \\"},
	{"escape twice", "# escape=`\n# escape=`\nFROM a\n", NULL,
	 "Dockerfile:2:1: only one escape parser directive can be used"},
	{"syntax directive", "# syntax=docker/dockerfile:1.7\nFROM a\n", "from@2:1 (a)"},
	{"syntax and escape", "# syntax=docker/dockerfile:1\n# escape=`\nFROM a\nRUN a `\nb\n",
	 "from@3:1 (a)\nrun@4:1 (a b)"},
	{"check directive", "# check=skip=all\nFROM a\n", "from@2:1 (a)"},
	{"unknown directive ends directives", "# foo=bar\n# escape=`\nFROM a\nRUN a \\\nb\n",
	 "from@3:1 (a)\nrun@4:1 (a b)"},
	/* unknown instructions */
	{"unknown instruction", "FROM a\nRUNN x\n", NULL,
	 "Dockerfile:2:1: unknown instruction \"RUNN\" (did you mean \"RUN\"?)"},
	{"unknown instruction copi", "FROM a\nCOPI a b\n", NULL,
	 "Dockerfile:2:1: unknown instruction \"COPI\" (did you mean \"COPY\"?)"},
	{"unknown instruction lower", "FROM a\n  entrypont [\"x\"]\n", NULL,
	 "Dockerfile:2:3: unknown instruction \"entrypont\" (did you mean \"ENTRYPOINT\"?)"},
	{"unknown instruction far", "FROM a\nFOOBARBAZ x\n", NULL,
	 "Dockerfile:2:1: unknown instruction \"FOOBARBAZ\""},
	{"unknown instruction workdri", "FROM a\nWORKDRI /x\n", NULL,
	 "Dockerfile:2:1: unknown instruction \"WORKDRI\" (did you mean \"WORKDIR\"?)"},
	{"unknown after continuation", "FROM a\nRUN a \\\n b\nFRM c\n", NULL,
	 "Dockerfile:4:1: unknown instruction \"FRM\" (did you mean \"FROM\"?)"},
	/* exec and shell forms */
	{"exec form", "FROM a\nCMD [\"a\", \"b c\"]\n", "from@1:1 (a)\ncmd@2:1 J(a|b c)"},
	{"exec form spaces", "FROM a\nCMD   [ \"a\" ,\"b\" ]  \n", "from@1:1 (a)\ncmd@2:1 J(a|b)"},
	{"exec empty", "FROM a\nCMD []\n", "from@1:1 (a)\ncmd@2:1 J()"},
	{"json single quotes fall back", "FROM a\nCMD ['a', 'b']\n",
	 "from@1:1 (a)\ncmd@2:1 (['a', 'b'])"},
	{"json unterminated falls back", "FROM a\nRUN [\"a\", \"b\"\n",
	 "from@1:1 (a)\nrun@2:1 ([\"a\", \"b\")"},
	{"json trailing text falls back", "FROM a\nRUN [\"a\"] x\n",
	 "from@1:1 (a)\nrun@2:1 ([\"a\"] x)"},
	{"json trailing comma falls back", "FROM a\nRUN [\"a\",]\n", "from@1:1 (a)\nrun@2:1 ([\"a\",])"},
	{"json escapes", "FROM a\nCMD [\"a\\\"b\", \"\\u00e9\\n\", \"\\/\"]\n",
	 "from@1:1 (a)\ncmd@2:1 J(a\"b|\xC3\xA9\n|/)"},
	{"json surrogate pair", "FROM a\nCMD [\"\\ud83d\\ude00\"]\n",
	 "from@1:1 (a)\ncmd@2:1 J(\xF0\x9F\x98\x80)"},
	{"json number element", "FROM a\nCMD [\"a\", 1]\n", NULL,
	 "Dockerfile:2:5: when using JSON array syntax, arrays must be comprised of strings only"},
	{"json nested array", "FROM a\nENTRYPOINT [[\"a\"]]\n", NULL,
	 "Dockerfile:2:12: when using JSON array syntax, arrays must be comprised of strings only"},
	{"json object element", "FROM a\nRUN [{\"a\": 1}]\n", NULL,
	 "Dockerfile:2:5: when using JSON array syntax, arrays must be comprised of strings only"},
	{"json null element", "FROM a\nRUN [null]\n", NULL,
	 "Dockerfile:2:5: when using JSON array syntax, arrays must be comprised of strings only"},
	{"json continued", "FROM a\nCMD [\"a\", \\\n  \"b\"]\n", "from@1:1 (a)\ncmd@2:1 J(a|b)"},
	{"shell form", "FROM a\nENTRYPOINT exec  foo  \n", "from@1:1 (a)\nentrypoint@2:1 (exec  foo)"},
	{"copy list", "FROM a\nCOPY a  b\tc\n", "from@1:1 (a)\ncopy@2:1 (a|b|c)"},
	{"copy json", "FROM a\nCOPY [\"a b\", \"/c\"]\n", "from@1:1 (a)\ncopy@2:1 J(a b|/c)"},
	{"volume words", "FROM a\nVOLUME /a /b\n", "from@1:1 (a)\nvolume@2:1 (/a|/b)"},
	{"volume json", "FROM a\nVOLUME [\"/a\"]\n", "from@1:1 (a)\nvolume@2:1 J(/a)"},
	{"shell json", "FROM a\nSHELL [\"bash\", \"-c\"]\n", "from@1:1 (a)\nshell@2:1 J(bash|-c)"},
	/* flags */
	{"flags", "FROM a\nCOPY --from=b --chown=1:2 x y\n",
	 "from@1:1 (a)\ncopy@2:1 {--from=b --chown=1:2} (x|y)"},
	{"flag quoted", "FROM a\nRUN --mount=\"type=cache,target=/x y\" make\n",
	 "from@1:1 (a)\nrun@2:1 {--mount=type=cache,target=/x y} (make)"},
	{"flag bool", "FROM a\nCOPY --link a b\n", "from@1:1 (a)\ncopy@2:1 {--link} (a|b)"},
	{"double dash ends flags", "FROM a\nRUN -- --not-a-flag\n",
	 "from@1:1 (a)\nrun@2:1 (--not-a-flag)"},
	{"single dash not a flag", "FROM a\nRUN -x\n", "from@1:1 (a)\nrun@2:1 (-x)"},
	{"flag on continuation", "FROM a\nCOPY \\\n  --from=b \\\n  x y\n",
	 "from@1:1 (a)\ncopy@2:1 {--from=b} (x|y)"},
	{"from platform", "FROM --platform=linux/arm64 a AS b\n",
	 "from@1:1 {--platform=linux/arm64} (a|AS|b)"},
	/* ENV / LABEL / ARG splitting */
	{"env pairs", "FROM a\nENV a=b c=d\n", "from@1:1 (a)\nenv@2:1 (a|b|c|d)"},
	{"env quoted", "FROM a\nENV a=\"b c\" d='e f'\n", "from@1:1 (a)\nenv@2:1 (a|\"b c\"|d|'e f')"},
	{"env escaped space", "FROM a\nENV a=b\\ c\n", "from@1:1 (a)\nenv@2:1 (a|b\\ c)"},
	{"env legacy", "FROM a\nENV a b c\n", "from@1:1 (a)\nenv@2:1 (a|b c)"},
	{"env legacy one word", "FROM a\nENV a\n", NULL, "Dockerfile:2:5: ENV must have two arguments"},
	{"env missing equals", "FROM a\nENV a=b c\n", NULL,
	 "Dockerfile:2:5: syntax error - can't find = in \"c\"; must be of the form: name=value"},
	{"env empty value", "FROM a\nENV a=\n", "from@1:1 (a)\nenv@2:1 (a|)"},
	{"env empty quoted", "FROM a\nENV a=\"\"\n", "from@1:1 (a)\nenv@2:1 (a|\"\")"},
	{"label", "FROM a\nLABEL \"com.x\"=\"y z\" k=v\n",
	 "from@1:1 (a)\nlabel@2:1 (\"com.x\"|\"y z\"|k|v)"},
	{"label legacy", "FROM a\nLABEL k v w\n", "from@1:1 (a)\nlabel@2:1 (k|v w)"},
	{"arg words", "FROM a\nARG a b=c d=\"e f\"\n", "from@1:1 (a)\narg@2:1 (a|b=c|d=\"e f\")"},
	{"maintainer", "FROM a\nMAINTAINER Jane Doe <j@d.e>\n",
	 "from@1:1 (a)\nmaintainer@2:1 (Jane Doe <j@d.e>)"},
	{"user one string", "FROM a\nUSER a b\n", "from@1:1 (a)\nuser@2:1 (a b)"},
	{"workdir spaces", "FROM a\nWORKDIR /a b\n", "from@1:1 (a)\nworkdir@2:1 (/a b)"},
	{"expose", "FROM a\nEXPOSE 80 443/tcp\n", "from@1:1 (a)\nexpose@2:1 (80|443/tcp)"},
	{"healthcheck cmd", "FROM a\nHEALTHCHECK --interval=5s CMD curl -f x\n",
	 "from@1:1 (a)\nhealthcheck@2:1 {--interval=5s} (CMD|curl -f x)"},
	{"healthcheck json", "FROM a\nHEALTHCHECK CMD [\"a\", \"b\"]\n",
	 "from@1:1 (a)\nhealthcheck@2:1 J(CMD|a|b)"},
	{"healthcheck none", "FROM a\nHEALTHCHECK NONE\n", "from@1:1 (a)\nhealthcheck@2:1 (NONE)"},
	{"onbuild", "FROM a\nONBUILD RUN echo x\n", "from@1:1 (a)\nonbuild@2:1 (RUN echo x)"},
	{"onbuild copy flags", "FROM a\nONBUILD COPY --chown=1 . /app\n",
	 "from@1:1 (a)\nonbuild@2:1 (COPY --chown=1 . /app)"},
	{"onbuild onbuild", "FROM a\nONBUILD ONBUILD RUN x\n", NULL,
	 "Dockerfile:2:9: chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"},
	{"onbuild from", "FROM a\nONBUILD FROM b\n", NULL,
	 "Dockerfile:2:9: from isn't allowed as an ONBUILD trigger"},
	{"onbuild maintainer", "FROM a\nONBUILD MAINTAINER b\n", NULL,
	 "Dockerfile:2:9: maintainer isn't allowed as an ONBUILD trigger"},
	{"onbuild unknown", "FROM a\nONBUILD RUNN x\n", NULL,
	 "Dockerfile:2:9: unknown instruction \"RUNN\" (did you mean \"RUN\"?)"},
	/* heredocs */
	{"heredoc run", "FROM a\nRUN <<EOF\necho hi\nEOF\n",
	 "from@1:1 (a)\nrun@2:1 (<<EOF) <<EOF:e-=echo hi\n>>"},
	{"heredoc chomp", "FROM a\nRUN <<-EOF\n\techo hi\n\tEOF\n",
	 "from@1:1 (a)\nrun@2:1 (<<-EOF) <<EOF:ec=echo hi\n>>"},
	{"heredoc quoted single", "FROM a\nRUN <<'EOF'\necho $x\nEOF\n",
	 "from@1:1 (a)\nrun@2:1 (<<'EOF') <<EOF:--=echo $x\n>>"},
	{"heredoc quoted double", "FROM a\nRUN <<\"EOF\"\necho $x\nEOF\n",
	 "from@1:1 (a)\nrun@2:1 (<<\"EOF\") <<EOF:--=echo $x\n>>"},
	{"heredoc two", "FROM a\nRUN <<A cat - <<B\na\nA\nb\nB\n",
	 "from@1:1 (a)\nrun@2:1 (<<A cat - <<B) <<A:e-=a\n>> <<B:e-=b\n>>"},
	{"heredoc with cmd", "FROM a\nRUN python3 <<EOF\nprint(1)\nEOF\nRUN x\n",
	 "from@1:1 (a)\nrun@2:1 (python3 <<EOF) <<EOF:e-=print(1)\n>>\nrun@5:1 (x)"},
	{"heredoc copy", "FROM a\nCOPY <<EOF /f\nhello\nEOF\n",
	 "from@1:1 (a)\ncopy@2:1 (<<EOF|/f) <<EOF:e-=hello\n>>"},
	{"heredoc add", "FROM a\nADD <<X /f\nx\nX\n", "from@1:1 (a)\nadd@2:1 (<<X|/f) <<X:e-=x\n>>"},
	{"heredoc empty body", "FROM a\nRUN <<EOF\nEOF\n", "from@1:1 (a)\nrun@2:1 (<<EOF) <<EOF:e-=>>"},
	{"heredoc keeps blank and comment lines", "FROM a\nRUN <<EOF\n# c\n\nx\nEOF\n",
	 "from@1:1 (a)\nrun@2:1 (<<EOF) <<EOF:e-=# c\n\nx\n>>"},
	{"heredoc terminator must be exact", "FROM a\nRUN <<EOF\n EOF\nEOF\n",
	 "from@1:1 (a)\nrun@2:1 (<<EOF) <<EOF:e-= EOF\n>>"},
	{"heredoc crlf", "FROM a\r\nRUN <<EOF\r\nx\r\nEOF\r\n",
	 "from@1:1 (a)\nrun@2:1 (<<EOF) <<EOF:e-=x\r\n>>"},
	{"heredoc not in json", "FROM a\nRUN [\"<<EOF\"]\n", "from@1:1 (a)\nrun@2:1 J(<<EOF)"},
	{"heredoc not in cmd", "FROM a\nCMD cat <<EOF\nRUN x\n", "from@1:1 (a)\ncmd@2:1 (cat <<EOF)\nrun@3:1 (x)"},
	{"heredoc redirect not heredoc", "FROM a\nRUN echo a<<b\n",
	 "from@1:1 (a)\nrun@2:1 (echo a<<b)"},
	/* as BuildKit (issue 22, bug 7): blanks after << join the next word */
	{"heredoc blanks after marker", "FROM a\nRUN <<  EOF\necho hi\nEOF\n",
	 "from@1:1 (a)\nrun@2:1 (<<  EOF) <<EOF:e-=echo hi\n>>"},
	{"heredoc blanks and redirect", "FROM a\nRUN <<  EOF  > /f\nx\nEOF\n",
	 "from@1:1 (a)\nrun@2:1 (<<  EOF  > /f) <<EOF:e-=x\n>>"},
	/* ... but not after <<- (BuildKit's lexer joins only blanks right after <<) */
	{"heredoc chomp then blank is no marker", "FROM a\nRUN <<- EOF\n",
	 "from@1:1 (a)\nrun@2:1 (<<- EOF)"},
	{"heredoc blank then dash", "FROM a\nRUN << -EOF\nx\n-EOF\n",
	 "from@1:1 (a)\nrun@2:1 (<< -EOF) <<-EOF:e-=x\n>>"},
	{"heredoc quoted with blank", "FROM a\nRUN <<'one two'\necho bar\none two\n",
	 "from@1:1 (a)\nrun@2:1 (<<'one two') <<one two:--=echo bar\n>>"},
	{"heredoc fd prefix", "FROM a\nRUN cat 3<<EOF\nx\nEOF\n",
	 "from@1:1 (a)\nrun@2:1 (cat 3<<EOF) <<EOF:e-=x\n>>"},
	{"heredoc unterminated", "FROM a\nRUN <<EOF\necho\n", NULL,
	 "Dockerfile:2:5: unterminated heredoc \"EOF\" (no line \"EOF\" before the end of the file)"},
	{"heredoc second unterminated", "FROM a\nRUN <<A <<B\na\nA\nb\n", NULL,
	 "Dockerfile:2:5: unterminated heredoc \"B\" (no line \"B\" before the end of the file)"},
	{"heredoc line numbers", "FROM a\nRUN <<EOF\n1\n2\nEOF\nUSER x\n",
	 "from@1:1 (a)\nrun@2:1 (<<EOF) <<EOF:e-=1\n2\n>>\nuser@6:1 (x)"},
	/* odd */
	{"instruction only keyword", "FROM a\nRUN\n", "from@1:1 (a)\nrun@2:1 ()"},
	{"tabs between", "FROM\ta\tAS\tb\n", "from@1:1 (a|AS|b)"},
	{"comment after instruction is not a comment", "FROM a\nRUN echo # not a comment\n",
	 "from@1:1 (a)\nrun@2:1 (echo # not a comment)"},
	{"utf8 args", "FROM a\nLABEL k=\"h\xC3\xA9\"\n", "from@1:1 (a)\nlabel@2:1 (k|\"h\xC3\xA9\")"},
};

static void run_case(void **state)
{
	const tcase_t *c = *state;
	df_tree_t *t = NULL;
	cb_error_t err = CB_ERROR_INIT;
	int r = df_parse(NULL, c->in, strlen(c->in), &t, &err);
	if (c->out) {
		if (r < 0)
			fail_msg("%s: unexpected error: %s", c->name, err.msg);
		char *d = dump(t);
		if (strcmp(d, c->out))
			fail_msg("%s:\n got: %s\nwant: %s", c->name, d, c->out);
		free(d);
		df_tree_free(t);
	} else {
		if (r == 0)
			fail_msg("%s: parsed, but wanted error %s", c->name, c->err);
		char *first = df_error_first_line(&err);
		if (strcmp(first, c->err))
			fail_msg("%s:\n got: %s\nwant: %s", c->name, first, c->err);
		free(first);
		cb_error_release(&err);
	}
}

/* The error carries the line and a caret under the column. */
static void test_error_context(void **state)
{
	(void)state;
	df_tree_t *t = NULL;
	cb_error_t err = CB_ERROR_INIT;
	const char *in = "FROM a\n\tRUNN x\n";
	assert_int_equal(df_parse("app/Dockerfile.dev", in, strlen(in), &t, &err), -1);
	assert_string_equal(err.msg, "app/Dockerfile.dev:2:2: unknown instruction \"RUNN\" (did you "
				     "mean \"RUN\"?)\n 2 | \tRUNN x\n   | \t^");
	cb_error_release(&err);
}

static void test_warning_empty_continuation(void **state)
{
	(void)state;
	df_tree_t *t = NULL;
	cb_error_t err = CB_ERROR_INIT;
	const char *in = "FROM a\nRUN a \\\n\n b\n";
	assert_int_equal(df_parse(NULL, in, strlen(in), &t, &err), 0);
	assert_non_null(t->warnings);
	assert_string_equal(t->warnings[0],
			    "Dockerfile:2: empty continuation line found in: RUN a  b");
	df_tree_free(t);
}

static void test_directive_values(void **state)
{
	(void)state;
	df_tree_t *t = NULL;
	cb_error_t err = CB_ERROR_INIT;
	const char *in = "# syntax = docker/dockerfile:1.4 \n# check=error=true\n# escape=`\nFROM a\n";
	assert_int_equal(df_parse(NULL, in, strlen(in), &t, &err), 0);
	assert_string_equal(t->syntax, "docker/dockerfile:1.4");
	assert_string_equal(t->check, "error=true");
	assert_int_equal(t->escape, '`');
	df_tree_free(t);
}

static void test_not_nul_terminated(void **state)
{
	(void)state;
	df_tree_t *t = NULL;
	cb_error_t err = CB_ERROR_INIT;
	char buf[] = {'F', 'R', 'O', 'M', ' ', 'a', '\n', 'X', 'X'};
	assert_int_equal(df_parse(NULL, buf, 7, &t, &err), 0);
	assert_int_equal(t->n_nodes, 1);
	assert_string_equal(t->nodes[0].args[0], "a");
	df_tree_free(t);
}

static void test_original_and_lines(void **state)
{
	(void)state;
	df_tree_t *t = NULL;
	cb_error_t err = CB_ERROR_INIT;
	const char *in = "FROM a\nRUN a \\\n  b\nUSER x\n";
	assert_int_equal(df_parse(NULL, in, strlen(in), &t, &err), 0);
	assert_string_equal(t->nodes[1].original, "RUN a   b");
	assert_int_equal(t->nodes[1].line, 2);
	assert_int_equal(t->nodes[1].end_line, 3);
	assert_int_equal(t->n_lines, 4);
	assert_string_equal(t->lines[2], "  b");
	df_tree_free(t);
}

static void test_suggest(void **state)
{
	(void)state;
	assert_string_equal(df_suggest_instruction("RUNN"), "RUN");
	assert_string_equal(df_suggest_instruction("cmd"), "CMD");
	assert_string_equal(df_suggest_instruction("EXPOS"), "EXPOSE");
	assert_string_equal(df_suggest_instruction("HEALTHCHEK"), "HEALTHCHECK");
	assert_null(df_suggest_instruction("XYZZYXYZZY"));
}

int main(void)
{
	size_t n = CB_ARRAY_SIZE(cases);
	struct CMUnitTest *tests = calloc(n + 6, sizeof(*tests));
	for (size_t i = 0; i < n; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_error_context);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_warning_empty_continuation);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_directive_values);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_not_nul_terminated);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_original_and_lines);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_suggest);
	int r = _cmocka_run_group_tests("parser", tests, n, NULL, NULL);
	free(tests);
	return r;
}
