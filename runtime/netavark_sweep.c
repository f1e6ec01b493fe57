/* What killed cbuild processes left in the run directory: namespaces of
 * builds and of containers that are gone, teardowns cut short, addresses
 * claimed by a process killed before it wrote its request. See
 * runtime/netavark.h. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/netavark.h"
#include "runtime/netpool.h"
#include "common/fs.h"
#include "common/util.h"

static bool pid_gone(long pid)
{
	return pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

void rt_nav_sweep(const char *prefix)
{
	_cleanup_free_ char *dir = rt_nav_run_path("netns%s%s", "", "");
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t plen = strlen(prefix);
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *name = de->d_name, *dot = strstr(name, ".json");
		if (strncmp(name, prefix, plen) || !dot || dot[5])
			continue;
		char *end = NULL;
		long pid = strtol(name + plen, &end, 10);
		if (pid <= 0 || *end != '-' || !pid_gone(pid))
			continue;
		char id[NAME_MAX + 1];
		snprintf(id, sizeof id, "%.*s", (int)(dot - name), name);
		if (rt_netpool_owned(id))
			continue;  /* put back in a pool, or taken by a live build */
		rt_nav_detach(id); /* the rename in it makes one racing sweeper win */
	}
	closedir(d);
}

/* A container's request whose container is gone (its directory's
 * config.json, the first thing `rm` removes, is not there). */
static bool ctr_gone(const char *path)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(path, 1 << 20, &text, &len, &e) < 0) {
		cb_error_release(&e);
		return false;
	}
	json_t *req = json_loads(text, 0, NULL);
	const char *dir = json_string_value(json_object_get(req, "cbuild_dir"));
	bool gone = false;
	if (dir) {
		_cleanup_free_ char *cfg = cb_path_join(dir, "config.json");
		struct stat sb;
		gone = stat(cfg, &sb) < 0 && errno == ENOENT;
	}
	json_decref(req);
	return gone;
}

/* NAME is ID.json.down-PID of a teardown whose process died: take it
 * back as a request and tear down again. */
static void redo_teardown(const char *dir, const char *name)
{
	const char *mark = strstr(name, ".json.down-");
	if (!mark || !pid_gone(strtol(mark + 11, NULL, 10)))
		return;
	char id[NAME_MAX + 1];
	snprintf(id, sizeof id, "%.*s", (int)(mark - name), name);
	_cleanup_free_ char *from = cb_path_join(dir, name);
	_cleanup_free_ char *to = rt_nav_run_path("netns/%s%s", id, ".json");
	/* link: one of two sweepers gets it; a new request of the same ID
	 * (the container started again) is not overwritten */
	if (link(from, to) == 0) {
		unlink(from);
		rt_nav_detach(id);
	} else if (errno == EEXIST) {
		unlink(from); /* a newer request holds what is left */
	}
}

/* NAME is ID.json.tmp-PID, a request being written: gone with its
 * process, it is half of one. */
static void drop_partial(const char *dir, const char *name)
{
	const char *mark = strstr(name, ".json.tmp-");
	if (!mark || !pid_gone(strtol(mark + 10, NULL, 10)))
		return;
	_cleanup_free_ char *p = cb_path_join(dir, name);
	unlink(p);
}

static void sweep_namespaces(void)
{
	_cleanup_free_ char *dir = rt_nav_run_path("netns%s%s", "", "");
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *name = de->d_name, *dot = strstr(name, ".json");
		if (!dot)
			continue;
		if (dot[5]) {
			redo_teardown(dir, name);
			drop_partial(dir, name);
			continue;
		}
		_cleanup_free_ char *path = cb_path_join(dir, name);
		char id[NAME_MAX + 1];
		snprintf(id, sizeof id, "%.*s", (int)(dot - name), name);
		if (ctr_gone(path))
			rt_nav_detach(id);
	}
	closedir(d);
}

/* An address claim ("ID\nPID\n") with no request of ID and a dead PID:
 * its process was killed between the claim and the request; and a claim's
 * temporary file (.claim-PID-*) of a dead PID. */
