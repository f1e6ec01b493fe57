/* User-defined networks: records, membership, the shared namespace and the
 * members' hosts files. See runtime/network.h for the model. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "runtime/network.h"
#include "runtime/sandbox.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/digest.h"
#include "store/json.h"

#define NET_NAME_MAX 128
#define NET_JSON_MAX (1u << 16)

static const char *const builtin_names[] = {"host", "none"};

void rt_net_free(rt_net_t *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->created);
	free(n->driver);
	free(n);
}

bool rt_net_valid_name(const char *s)
{
	if (!isalnum((unsigned char)*s) || strlen(s) > NET_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static bool is_builtin(const char *name)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(builtin_names); i++)
		if (!strcmp(name, builtin_names[i]))
			return true;
	return false;
}

/* The built-in ones get a stable ID: the digest of their name. */
static rt_net_t *builtin_net(const char *name)
{
	rt_net_t *n = cb_xcalloc(1, sizeof *n);
	n->name = cb_xstrdup(name);
	char d[DIGEST_STR_LEN + 1];
	digest_buffer(name, strlen(name), d);
	snprintf(n->id, sizeof n->id, "%s", digest_hex(d));
	n->created = cb_xstrdup("");
	n->driver = cb_xstrdup(!strcmp(name, "host") ? "host" : "null");
	n->builtin = true;
	return n;
}

static char *net_path(store_t *st, const char *name)
{
	_cleanup_free_ char *sub = cb_asprintf("networks/%s.json", name);
	return store_path(st, sub);
}

rt_net_t *rt_net_load(store_t *st, const char *name, cb_error_t *err)
{
	if (is_builtin(name))
		return builtin_net(name);
	if (!rt_net_valid_name(name)) {
		cb_error_fail(err, ENOENT, "network '%s' not found", name);
		return NULL;
	}
	_cleanup_free_ char *path = net_path(st, name);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(path, NET_JSON_MAX, &data, &len, &e) < 0) {
		if (e.code == ENOENT) {
			cb_error_release(&e);
			cb_error_fail(err, ENOENT, "network '%s' not found", name);
		} else {
			cb_error_move(err, &e);
		}
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(data, len, 0, &je);
	const char *id = json_string_value(json_object_get(j, "Id"));
	if (!json_is_object(j) || !id || strlen(id) != NET_ID_LEN) {
		json_decref(j);
		cb_error_fail(err, EBADMSG, "network '%s': bad %s", name, path);
		return NULL;
	}
	rt_net_t *n = cb_xcalloc(1, sizeof *n);
	n->name = cb_xstrdup(name);
	snprintf(n->id, sizeof n->id, "%s", id);
	const char *created = json_string_value(json_object_get(j, "Created"));
	const char *driver = json_string_value(json_object_get(j, "Driver"));
	n->created = cb_xstrdup(created ? created : "");
	n->driver = cb_xstrdup(driver ? driver : "pod");
	json_decref(j);
	return n;
}

static int write_net(store_t *st, const rt_net_t *n, cb_error_t *err)
{
	_cleanup_free_ char *dir = store_path(st, "networks");
	if (cb_mkdir_p(dir, 0755, err) < 0)
		return -1;
	json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "Name", n->name, "Id", n->id, "Created",
			      n->created, "Driver", n->driver);
	char *text = oci_json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	_cleanup_free_ char *path = net_path(st, n->name);
	_cleanup_free_ char *tmp = store_path(st, "tmp");
	int rc = cb_write_file_atomic(path, tmp, text, strlen(text), 0644, err);
	free(text);
	return rc;
}

