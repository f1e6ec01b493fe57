/*
 * parser/dockerfile.h - Dockerfile bytes -> tree of instructions; word expansion.
 *
 * Pure: no I/O. The caller (cmd/) reads the file and hands the bytes in,
 * with the name to use in messages ("Dockerfile", "app/Dockerfile.dev").
 *
 * Lifecycle:
 *
 *     df_tree_t *t = NULL;
 *     if (df_parse("Dockerfile", data, len, &t, err) < 0)
 *         return -1;                 // err->msg: "Dockerfile:3:1: ...\n<line>\n^"
 *     for (size_t i = 0; i < t->n_nodes; i++) ... t->nodes[i] ...
 *     df_tree_free(t);
 *
 * The tree is what BuildKit's parser.Parse gives: one node per instruction,
 * continuations joined, heredoc bodies attached, flags split off, arguments
 * split according to the instruction (see df_node_t). Nothing is expanded
 * and nothing is checked against other instructions yet: the plan
 * (parser/plan.h) does that.
 *
 * Error messages (in err->msg; err->code = 0: no strerror is appended) have
 * the form
 *
 *     NAME:LINE:COL: message
 *      LINE | offending line
 *           | ^
 *
 * The first line alone is what tests and tools compare; the two context
 * lines follow after a '\n'. df_error_first_line() gives the first line.
 */
#ifndef CB_PARSER_DOCKERFILE_H
#define CB_PARSER_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* A here-document attached to an instruction (RUN <<EOF, COPY <<EOF /d). */
typedef struct df_heredoc {
	char *name;    /* the delimiter word, quotes removed: "EOF" */
	char *content; /* the body, each line ending in '\n' (tabs stripped for <<-) */
	bool expand;   /* false when the delimiter was quoted ('EOF' or "EOF") */
	bool chomp;    /* <<- was used */
	int line;      /* line of the "<<EOF" marker */
} df_heredoc_t;

/* One instruction. */
typedef struct df_node {
	char *cmd;      /* keyword in lower case: "run", "copy", ... */
	char *original; /* the instruction as written, continuations joined with
			 * the escape+newline removed (BuildKit's Node.Original) */
	char **flags;   /* "--name=value" or "--name" as written, NULL-terminated */
	int *flag_cols; /* column (1-based) of each flag, for messages */
	/* Arguments, after flags, depending on the instruction:
	 *  - exec form (json == true; RUN CMD ENTRYPOINT SHELL VOLUME COPY ADD
	 *    HEALTHCHECK CMD): the JSON array's strings, decoded
	 *  - RUN CMD ENTRYPOINT in shell form: one element, the rest of the line
	 *    (leading/trailing blanks trimmed, as BuildKit does)
	 *  - ENV LABEL: key, value, key, value ... (raw words: quotes kept, the
	 *    expander removes them); legacy `ENV k v w` -> {"k", "v w"}
	 *  - ARG: raw "k" or "k=v" words, one per variable
	 *  - HEALTHCHECK: {"NONE"} or {"CMD", <the CMD's own args...>} with
	 *    json telling the CMD's form
	 *  - ONBUILD: one element, the trigger text (validated at parse time)
	 *  - everything else: whitespace-separated raw words (quotes kept) */
	char **args;
	size_t n_args;
	bool json; /* exec (JSON array) form */
	df_heredoc_t *heredocs;
	size_t n_heredocs;
	int line;     /* 1-based line of the keyword */
	int end_line; /* last line of the instruction (heredoc bodies included) */
	int column;   /* column of the keyword (after leading blanks) */
	int args_col; /* column where the arguments begin */
} df_node_t;

typedef struct df_tree {
	char *name; /* the name given to df_parse, used in messages */
	df_node_t *nodes;
	size_t n_nodes;
	char escape;  /* '\\' or '`' */
	char *syntax; /* "# syntax=" value or NULL (accepted, ignored) */
	char *check;  /* "# check=" value or NULL (accepted, ignored) */
	char **warnings; /* "NAME:LINE: message" (e.g. empty continuation
			  * lines), NULL-terminated or NULL */
	/* The source split in lines (no line ends), for error context.
	 * lines[i] is line i+1. Owned by the tree. */
	char **lines;
	size_t n_lines;
} df_tree_t;

/* Parse `len` bytes (need not be NUL-terminated; a UTF-8 BOM and CRLF line
 * ends are accepted). `name` is used in messages ("Dockerfile" if NULL).
 * On success *out is a new tree (free with df_tree_free). */
int df_parse(const char *name, const char *data, size_t len, df_tree_t **out, cb_error_t *err);
void df_tree_free(df_tree_t *t);

/* Format a positioned error into err: "NAME:LINE:COL: msg" + context lines
 * taken from tree->lines. Returns -1. col <= 0 means "no column"
 * ("NAME:LINE: msg"). Used by the parser and the planner; exported so the
 * builder can report a step failure the same way. */
int df_error_at(const df_tree_t *t, int line, int col, cb_error_t *err, const char *fmt, ...)
	CB_PRINTF(5, 6);

/* The first line of an error message (a new string; free it). */
char *df_error_first_line(const cb_error_t *err);

/* The closest known instruction keyword to `word` (upper case, static
 * string), or NULL when nothing is close enough. */
const char *df_suggest_instruction(const char *word);

/*
 * Word expansion, exactly as BuildKit's shell.Lex: $v ${v} ${v:-w} ${v-w}
 * ${v:+w} ${v+w} ${v:?msg} ${v?msg} (and ${#v}, ${v%s} ${v%%s} ${v#s}
 * ${v##s} ${v/a/b} as newer BuildKit), escapes with the Dockerfile's escape
 * character, single quotes (literal) and double quotes (expansion inside).
 * Quotes are removed. An unset variable expands to "".
 *
 * `env` is a KEY=VALUE vector (NULL = empty); on duplicate keys the LAST one
 * wins (so callers can append overrides). On success *out is a new string.
 * Errors: a bad substitution ("${", "${v:?msg}" on an unset var: message
 * "v: msg"), an unterminated quote. err->msg has no position; callers
 * wrap it with one.
 */
enum {
	DF_EXPAND_ESCAPE_BACKTICK = 1 << 0, /* the escape character is '`' */
	DF_EXPAND_KEEP_UNSET = 1 << 1,      /* leave $v of an unset v as written */
	DF_EXPAND_SKIP_QUOTES = 1 << 2,     /* quotes are plain characters (heredoc
					     * bodies, BuildKit's SkipProcessQuotes) */
};
int df_expand(const char *word, char *const *env, unsigned flags, char **out, cb_error_t *err);

/* Same, but split the result into words on unquoted blanks first (BuildKit's
 * ProcessWords: used for words whose expansion may produce several items).
 * *out is a new NULL-terminated vector. */
int df_expand_words(const char *word, char *const *env, unsigned flags, char ***out,
		    cb_error_t *err);

/* True when `word` refers to any variable (contains an unescaped '$'
 * outside single quotes). Lets the builder skip expansion. */
bool df_word_has_vars(const char *word, unsigned flags);

#endif
