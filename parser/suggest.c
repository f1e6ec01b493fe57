/* "Did you mean" hints: the closest name by edit distance. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "parser/dockerfile.h"
#include "parser/plan.h"

/* Levenshtein distance, case-insensitive, in O(len(b)) memory. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = cb_xcalloc(lb + 1, sizeof(size_t));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			bool same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
			size_t best = diag + (same ? 0 : 1);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	size_t d = row[lb];
	free(row);
	return d;
}

const char *df_suggest(const char *word, char *const *candidates)
{
	size_t len = strlen(word);
	/* "buidler" for "builder" (2 edits) yes, "app" for "api" (1 in 3) yes,
	 * "db" for "go" no: beyond a third of the word it is another word */
	size_t max = len / 3 > 1 ? len / 3 : 1;
	const char *best = NULL;
	size_t best_d = max + 1;
	for (size_t i = 0; candidates && candidates[i]; i++) {
		size_t d = distance(word, candidates[i]);
		if (d == 0)
			return NULL;
		if (d < best_d && d < strlen(candidates[i])) {
			best = candidates[i];
			best_d = d;
		}
	}
	return best;
}

const char *df_tree_suggest_stage(const df_tree_t *t, const char *name)
{
	if (!t)
		return NULL;
	/* every FROM IMAGE AS NAME of the file, not only the plan's stages */
	char **names = cb_xcalloc(t->n_nodes + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const df_node_t *n = &t->nodes[i];
		if (!strcmp(n->cmd, "from") && n->n_args == 3)
			names[k++] = n->args[2];
	}
	const char *near = df_suggest(name, names);
	free(names);
	return near;
}

const char *df_plan_suggest_stage(const df_plan_t *p, const char *name)
{
	return p ? df_tree_suggest_stage(p->tree, name) : NULL;
}
