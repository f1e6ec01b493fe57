/*
 * runtime/sandbox_user.c - USER specs resolved in the image's /etc/passwd and
 * /etc/group, with Docker's rules (moby/sys/user GetExecUser in spirit).
 *
 * The files are opened as openat2(RESOLVE_IN_ROOT) does (cb_open_in_root): an image whose
 * /etc/passwd is a symlink to /etc/shadow must read its own /etc/shadow,
 * never the host's.
 */
#include "runtime/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/openroot.h"
#include "common/util.h"

#define MAX_DB_SIZE (16u << 20)

/* Read ROOTFS/rel with symlinks kept inside rootfs. Missing file: *data
 * stays NULL and 0 is returned. */
static int read_in_root(const char *rootfs, const char *rel, char **data, cb_error_t *err)
{
	_cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return cb_error_errno(err, "open root '%s'", rootfs);
	/* not openat2 alone: where it is missing (a seccomp profile that
	 * answers ENOSYS, valgrind) RT_ISO_NONE still runs steps */
	_cleanup_close_ int fd = cb_open_in_root(rootfd, rel, O_RDONLY, 0);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return cb_error_errno(err, "open '/%s' in the image", rel);
	}
	cb_buf_t b;
	cb_buf_init(&b);
	char chunk[8192];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cb_buf_release(&b);
			return cb_error_errno(err, "read '/%s' in the image", rel);
		}
		if (n == 0)
			break;
		if (b.len + (size_t)n > MAX_DB_SIZE) {
			cb_buf_release(&b);
			return cb_error_set(err, EFBIG, "read '/%s' in the image: too large", rel);
		}
		cb_buf_add(&b, chunk, (size_t)n);
	}
	*data = cb_buf_detach(&b, NULL);
	return 0;
}

/* Split a colon-separated line in place into at most max fields. */
static size_t split_fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++) {
		if (*p == ':') {
			*p = '\0';
			f[n++] = p + 1;
		}
	}
	return n;
}

static bool parse_id(const char *s, unsigned long *out)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	errno = 0;
	unsigned long v = strtoul(s, NULL, 10);
	if (errno || v > UINT32_MAX - 1)
		return false;
	*out = v;
	return true;
}

/* Calls fn for each well-formed line of a passwd/group db (fields split).
 * fn returns true to stop. */
typedef bool (*line_fn)(char **f, size_t n, void *ctx);
static void each_line(char *db, size_t min_fields, line_fn fn, void *ctx)
{
	if (!db)
		return;
	char *save = NULL;
	for (char *line = strtok_r(db, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '+' || line[0] == '-')
			continue;
		char *f[7];
		size_t n = split_fields(line, f, 7);
		if (n < min_fields)
			continue;
		if (fn(f, n, ctx))
			return;
	}
}

struct pw_query {
	const char *key; /* name or numeric uid */
	bool found;
	char name[256];
	unsigned long uid, gid;
	char home[PATH_MAX];
};

static bool pw_match(char **f, size_t n, void *ctx)
{
	struct pw_query *q = ctx;
	unsigned long uid, gid, want;
	if (!parse_id(f[2], &uid) || !parse_id(f[3], &gid))
		return false;
	bool hit = !strcmp(f[0], q->key) || (parse_id(q->key, &want) && want == uid);
	if (!hit)
		return false;
	q->found = true;
	snprintf(q->name, sizeof q->name, "%s", f[0]);
	q->uid = uid;
	q->gid = gid;
	snprintf(q->home, sizeof q->home, "%s", n > 5 && f[5][0] ? f[5] : "/");
	return true;
}

struct gr_query {
	const char *key; /* name or numeric gid */
	bool found;
	unsigned long gid;
};

static bool gr_match(char **f, size_t n, void *ctx)
{
	struct gr_query *q = ctx;
	unsigned long gid, want;
	if (!parse_id(f[2], &gid))
		return false;
	if (strcmp(f[0], q->key) && !(parse_id(q->key, &want) && want == gid))
		return false;
	q->found = true;
	q->gid = gid;
	return true;
}

