/* Reading a container's log (runtime/log.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "runtime/log.h"

void rt_log_init(rt_log_reader_t *r, const rt_ctr_t *c)
{
	memset(r, 0, sizeof(*r));
	r->path = cb_path_join(c->dir, "log");
	r->fd = -1;
	r->max_file = c->log_max_size > 0 ? c->log_max_file : 0;
	cb_buf_init(&r->buf);
}

void rt_log_release(rt_log_reader_t *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->path);
	r->path = NULL;
	cb_buf_release(&r->buf);
}

/* The rotated files, oldest first (log.N-1 ... log.1), into buf. */
static int read_rotated(const char *path, int max_file, cb_buf_t *buf, cb_error_t *err)
{
	for (int i = max_file - 1; i >= 1; i--) {
		_cleanup_free_ char *p = cb_asprintf("%s.%d", path, i);
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		cb_error_t e = CB_ERROR_INIT;
		if (cb_read_file(p, SIZE_MAX / 2, &data, &len, &e) < 0) {
			bool missing = e.code == ENOENT;
			if (!missing) {
				cb_error_move(err, &e);
				return -1;
			}
			cb_error_release(&e);
			continue;
		}
		cb_buf_add(buf, data, len);
	}
	return 0;
}

int rt_log_open(rt_log_reader_t *r, bool rotated, cb_error_t *err)
{
	r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return cb_error_errno(err, "open '%s'", r->path);
	if (rotated && r->max_file > 0 && read_rotated(r->path, r->max_file, &r->buf, err) < 0)
		return -1;
	return 0;
}

int rt_log_read(rt_log_reader_t *r, const char **data, size_t *len, cb_error_t *err)
{
	if (r->fd < 0)
		r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
	if (r->fd >= 0) {
		char chunk[65536];
		ssize_t n;
		while ((n = read(r->fd, chunk, sizeof chunk)) > 0)
			cb_buf_add(&r->buf, chunk, (size_t)n);
		if (n < 0 && errno != EINTR)
			return cb_error_errno(err, "read '%s'", r->path);
	}
	size_t end = r->buf.len;
	while (end && r->buf.data[end - 1] != '\n')
		end--;
	*data = r->buf.data;
	*len = end;
	return 0;
}

void rt_log_consume(rt_log_reader_t *r, size_t used)
{
	memmove(r->buf.data, r->buf.data + used, r->buf.len - used);
	r->buf.len -= used;
	r->buf.data[r->buf.len] = 0;
}

/* The file that came after ours (inode ino): log.I-1 when ours is log.I
 * now, the oldest kept when ours was rotated out, the live log last. Two
 * rotations between two looks would otherwise skip the middle file. */
static char *next_file(const rt_log_reader_t *r, ino_t ino)
{
	struct stat st;
	for (int i = 1; i < r->max_file; i++) {
		_cleanup_free_ char *p = cb_asprintf("%s.%d", r->path, i);
		if (stat(p, &st) == 0 && st.st_ino == ino)
			return i == 1 ? cb_xstrdup(r->path) : cb_asprintf("%s.%d", r->path, i - 1);
	}
	for (int i = r->max_file - 1; i >= 1; i--) {
		char *p = cb_asprintf("%s.%d", r->path, i);
		if (stat(p, &st) == 0)
			return p;
		free(p);
	}
	return cb_xstrdup(r->path);
}

bool rt_log_follow_rotation(rt_log_reader_t *r)
{
	struct stat now, ours;
	if (r->fd < 0 || fstat(r->fd, &ours) < 0 || stat(r->path, &now) < 0)
		return false;
	if (now.st_ino != ours.st_ino) {
		_cleanup_free_ char *next = next_file(r, ours.st_ino);
		int nfd = open(next, O_RDONLY | O_CLOEXEC);
		if (nfd < 0)
			return false;
		close(r->fd);
		r->fd = nfd;
		return true;
	}
	if (lseek(r->fd, 0, SEEK_CUR) > ours.st_size) {
		lseek(r->fd, 0, SEEK_SET);
		return true;
	}
	return false;
}

bool rt_log_parse(const char *rec, size_t len, rt_log_record_t *out)
{
	/* TIME SP STREAM SP F|P SP TEXT */
	const char *sp1 = memchr(rec, ' ', len);
	if (!sp1 || (size_t)(sp1 - rec) + 5 > len)
		return false;
	out->time = rec;
	out->time_len = (size_t)(sp1 - rec);
	out->stream = sp1[1] == '2' ? 2 : 1;
	out->full = sp1[3] == 'F';
	out->text = sp1 + 5;
	out->text_len = len - (size_t)(out->text - rec);
	return true;
}
