/* top and stats: a running container's processes and what they use, read
 * from /proc for every process of its PID namespace (a container has no
 * cgroup of its own unless a limit made one, so the per-process counters
 * are summed instead of a cgroup's). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "runtime/container_ops.h"
#include "common/fs.h"
#include "common/util.h"

extern char **environ;

/* ---- top ---- */

/* Run argv, its stdout into *out (at most max bytes). */
static int capture(char *const *argv, size_t max, cb_buf_t *out, cb_error_t *err)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return cb_error_errno(err, "pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc != 0) {
		close(fds[0]);
		errno = rc;
		return cb_error_errno(err, "run '%s'", argv[0]);
	}
	char buf[4096];
	ssize_t n;
	while ((n = read(fds[0], buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (out->len + (size_t)n <= max)
			cb_buf_add(out, buf, (size_t)n);
	}
	close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return cb_error_fail(err, EINVAL, "'%s' failed (exit %d): check the ps options",
				     argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : 128);
	return 0;
}

/* A ps output line as ncols fields: the last one takes the rest (CMD). */
static char **split_fields(char *line, size_t ncols)
{
	char **v = cb_xcalloc(1, sizeof(char *));
	char *p = line;
	for (size_t i = 0; *p; i++) {
		p += strspn(p, " ");
		if (!*p)
			break;
		size_t len = i + 1 == ncols ? strlen(p) : strcspn(p, " ");
		v = cb_strv_push_take(v, cb_xstrndup(p, len));
		p += len;
	}
	return v;
}

static bool has_pid(const pid_t *pids, size_t n, long pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

int rt_ctr_top(store_t *st, rt_ctr_t *c, char *const *ps_args, char ****rows, cb_error_t *err)
{
	if (rt_ctr_refresh(st, c, err) < 0)
		return -1;
	pid_t *pids = NULL;
	size_t np = 0;
	if (rt_ctr_pids(c, &pids, &np, err) < 0)
		return -1;
	/* docker's daemon does the same: ps over the host, rows kept by PID */
	_cleanup_strv_ char **argv = cb_strv_push(NULL, "ps");
	if (!ps_args || !ps_args[0])
		argv = cb_strv_push(argv, "-ef");
	for (size_t i = 0; ps_args && ps_args[i]; i++)
		argv = cb_strv_push(argv, ps_args[i]);
	cb_buf_t out;
	cb_buf_init(&out);
	int rc = capture(argv, 16u << 20, &out, err);
	char ***v = cb_xcalloc(1, sizeof(char **));
	size_t nv = 0, ncols = 0, pid_col = SIZE_MAX;
	char *save = NULL;
	for (char *line = rc == 0 ? strtok_r(out.data, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!ncols) {
			char **h = split_fields(line, SIZE_MAX);
			ncols = cb_strv_len(h);
			for (size_t i = 0; i < ncols; i++)
				if (!strcmp(h[i], "PID"))
					pid_col = i;
			if (pid_col == SIZE_MAX) {
				cb_strv_free(h);
				rc = cb_error_fail(err, EINVAL, "ps printed no PID column: add "
								"one (-o pid,...)");
				break;
			}
			v[nv++] = h;
			v = cb_xreallocarray(v, nv + 1, sizeof(char **));
			v[nv] = NULL;
			continue;
		}
		char **f = split_fields(line, ncols);
		if (cb_strv_len(f) > pid_col && has_pid(pids, np, strtol(f[pid_col], NULL, 10))) {
			v[nv++] = f;
			v = cb_xreallocarray(v, nv + 1, sizeof(char **));
			v[nv] = NULL;
		} else {
			cb_strv_free(f);
		}
	}
	cb_buf_release(&out);
	free(pids);
	if (rc < 0) {
		rt_ctr_top_free(v);
		return -1;
	}
	*rows = v;
	return 0;
}

void rt_ctr_top_free(char ***rows)
{
	for (size_t i = 0; rows && rows[i]; i++)
		cb_strv_free(rows[i]);
	free(rows);
}

/* ---- stats ---- */

/* The counters of one moment. */
typedef struct sample {
	uint64_t cpu_ticks;   /* utime+stime of every process (and of the
			       * children they have reaped) */
	struct timespec at;
} sample_t;

static bool read_small(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;
	if (n <= 0)
		return false;
	buf[n] = 0;
	return true;
}

/* Fields 14-17 (utime stime cutime cstime) and 20 (num_threads) of
 * /proc/PID/stat. */
static bool proc_stat(pid_t pid, uint64_t *ticks, uint64_t *threads)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (!read_small(path, buf, sizeof buf))
		return false;
	char *p = strrchr(buf, ')');
	if (!p)
		return false;
	unsigned long long f[20] = {0};
	/* after ')': field 3 (state) is a char, then 4.. are numbers */
	int n = sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu "
			      "%*d %*d %llu", &f[0], &f[1], &f[2], &f[3], &f[4]);
	if (n != 5)
		return false;
	*ticks = f[0] + f[1] + f[2] + f[3];
	*threads = f[4];
	return true;
}

