/* cbuild logs [-f] [--tail N] [-t] [--since T] [--until T] CONTAINER: the
 * container's output from its log (records "TIME STREAM F|P TEXT"), stdout
 * to stdout, stderr to stderr; -f follows until the container has exited
 * (or --until has passed). T: RFC 3339 ("2024-01-02T15:04:05Z", offsets,
 * fractions, a bare date), Unix seconds ("1700000000.5") or a duration
 * before now ("10m", "1h30m", "45s"), as docker takes them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/container.h"
#include "runtime/log.h"
#include "cmd/cmd.h"
#include "common/fs.h"
#include "common/util.h"

#define NS_PER_S INT64_C(1000000000)

/* A time window: records with since <= time <= until are shown. */
typedef struct window {
	int64_t since, until; /* ns since the epoch; INT64_MIN / INT64_MAX = open */
} window_t;

/* "SS[.fffffffff]" fraction digits into ns; returns the rest. */
static const char *parse_fraction(const char *p, int64_t *ns)
{
	*ns = 0;
	if (*p != '.')
		return p;
	int64_t scale = NS_PER_S / 10;
	for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
		*ns += (*p - '0') * scale;
	return p;
}

/* RFC 3339 (or a bare date) into ns since the epoch. */
static bool parse_rfc3339(const char *s, size_t len, int64_t *out)
{
	char buf[64];
	if (len >= sizeof buf)
		return false;
	memcpy(buf, s, len);
	buf[len] = 0;
	struct tm tm = {0};
	const char *p = strptime(buf, "%Y-%m-%d", &tm);
	if (!p)
		return false;
	int64_t frac = 0, off = 0;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p = strptime(p + 1, "%H:%M:%S", &tm);
		if (!p)
			return false;
		p = parse_fraction(p, &frac);
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int h, m;
			if (sscanf(p + 1, "%2d:%2d", &h, &m) != 2)
				return false;
			off = (*p == '+' ? 1 : -1) * (h * 3600 + m * 60);
			p += 6;
		}
	}
	if (*p)
		return false;
	*out = ((int64_t)timegm(&tm) - off) * NS_PER_S + frac;
	return true;
}

/* "1h30m", "10m", "45s", "500ms" (Go's time.ParseDuration subset). */
static bool parse_duration(const char *s, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = {{"ms", NS_PER_S / 1000}, {"h", 3600 * NS_PER_S}, {"m", 60 * NS_PER_S},
		     {"s", NS_PER_S}};
	int64_t total = 0;
	if (!*s)
		return false;
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		if (end == s || v < 0)
			return false;
		size_t k = 0;
		while (k < CB_ARRAY_SIZE(units) && strncmp(end, units[k].unit, strlen(units[k].unit)))
			k++;
		if (k == CB_ARRAY_SIZE(units))
			return false;
		total += (int64_t)(v * (double)units[k].ns);
		s = end + strlen(units[k].unit);
	}
	*out = total;
	return true;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* --since / --until values. */
static bool parse_when(const char *s, int64_t *out)
{
	int64_t d;
	if (parse_rfc3339(s, strlen(s), out))
		return true;
	if (parse_duration(s, &d)) {
		*out = now_ns() - d;
		return true;
	}
	/* Unix seconds with an optional fraction */
	char *end;
	long long sec = strtoll(s, &end, 10);
	if (end == s)
		return false;
	int64_t frac;
	if (*parse_fraction(end, &frac))
		return false;
	*out = (int64_t)sec * NS_PER_S + frac;
	return true;
}

static bool in_window(const char *rec, size_t len, const window_t *w)
{
	if (w->since == INT64_MIN && w->until == INT64_MAX)
		return true;
	const char *sp = memchr(rec, ' ', len);
	int64_t t;
	if (!sp || !parse_rfc3339(rec, (size_t)(sp - rec), &t))
		return false;
	return t >= w->since && t <= w->until;
}

static void print_record(const char *rec, size_t len, bool stamps)
{
	rt_log_record_t r;
	if (!rt_log_parse(rec, len, &r))
		return;
	FILE *out = r.stream == 2 ? stderr : stdout;
	/* keep the order of the two streams when they share a file */
	fflush(r.stream == 2 ? stdout : stderr);
	if (stamps)
		fprintf(out, "%.*s ", (int)r.time_len, r.time);
	fwrite(r.text, 1, r.text_len, out);
	if (r.full)
		fputc('\n', out);
}

