/*
 * builder/add_remote.c - ADD of what is not in the context: URLs
 * (downloaded through the fetcher cmd/ hands in) and git repositories
 * (cloned with the system's git, as BuildKit's git source).
 *
 * The step's inputs (its cache key) are the downloaded files' digests, or
 * the commit a git ref resolves to (git ls-remote): a cache hit clones
 * nothing. The files go to a fresh directory (b->url_dir) the step then
 * copies from, removed by bld_url_cleanup.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builder/steps.h"
#include "common/fs.h"
#include "common/util.h"

#define GIT_OUTPUT_MAX (4u << 20) /* ls-remote of a big repository: its refs */

static bool is_url(const char *s)
{
	return cb_str_has_prefix(s, "http://") || cb_str_has_prefix(s, "https://");
}

bool bld_remote_source(const df_step_t *step)
{
	const df_copy_t *cp = &step->u.copy;
	return (step->kind == DF_COPY || step->kind == DF_ADD) && cp->sources && cp->sources[0] &&
	       (cp->git || is_url(cp->sources[0]));
}

/* The file name a URL is saved as: the last path segment, as Docker. */
static char *url_basename(const char *url)
{
	const char *p = strstr(url, "://") + 3;
	size_t end = strcspn(p, "?#");
	const char *slash = NULL;
	for (const char *q = p; q < p + end; q++)
		if (*q == '/')
			slash = q;
	if (!slash || slash + 1 >= p + end)
		return cb_xstrdup("index.html");
	return cb_xstrndup(slash + 1, (size_t)(p + end - slash - 1));
}

void bld_url_cleanup(build_t *b)
{
	if (!b->url_dir)
		return;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_rm_rf(b->url_dir, &e) < 0)
		cb_error_release(&e);
	free(b->url_dir);
	b->url_dir = NULL;
}

static int fetch_one(build_t *b, const char *url, const char *expected, char *sum_hex,
		     cb_error_t *err)
{
	_cleanup_free_ char *name = url_basename(url);
	_cleanup_free_ char *path = cb_path_join(b->url_dir, name);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return cb_error_errno(err, "ADD '%s': create '%s'", url, name);
	if (b->o->fetcher.fetch(b->o->fetcher.ctx, url, fd, err) < 0)
		return -1;
	char d[DIGEST_STR_LEN + 1];
	if (digest_file(path, d, err) < 0)
		return -1;
	if (expected && strcmp(expected, d))
		return cb_error_fail(err, EBADMSG, "ADD '%s': checksum mismatch: expected '%s', got '%s'",
				     url, expected, d);
	memcpy(sum_hex, digest_hex(d), DIGEST_HEX_LEN + 1);
	return 0;
}

/* Every source is downloaded now (its content is the step's input) into a
 * fresh directory the step then copies from. */
static int url_inputs(build_t *b, const df_step_t *step, char **inputs, cb_error_t *err)
{
	const df_copy_t *cp = &step->u.copy;
	if (step->kind != DF_ADD)
		return cb_error_fail(err, EINVAL, "COPY cannot take a URL ('%s'): use ADD", cp->sources[0]);
	if (!b->o->fetcher.fetch)
		return cb_error_fail(err, ENOTSUP, "ADD '%s': no way to download here", cp->sources[0]);
	bld_url_cleanup(b);
	b->url_dir = store_mkdtemp(b->st, "url-", err);
	if (!b->url_dir)
		return -1;
	cb_buf_t sums;
	cb_buf_init(&sums);
	int rc = 0;
	for (size_t i = 0; cp->sources[i] && rc == 0; i++) {
		char hex[DIGEST_HEX_LEN + 1];
		if (!is_url(cp->sources[i]))
			rc = cb_error_fail(err, EINVAL, "ADD: mixing URLs and local files is not supported");
		else if ((rc = fetch_one(b, cp->sources[i], cp->checksum, hex, err)) == 0)
			cb_buf_addf(&sums, "%s %s\n", hex, cp->sources[i]);
	}
	if (rc == 0)
		*inputs = cb_buf_detach(&sums, NULL);
	cb_buf_release(&sums);
	return rc;
}

/* ---- git ---- */

/* "URL#REF:SUBDIR" (BuildKit's fragment); ref and subdir NULL when absent. */
typedef struct git_ref {
	char *remote, *ref, *subdir;
} git_ref_t;

static void git_ref_release(git_ref_t *g)
{
	free(g->remote);
	free(g->ref);
	free(g->subdir);
}