static uint64_t field_of(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void take(const rt_ctr_t *c, sample_t *s, rt_ctr_stats_t *out)
{
	memset(s, 0, sizeof *s);
	clock_gettime(CLOCK_MONOTONIC, &s->at);
	pid_t *pids = NULL;
	size_t n = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (rt_ctr_pids(c, &pids, &n, &e) < 0) {
		cb_error_release(&e); /* it stopped: zeros, as docker shows */
		return;
	}
	long page = sysconf(_SC_PAGESIZE);
	out->pids = 0;
	out->mem_usage = out->blk_read = out->blk_write = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t ticks = 0, threads = 0;
		char path[64], buf[4096];
		if (!proc_stat(pids[i], &ticks, &threads))
			continue;
		s->cpu_ticks += ticks;
		out->pids += threads;
		snprintf(path, sizeof path, "/proc/%d/statm", (int)pids[i]);
		unsigned long long size = 0, rss = 0;
		if (read_small(path, buf, sizeof buf) && sscanf(buf, "%llu %llu", &size, &rss) == 2)
			out->mem_usage += rss * (uint64_t)page;
		snprintf(path, sizeof path, "/proc/%d/io", (int)pids[i]);
		if (read_small(path, buf, sizeof buf)) {
			out->blk_read += field_of(buf, "\nread_bytes: ");
			out->blk_write += field_of(buf, "\nwrite_bytes: ");
		}
	}
	free(pids);
}

/* Bytes in and out of the container's network namespace, lo aside; 0 for
 * the host's network (docker shows nothing there either). */
static void net_io(const rt_ctr_t *c, rt_ctr_stats_t *out)
{
	out->net_rx = out->net_tx = 0;
	if (!c->net_none && !c->net_pasta && !(c->networks && c->networks[0]))
		return;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/net/dev", (int)c->pid);
	FILE *f = fopen(path, "re");
	char line[512];
	while (f && fgets(line, sizeof line, f)) {
		char name[64];
		unsigned long long rx, tx;
		if (sscanf(line, " %63[^:]: %llu %*u %*u %*u %*u %*u %*u %*u %llu", name, &rx,
			   &tx) == 3 && strcmp(name, "lo")) {
			out->net_rx += rx;
			out->net_tx += tx;
		}
	}
	if (f)
		fclose(f);
}

static uint64_t mem_total(void)
{
	char buf[4096];
	if (!read_small("/proc/meminfo", buf, sizeof buf))
		return 0;
	return field_of(buf, "MemTotal:") * 1024;
}

int rt_ctr_stats(rt_ctr_t *const *cs, size_t n, int interval_ms, rt_ctr_stats_t *out,
		 cb_error_t *err)
{
	(void)err;
	sample_t *first = cb_xcalloc(n + 1, sizeof *first);
	uint64_t limit = mem_total();
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		take(cs[i], &first[i], &out[i]);
	}
	/* CPU % needs two readings: one sleep for every container at once */
	usleep((useconds_t)interval_ms * 1000);
	long hz = sysconf(_SC_CLK_TCK);
	for (size_t i = 0; i < n; i++) {
		sample_t second;
		take(cs[i], &second, &out[i]);
		net_io(cs[i], &out[i]);
		out[i].mem_limit = limit;
		double secs = (double)(second.at.tv_sec - first[i].at.tv_sec) +
			      (double)(second.at.tv_nsec - first[i].at.tv_nsec) / 1e9;
		uint64_t dt = second.cpu_ticks > first[i].cpu_ticks
				      ? second.cpu_ticks - first[i].cpu_ticks : 0;
		out[i].cpu_percent = secs > 0 && hz > 0 ? 100.0 * (double)dt / (double)hz / secs : 0;
	}
	free(first);
	return 0;
}
