/* A store's pool of ready build network namespaces. See runtime/netpool.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "runtime/netpool.h"
#include "runtime/netavark.h"
#include "common/fs.h"
#include "common/util.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

static bool pid_gone(long pid)
{
	return pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

/* The store's pool directory: RUN_DIR/netpool/<FNV-1a of its real root>. */
static char *pool_dir(const char *root)
{
	char real[PATH_MAX];
	_cleanup_free_ char *clean = cb_path_clean(root);
	const char *r = realpath(root, real) ? real : clean;
	uint64_t h = 1469598103934665603ull;
	for (const char *p = r; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	char sid[17];
	snprintf(sid, sizeof sid, "%016llx", (unsigned long long)h);
	return rt_nav_run_path("netpool/%s%s", sid, "");
}

/* A lease of a free entry: a name that is neither ours nor one in use. */
static bool is_free_entry(const char *name)
{
	return name[0] != '.' && strcmp(name, "root") && !strstr(name, ".used-") &&
	       !strstr(name, ".new-");
}

static char *used_path(const char *dir, const char *id, long pid)
{
	_cleanup_free_ char *name = cb_asprintf("%s.used-%ld", id, pid);
	return cb_path_join(dir, name);
}

static char *lease_text(const rt_net_t *net)
{
	return cb_asprintf("%s %s\n", net->bridge ? net->bridge : "", net->subnet ? net->subnet : "");
}

/* Whether namespace file fd is bound in this mount namespace. */
static bool bound_here(int fd)
{
	struct statfs fs;
	return fstatfs(fd, &fs) == 0 && fs.f_type == NSFS_MAGIC;
}

/* Namespace file ns, opened bound. A build's private mount namespace
 * (runtime/mount.c) was copied before the namespaces later builds made:
 * there the file is empty, and neither a RUN nor netavark can enter it;
 * it is bound here from the first mount namespace. */
static int open_bound(const char *ns)
{
	int fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || bound_here(fd))
		return fd;
	close(fd);
	if (rt_nav_bind_from_outer(ns) < 0)
		return -1;
	fd = open(ns, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !bound_here(fd)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The namespace id, when it is whole: its setup ended well (the request's
 * mode says so), and it is bound. */
static int open_ns(const char *id)
{
	_cleanup_free_ char *ns = rt_nav_run_path("netns/%s%s", id, "");
	_cleanup_free_ char *reqp = rt_nav_run_path("netns/%s%s", id, ".json");
	struct stat sb;
	if (stat(reqp, &sb) < 0 || (sb.st_mode & 0777) != 0400)
		return -1;
	return open_bound(ns);
}

/* Tear down the namespace of a lease we hold (path), then the lease. */
static void drop_lease(const char *id, const char *path)
{
	_cleanup_free_ char *ns = rt_nav_run_path("netns/%s%s", id, "");
	int fd = open_bound(ns); /* netavark enters it */
	if (fd >= 0)
		close(fd);
	rt_nav_detach(id);
	unlink(path);
}

int rt_netpool_take(const char *root, const rt_net_t *net, char *id, size_t idsz, int *fd)
{
	_cleanup_free_ char *dir = pool_dir(root);
	_cleanup_free_ char *want = lease_text(net);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int rc = -1;
	struct dirent *de;
	while (rc < 0 && (de = readdir(d))) {
		const char *name = de->d_name;
		if (!is_free_entry(name) || strlen(name) >= idsz)
			continue;
		_cleanup_free_ char *from = cb_path_join(dir, name);
		_cleanup_free_ char *to = used_path(dir, name, (long)getpid());
		if (rename(from, to) < 0)
			continue; /* another build took it */
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		cb_error_t e = CB_ERROR_INIT;
		bool same = cb_read_file(to, 256, &text, &len, &e) == 0 && cb_streq(text, want);
		cb_error_release(&e);
		int ns = same ? open_ns(name) : -1;
		if (ns < 0) {
			drop_lease(name, to); /* another bridge, or broken */
			continue;
		}
		snprintf(id, idsz, "%s", name);
		*fd = ns;
		rc = 0;
	}
	closedir(d);
	return rc;
}

static size_t count_free(const char *dir)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += is_free_entry(de->d_name);
	if (d)
		closedir(d);
	return n;
}

/* text into `to` in pool dir, whole: written aside as .new-PID (which the
 * sweep removes once PID is gone; never taken for an entry), renamed. */
static int write_whole(const char *dir, const char *text, const char *to)
{
	_cleanup_free_ char *tmpname = cb_asprintf(".new-%ld", (long)getpid());
	_cleanup_free_ char *tmp = cb_path_join(dir, tmpname);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	cb_error_t e = CB_ERROR_INIT;
	int rc = cb_write_all(fd, text, strlen(text), &e);
	cb_error_release(&e);
	close(fd);
	if (rc == 0)
		rc = rename(tmp, to);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* The root file, written whole (under the pool's lock). */
static int write_root(const char *dir, const char *root)
{
	_cleanup_free_ char *p = cb_path_join(dir, "root");
	if (cb_path_exists(p))
		return 0;
	char real[PATH_MAX];
	_cleanup_free_ char *clean = cb_path_clean(root);
	const char *r = realpath(root, real) ? real : clean;
	return write_whole(dir, r, p);
}
bool rt_netpool_put(const char *root, const char *id, const rt_net_t *net)
{
	if (!id[0] || !cb_is_dir(root))
		return false;
	_cleanup_free_ char *dir = pool_dir(root);
	cb_error_t e = CB_ERROR_INIT;
	if (cb_mkdir_p(dir, 0700, &e) < 0) {
		cb_error_release(&e);
		return false;
	}
	_cleanup_free_ char *lockp = cb_path_join(dir, ".lock");
	int lock = cb_lock_path(lockp, 0600, &e);
	if (lock < 0) {
		cb_error_release(&e);
		return false;
	}
	_cleanup_free_ char *mine = used_path(dir, id, (long)getpid());
	_cleanup_free_ char *free_p = cb_path_join(dir, id);
	_cleanup_free_ char *text = lease_text(net);
	bool put = false;
	if (count_free(dir) < RT_NETPOOL_MAX && write_root(dir, root) == 0) {
		if (cb_path_exists(mine)) /* taken from the pool: one rename back */
			put = rename(mine, free_p) == 0;
		else /* ours from the start: a free entry at once */
			put = write_whole(dir, text, free_p) == 0;
	}
	close(lock);
	return put;
}

void rt_netpool_drop(const char *root, const char *id)
{
	_cleanup_free_ char *dir = pool_dir(root);
	_cleanup_free_ char *mine = used_path(dir, id, (long)getpid());
	drop_lease(id, mine);
}

/* Remove an empty pool's files and directory (under its lock: a put that
 * raced either placed its entry first, or finds no directory and tears
 * its namespace down). */
static void remove_if_empty(const char *dir)
{
	_cleanup_free_ char *lockp = cb_path_join(dir, ".lock");
	_cleanup_free_ char *rootp = cb_path_join(dir, "root");
	cb_error_t e = CB_ERROR_INIT;
	int lock = cb_lock_path(lockp, 0600, &e);
	cb_error_release(&e);
	if (lock < 0)
		return;
	DIR *d = opendir(dir);
	bool empty = d != NULL;
	struct dirent *de;
	while (d && (de = readdir(d)))
		empty &= !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
			 !strcmp(de->d_name, ".lock") || !strcmp(de->d_name, "root");
	if (d)
		closedir(d);
	if (empty) {
		unlink(rootp);
		unlink(lockp);
		rmdir(dir);
	}
	close(lock);
}

/* Tear down the free entries of the pool at dir, and what dead builds
 * held; all of it when `all` (the store is gone). */
static void drain_dir(const char *dir, bool all)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		_cleanup_free_ char *path = cb_path_join(dir, name);
		const char *used = strstr(name, ".used-"), *tmp = strstr(name, ".new-");
		if (tmp && pid_gone(strtol(tmp + 5, NULL, 10))) {
			unlink(path);
		} else if (used && pid_gone(strtol(used + 6, NULL, 10))) {
			char id[NAME_MAX + 1];
			snprintf(id, sizeof id, "%.*s", (int)(used - name), name);
			drop_lease(id, path); /* its build was killed */
		} else if (all && is_free_entry(name)) {
			_cleanup_free_ char *mine = used_path(dir, name, (long)getpid());
			if (rename(path, mine) == 0) /* the claim: one drainer wins */
				drop_lease(name, mine);
		}
	}
	closedir(d);
	remove_if_empty(dir);
}

void rt_netpool_drain(const char *root)
{
	_cleanup_free_ char *dir = pool_dir(root);
	drain_dir(dir, true);
}

/* Whether pool dir holds a lease of id by a live build. */
static bool used_in(const char *dir, const char *id)
{
	DIR *p = opendir(dir);
	bool owned = false;
	size_t n = strlen(id);
	struct dirent *le;
	while (p && !owned && (le = readdir(p))) {
		const char *name = le->d_name;
		if (!strncmp(name, id, n) && !strncmp(name + n, ".used-", 6))
			owned = !pid_gone(strtol(name + n + 6, NULL, 10));
	}
	if (p)
		closedir(p);
	return owned;
}

/* A free entry looked up before and after the scan for a used one: a take
 * or put back renaming one into the other meanwhile is seen either way (a
 * name present for the whole scan is always read). */
static bool owned_in(const char *dir, const char *id)
{
	_cleanup_free_ char *free_p = cb_path_join(dir, id);
	return cb_path_exists(free_p) || used_in(dir, id) || cb_path_exists(free_p);
}

bool rt_netpool_owned(const char *id)
{
	_cleanup_free_ char *top = rt_nav_run_path("netpool%s%s", "", "");
	DIR *d = opendir(top);
	bool owned = false;
	struct dirent *de;
	while (d && !owned && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *dir = cb_path_join(top, de->d_name);
		owned = owned_in(dir, id);
	}
	if (d)
		closedir(d);
	return owned;
}

/* Whether the store of pool dir is gone (its root, or the record of it). */
static bool store_gone(const char *dir)
{
	_cleanup_free_ char *rootp = cb_path_join(dir, "root");
	_cleanup_free_ char *root = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(rootp, PATH_MAX, &root, &len, &e) < 0) {
		cb_error_release(&e);
		return true;
	}
	struct stat sb;
	return stat(root, &sb) < 0 && errno == ENOENT;
}

void rt_netpool_sweep(void)
{
	_cleanup_free_ char *top = rt_nav_run_path("netpool%s%s", "", "");
	DIR *d = opendir(top);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *dir = cb_path_join(top, de->d_name);
		drain_dir(dir, store_gone(dir));
	}
	if (d)
		closedir(d);
}