static int git_ref_parse(const char *src, git_ref_t *g, cb_error_t *err)
{
	memset(g, 0, sizeof(*g));
	const char *hash = strchr(src, '#');
	g->remote = hash ? cb_xstrndup(src, (size_t)(hash - src)) : cb_xstrdup(src);
	if (hash && hash[1]) {
		const char *colon = strchr(hash + 1, ':');
		g->ref = colon ? cb_xstrndup(hash + 1, (size_t)(colon - hash - 1))
			       : cb_xstrdup(hash + 1);
		if (colon && colon[1])
			g->subdir = cb_xstrdup(colon + 1);
	}
	if (g->ref && !*g->ref) {
		free(g->ref);
		g->ref = NULL;
	}
	/* the subdirectory stays inside the clone */
	if (g->subdir && (g->subdir[0] == '/' || !strcmp(g->subdir, "..") ||
			  cb_str_has_prefix(g->subdir, "../") || strstr(g->subdir, "/../") ||
			  cb_str_has_suffix(g->subdir, "/.."))) {
		git_ref_release(g);
		return cb_error_fail(err, EINVAL, "ADD '%s': invalid subdirectory", src);
	}
	return 0;
}

/* Read the child's stdout and stderr together (either may fill its pipe). */
static int drain(int out_fd, int err_fd, cb_buf_t *out, cb_buf_t *errs)
{
	struct pollfd p[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
	cb_buf_t *dst[2] = {out, errs};
	int open_fds = 2;
	while (open_fds > 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			char tmp[8192];
			ssize_t n = read(p[i].fd, tmp, sizeof(tmp));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				p[i].fd = -1;
				open_fds--;
				continue;
			}
			if (dst[i]->len < GIT_OUTPUT_MAX)
				cb_buf_add(dst[i], tmp, (size_t)n);
		}
	}
	return 0;
}

/* Run `git argv...` (argv[0] is "git"); *out (may be NULL) gets stdout.
 * A failure says what git said last on stderr. */
static int run_git(char *const argv[], char **out, cb_error_t *err)
{
	int po[2] = {-1, -1}, pe[2] = {-1, -1};
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		int e = errno;
		for (int i = 0; i < 2; i++) {
			if (po[i] >= 0)
				close(po[i]);
			if (pe[i] >= 0)
				close(pe[i]);
		}
		return cb_error_set(err, e, "git: pipe");
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		/* never ask for a password: fail instead */
		setenv("GIT_TERMINAL_PROMPT", "0", 1);
		setenv("GIT_SSH_COMMAND", "ssh -o BatchMode=yes", 0);
		signal(SIGPIPE, SIG_DFL);
		execvp("git", argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	cb_buf_t o, e;
	cb_buf_init(&o);
	cb_buf_init(&e);
	if (pid > 0)
		drain(po[0], pe[0], &o, &e);
	close(po[0]);
	close(pe[0]);
	int status = 0;
	int rc = 0;
	if (pid < 0) {
		rc = cb_error_errno(err, "git: fork");
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			while (e.len && (e.data[e.len - 1] == '\n' || e.data[e.len - 1] == '\r'))
				e.data[--e.len] = '\0';
			const char *last = e.len ? strrchr(e.data, '\n') : NULL;
			last = last ? last + 1 : e.len ? e.data
						       : NULL;
			rc = cb_error_fail(err, WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ENOENT : EIO,
					   "git %s: %s", argv[1],
					   last ? last : WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "git is not installed"
													 : "failed");
		}
	}
	if (rc == 0 && out)
		*out = cb_buf_detach(&o, NULL);
	cb_buf_release(&o);
	cb_buf_release(&e);
	return rc;
}

static bool is_commit_id(const char *s)
{
	size_t n = strlen(s);
	return (n == 40 || n == 64) && strspn(s, "0123456789abcdef") == n;
}

/* The commit ref names on the remote, as BuildKit resolves it: a commit ID
 * as is, else HEAD, a full ref, a tag (peeled) or a branch. */