int rt_net_create(store_t *st, const char *name, rt_net_t **out, cb_error_t *err)
{
	if (!rt_net_valid_name(name))
		return cb_error_fail(err, EINVAL, "invalid network name '%s': only "
						  "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed (at most "
						  "%d characters)", name, NET_NAME_MAX);
	rt_net_t *n = cb_xcalloc(1, sizeof *n);
	n->name = cb_xstrdup(name);
	cb_random_hex(n->id, NET_ID_LEN / 2);
	char created[CB_RFC3339_LEN];
	cb_rfc3339_now(created);
	n->created = cb_xstrdup(created);
	n->driver = cb_xstrdup("pod");
	if (store_lock(st, err) < 0) {
		rt_net_free(n);
		return -1;
	}
	/* under the lock: check-then-create is atomic against other cbuilds */
	_cleanup_free_ char *path = net_path(st, name);
	int rc;
	if (is_builtin(name) || cb_path_exists(path))
		rc = cb_error_fail(err, EEXIST, "network with name '%s' already exists", name);
	else
		rc = write_net(st, n, err);
	store_unlock(st);
	if (rc < 0) {
		rt_net_free(n);
		return -1;
	}
	*out = n;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const rt_net_t *x = *(rt_net_t *const *)a, *y = *(rt_net_t *const *)b;
	return strcmp(x->name, y->name);
}

int rt_net_list(store_t *st, rt_net_t ***out, size_t *n_out, cb_error_t *err)
{
	size_t n = 0, cap = 8;
	rt_net_t **v = cb_xcalloc(cap, sizeof *v);
	for (size_t i = 0; i < CB_ARRAY_SIZE(builtin_names); i++)
		v[n++] = builtin_net(builtin_names[i]);
	_cleanup_free_ char *dir = store_path(st, "networks");
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".json"))
			continue;
		_cleanup_free_ char *name = cb_xstrndup(de->d_name, len - 5);
		cb_error_t e = CB_ERROR_INIT;
		rt_net_t *net = rt_net_valid_name(name) ? rt_net_load(st, name, &e) : NULL;
		if (!net) {
			/* one bad record must not hide the others */
			if (cb_error_is_set(&e))
				cb_warn_error(&e);
			continue;
		}
		if (n == cap)
			v = cb_xrealloc(v, (cap *= 2) * sizeof *v);
		v[n++] = net;
	}
	if (d)
		closedir(d);
	qsort(v + CB_ARRAY_SIZE(builtin_names), n - CB_ARRAY_SIZE(builtin_names), sizeof *v,
	      by_name);
	(void)err;
	*out = v;
	*n_out = n;
	return 0;
}

/* ---- membership ---- */

static bool on_network(const rt_ctr_t *c, const char *name)
{
	for (size_t i = 0; c->networks && c->networks[i]; i++)
		if (!strcmp(c->networks[i], name))
			return true;
	return false;
}

/* The containers on the network, loaded (state refreshed), newest first;
 * NULL-terminated. Containers that vanish while we read are skipped. */
static rt_ctr_t **load_members(store_t *st, const char *name)
{
	_cleanup_strv_ char **ids = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (rt_ctr_list(st, &ids, &e) < 0) {
		cb_error_release(&e);
		return cb_xcalloc(1, sizeof(rt_ctr_t *));
	}
	size_t n = 0;
	rt_ctr_t **v = cb_xcalloc(cb_strv_len(ids) + 1, sizeof *v);
	for (size_t i = 0; ids[i]; i++) {
		rt_ctr_t *c = ctr_load_id(st, ids[i], &e);
		if (!c) {
			cb_error_release(&e);
			continue;
		}
		if (on_network(c, name))
			v[n++] = c;
		else
			rt_ctr_free(c);
	}
	return v;
}

static void members_free(rt_ctr_t **v)
{
	for (size_t i = 0; v && v[i]; i++)
		rt_ctr_free(v[i]);
	free(v);
}

int rt_net_members(store_t *st, const char *name, char ***ids, cb_error_t *err)
{
	rt_net_t *n = rt_net_load(st, name, err);
	if (!n)
		return -1;
	char **out = cb_xcalloc(1, sizeof(char *));
	if (!n->builtin) {
		rt_ctr_t **m = load_members(st, name);
		for (size_t i = 0; m[i]; i++)
			out = cb_strv_push(out, m[i]->id);
		members_free(m);
	}
	rt_net_free(n);
	*ids = out;
	return 0;
}

