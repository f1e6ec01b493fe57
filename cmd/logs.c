/* cbuild logs [-f] [--tail N] [-t] CONTAINER: the container's output from
 * its log (records "TIME STREAM F|P TEXT"), stdout to stdout, stderr to
 * stderr; -f follows until the container has exited. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/container.h"
#include "cmd/cmd.h"
#include "common/fs.h"
#include "common/util.h"

static void print_record(const char *rec, size_t len, bool stamps)
{
	/* TIME SP STREAM SP F|P SP TEXT */
	const char *sp1 = memchr(rec, ' ', len);
	if (!sp1 || (size_t)(sp1 - rec) + 5 > len)
		return;
	int stream = sp1[1] == '2' ? 2 : 1;
	bool full = sp1[3] == 'F';
	const char *text = sp1 + 5;
	size_t tlen = len - (size_t)(text - rec);
	FILE *out = stream == 2 ? stderr : stdout;
	/* keep the order of the two streams when they share a file */
	fflush(stream == 2 ? stdout : stderr);
	if (stamps)
		fprintf(out, "%.*s ", (int)(sp1 - rec), rec);
	fwrite(text, 1, tlen, out);
	if (full)
		fputc('\n', out);
}

/* Print complete records of buf[0..len) (all of them, or the last `tail`);
 * returns the bytes consumed. */
static size_t print_records(const char *buf, size_t len, long tail, bool stamps)
{
	size_t end = len;
	while (end && buf[end - 1] != '\n')
		end--;
	size_t start = 0;
	if (tail >= 0) {
		size_t p = end;
		long seen = 0;
		while (p > 0) {
			size_t q = p - 1;
			while (q > 0 && buf[q - 1] != '\n')
				q--;
			if (seen == tail)
				break;
			seen++;
			p = q;
		}
		start = p;
	}
	for (size_t p = start; p < end;) {
		const char *nl = memchr(buf + p, '\n', end - p);
		print_record(buf + p, (size_t)(nl - (buf + p)), stamps);
		p = (size_t)(nl - buf) + 1;
	}
	fflush(stdout);
	fflush(stderr);
	return end;
}

static bool still_running(store_t *st, bld_ctr_t *c)
{
	cb_error_t e = CB_ERROR_INIT;
	if (bld_ctr_refresh(st, c, &e) < 0) {
		cb_error_release(&e);
		return false; /* removed (--rm) */
	}
	return c->status == BLD_CTR_RUNNING;
}

int cmd_logs(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	static const struct option longopts[] = {{"follow", no_argument, NULL, 'f'},
						 {"tail", required_argument, NULL, 'n'},
						 {"timestamps", no_argument, NULL, 't'},
						 {NULL, 0, NULL, 0}};
	bool follow = false, stamps = false;
	long tail = -1;
	int o;
	optind = 1;
	opterr = 0;
	while ((o = getopt_long(argc, argv, "fn:t", longopts, NULL)) != -1) {
		if (o == 'f') {
			follow = true;
		} else if (o == 't') {
			stamps = true;
		} else if (o == 'n') {
			char *end;
			tail = strcmp(optarg, "all") ? strtol(optarg, &end, 10) : -1;
			if (strcmp(optarg, "all") && (*end || tail < 0))
				return cmd_usage_error(err, "invalid --tail value '%s'", optarg);
		} else {
			return cmd_usage_error(err, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cmd_usage_error(err, "'logs' needs exactly 1 container");
	store_t *st = cmd_store(ctx, err);
	bld_ctr_t *c = st ? bld_ctr_load(st, argv[optind], err) : NULL;
	if (!c)
		return -1;
	_cleanup_free_ char *path = cb_path_join(c->dir, "log");
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		bld_ctr_free(c);
		return cb_error_errno(err, "open '%s'", path);
	}
	cb_buf_t buf;
	cb_buf_init(&buf);
	bool first = true;
	int rc = 0;
	for (;;) {
		/* decide before reading: what the monitor wrote before it exited
		 * is then surely read */
		bool running = follow && still_running(st, c);
		char chunk[65536];
		ssize_t n;
		while ((n = read(fd, chunk, sizeof chunk)) > 0)
			cb_buf_add(&buf, chunk, (size_t)n);
		if (n < 0 && errno != EINTR) {
			rc = cb_error_errno(err, "read '%s'", path);
			break;
		}
		size_t used = print_records(buf.data, buf.len, first ? tail : -1, stamps);
		first = false;
		memmove(buf.data, buf.data + used, buf.len - used);
		buf.len -= used;
		buf.data[buf.len] = 0;
		if (!running)
			break;
		usleep(100 * 1000);
	}
	cb_buf_release(&buf);
	bld_ctr_free(c);
	return rc;
}
