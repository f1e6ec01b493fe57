/*
 * layertool - drive store/layer.c from the shell (benchmarks, e2e tests).
 *
 *   layertool STORE write-dir DIR [OPTS]          OPTS: -c gzip|zstd|none
 *   layertool STORE write-upper UPPER [LOWER...]        -l LEVEL -e EPOCH -j THREADS
 *   layertool STORE write-diff OLD NEW
 *   layertool STORE write-tar FILE|-
 *   layertool STORE unpack DIGEST DIFFID
 *   layertool - apply FILE TARGET [overlay]
 *
 * Writers print "DIGEST DIFFID SIZE MEDIATYPE"; unpack prints the path.
 * Built by bench/layers/run and the t3*-layer-*.sh tests against
 * build/libcbuild.a.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "store/layer.h"

static int parse_opts(int argc, char **argv, int *i, layer_opts_t *o, cb_error_t *err)
{
	for (; *i < argc; (*i)++) {
		const char *a = argv[*i];
		if (*i + 1 >= argc || a[0] != '-' || a[1] == '\0')
			break;
		const char *v = argv[++*i];
		if (!strcmp(a, "-c")) {
			if (layer_compress_parse(v, &o->compression, err) < 0)
				return -1;
		} else if (!strcmp(a, "-l")) {
			o->level = atoi(v);
		} else if (!strcmp(a, "-e")) {
			o->source_date_epoch = atoll(v);
		} else if (!strcmp(a, "-j")) {
			o->threads = atoi(v);
		} else {
			return cb_error_set(err, EINVAL, "unknown option '%s'", a);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	cb_error_t err = CB_ERROR_INIT;
	if (argc < 3) {
		fprintf(stderr, "usage: layertool STORE CMD ARGS (see source)\n");
		return 2;
	}
	const char *cmd = argv[2];
	store_t *st = NULL;
	int rc = -1;
	layer_opts_t o = LAYER_OPTS_INIT;
	layer_result_t res;
	int i = 3;
	if (strcmp(argv[1], "-") && store_open(argv[1], &st, &err) < 0)
		goto out;
	if (parse_opts(argc, argv, &i, &o, &err) < 0)
		goto out;
	if (!strcmp(cmd, "write-dir") && i < argc) {
		rc = layer_write_dir(st, argv[i], &o, &res, &err);
	} else if (!strcmp(cmd, "write-upper") && i < argc) {
		rc = layer_write_upper(st, argv[i], (const char *const *)(argv + i + 1), &o, &res,
				       &err);
	} else if (!strcmp(cmd, "write-diff") && i + 1 < argc) {
		rc = layer_write_diff(st, argv[i], argv[i + 1], &o, &res, &err);
	} else if (!strcmp(cmd, "write-tar") && i < argc) {
		int fd = strcmp(argv[i], "-") ? open(argv[i], O_RDONLY | O_CLOEXEC) : 0;
		if (fd < 0) {
			cb_error_errno(&err, "open '%s'", argv[i]);
			goto out;
		}
		rc = layer_write_tar(st, fd, &o, &res, &err);
	} else if (!strcmp(cmd, "unpack") && i + 1 < argc) {
		char *path = NULL;
		rc = layer_unpack(st, argv[i], argv[i + 1], NULL, &path, &err);
		if (rc == 0)
			printf("%s\n", path);
		free(path);
		goto out;
	} else if (!strcmp(cmd, "apply") && i + 1 < argc) {
		unsigned flags = (i + 2 < argc && !strcmp(argv[i + 2], "overlay")) ? LAYER_APPLY_OVERLAY : 0;
		rc = layer_apply_path(argv[i], argv[i + 1], flags, &err);
		goto out;
	} else {
		fprintf(stderr, "layertool: bad command\n");
		store_free(st);
		return 2;
	}
	if (rc == 0)
		printf("%s %s %lld %s\n", res.digest, res.diff_id, (long long)res.size,
		       res.media_type);
out:
	if (rc < 0)
		cb_error_print(stderr, "layertool", &err);
	cb_error_release(&err);
	store_free(st);
	return rc < 0 ? 1 : 0;
}