int rt_net_remove(store_t *st, const char *name, cb_error_t *err)
{
	rt_net_t *n = rt_net_load(st, name, err);
	if (!n)
		return -1;
	bool builtin = n->builtin;
	rt_net_free(n);
	if (builtin)
		return cb_error_fail(err, EPERM, "'%s' is a pre-defined network and cannot be "
						 "removed", name);
	if (store_lock(st, err) < 0)
		return -1;
	rt_ctr_t **m = load_members(st, name);
	int rc = 0;
	if (m[0]) {
		cb_buf_t b;
		cb_buf_init(&b);
		for (size_t i = 0; m[i]; i++)
			cb_buf_addf(&b, "%s%s", i ? ", " : "", m[i]->name);
		rc = cb_error_fail(err, EBUSY, "network %s has active endpoints (%s)", name,
				   b.data);
		cb_buf_release(&b);
	} else {
		_cleanup_free_ char *path = net_path(st, name);
		if (unlink(path) < 0)
			rc = cb_error_errno(err, "remove network '%s'", name);
	}
	members_free(m);
	store_unlock(st);
	return rc;
}

/* ---- the namespace ---- */

static bool ctr_running(const rt_ctr_t *c)
{
	return c->status == RT_CTR_RUNNING && ctr_pid_alive(c->pid, c->pid_start);
}

static const char *rootless_hint(int e)
{
	/* the monitor of a rootless container is root of its own user namespace */
	return (e == EPERM || e == EACCES) && (geteuid() != 0 || sbx_in_userns())
		       ? " (rootless: each container has its own user namespace, and one "
			 "cannot join a network namespace owned by another)"
		       : "";
}

/* The network namespace of a running container's PID 1, checked against
 * pid reuse after the open (the fd then surely names its namespace). */
static int open_netns(const rt_ctr_t *c, struct stat *sb, cb_error_t *err)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/net", (int)c->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return cb_error_set(err, e, "open the network namespace of container '%s'%s",
				    c->name, rootless_hint(e));
	}
	if (fstat(fd, sb) < 0 || !ctr_pid_alive(c->pid, c->pid_start)) {
		close(fd);
		return cb_error_fail(err, ESRCH, "container '%s' exited", c->name);
	}
	return fd;
}

/* A running member (other than self) of any of c's networks, and the
 * namespace they all share. *holder is NULL when none runs. */
static int find_holder(store_t *st, const rt_ctr_t *self, char *const *networks,
		       rt_ctr_t **holder, int *ns_fd, cb_error_t *err)
{
	*holder = NULL;
	*ns_fd = -1;
	struct stat first = {0};
	const char *first_net = NULL;
	for (size_t k = 0; networks && networks[k]; k++) {
		rt_net_t *n = rt_net_load(st, networks[k], err);
		if (!n)
			return -1;
		rt_net_free(n);
		rt_ctr_t **m = load_members(st, networks[k]);
		int rc = 0;
		for (size_t i = 0; m[i] && rc == 0; i++) {
			if (!strcmp(m[i]->id, self->id) || !ctr_running(m[i]))
				continue;
			struct stat sb;
			cb_error_t e = CB_ERROR_INIT;
			int fd = open_netns(m[i], &sb, &e);
			if (fd < 0 && (e.code == ENOENT || e.code == ESRCH)) {
				cb_error_release(&e); /* it just exited: not a holder */
				continue;
			}
			if (fd < 0) { /* never a namespace of our own instead */
				cb_error_move(err, &e);
				rc = -1;
				break;
			}
			if (!*holder) {
				first = sb;
				first_net = networks[k];
				*ns_fd = fd;
				*holder = m[i];
				continue;
			}
			close(fd);
			if (sb.st_ino != first.st_ino || sb.st_dev != first.st_dev)
				rc = cb_error_fail(err, EINVAL, "networks '%s' and '%s' run in "
								"different network namespaces",
						   first_net, networks[k]);
		}
		/* the holder is kept; the rest goes */
		for (size_t i = 0; m[i]; i++)
			if (m[i] != *holder)
				rt_ctr_free(m[i]);
		free(m);
		if (rc < 0) {
			close(*ns_fd);
			*ns_fd = -1;
			rt_ctr_free(*holder);
			*holder = NULL;
			return -1;
		}
	}
	return 0;
}

