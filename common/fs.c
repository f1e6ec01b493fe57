#include "common/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cancel.h"
#include "common/util.h"

int cb_lock_path(const char *path, mode_t mode, cb_error_t *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode);
	if (fd < 0)
		return cb_error_errno(err, "open '%s'", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			errno = e;
			return cb_error_errno(err, "lock '%s'", path);
		}
	}
	return fd;
}

int cb_mkdir_p(const char *path, mode_t mode, cb_error_t *err)
{
	_cleanup_free_ char *p = cb_xstrdup(path);
	size_t len = strlen(p);
	for (size_t i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char saved = p[i];
		p[i] = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return cb_error_errno(err, "create directory '%s'", p);
		p[i] = saved;
	}
	struct stat st;
	if (stat(path, &st) < 0)
		return cb_error_errno(err, "create directory '%s'", path);
	if (!S_ISDIR(st.st_mode))
		return cb_error_set(err, ENOTDIR, "create directory '%s'", path);
	return 0;
}

static int rm_rf_at(int dirfd, const char *name, dev_t dev, const char *shown, cb_error_t *err);

static int rm_dir_contents(int fd, dev_t dev, const char *shown, cb_error_t *err)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return cb_error_errno(err, "open directory '%s'", shown);
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (rm_rf_at(dirfd(d), de->d_name, dev, shown, err) < 0) {
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}

static int rm_rf_at(int dirfd, const char *name, dev_t dev, const char *shown, cb_error_t *err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return cb_error_errno(err, "remove '%s/%s'", shown, name);
	}
	if (S_ISDIR(st.st_mode)) {
		if (st.st_dev != dev)
			return cb_error_set(err, EBUSY, "remove '%s/%s': a mount point", shown, name);
		int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			/* a directory without permission bits: make it readable */
			if (errno == EACCES && fchmodat(dirfd, name, 0700, 0) == 0)
				fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				return cb_error_errno(err, "remove '%s/%s'", shown, name);
		}
		if (rm_dir_contents(fd, dev, shown, err) < 0)
			return -1;
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return cb_error_errno(err, "remove '%s/%s'", shown, name);
		return 0;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return cb_error_errno(err, "remove '%s/%s'", shown, name);
	return 0;
}

int cb_rm_rf(const char *path, cb_error_t *err)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return cb_error_errno(err, "remove '%s'", path);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return cb_error_errno(err, "remove '%s'", path);
		return 0;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "remove '%s'", path);
	if (rm_dir_contents(fd, st.st_dev, path, err) < 0)
		return -1;
	if (rmdir(path) < 0 && errno != ENOENT)
		return cb_error_errno(err, "remove '%s'", path);
	return 0;
}

int cb_read_file(const char *path, size_t max, char **data, size_t *len, cb_error_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "open '%s'", path);
	cb_buf_t b;
	cb_buf_init(&b);
	for (;;) {
		cb_buf_grow(&b, 65536);
		ssize_t n = read(fd, b.data + b.len, b.cap - b.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cb_buf_release(&b);
			return cb_error_errno(err, "read '%s'", path);
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		if (b.len > max) {
			cb_buf_release(&b);
			return cb_error_set(err, EFBIG, "read '%s': larger than %zu bytes", path, max);
		}
	}
	b.data[b.len] = '\0';
	*data = cb_buf_detach(&b, len);
	cb_buf_release(&b); /* detach re-initialises b with a fresh buffer */
	return 0;
}

int cb_write_all(int fd, const void *data, size_t len, cb_error_t *err)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cb_error_errno(err, "write");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t cb_read_all(int fd, void *data, size_t len, cb_error_t *err)
{
	char *p = data;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cb_error_errno(err, "read");
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

bool cb_in_initial_userns(void)
{
	_cleanup_free_ char *map = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file("/proc/self/uid_map", 4096, &map, NULL, &e) < 0) {
		cb_error_release(&e);
		return true;
	}
	unsigned long inside, outside, count;
	return sscanf(map, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 &&
	       outside == 0 && count == 4294967295UL;
}

int cb_fsync_dir(const char *dir, cb_error_t *err)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "open directory '%s'", dir);
	if (fsync(fd) < 0)
		return cb_error_errno(err, "fsync '%s'", dir);
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return cb_xstrdup(".");
	if (slash == path)
		return cb_xstrdup("/");
	return cb_xstrndup(path, (size_t)(slash - path));
}

int cb_write_file_atomic(const char *path, const char *tmpdir, const void *data, size_t len,
			 mode_t mode, cb_error_t *err)
{
	return cb_write_file_replace(path, tmpdir, data, len, mode, true, err);
}

int cb_write_file_replace(const char *path, const char *tmpdir, const void *data, size_t len,
			  mode_t mode, bool durable, cb_error_t *err)
{
	_cleanup_free_ char *dir = dir_of(path);
	_cleanup_free_ char *tmp = cb_asprintf("%s/.tmp-XXXXXX", tmpdir ? tmpdir : dir);
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return cb_error_errno(err, "create temporary file for '%s'", path);
	if (cb_write_all(fd, data, len, err) < 0 || fchmod(fd, mode) < 0 ||
	    (durable && fsync(fd) < 0)) {
		if (!cb_error_is_set(err))
			cb_error_errno(err, "write");
		unlink(tmp);
		return cb_error_wrap(err, "write '%s'", path);
	}
	if (rename(tmp, path) < 0) {
		cb_error_errno(err, "rename into '%s'", path);
		unlink(tmp);
		return -1;
	}
	return durable ? cb_fsync_dir(dir, err) : 0;
}

