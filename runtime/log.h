/*
 * runtime/log.h - reading a container's log (`logs`, `compose logs`, the
 * output `compose up` follows). The monitor writes it (container_run.c):
 * one record per line, "RFC3339NANO STREAM F|P TEXT" (P: no newline
 * followed), rotated to log.1 ... log.N-1 with --log-opt max-size.
 *
 *     rt_log_reader_t r;
 *     rt_log_init(&r, c);
 *     rt_log_open(&r, true, err);             // optional: must exist, + rotated
 *     for (;;) {
 *         rt_log_read(&r, &data, &len, err);  // whole records buffered so far
 *         ... handle data[0..used) ...
 *         rt_log_consume(&r, used);
 *         if (!rt_log_follow_rotation(&r)) sleep a little;
 *     }
 *     rt_log_release(&r);
 */
#ifndef CB_RUNTIME_LOG_H
#define CB_RUNTIME_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/util.h"
#include "runtime/container.h"

typedef struct rt_log_reader {
	char *path;    /* ROOT/containers/ID/log */
	int fd;        /* -1 until the log exists */
	int max_file;  /* rotated files kept, 0 = no rotation */
	cb_buf_t buf;  /* read, not yet consumed */
} rt_log_reader_t;

/* One record of the log. */
typedef struct rt_log_record {
	const char *time; /* RFC 3339, time_len bytes */
	size_t time_len;
	int stream;       /* 1 stdout, 2 stderr */
	bool full;        /* a newline followed the text */
	const char *text; /* text_len bytes, no newline */
	size_t text_len;
} rt_log_record_t;

/* c is only read here. */
void rt_log_init(rt_log_reader_t *r, const rt_ctr_t *c);
void rt_log_release(rt_log_reader_t *r);

/* Open the log now (an error when it does not exist); with rotated, the
 * rotated files' records, oldest first, are buffered first. */
int rt_log_open(rt_log_reader_t *r, bool rotated, cb_error_t *err);

/* Read what the log has past what was read, opening it when it was not
 * (a log not yet written is empty). *data, *len: the buffered bytes up to
 * the last complete record (a newline), valid until the next call. */
int rt_log_read(rt_log_reader_t *r, const char **data, size_t *len, cb_error_t *err);

/* Drop the first used bytes of the buffer (records handled). */
void rt_log_consume(rt_log_reader_t *r, size_t used);

/* The monitor rotated the log (a new file at path) or truncated it (max-file
 * 1): go on with the file after ours (the next rotated one, or the new log)
 * from its start. True when it did. */
bool rt_log_follow_rotation(rt_log_reader_t *r);

/* Split a record line (without its newline). False when it is not one. */
bool rt_log_parse(const char *rec, size_t len, rt_log_record_t *out);

#endif
