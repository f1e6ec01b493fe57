/*
 * cmd/reg_progress.c - the display of pull's and push's blob transfers:
 * registry/ reports events through reg_opts_t.progress (libraries do not
 * print) and this draws them: one live status line on a terminal, plain
 * "blob HEX: done (N bytes)" lines otherwise (CI logs).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/reg_common.h"
#include "common/util.h"

#define DIGEST_MAX_STR 80

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The live display: one status line, rewritten in place, for all the blobs
 * moving at once (the transfers run in one thread: no locking needed). */
static struct {
	uint64_t done, total;
	int active;
	int64_t last_draw;
	bool drawn;
} live;

static void live_clear(void)
{
	if (live.drawn)
		fputs("\r\033[K", stderr);
	live.drawn = false;
}

static void live_draw(void)
{
	int64_t now = mono_ms();
	if (live.active <= 0 || now - live.last_draw < 100)
		return;
	live.last_draw = now;
	fprintf(stderr, "\r\033[Kcopying %d blob%s: %.1f / %.1f MiB", live.active,
		live.active == 1 ? "" : "s", live.done / 1048576.0, live.total / 1048576.0);
	live.drawn = true;
}

void cmd_reg_progress(void *ctx, const char *digest, reg_progress_state_t st, uint64_t done,
		      uint64_t total)
{
	(void)ctx;
	static int tty = -1;
	if (tty < 0)
		tty = isatty(2);
	if (st == REG_PROGRESS_BYTES) {
		if (tty) {
			/* `done` is this blob's count so far: add only its growth */
			static struct {
				char digest[DIGEST_MAX_STR];
				uint64_t done;
			} seen[64];
			size_t i = 0;
			while (i < CB_ARRAY_SIZE(seen) && seen[i].digest[0] && strcmp(seen[i].digest, digest))
				i++;
			if (i == CB_ARRAY_SIZE(seen))
				i = 0;
			if (strcmp(seen[i].digest, digest)) {
				snprintf(seen[i].digest, sizeof(seen[i].digest), "%s", digest);
				seen[i].done = 0;
			}
			if (done > seen[i].done)
				live.done += done - seen[i].done;
			seen[i].done = done;
			live_draw();
		}
		return;
	}
	const char *hex = strchr(digest, ':') ? strchr(digest, ':') + 1 : digest;
	static const char *const what[] = {
		[REG_PROGRESS_START] = "copying", [REG_PROGRESS_EXISTS] = "exists",
		[REG_PROGRESS_MOUNTED] = "mounted", [REG_PROGRESS_DONE] = "done",
		[REG_PROGRESS_RETRY] = "retrying",
	};
	if (tty) {
		live_clear();
		if (st == REG_PROGRESS_START) {
			live.active++;
			live.total += total;
			live_draw();
			return; /* the live line says it */
		}
		if (st == REG_PROGRESS_DONE || st == REG_PROGRESS_MOUNTED)
			live.active--;
	}
	if (st == REG_PROGRESS_DONE)
		fprintf(stderr, "blob %.12s: done (%llu bytes)\n", hex, (unsigned long long)done);
	else
		fprintf(stderr, "blob %.12s: %s\n", hex, what[st]);
	if (tty)
		live_draw();
}

void cmd_reg_opts_init(reg_opts_t *o)
{
	reg_opts_init(o);
	o->progress = cmd_reg_progress;
}