static int git_resolve(const git_ref_t *g, char commit[BLD_GIT_COMMIT_MAX], cb_error_t *err)
{
	if (g->ref && is_commit_id(g->ref)) {
		snprintf(commit, BLD_GIT_COMMIT_MAX, "%s", g->ref);
		return 0;
	}
	char *argv[] = {"git", "ls-remote", "--", g->remote, NULL};
	_cleanup_free_ char *out = NULL;
	if (run_git(argv, &out, err) < 0)
		return -1;
	const char *want = g->ref ? g->ref : "HEAD";
	_cleanup_free_ char *tag = cb_asprintf("refs/tags/%s", want);
	_cleanup_free_ char *peeled = cb_asprintf("refs/tags/%s^{}", want);
	_cleanup_free_ char *head = cb_asprintf("refs/heads/%s", want);
	const char *order[] = {peeled, want, head, tag};
	int best = 4;
	for (char *line = out; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *tab = strchr(line, '\t');
		if (tab) {
			*tab = '\0';
			for (int k = 0; k < best; k++)
				if (!strcmp(tab + 1, order[k]) && is_commit_id(line)) {
					best = k;
					snprintf(commit, BLD_GIT_COMMIT_MAX, "%s", line);
				}
		}
		line = nl ? nl + 1 : NULL;
	}
	if (best == 4)
		return cb_error_fail(err, ENOENT, "git: '%s' has no ref '%s'", g->remote, want);
	return 0;
}

static int git_inputs(build_t *b, const df_step_t *step, char **inputs, cb_error_t *err)
{
	git_ref_t g;
	if (git_ref_parse(step->u.copy.sources[0], &g, err) < 0)
		return -1;
	int rc = git_resolve(&g, b->git_commit, err);
	if (rc < 0)
		cb_error_wrap(err, "ADD '%s'", step->u.copy.sources[0]);
	else
		*inputs = cb_asprintf("git %s %s%s\n", b->git_commit, g.subdir ? g.subdir : ".",
				      step->u.copy.keep_git_dir ? " keep-git-dir" : "");
	git_ref_release(&g);
	return rc;
}

int bld_remote_inputs(build_t *b, const df_step_t *step, char **inputs, cb_error_t *err)
{
	if (step->u.copy.git)
		return git_inputs(b, step, inputs, err);
	return url_inputs(b, step, inputs, err);
}

/* Clone the resolved commit into b->url_dir/repo: a shallow fetch of the
 * commit (or, where the server refuses one by ID, of the ref, which must
 * still name it). */
static int git_clone(build_t *b, const git_ref_t *g, const char *repo, bool keep_git_dir,
		     cb_error_t *err)
{
	char *init[] = {"git", "init", "-q", (char *)repo, NULL};
	if (run_git(init, NULL, err) < 0)
		return -1;
	char *by_id[] = {"git", "-C", (char *)repo, "fetch", "-q", "--depth=1", "--",
			 g->remote, b->git_commit, NULL};
	cb_error_t e = CB_ERROR_INIT;
	if (run_git(by_id, NULL, &e) < 0) {
		cb_error_release(&e);
		char *by_ref[] = {"git", "-C", (char *)repo, "fetch", "-q", "--", g->remote,
				  g->ref ? g->ref : "HEAD", NULL};
		if (run_git(by_ref, NULL, err) < 0)
			return -1;
	}
	char *co[] = {"git", "-C", (char *)repo, "-c", "advice.detachedHead=false", "checkout",
		      "-q", b->git_commit, NULL};
	if (run_git(co, NULL, err) < 0)
		return cb_error_wrap(err, "commit %s", b->git_commit);
	if (keep_git_dir)
		return 0;
	_cleanup_free_ char *dotgit = cb_path_join(repo, ".git");
	return cb_rm_rf(dotgit, err);
}

int bld_remote_fetch(build_t *b, const df_step_t *step, char **dir, char ***names,
		     cb_error_t *err)
{
	const df_copy_t *cp = &step->u.copy;
	if (!cp->git) { /* downloaded by bld_remote_inputs */
		for (size_t i = 0; cp->sources[i]; i++)
			*names = cb_strv_push_take(*names, url_basename(cp->sources[i]));
		*dir = cb_xstrdup(b->url_dir);
		return 0;
	}
	git_ref_t g;
	if (git_ref_parse(cp->sources[0], &g, err) < 0)
		return -1;
	bld_url_cleanup(b);
	int rc = -1;
	b->url_dir = store_mkdtemp(b->st, "git-", err);
	_cleanup_free_ char *repo = b->url_dir ? cb_path_join(b->url_dir, "repo") : NULL;
	if (repo && git_clone(b, &g, repo, cp->keep_git_dir, err) == 0) {
		*dir = g.subdir ? cb_path_join(repo, g.subdir) : cb_xstrdup(repo);
		*names = cb_strv_push(NULL, ".");
		rc = 0;
	}
	if (rc < 0)
		cb_error_wrap(err, "ADD '%s'", cp->sources[0]);
	git_ref_release(&g);
	return rc;
}