char *cb_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (!*b)
		return cb_xstrndup(a, la);
	if (la == 1 && a[0] == '/')
		return cb_asprintf("/%s", b);
	return cb_asprintf("%.*s/%s", (int)la, a, b);
}

char *cb_path_clean(const char *path)
{
	bool rooted = path[0] == '/';
	size_t n = strlen(path);
	char *out = cb_xmalloc(n + 2);
	size_t w = 0;
	size_t dotdot = 0; /* where backtracking must stop */
	if (rooted) {
		out[w++] = '/';
		dotdot = 1;
	}
	size_t r = 0;
	while (r < n) {
		if (path[r] == '/') {
			r++;
		} else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
			r++;
		} else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			while (r < n && path[r] != '/')
				out[w++] = path[r++];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

bool cb_path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

bool cb_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool cb_dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return false;
	struct dirent *de;
	bool empty = true;
	while (empty && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

char *cb_mkdtemp_in(const char *dir, const char *prefix, cb_error_t *err)
{
	char *p = cb_asprintf("%s/%sXXXXXX", dir, prefix);
	if (!mkdtemp(p)) {
		cb_error_errno(err, "create temporary directory in '%s'", dir);
		free(p);
		return NULL;
	}
	return p;
}

void cb_close_fds_from(int lowfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) == 0)
		return;
#endif
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		if (fd >= lowfd && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
}

static bool all_zero(const unsigned char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

size_t cb_zero_run(const void *buf, size_t size, uint64_t off, bool *zero)
{
	const unsigned char *p = buf;
	size_t run = 4096 - (size_t)(off % 4096);
	if (run > size)
		run = size;
	*zero = all_zero(p, run);
	while (run < size) {
		size_t c = size - run < 4096 ? size - run : 4096;
		/* a zero tail shorter than a block is written: it is no hole */
		bool z = c == 4096 && all_zero(p + run, c);
		if (z != *zero || (*zero && c < 4096))
			break;
		run += c;
	}
	return run;
}

bool cb_fd_has_holes(int fd)
{
	struct stat sb;
	return fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	       (uint64_t)sb.st_blocks * 512 < (uint64_t)sb.st_size;
}

ssize_t cb_read_holes(int fd, void *buf, size_t n, bool *hole)
{
	*hole = false;
	off_t pos = lseek(fd, 0, SEEK_CUR);
	off_t data = pos < 0 ? -1 : lseek(fd, pos, SEEK_DATA);
	struct stat sb;
	if (data < 0 && errno == ENXIO && fstat(fd, &sb) == 0)
		data = sb.st_size > pos ? sb.st_size : pos; /* a hole to the end */
	if (data < 0 || data == pos) {
		/* data here (or no SEEK_DATA): read it up to the next hole */
		off_t end = data < 0 ? -1 : lseek(fd, pos, SEEK_HOLE);
		if (end > pos && (uint64_t)(end - pos) < n)
			n = (size_t)(end - pos);
		if (pos >= 0)
			lseek(fd, pos, SEEK_SET);
		return read(fd, buf, n);
	}
	size_t run = (uint64_t)(data - pos) < n ? (size_t)(data - pos) : n;
	if (lseek(fd, pos + (off_t)run, SEEK_SET) < 0)
		return -1;
	memset(buf, 0, run);
	*hole = true;
	return (ssize_t)run;
}

static int copy_extent(int in, int out, off_t off, off_t end, char *buf, size_t bufsize,
		       cb_error_t *err)
{
	while (off < end) {
		if (cb_cancel_check(err) < 0)
			return -1;
		size_t want = (uint64_t)(end - off) < bufsize ? (size_t)(end - off) : bufsize;
		ssize_t n = pread(in, buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? cb_error_errno(err, "read") : 0; /* shrank meanwhile */
		for (ssize_t done = 0, w; done < n; done += w) {
			w = pwrite(out, buf + done, (size_t)(n - done), off + done);
			if (w < 0 && errno != EINTR)
				return cb_error_errno(err, "write");
			w = w < 0 ? 0 : w;
		}
		off += n;
	}
	return 0;
}

int cb_copy_sparse(int in, int out, cb_error_t *err)
{
	enum { BUF = 1 << 20 };
	struct stat sb;
	if (fstat(in, &sb) < 0)
		return cb_error_errno(err, "stat");
	_cleanup_free_ char *buf = cb_xmalloc(BUF);
	for (off_t pos = 0; pos < sb.st_size;) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* a hole to the end */
		off_t end = data < 0 ? -1 : lseek(in, data, SEEK_HOLE);
		if (data < 0 || end < 0) /* no SEEK_DATA here: all of it is data */
			data = pos, end = sb.st_size;
		if (copy_extent(in, out, data, end, buf, BUF, err) < 0)
			return -1;
		pos = end;
	}
	if (ftruncate(out, sb.st_size) < 0)
		return cb_error_errno(err, "set the size");
	return 0;
}

const char *cb_fs_type_name(const char *path)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} known[] = {
		{0xEF53, "ext4"},       {0x58465342, "xfs"},   {0x9123683E, "btrfs"},
		{0x794c7630, "overlay"}, {0x01021994, "tmpfs"}, {0x2fc12fc1, "zfs"},
		{0x6969, "nfs"},        {0x65735546, "fuse"},  {0x858458f6, "ramfs"},
	};
	struct statfs s;
	if (statfs(path, &s) < 0)
		return "unknown";
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if ((unsigned long)s.f_type == known[i].magic)
			return known[i].name;
	return "other";
}