static void sweep_addresses(void)
{
	_cleanup_free_ char *top = rt_nav_run_path("ipam%s%s", "", "");
	DIR *d = opendir(top);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *bdir = cb_path_join(top, de->d_name);
		DIR *b = opendir(bdir);
		struct dirent *ip;
		while (b && (ip = readdir(b))) {
			_cleanup_free_ char *p = cb_path_join(bdir, ip->d_name);
			if (!strncmp(ip->d_name, ".claim-", 7) && pid_gone(strtol(ip->d_name + 7, NULL, 10)))
				unlink(p); /* a claim being written when its process died */
			if (ip->d_name[0] == '.')
				continue;
			_cleanup_free_ char *text = NULL;
			size_t len;
			cb_error_t e = CB_ERROR_INIT;
			if (cb_read_file(p, 256, &text, &len, &e) < 0) {
				cb_error_release(&e);
				continue;
			}
			char *nl = strchr(text, '\n');
			if (!nl || !pid_gone(strtol(nl + 1, NULL, 10)))
				continue; /* an older claim (no pid), or its process lives */
			*nl = 0;
			_cleanup_free_ char *req = rt_nav_run_path("netns/%s%s", text, ".json");
			if (!cb_path_exists(req))
				unlink(p);
		}
		if (b)
			closedir(b);
	}
	if (d)
		closedir(d);
}

/* The pid of the run directory's aardvark-dns (dir), 0 when none runs:
 * its command line must name dir (not a reused pid's). */
static long dns_pid(const char *dir, const char *pidf)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	long pid = 0;
	if (cb_read_file(pidf, 64, &text, &len, &e) == 0)
		pid = strtol(text, NULL, 10);
	cb_error_release(&e);
	char cmdp[64], cmd[PATH_MAX + 256] = "";
	snprintf(cmdp, sizeof cmdp, "/proc/%ld/cmdline", pid);
	FILE *f = pid > 0 ? fopen(cmdp, "re") : NULL;
	size_t n = f ? fread(cmd, 1, sizeof cmd - 1, f) : 0;
	if (f)
		fclose(f);
	for (size_t i = 0; i < n; i++)
		cmd[i] = cmd[i] ? cmd[i] : ' ';
	cmd[n] = 0;
	return strstr(cmd, "aardvark-dns") && strstr(cmd, dir) ? pid : 0;
}

/* Entries (one per network, named by its bridge) of the run directory's
 * aardvark-dns whose bridge is gone: their removal was cut short. An
 * entry keeps netavark's resolver running, bound to port 53 of its
 * gateway; the next network given that subnet (its claim is free again)
 * cannot bind there, and its members' names do not resolve (t2301 beside
 * another suite). They go, and a resolver left with none is stopped (as
 * netavark does after the last); under the lock netavark runs under, so
 * no setup or teardown is between its entry and its bridge. */
static void sweep_dns(void)
{
	_cleanup_free_ char *dir = rt_nav_run_path("aardvark/aardvark-dns%s%s", "", "");
	_cleanup_free_ char *pidf = cb_path_join(dir, "aardvark.pid");
	if (!cb_path_exists(pidf))
		return;
	cb_error_t e = CB_ERROR_INIT;
	int lock = rt_nav_lock_firewall(&e);
	if (lock < 0) {
		cb_error_release(&e);
		return;
	}
	DIR *d = opendir(dir);
	int left = 0, dropped = 0;
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "aardvark.pid"))
			continue;
		if (if_nametoindex(de->d_name) != 0) {
			left++;
			continue;
		}
		_cleanup_free_ char *p = cb_path_join(dir, de->d_name);
		dropped += unlink(p) == 0;
	}
	if (d)
		closedir(d);
	long pid = dns_pid(dir, pidf);
	if (pid > 0 && !left && kill((pid_t)pid, SIGTERM) == 0)
		unlink(pidf);
	else if (pid > 0 && dropped)
		kill((pid_t)pid, SIGHUP); /* aardvark-dns reads its entries again */
	close(lock);
}

void rt_nav_sweep_gone(void)
{
	if (geteuid() != 0)
		return; /* no bridges: nothing of ours in a run directory */
	rt_netpool_sweep(); /* pools of removed stores, leases of killed builds */
	rt_nav_sweep("build-");
	rt_nav_sweep("scrub-"); /* of network rm */
	sweep_namespaces();
	sweep_addresses();
	sweep_dns();
}
