#include "common/libprefetch.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/util.h"

/* Bounds for what a library's headers may claim (in this Debian's
 * /usr/lib/x86_64-linux-gnu, at most 14 program headers and 55 dynamic
 * entries, 880 bytes); beyond them a file is skipped. */
#define MAX_PHDRS 64
#define MAX_DYN_BYTES (64 * 1024)
#define MAX_LIBS 128
#define MAX_NAME 256

typedef struct {
	char *names[MAX_LIBS]; /* basenames seen: the closure, then loaded ones */
	size_t n;
} name_set_t;

static bool set_has(const name_set_t *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return true;
	return false;
}

static bool set_add(name_set_t *s, const char *name)
{
	if (s->n == MAX_LIBS || set_has(s, name))
		return false;
	s->names[s->n++] = cb_xstrdup(name);
	return true;
}

static bool pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	return pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

/* File offset of virtual address v (inside a PT_LOAD's file bytes). */
static bool vaddr_to_off(const ElfW(Phdr) *ph, size_t n, uint64_t v, uint64_t *off)
{
	for (size_t i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && v >= ph[i].p_vaddr &&
		    v - ph[i].p_vaddr < ph[i].p_filesz) {
			*off = ph[i].p_offset + (v - ph[i].p_vaddr);
			return true;
		}
	return false;
}

static bool read_phdrs(int fd, uint64_t size, ElfW(Phdr) *ph, size_t *n)
{
	ElfW(Ehdr) eh;
	if (!pread_all(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) ||
	    eh.e_ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB
									 : ELFDATA2MSB) ||
	    eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum == 0 || eh.e_phnum > MAX_PHDRS ||
	    eh.e_phoff > size || size - eh.e_phoff < (uint64_t)eh.e_phnum * sizeof(ElfW(Phdr)))
		return false;
	*n = eh.e_phnum;
	return pread_all(fd, ph, *n * sizeof(ElfW(Phdr)), eh.e_phoff);
}

/* Add the DT_NEEDED names of the ELF file fd to the set; names new to it
 * are appended after the ones there. A file that is not a well-formed
 * shared object of this machine's class adds nothing. */
static void add_needed(int fd, name_set_t *s)
{
	struct stat st;
	ElfW(Phdr) ph[MAX_PHDRS];
	size_t nph = 0;
	if (fstat(fd, &st) < 0 || !read_phdrs(fd, (uint64_t)st.st_size, ph, &nph))
		return;
	uint64_t size = (uint64_t)st.st_size;
	const ElfW(Phdr) *dp = NULL;
	for (size_t i = 0; i < nph; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			dp = &ph[i];
	if (!dp || dp->p_filesz > MAX_DYN_BYTES || dp->p_offset > size ||
	    size - dp->p_offset < dp->p_filesz)
		return;
	size_t ndyn = dp->p_filesz / sizeof(ElfW(Dyn));
	_cleanup_free_ ElfW(Dyn) *dyn = cb_xmalloc(ndyn ? ndyn * sizeof(*dyn) : 1);
	if (!pread_all(fd, dyn, ndyn * sizeof(*dyn), dp->p_offset))
		return;
	uint64_t strtab = 0, strsz = 0, stroff;
	for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		if (dyn[i].d_tag == DT_STRTAB)
			strtab = dyn[i].d_un.d_ptr;
		else if (dyn[i].d_tag == DT_STRSZ)
			strsz = dyn[i].d_un.d_val;
	}
	if (!vaddr_to_off(ph, nph, strtab, &stroff) || stroff > size || size - stroff < strsz)
		return;
	for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		if (dyn[i].d_tag != DT_NEEDED || dyn[i].d_un.d_val >= strsz)
			continue;
		char name[MAX_NAME];
		uint64_t left = strsz - dyn[i].d_un.d_val;
		size_t want = left < sizeof(name) ? (size_t)left : sizeof(name);
		ssize_t got = pread(fd, name, want, (off_t)(stroff + dyn[i].d_un.d_val));
		if (got <= 0 || !memchr(name, 0, (size_t)got))
			continue;
		if (name[0] && !strchr(name, '/'))
			set_add(s, name);
	}
}

static int note_loaded(struct dl_phdr_info *info, size_t sz, void *ud)
{
	(void)sz;
	const char *slash = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
	if (slash && slash[1])
		set_add(ud, slash + 1);
	return 0;
}

static int find_libc_dir(struct dl_phdr_info *info, size_t sz, void *ud)
{
	(void)sz;
	const char *name = info->dlpi_name;
	const char *slash = name ? strrchr(name, '/') : NULL;
	if (!slash || !cb_str_has_prefix(slash + 1, "libc.so."))
		return 0;
	*(char **)ud = cb_xstrndup(name, (size_t)(slash - name));
	return 1;
}

/* A library is a regular file: a NEEDED "." or ".." names a directory. */
static int open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		return -1;
	}
	return fd;
}

size_t cb_library_closure(const char *dir, const char *soname, bool include_loaded,
			  bool prefetch, char ***paths_out)
{
	_cleanup_free_ char *libc_dir = NULL;
	if (!dir)
		dl_iterate_phdr(find_libc_dir, &libc_dir);
	if (!dir && !(dir = libc_dir)) {
		*paths_out = NULL;
		return 0;
	}
	/* The loaded ones go first in the set, so that the closure never
	 * includes them; they are dropped from the output below. */
	name_set_t s = {.n = 0};
	if (!include_loaded)
		dl_iterate_phdr(note_loaded, &s);
	size_t first = s.n;
	char **paths = cb_xcalloc(MAX_LIBS, sizeof(*paths));
	size_t np = 0;
	if (set_add(&s, soname)) {
		/* One level of the tree at a time: ask for all of its files,
		 * then read their headers (the reads wait for the files asked
		 * for first while the others are on their way). */
		for (size_t lo = first, hi; lo < s.n; lo = hi) {
			hi = s.n;
			int fds[MAX_LIBS];
			for (size_t i = lo; i < hi; i++) {
				_cleanup_free_ char *p = cb_asprintf("%s/%s", dir, s.names[i]);
				fds[i - lo] = open_regular(p);
				if (fds[i - lo] < 0)
					continue;
				if (prefetch)
					(void)posix_fadvise(fds[i - lo], 0, 0, POSIX_FADV_WILLNEED);
				paths[np++] = cb_steal_pointer(&p);
			}
			for (size_t i = lo; i < hi; i++) {
				if (fds[i - lo] < 0)
					continue;
				add_needed(fds[i - lo], &s);
				close(fds[i - lo]);
			}
		}
	}
	for (size_t i = 0; i < s.n; i++)
		free(s.names[i]);
	*paths_out = paths;
	return np;
}

void cb_library_closure_free(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/* True when the first bytes of the file are in the page cache (or when
 * there is no file to read: dlopen will say what is wrong). */
static bool is_cached(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	char b[SELFMAG];
	struct iovec iov = {.iov_base = b, .iov_len = sizeof(b)};
	return preadv2(fd, &iov, 1, 0, RWF_NOWAIT) == (ssize_t)sizeof(b);
}

void cb_prefetch_library(const char *soname)
{
	_cleanup_free_ char *dir = NULL;
	dl_iterate_phdr(find_libc_dir, &dir);
	if (!dir)
		return;
	_cleanup_free_ char *first = cb_asprintf("%s/%s", dir, soname);
	if (is_cached(first))
		return;
	char **paths;
	size_t n = cb_library_closure(dir, soname, false, true, &paths);
	cb_library_closure_free(paths, n);
}