int ctr_net_join(store_t *st, const rt_ctr_t *c, cb_error_t *err)
{
	rt_ctr_t *holder = NULL;
	int fd = -1;
	if (find_holder(st, c, c->networks, &holder, &fd, err) < 0)
		return cb_error_wrap(err, "container '%s'", c->name);
	if (holder) {
		int rc = 0;
		if (setns(fd, CLONE_NEWNET) < 0) {
			int e = errno;
			rc = cb_error_set(err, e, "join network '%s' (the network namespace of "
						  "container '%s')%s", c->networks[0], holder->name,
					  rootless_hint(e));
		}
		close(fd);
		rt_ctr_free(holder);
		return rc;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		int e = errno;
		return cb_error_set(err, e, "create the network namespace of network '%s'%s",
				    c->networks[0], rootless_hint(e));
	}
	if (sbx_loopback_up(err) < 0)
		return cb_error_wrap(err, "network '%s'", c->networks[0]);
	return 0;
}

/* ---- hosts files ---- */

char *ctr_hosts_text(store_t *st, const rt_ctr_t *c)
{
	cb_buf_t b;
	cb_buf_init(&b);
	cb_buf_addf(&b, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			"127.0.1.1\t%s\n", c->hostname);
	_cleanup_strv_ char **seen = cb_xcalloc(1, sizeof(char *));
	for (size_t k = 0; c->networks && c->networks[k]; k++) {
		rt_ctr_t **m = load_members(st, c->networks[k]);
		for (size_t i = 0; m[i]; i++) {
			bool dup = false;
			for (size_t j = 0; seen[j] && !dup; j++)
				dup = !strcmp(seen[j], m[i]->id);
			if (dup)
				continue;
			seen = cb_strv_push(seen, m[i]->id);
			cb_buf_addf(&b, "127.0.0.1\t%s %.12s\n", m[i]->name, m[i]->id);
		}
		members_free(m);
	}
	return cb_buf_detach(&b, NULL);
}

/* In place: open + overwrite + truncate, never rename. A reader may see a
 * half-written file for an instant, never an empty one. */
static void rewrite_hosts(store_t *st, const rt_ctr_t *c)
{
	_cleanup_free_ char *path = ctr_path(c, "hosts");
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return; /* not started yet: written whole at its start */
	_cleanup_free_ char *text = ctr_hosts_text(st, c);
	size_t len = strlen(text);
	cb_error_t e = CB_ERROR_INIT;
	if (cb_write_all(fd, text, len, &e) < 0 || ftruncate(fd, (off_t)len) < 0) {
		if (!cb_error_is_set(&e))
			cb_error_errno(&e, "truncate '%s'", path);
		cb_warn_error(&e);
	}
}

void ctr_net_sync_hosts(store_t *st)
{
	cb_error_t e = CB_ERROR_INIT;
	if (store_lock(st, &e) < 0) {
		cb_warn_error(&e);
		return;
	}
	_cleanup_strv_ char **ids = NULL;
	if (rt_ctr_list(st, &ids, &e) < 0)
		cb_warn_error(&e);
	for (size_t i = 0; ids && ids[i]; i++) {
		rt_ctr_t *c = ctr_load_id(st, ids[i], &e);
		if (!c) {
			cb_error_release(&e);
			continue;
		}
		if (c->networks && c->networks[0])
			rewrite_hosts(st, c);
		rt_ctr_free(c);
	}
	store_unlock(st);
}

