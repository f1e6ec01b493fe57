/* common/libprefetch: the DT_NEEDED closure it reads ahead is the set of
 * libraries ld.so then loads (libcurl's 25, checked in a child that had
 * none of them); libraries already loaded are left out unless asked for;
 * a missing name gives nothing; truncated, empty, garbage, foreign-class
 * and foreign-byte-order files give themselves and nothing more (no read
 * past what they hold), even when a library they name is at hand. */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "common/libprefetch.h"
#include "common/util.h"

#define CURL_SONAME "libcurl.so.4"

typedef struct {
	char **names;
	size_t n;
} names_t;

static int collect_loaded(struct dl_phdr_info *info, size_t sz, void *ud)
{
	(void)sz;
	names_t *s = ud;
	const char *slash = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
	if (slash && slash[1]) {
		s->names = cb_xreallocarray(s->names, s->n + 1, sizeof(*s->names));
		s->names[s->n++] = cb_xstrdup(slash + 1);
	}
	return 0;
}

static bool has_name(const names_t *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return true;
	return false;
}

static void names_free(names_t *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
}

static const char *base(const char *p) { return strrchr(p, '/') ? strrchr(p, '/') + 1 : p; }

/* In a child (the parent's other tests may load libcurl): closure first,
 * then dlopen; every library the dlopen added is in the closure and the
 * closure holds nothing else. Exit status: 0 when they agree. */
static int closure_vs_dlopen_child(void)
{
	if (dlopen(CURL_SONAME, RTLD_NOW | RTLD_NOLOAD)) {
		fprintf(stderr, "libcurl is loaded already: the test proves nothing\n");
		return 3;
	}
	char **paths;
	size_t n = cb_library_closure(NULL, CURL_SONAME, false, true, &paths);
	names_t before = {0}, after = {0};
	dl_iterate_phdr(collect_loaded, &before);
	if (!dlopen(CURL_SONAME, RTLD_NOW)) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 4;
	}
	dl_iterate_phdr(collect_loaded, &after);
	int bad = 0;
	size_t added = 0;
	for (size_t i = 0; i < after.n; i++) {
		if (has_name(&before, after.names[i]))
			continue;
		added++;
		bool found = false;
		for (size_t k = 0; k < n; k++)
			found = found || !strcmp(base(paths[k]), after.names[i]);
		if (!found) {
			fprintf(stderr, "loaded but not in the closure: %s\n", after.names[i]);
			bad = 1;
		}
	}
	if (added != n) {
		fprintf(stderr, "closure has %zu libraries, dlopen added %zu\n", n, added);
		bad = 1;
	}
	if (n < 10) {
		fprintf(stderr, "closure of %s has only %zu libraries\n", CURL_SONAME, n);
		bad = 1;
	}
	if (n && strcmp(base(paths[0]), CURL_SONAME) != 0)
		bad = 1; /* breadth first: the library itself comes first */
	names_free(&before);
	names_free(&after);
	cb_library_closure_free(paths, n);
	return bad;
}

static void test_closure_is_what_dlopen_loads(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(closure_vs_dlopen_child());
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_loaded_ones_left_out(void **state)
{
	(void)state;
	char **with, **without;
	size_t nw = cb_library_closure(NULL, CURL_SONAME, true, false, &with);
	size_t nwo = cb_library_closure(NULL, CURL_SONAME, false, false, &without);
	bool libc_with = false, libc_without = false;
	for (size_t i = 0; i < nw; i++)
		libc_with = libc_with || cb_str_has_prefix(base(with[i]), "libc.so.");
	for (size_t i = 0; i < nwo; i++)
		libc_without = libc_without || cb_str_has_prefix(base(without[i]), "libc.so.");
	assert_true(libc_with);     /* libcurl needs libc ... */
	assert_false(libc_without); /* ... which this process has loaded */
	assert_true(nw > nwo);
	cb_library_closure_free(with, nw);
	cb_library_closure_free(without, nwo);
	cb_prefetch_library(CURL_SONAME); /* the public call: no crash, nothing to check */
}

static void test_missing_name(void **state)
{
	(void)state;
	char **paths;
	size_t n = cb_library_closure(NULL, "libcbuild-not-there.so.9", false, true, &paths);
	assert_int_equal(n, 0);
	cb_library_closure_free(paths, n);
	cb_prefetch_library("libcbuild-not-there.so.9");
}

static char *write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char *p = cb_asprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return p;
}