struct sup_query {
	const char *user;
	sbx_user_t *out;
};

static bool add_group(sbx_user_t *u, gid_t g)
{
	for (size_t i = 0; i < u->n_groups; i++)
		if (u->groups[i] == g)
			return false;
	u->groups = cb_xreallocarray(u->groups, u->n_groups + 1, sizeof *u->groups);
	u->groups[u->n_groups++] = g;
	return false;
}

static bool sup_match(char **f, size_t n, void *ctx)
{
	struct sup_query *q = ctx;
	unsigned long gid;
	if (n < 4 || !parse_id(f[2], &gid))
		return false;
	char *save = NULL;
	for (char *m = strtok_r(f[3], ",", &save); m; m = strtok_r(NULL, ",", &save))
		if (!strcmp(m, q->user))
			return add_group(q->out, (gid_t)gid);
	return false;
}

int sbx_resolve_user(const char *rootfs, const char *spec, sbx_user_t *out, cb_error_t *err)
{
	sbx_user_t u = {.uid = 0, .gid = 0};
	_cleanup_free_ char *s = cb_xstrdup(spec && *spec ? spec : "0");
	char *group = strchr(s, ':');
	if (group)
		*group++ = '\0';
	const char *user = *s ? s : "0";

	_cleanup_free_ char *passwd = NULL, *groupdb = NULL;
	if (read_in_root(rootfs, "etc/passwd", &passwd, err) < 0)
		return -1;
	struct pw_query pq = {.key = user};
	_cleanup_free_ char *pw_copy = passwd ? cb_xstrdup(passwd) : NULL;
	each_line(pw_copy, 4, pw_match, &pq);
	unsigned long id;
	if (pq.found) {
		u.uid = (uid_t)pq.uid;
		u.gid = (gid_t)pq.gid;
		u.home = cb_xstrdup(pq.home);
	} else if (parse_id(user, &id)) {
		u.uid = (uid_t)id;
		u.home = cb_xstrdup("/");
	} else {
		return cb_error_set(err, ENOENT,
				    "unable to find user '%s': no matching entries in passwd file",
				    user);
	}

	if (read_in_root(rootfs, "etc/group", &groupdb, err) < 0) {
		free(u.home);
		return -1;
	}
	if (group && *group) {
		struct gr_query gq = {.key = group};
		_cleanup_free_ char *gr_copy = groupdb ? cb_xstrdup(groupdb) : NULL;
		each_line(gr_copy, 3, gr_match, &gq);
		if (gq.found) {
			u.gid = (gid_t)gq.gid;
		} else if (parse_id(group, &id)) {
			u.gid = (gid_t)id;
		} else {
			free(u.home);
			return cb_error_set(err, ENOENT,
					    "unable to find group '%s': no matching entries in group file",
					    group);
		}
	}
	/* The primary group first, then every group listing the user by name
	 * (only a user found in passwd has a name to be listed under). */
	add_group(&u, u.gid);
	if (pq.found && !(group && *group)) {
		struct sup_query sq = {.user = pq.name, .out = &u};
		each_line(groupdb, 4, sup_match, &sq);
	}
	*out = u;
	return 0;
}

void sbx_user_release(sbx_user_t *u)
{
	if (!u)
		return;
	free(u->groups);
	free(u->home);
	u->groups = NULL;
	u->home = NULL;
	u->n_groups = 0;
}

char **sbx_env_with_home(char *const *env, const char *home)
{
	char **out = cb_xcalloc(1, sizeof(char *));
	bool has = false;
	for (size_t i = 0; env && env[i]; i++) {
		has = has || !strncmp(env[i], "HOME=", 5);
		out = cb_strv_push(out, env[i]);
	}
	if (!has)
		out = cb_strv_push_take(out, cb_asprintf("HOME=%s", home && *home ? home : "/"));
	return out;
}