/* ---- connect and disconnect ---- */

static int sorted_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A running container may join only when the network's running members
 * (if any) are in its namespace already. */
static int check_running_join(store_t *st, const rt_ctr_t *c, const char *name,
			      cb_error_t *err)
{
	if (!ctr_running(c))
		return 0;
	rt_ctr_t *holder = NULL;
	int hfd = -1;
	char *const nets[] = {(char *)name, NULL};
	if (find_holder(st, c, nets, &holder, &hfd, err) < 0)
		return -1;
	if (!holder)
		return 0; /* the network adopts its namespace */
	struct stat hs, cs;
	int rc = 0;
	int cfd = open_netns(c, &cs, err);
	if (cfd < 0) {
		rc = -1;
	} else if (fstat(hfd, &hs) < 0 || hs.st_ino != cs.st_ino || hs.st_dev != cs.st_dev) {
		rc = cb_error_fail(err, EBUSY, "cannot connect running container '%s' to network "
					       "'%s': it runs in another network namespace; "
					       "stop it first", c->name, name);
	}
	if (cfd >= 0)
		close(cfd);
	close(hfd);
	rt_ctr_free(holder);
	return rc;
}

static int connect_locked(store_t *st, const char *name, const char *what, cb_error_t *err)
{
	rt_net_t *n = rt_net_load(st, name, err);
	if (!n)
		return -1;
	bool builtin = n->builtin;
	rt_net_free(n);
	if (builtin)
		return cb_error_fail(err, EINVAL, "containers cannot be connected to the "
						  "pre-defined network '%s'", name);
	rt_ctr_t *c = rt_ctr_load(st, what, err);
	if (!c)
		return -1;
	int rc = 0;
	if (on_network(c, name))
		rc = cb_error_fail(err, EEXIST, "container '%s' is already connected to network "
						"'%s'", c->name, name);
	if (rc == 0)
		rc = check_running_join(st, c, name, err);
	if (rc == 0) {
		size_t len = cb_strv_len(c->networks);
		c->networks = cb_strv_push(c->networks, name);
		qsort(c->networks, len + 1, sizeof(char *), sorted_cmp);
		rc = ctr_write_config(st, c, err);
	}
	rt_ctr_free(c);
	if (rc == 0)
		ctr_net_sync_hosts(st);
	return rc;
}

int rt_net_connect(store_t *st, const char *name, const char *ctr, cb_error_t *err)
{
	if (store_lock(st, err) < 0)
		return -1;
	int rc = connect_locked(st, name, ctr, err);
	store_unlock(st);
	return rc;
}

static int disconnect_locked(store_t *st, const char *name, const char *what, cb_error_t *err)
{
	rt_net_t *n = rt_net_load(st, name, err);
	if (!n)
		return -1;
	rt_net_free(n);
	rt_ctr_t *c = rt_ctr_load(st, what, err);
	if (!c)
		return -1;
	int rc = 0;
	if (!on_network(c, name)) {
		rc = cb_error_fail(err, ENOENT, "container '%s' is not connected to network '%s'",
				   c->name, name);
	} else {
		char **keep = cb_xcalloc(1, sizeof(char *));
		for (size_t i = 0; c->networks[i]; i++)
			if (strcmp(c->networks[i], name))
				keep = cb_strv_push(keep, c->networks[i]);
		cb_strv_free(c->networks);
		c->networks = keep;
		rc = ctr_write_config(st, c, err);
	}
	if (rc == 0) {
		/* its own file loses every name it no longer shares */
		if (!c->networks[0])
			rewrite_hosts(st, c);
		ctr_net_sync_hosts(st);
	}
	rt_ctr_free(c);
	return rc;
}

int rt_net_disconnect(store_t *st, const char *name, const char *ctr, cb_error_t *err)
{
	if (store_lock(st, err) < 0)
		return -1;
	int rc = disconnect_locked(st, name, ctr, err);
	store_unlock(st);
	return rc;
}