/* The bytes of the file at path. */
static char *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	char *data = cb_xmalloc((size_t)st.st_size);
	assert_int_equal(read(fd, data, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return data;
}

static size_t closure_len(const char *dir, const char *soname)
{
	char **paths;
	size_t n = cb_library_closure(dir, soname, true, true, &paths);
	cb_library_closure_free(paths, n);
	return n;
}

static void test_bad_files_give_only_themselves(void **state)
{
	(void)state;
	char dir[] = "/tmp/cbuild-test-libprefetch-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char **real;
	size_t nreal = cb_library_closure(NULL, CURL_SONAME, true, false, &real);
	assert_true(nreal >= 2);
	size_t len, dep_len;
	char *curl = read_all(real[0], &len);
	assert_true(len > 65536);
	/* whole: none of its NEEDED names is in this directory yet */
	free(write_file(dir, "libwhole.so.1", curl, len));
	assert_int_equal(closure_len(dir, "libwhole.so.1"), 1);
	/* cut anywhere: before the program headers, inside them, before the
	 * dynamic section, in the middle */
	static const size_t cuts[] = {0, 16, 63, 64, 100, 4096, 65536};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		free(write_file(dir, "libcut.so.1", curl, cuts[i]));
		assert_int_equal(closure_len(dir, "libcut.so.1"), 1);
	}
	free(write_file(dir, "libcut.so.1", curl, len / 2));
	assert_int_equal(closure_len(dir, "libcut.so.1"), 1);
	/* From here on libwhole's first NEEDED library (breadth first:
	 * real[1]) is in the directory: a file read as an ELF object would
	 * bring it in; one that is refused gives only itself. */
	char *dep = read_all(real[1], &dep_len);
	free(write_file(dir, base(real[1]), dep, dep_len));
	free(dep);
	assert_int_equal(closure_len(dir, "libwhole.so.1"), 2);
	/* another ELF class */
	char *other = cb_xmalloc(len);
	memcpy(other, curl, len);
	other[EI_CLASS] = sizeof(void *) == 8 ? ELFCLASS32 : ELFCLASS64;
	free(write_file(dir, "libother.so.1", other, len));
	assert_int_equal(closure_len(dir, "libother.so.1"), 1);
	/* the other byte order */
	memcpy(other, curl, len);
	other[EI_DATA] = other[EI_DATA] == ELFDATA2LSB ? ELFDATA2MSB : ELFDATA2LSB;
	free(write_file(dir, "libendian.so.1", other, len));
	assert_int_equal(closure_len(dir, "libendian.so.1"), 1);
	/* program headers that claim to lie past the end */
	memcpy(other, curl, len);
	ElfW(Ehdr) *eh = (ElfW(Ehdr) *)other;
	eh->e_phoff = len - 8;
	free(write_file(dir, "libphoff.so.1", other, len));
	assert_int_equal(closure_len(dir, "libphoff.so.1"), 1);
	/* garbage */
	for (size_t i = 0; i < len; i++)
		other[i] = (char)(i * 2654435761u >> 13);
	free(write_file(dir, "libjunk.so.1", other, len));
	assert_int_equal(closure_len(dir, "libjunk.so.1"), 1);
	cb_library_closure_free(real, nreal);
	free(curl);
	free(other);
	char *cmd = cb_asprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closure_is_what_dlopen_loads),
		cmocka_unit_test(test_loaded_ones_left_out),
		cmocka_unit_test(test_missing_name),
		cmocka_unit_test(test_bad_files_give_only_themselves),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