/* Print complete records of buf[0..len) in the window (all of them, or
 * the last `tail`); returns the bytes consumed. */
static size_t print_records(const char *buf, size_t len, long tail, bool stamps,
			    const window_t *w)
{
	size_t end = len;
	while (end && buf[end - 1] != '\n')
		end--;
	long skip = 0;
	if (tail >= 0) {
		long n = 0;
		for (size_t p = 0; p < end;) {
			const char *nl = memchr(buf + p, '\n', end - p);
			n += in_window(buf + p, (size_t)(nl - (buf + p)), w);
			p = (size_t)(nl - buf) + 1;
		}
		skip = n > tail ? n - tail : 0;
	}
	for (size_t p = 0; p < end;) {
		const char *nl = memchr(buf + p, '\n', end - p);
		size_t rlen = (size_t)(nl - (buf + p));
		if (in_window(buf + p, rlen, w) && skip-- <= 0)
			print_record(buf + p, rlen, stamps);
		p = (size_t)(nl - buf) + 1;
	}
	fflush(stdout);
	fflush(stderr);
	return end;
}

static bool still_running(store_t *st, rt_ctr_t *c)
{
	cb_error_t e = CB_ERROR_INIT;
	if (rt_ctr_refresh(st, c, &e) < 0) {
		cb_error_release(&e);
		return false; /* removed (--rm) */
	}
	return c->status == RT_CTR_RUNNING;
}

enum { O_SINCE = CMD_OPT_LONG, O_UNTIL };

const cmd_opt_t cmd_logs_opts[] = {
	{"follow", 'f', CMD_ARG_NONE, NULL, "keep printing what the container writes"},
	{"tail", 'n', CMD_ARG_REQUIRED, "N|all", "only the last N lines"},
	{"timestamps", 't', CMD_ARG_NONE, NULL, "show when each line was written"},
	{"since", O_SINCE, CMD_ARG_REQUIRED, "TIME", "lines since TIME (RFC 3339, Unix seconds, or 10m)"},
	{"until", O_UNTIL, CMD_ARG_REQUIRED, "TIME", "lines before TIME"},
	{0}};

int cmd_logs(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	window_t w = {INT64_MIN, INT64_MAX};
	bool follow = false, stamps = false;
	long tail = -1;
	int o;
	cmd_opts_t p;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((o = cmd_opts_next(&p, err)) > 0) {
		if (o == 'f') {
			follow = p.on;
		} else if (o == 't') {
			stamps = p.on;
		} else if (o == O_SINCE || o == O_UNTIL) {
			if (!parse_when(p.arg, o == O_SINCE ? &w.since : &w.until))
				return cmd_usage_error(err, "invalid --%s value '%s' (RFC 3339, Unix "
							    "seconds or a duration like 10m)",
						       o == O_SINCE ? "since" : "until", p.arg);
		} else if (o == 'n') {
			char *end;
			tail = strcmp(p.arg, "all") ? strtol(p.arg, &end, 10) : -1;
			if (strcmp(p.arg, "all") && (*end || tail < 0))
				return cmd_usage_error(err, "invalid --tail value '%s'", p.arg);
		}
	}
	if (o < 0)
		return o;
	if (p.nargs != 1)
		return cmd_nargs(ctx, p.nargs, 1, 1, err);
	store_t *st = cmd_store(ctx, err);
	rt_ctr_t *c = st ? rt_ctr_load(st, p.args[0], err) : NULL;
	if (!c)
		return -1;
	rt_log_reader_t r;
	rt_log_init(&r, c);
	bool first = true;
	int rc = rt_log_open(&r, true, err);
	while (rc == 0) {
		/* decide before reading: what the monitor wrote before it exited
		 * is then surely read */
		bool running = follow && now_ns() <= w.until && still_running(st, c);
		const char *data;
		size_t len;
		rc = rt_log_read(&r, &data, &len, err);
		if (rc < 0)
			break;
		rt_log_consume(&r, print_records(data, len, first ? tail : -1, stamps, &w));
		first = false;
		/* read again at once from a new file: the old one is done, and
		 * the lines after a rotation are there even once it has exited */
		if (follow && rt_log_follow_rotation(&r))
			continue;
		if (!running)
			break;
		usleep(100 * 1000);
	}
	rt_log_release(&r);
	rt_ctr_free(c);
	return rc;
}
