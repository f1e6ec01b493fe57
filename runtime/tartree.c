/* A file or tree as a tar stream, read through O_NOFOLLOW directory fds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/tartree.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/archive_lazy.h"
#include "store/layer.h"

typedef struct tw {
	struct archive *a;
	const rt_tartree_opts_t *o;
	char buf[64 * 1024];
} tw_t;

static int tar_fail(tw_t *w, cb_error_t *err, const char *what)
{
	const char *msg = archive_error_string(w->a);
	return cb_error_fail(err, archive_errno(w->a), "write tar entry '%s': %s", what,
			     msg ? msg : "failed");
}

static int send_data(tw_t *w, int fd, const char *ename, cb_error_t *err)
{
	for (;;) {
		ssize_t n = read(fd, w->buf, sizeof w->buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cb_error_errno(err, "read '%s'", ename);
		if (n == 0)
			return 0;
		if (archive_write_data(w->a, w->buf, (size_t)n) != n)
			return tar_fail(w, err, ename);
	}
}

static int send_tree(tw_t *w, int dirfd, const char *name, const char *ename, bool top,
		     cb_error_t *err);

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The children of an open directory, sorted (a stable stream). */
static int send_children(tw_t *w, int fd, const char *ename, cb_error_t *err)
{
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return cb_error_errno(err, "read directory '%s'", ename);
	}
	_cleanup_strv_ char **names = cb_xcalloc(1, sizeof(char *));
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			names = cb_strv_push(names, de->d_name);
	closedir(d);
	size_t n = cb_strv_len(names);
	qsort(names, n, sizeof(char *), by_name);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *child =
			*ename ? cb_asprintf("%s/%s", ename, names[i]) : cb_xstrdup(names[i]);
		if (send_tree(w, fd, names[i], child, false, err) < 0)
			return -1;
	}
	return 0;
}

/* The header of one entry from its stat; symlink targets read here. */
static int send_header(tw_t *w, int dirfd, const char *name, const char *ename,
		       const struct stat *sb, cb_error_t *err)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, ename);
	archive_entry_set_filetype(e, sb->st_mode & S_IFMT);
	archive_entry_set_perm(e, sb->st_mode & 07777);
	archive_entry_set_uid(e, w->o->zero_ids ? 0 : sb->st_uid);
	archive_entry_set_gid(e, w->o->zero_ids ? 0 : sb->st_gid);
	archive_entry_set_mtime(e, sb->st_mtim.tv_sec, sb->st_mtim.tv_nsec);
	archive_entry_set_size(e, S_ISREG(sb->st_mode) ? sb->st_size : 0);
	if (S_ISLNK(sb->st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
		if (n < 0) {
			archive_entry_free(e);
			return cb_error_errno(err, "read link '%s'", ename);
		}
		target[n] = 0;
		archive_entry_set_symlink(e, target);
	}
	int r = archive_write_header(w->a, e);
	archive_entry_free(e);
	return r < ARCHIVE_WARN ? tar_fail(w, err, ename) : 0;
}

static int send_tree(tw_t *w, int dirfd, const char *name, const char *ename, bool top,
		     cb_error_t *err)
{
	/* below the top nothing is followed; the top only with -L */
	int nofollow = top && w->o->follow ? 0 : O_NOFOLLOW;
	struct stat sb;
	if (fstatat(dirfd, name, &sb, nofollow ? AT_SYMLINK_NOFOLLOW : 0) < 0)
		return cb_error_errno(err, "'%s'", ename);
	if (S_ISSOCK(sb.st_mode) || S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode))
		return 0;
	if (S_ISDIR(sb.st_mode)) {
		_cleanup_close_ int fd =
			openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | nofollow);
		if (fd < 0)
			return cb_error_errno(err, "open '%s'", ename);
		if (*ename && send_header(w, dirfd, name, ename, &sb, err) < 0)
			return -1;
		return send_children(w, fd, ename, err);
	}
	if (send_header(w, dirfd, name, ename, &sb, err) < 0)
		return -1;
	if (!S_ISREG(sb.st_mode))
		return 0;
	/* O_NONBLOCK: a file swapped for a fifo meanwhile does not hang us */
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | nofollow);
	if (fd < 0)
		return cb_error_errno(err, "open '%s'", ename);
	return send_data(w, fd, ename, err);
}

int rt_tartree_write(int dirfd, const char *name, const char *entry_name,
		     const rt_tartree_opts_t *o, int out, cb_error_t *err)
{
	tw_t *w = cb_xcalloc(1, sizeof *w);
	w->o = o;
	w->a = archive_write_new();
	int rc;
	if (archive_write_set_format_pax_restricted(w->a) < ARCHIVE_OK ||
	    archive_write_open_fd(w->a, out) < ARCHIVE_OK)
		rc = tar_fail(w, err, entry_name);
	else
		rc = send_tree(w, dirfd, name, entry_name, true, err);
	if (archive_write_close(w->a) < ARCHIVE_OK && rc == 0)
		rc = tar_fail(w, err, entry_name);
	archive_write_free(w->a);
	free(w);
	return rc;
}

typedef struct producer {
	int dirfd;
	const char *name;
	const char *entry;
	const rt_tartree_opts_t *o;
	int out;
	cb_error_t err;
	int rc;
} producer_t;

static void *produce(void *arg)
{
	producer_t *p = arg;
	p->rc = rt_tartree_write(p->dirfd, p->name, p->entry, p->o, p->out, &p->err);
	close(p->out);
	return NULL;
}

int rt_tartree_copy(int dirfd, const char *name, const char *entry_name,
		    const rt_tartree_opts_t *o, const char *dest, unsigned apply_flags,
		    cb_error_t *err)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return cb_error_errno(err, "pipe");
	/* the extractor may stop early: the producer gets EPIPE, not a signal */
	signal(SIGPIPE, SIG_IGN);
	producer_t p = {.dirfd = dirfd, .name = name, .entry = entry_name, .o = o,
			.out = fds[1], .err = CB_ERROR_INIT};
	pthread_t th;
	if (pthread_create(&th, NULL, produce, &p) != 0) {
		close(fds[0]), close(fds[1]);
		return cb_error_fail(err, EAGAIN, "start the copy's reader thread");
	}
	int rc = layer_apply(fds[0], dest, apply_flags, NULL, NULL, err);
	close(fds[0]);
	pthread_join(th, NULL);
	if (p.rc < 0 && rc == 0) {
		cb_error_move(err, &p.err);
		rc = -1;
	}
	cb_error_release(&p.err);
	return rc;
}
