/*
 * cbuild [build] [-t NAME[:TAG]]... [-f Dockerfile|-] [--build-arg K[=V]]...
 *   [--target STAGE] [--no-cache[=BOOL]] [--pull[=BOOL]] [--label K=V]... [--network host|none]
 *   [--format oci|docker] [--compress gzip|zstd|none] [--timestamp EPOCH]
 *   [--iidfile F] [--progress auto|plain|tty] [--secret id=X,src=F]
 *   [--ssh ID[=SOCKET]] [--explain-cache] [--cache-to REF [--cache-to-mode min|max]]
 *   [--cache-from REF[,REF...]]... [--jobs N] [--allow ENTITLEMENT]... [--check]
 *   [--sbom[=BOOL]] [--provenance[=min|max|false]] [-q] CONTEXT
 *
 * --allow security.insecure lets RUN --security=insecure run (BuildKit's
 * entitlement); network.host is accepted (RUN has the host's network
 * unless --network none). CBUILD_RUN_PIDS_LIMIT=N sets every RUN's pids
 * limit (N <= 0: none) instead of BLD_RUN_PIDS_LIMIT.
 *
 * --storage-driver auto|overlay|copy (or CBUILD_STORAGE_DRIVER) picks the
 * step snapshotter (builder.h); --isolation none runs RUN steps without
 * namespaces (runtime/isolation.h), as in a container with Docker's
 * defaults, where auto gets there by itself.
 *
 * --check runs the build checks (parser/checks.h) and builds nothing:
 * each violation is printed with its place, line and fix, and the exit
 * status is 1 when there was any (as `docker build --check`).
 *
 * --sbom and --provenance attach attestations (builder/attest.c): the tags
 * then name an index holding the image and an attestation manifest. None
 * is attached by default (see builder/attest.c for why); --sbom brings
 * min provenance with it unless --provenance=false.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "builder/builder.h"
#include "cmd/cmd.h"
#include "cmd/fetch.h"
#include "cmd/resolve.h"
#include "common/fs.h"
#include "common/util.h"
#include "parser/ignore.h"
#include "registry/reference.h"
#include "registry/registry.h"
#include "runtime/isolation.h"
#include "store/layer.h"

#define DOCKERFILE_MAX (16u << 20)

typedef struct build_args {
	char **tags;
	char **build_args;
	char **labels;
	char **secrets;
	char **ssh;
	const char *file;
	const char *target;
	const char *platform; /* one platform, normalized (owned by plats_str) */
	char *plats_str;
	oci_platform_t *plats; /* --platform P1[,P2...], parsed */
	size_t n_plats;
	const char *iidfile;
	const char *progress;
	const char *context;
	const char *cache_to;
	bld_cache_mode_t cache_mode;
	char **cache_from;
	bool no_cache, pull, quiet, network_none, network_host, docker_format, explain_cache, dry_run;
	bool allow_insecure;
	bool check; /* --check */
	bool sbom, provenance_set;
	bld_provenance_t provenance;
	layer_opts_t layer;
	int64_t timestamp;
	int jobs; /* stages at once; 0 = default */
} build_args_t;

enum {
	OPT_BUILD_ARG = 256, OPT_TARGET, OPT_NO_CACHE, OPT_PULL, OPT_LABEL, OPT_NETWORK,
	OPT_FORMAT, OPT_COMPRESS, OPT_TIMESTAMP, OPT_IIDFILE, OPT_PROGRESS, OPT_SECRET,
	OPT_EXPLAIN, OPT_PLATFORM, OPT_LEVEL, OPT_DRY_RUN, OPT_CACHE_TO, OPT_CACHE_MODE,
	OPT_CACHE_FROM, OPT_JOBS, OPT_SSH, OPT_RM, OPT_FORCE_RM, OPT_ALLOW, OPT_CHECK,
	OPT_SBOM, OPT_PROVENANCE, OPT_ISOLATION, OPT_STORAGE_DRIVER,
};

const cmd_opt_t cmd_build_opts[] = {
	{"tag", 't', CMD_ARG_REQUIRED, "NAME[:TAG]", "name the image", CMD_OPT_REPEAT},
	{"file", 'f', CMD_ARG_REQUIRED, "FILE", "the Dockerfile (default CONTEXT/Dockerfile; - for stdin)"},
	{"quiet", 'q', CMD_ARG_NONE, NULL, "print only the image ID"},
	{"build-arg", OPT_BUILD_ARG, CMD_ARG_REQUIRED, "K[=V]", "set a build-time ARG (no =V: from the environment)",
	 CMD_OPT_REPEAT},
	{"target", OPT_TARGET, CMD_ARG_REQUIRED, "STAGE", "build up to this stage"},
	{"no-cache", OPT_NO_CACHE, CMD_ARG_OPTIONAL, "BOOL", "use no cached step"},
	{"pull", OPT_PULL, CMD_ARG_OPTIONAL, "BOOL", "pull base images even when they are in the store"},
	/* docker build's intermediate-container flags (the course's CI uses
	 * --force-rm=true): cbuild keeps no intermediate containers, so they are
	 * checked and ignored, as BuildKit does */
	{"rm", OPT_RM, CMD_ARG_OPTIONAL, "BOOL", "accepted for docker; no intermediate containers are kept"},
	{"force-rm", OPT_FORCE_RM, CMD_ARG_OPTIONAL, "BOOL", "accepted for docker; no intermediate containers are kept"},
	{"label", OPT_LABEL, CMD_ARG_REQUIRED, "K=V", "set an image label", CMD_OPT_REPEAT},
	{"network", OPT_NETWORK, CMD_ARG_REQUIRED, "MODE", "network of RUN steps: default, host or none"},
	{"allow", OPT_ALLOW, CMD_ARG_REQUIRED, "ENT", "entitlements: security.insecure, network.host"},
	{"format", OPT_FORMAT, CMD_ARG_REQUIRED, "oci|docker", "media types of the image (default oci)"},
	{"compress", OPT_COMPRESS, CMD_ARG_REQUIRED, "gzip|zstd|none", "layer compression (default gzip)"},
	{"compression-level", OPT_LEVEL, CMD_ARG_REQUIRED, "N", "the compressor's level"},
	{"timestamp", OPT_TIMESTAMP, CMD_ARG_REQUIRED, "EPOCH", "the time in the image, for reproducible builds"},
	{"iidfile", OPT_IIDFILE, CMD_ARG_REQUIRED, "FILE", "write the image ID to FILE"},
	{"progress", OPT_PROGRESS, CMD_ARG_REQUIRED, "auto|plain|tty", "progress output"},
	{"secret", OPT_SECRET, CMD_ARG_REQUIRED, "id=X,src=F", "a secret RUN --mount=type=secret can read",
	 CMD_OPT_REPEAT},
	{"explain-cache", OPT_EXPLAIN, CMD_ARG_NONE, NULL, "say why each step missed the cache"},
	{"platform", OPT_PLATFORM, CMD_ARG_REQUIRED, "OS/ARCH[,...]", "the platforms to build for"},
	{"dry-run", OPT_DRY_RUN, CMD_ARG_NONE, NULL, "print the plan, build nothing (cbuild plan)"},
	{"cache-to", OPT_CACHE_TO, CMD_ARG_REQUIRED, "REF", "export the build cache to a registry"},
	{"cache-to-mode", OPT_CACHE_MODE, CMD_ARG_REQUIRED, "min|max", "which steps' cache to export"},
	{"cache-from", OPT_CACHE_FROM, CMD_ARG_REQUIRED, "REF[,REF]", "use a registry's build cache",
	 CMD_OPT_REPEAT},
	{"jobs", OPT_JOBS, CMD_ARG_REQUIRED, "N", "stages built at once (1 to 32)"},
	{"ssh", OPT_SSH, CMD_ARG_REQUIRED, "ID[=SOCKET]", "an SSH agent RUN --mount=type=ssh can use",
	 CMD_OPT_REPEAT},
	{"check", OPT_CHECK, CMD_ARG_NONE, NULL, "check the Dockerfile, build nothing"},
	{"sbom", OPT_SBOM, CMD_ARG_OPTIONAL, "BOOL", "attach an SBOM attestation"},
	{"provenance", OPT_PROVENANCE, CMD_ARG_OPTIONAL, "min|max|BOOL", "attach a provenance attestation"},
	{"isolation", OPT_ISOLATION, CMD_ARG_REQUIRED, "auto|namespaces|chroot|none", "how RUN steps are isolated"},
	{"storage-driver", OPT_STORAGE_DRIVER, CMD_ARG_REQUIRED, "auto|overlay|copy", "how step snapshots are taken"},
	{0},
};

/* CBUILD_STORAGE_DRIVER (a CI image's ENV): --storage-driver when not given */
static int driver_from_env(cb_error_t *err)
{
	static bool given;
	const char *v = getenv("CBUILD_STORAGE_DRIVER");
	bld_snap_driver_t d;
	if (given || !v || !*v)
		return 0;
	given = true;
	if (bld_snap_driver_parse(v, &d, err) < 0)
		return -1;
	bld_snap_driver_set(d);
	return 0;
}

static int run_pids_from_env(int64_t *out, cb_error_t *err)
{
	const char *v = getenv("CBUILD_RUN_PIDS_LIMIT");
	if (!v || !*v)
		return 0;
	char *end = NULL;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || *end)
		return cmd_usage_error(err, "invalid CBUILD_RUN_PIDS_LIMIT '%s' (a number)", v);
	*out = n > 0 ? n : -1;
	return 0;
}

static int parse_epoch(const char *s, int64_t *out, cb_error_t *err)
{
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || v < 0)
		return cmd_usage_error(err, "invalid timestamp '%s' (seconds since 1970 expected)", s);
	*out = v;
	return 0;
}

/* --build-arg K without a value takes K from the environment, as docker. */
static char *build_arg(const char *a)
{
	if (strchr(a, '='))
		return cb_xstrdup(a);
	const char *v = getenv(a);
	return v ? cb_asprintf("%s=%s", a, v) : NULL;
}

/* A boolean flag's optional value as docker (Go's ParseBool) reads it:
 * absent = true. */
static int bool_value(const char *opt, const char *arg, bool *out, cb_error_t *err)
{
	static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
	*out = true;
	if (!arg)
		return 0;
	for (size_t i = 0; i < CB_ARRAY_SIZE(yes); i++) {
		if (!strcmp(arg, yes[i]))
			return 0;
		if (!strcmp(arg, no[i])) {
			*out = false;
			return 0;
		}
	}
	return cmd_usage_error(err, "invalid value '%s' for --%s (true or false)", arg, opt);
}

/* --provenance[=true|false|min|max|mode=min|mode=max], as buildx. */
static int provenance_value(build_args_t *a, const char *arg, cb_error_t *err)
{
	a->provenance_set = true;
	if (arg && !strncmp(arg, "mode=", 5))
		arg += 5;
	if (arg && !strcmp(arg, "max")) {
		a->provenance = BLD_PROVENANCE_MAX;
		return 0;
	}
	if (arg && !strcmp(arg, "min")) {
		a->provenance = BLD_PROVENANCE_MIN;
		return 0;
	}
	bool on = true;
	if (bool_value("provenance", arg, &on, err) != 0)
		return cmd_usage_error(err, "invalid --provenance '%s' (min, max, true or false)", arg);
	a->provenance = on ? BLD_PROVENANCE_MIN : BLD_PROVENANCE_NONE;
	return 0;
}

/* --platform P1[,P2...]: validated and normalized here, so that "foo" is
 * a usage error and TARGETARCH is never "amd64,linux". */
static int set_platforms(build_args_t *a, const char *arg, cb_error_t *err)
{
	free(a->plats);
	free(a->plats_str);
	a->plats = NULL;
	a->plats_str = NULL;
	cb_error_t e = CB_ERROR_INIT;
	if (oci_platform_parse_list(arg, &a->plats, &a->n_plats, &e) < 0) {
		int r = cmd_usage_error(err, "--platform: %s", e.msg);
		cb_error_release(&e);
		return r;
	}
	a->plats_str = oci_platform_format(&a->plats[0]);
	a->platform = a->n_plats == 1 ? a->plats_str : NULL;
	return 0;
}

static int parse_one(build_args_t *a, int c, const char *arg, cb_error_t *err)
{
	bool ignored;
	switch (c) {
	case 't': {
		char *full = reg_ref_normalize(arg, err);
		if (!full)
			return CMD_USAGE;
		a->tags = cb_strv_push_take(a->tags, full);
		return 0;
	}
	case 'f': a->file = arg; return 0;
	case 'q': a->quiet = true; return 0;
	case OPT_BUILD_ARG: {
		char *kv = build_arg(arg);
		if (kv)
			a->build_args = cb_strv_push_take(a->build_args, kv);
		return 0;
	}
	case OPT_TARGET: a->target = arg; return 0;
	case OPT_NO_CACHE: return bool_value("no-cache", arg, &a->no_cache, err);
	case OPT_PULL: return bool_value("pull", arg, &a->pull, err);
	case OPT_RM: return bool_value("rm", arg, &ignored, err);
	case OPT_FORCE_RM: return bool_value("force-rm", arg, &ignored, err);
	case OPT_LABEL: a->labels = cb_strv_push(a->labels, arg); return 0;
	case OPT_SECRET: a->secrets = cb_strv_push(a->secrets, arg); return 0;
	case OPT_EXPLAIN: a->explain_cache = true; return 0;
	case OPT_DRY_RUN: a->dry_run = true; return 0;
	case OPT_CHECK: a->check = true; return 0;
	case OPT_SBOM: return bool_value("sbom", arg, &a->sbom, err);
	case OPT_PROVENANCE: return provenance_value(a, arg, err);
	case OPT_ISOLATION: { /* process-wide: every RUN of this build */
		rt_isolation_t mode;
		if (rt_isolation_parse(arg, &mode, err) < 0)
			return CMD_USAGE;
		rt_isolation_set(mode);
		return 0;
	}
	case OPT_STORAGE_DRIVER: { /* process-wide, like the isolation */
		bld_snap_driver_t d;
		if (bld_snap_driver_parse(arg, &d, err) < 0)
			return CMD_USAGE;
		bld_snap_driver_set(d);
		return 0;
	}
	case OPT_SSH: { /* ID=SOCKET, or ID alone for $SSH_AUTH_SOCK (as docker) */
		const char *eq = strchr(arg, '=');
		const char *sock = eq ? eq + 1 : getenv("SSH_AUTH_SOCK");
		if (!sock || !*sock)
			return cmd_usage_error(err, "--ssh %s: no socket given and SSH_AUTH_SOCK is not set",
					       arg);
		size_t idl = eq ? (size_t)(eq - arg) : strlen(arg);
		size_t sl = strcspn(sock, ","); /* key files after a comma are not supported */
		a->ssh = cb_strv_push_take(a->ssh, cb_asprintf("%.*s=%.*s", (int)idl, arg, (int)sl, sock));
		return 0;
	}
	case OPT_JOBS: {
		char *end = NULL;
		long n = strtol(arg, &end, 10);
		if (!*arg || *end || n < 1 || n > 32)
			return cmd_usage_error(err, "invalid --jobs '%s' (1 to 32 stages at once)", arg);
		a->jobs = (int)n;
		return 0;
	}
	case OPT_PLATFORM: return set_platforms(a, arg, err);
	case OPT_CACHE_TO: a->cache_to = arg; return 0;
	case OPT_CACHE_MODE:
		if (strcmp(arg, "min") && strcmp(arg, "max"))
			return cmd_usage_error(err, "invalid --cache-to-mode '%s' (min or max)", arg);
		a->cache_mode = !strcmp(arg, "max") ? BLD_CACHE_MAX : BLD_CACHE_MIN;
		return 0;
	case OPT_CACHE_FROM: {
		_cleanup_free_ char *copy = cb_xstrdup(arg);
		char *save = NULL;
		for (char *r = strtok_r(copy, ",", &save); r; r = strtok_r(NULL, ",", &save))
			a->cache_from = cb_strv_push(a->cache_from, r);
		return 0;
	}
	case OPT_IIDFILE: a->iidfile = arg; return 0;
	case OPT_PROGRESS:
		if (strcmp(arg, "auto") && strcmp(arg, "plain") && strcmp(arg, "tty"))
			return cmd_usage_error(err, "invalid --progress '%s' (auto, plain or tty)", arg);
		a->progress = arg;
		return 0;
	case OPT_NETWORK:
		if (strcmp(arg, "none") && strcmp(arg, "host") && strcmp(arg, "default"))
			return cmd_usage_error(err, "invalid --network '%s' (host or none)", arg);
		a->network_none = !strcmp(arg, "none");
		a->network_host = !strcmp(arg, "host");
		return 0;
	case OPT_ALLOW: {
		_cleanup_free_ char *copy = cb_xstrdup(arg);
		char *save = NULL;
		for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
			if (!strcmp(e, "security.insecure"))
				a->allow_insecure = true;
			else if (strcmp(e, "network.host"))
				return cmd_usage_error(
					err, "invalid entitlement '%s' (security.insecure or network.host)",
					e);
		}
		return 0;
	}
	case OPT_FORMAT:
		if (strcmp(arg, "oci") && strcmp(arg, "docker"))
			return cmd_usage_error(err, "invalid --format '%s' (oci or docker)", arg);
		a->docker_format = !strcmp(arg, "docker");
		return 0;
	case OPT_COMPRESS:
		return layer_compress_parse(arg, &a->layer.compression, err) < 0 ? CMD_USAGE : 0;
	case OPT_LEVEL:
		a->layer.level = atoi(arg);
		return 0;
	case OPT_TIMESTAMP:
		return parse_epoch(arg, &a->timestamp, err);
	default:
		return cmd_usage_error(err, "unknown option");
	}
}

static int parse_build_args(cmd_ctx_t *ctx, int argc, char **argv, build_args_t *a,
			    cb_error_t *err)
{
	cmd_opts_t p;
	int c, rc;
	cmd_opts_init(&p, ctx->verb, argc, argv);
	while ((c = cmd_opts_next(&p, err)) > 0)
		if ((rc = parse_one(a, c, p.arg, err)) != 0)
			return rc;
	if (c < 0)
		return c;
	if (p.nargs != 1)
		return cmd_nargs(ctx, p.nargs, 1, 1, err);
	a->context = p.args[0];
	return 0;
}

static void build_args_release(build_args_t *a)
{
	cb_strv_free(a->tags);
	cb_strv_free(a->build_args);
	cb_strv_free(a->labels);
	cb_strv_free(a->secrets);
	cb_strv_free(a->cache_from);
	cb_strv_free(a->ssh);
	free(a->plats);
	free(a->plats_str);
}

/* The bytes of stdin already read to tell a tar from a Dockerfile. */
typedef struct stdin_src {
	char head[512];
	size_t len;
	int out; /* the pipe's write end (feed_pipe) */
} stdin_src_t;

static ssize_t read_some(int fd, void *buf, size_t len)
{
	ssize_t n;
	while ((n = read(fd, buf, len)) < 0 && errno == EINTR)
		;
	return n;
}

/* A tar (plain or compressed) starts with one of these; anything else on
 * stdin is a Dockerfile, as `docker build - < Dockerfile` sends. */
static bool looks_like_archive(const unsigned char *h, size_t n)
{
	return (n >= 262 && !memcmp(h + 257, "ustar", 5)) || (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) ||
	       (n >= 3 && !memcmp(h, "BZh", 3)) || (n >= 6 && !memcmp(h, "\xfd\x37\x7a\x58\x5a", 5)) ||
	       (n >= 4 && !memcmp(h, "\x28\xb5\x2f\xfd", 4));
}

/* CONTEXT "-" with a Dockerfile on stdin: an empty context holding it. */
static int dockerfile_context(const char *dir, stdin_src_t *src, cb_error_t *err)
{
	_cleanup_free_ char *path = cb_path_join(dir, "Dockerfile");
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return cb_error_errno(err, "write '%s'", path);
	if (cb_write_all(fd, src->head, src->len, err) < 0)
		return cb_error_wrap(err, "write '%s'", path);
	size_t total = src->len;
	char buf[65536];
	ssize_t n;
	while ((n = read_some(0, buf, sizeof(buf))) > 0) {
		total += (size_t)n;
		if (total > DOCKERFILE_MAX)
			return cb_error_fail(err, EFBIG, "Dockerfile on stdin: over %u bytes", DOCKERFILE_MAX);
		if (cb_write_all(fd, buf, (size_t)n, err) < 0)
			return cb_error_wrap(err, "write '%s'", path);
	}
	return n < 0 ? cb_error_errno(err, "read stdin") : 0;
}

/* The head, then the rest of stdin, into the pipe the extractor reads. */
static void *feed_pipe(void *opaque)
{
	stdin_src_t *s = opaque;
	char buf[65536];
	sigset_t pipe_sig; /* an extractor that stopped early: EPIPE here, no SIGPIPE */
	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_sig, NULL);
	bool ok = cb_write_all(s->out, s->head, s->len, NULL) == 0;
	ssize_t n;
	while (ok && (n = read_some(0, buf, sizeof(buf))) > 0)
		ok = cb_write_all(s->out, buf, (size_t)n, NULL) == 0;
	close(s->out);
	return NULL;
}

/* CONTEXT "-": a tar on stdin (compressed or not; or a Dockerfile alone),
 * unpacked into a temp dir of the store by the store's hardened
 * extractor. The bytes read to tell which reach it through a pipe. */
static int context_from_stdin(store_t *st, char **dir, cb_error_t *err)
{
	*dir = store_mkdtemp(st, "context-", err);
	if (!*dir)
		return -1;
	_cleanup_free_ stdin_src_t *src = cb_xcalloc(1, sizeof(*src));
	ssize_t n;
	while (src->len < sizeof(src->head) &&
	       (n = read_some(0, src->head + src->len, sizeof(src->head) - src->len)) > 0)
		src->len += (size_t)n;
	if (!looks_like_archive((unsigned char *)src->head, src->len))
		return dockerfile_context(*dir, src, err);
	int p[2];
	pthread_t feeder;
	if (pipe2(p, O_CLOEXEC) < 0)
		return cb_error_errno(err, "pipe");
	src->out = p[1];
	if ((errno = pthread_create(&feeder, NULL, feed_pipe, src)) != 0) {
		close(p[0]);
		close(p[1]);
		return cb_error_errno(err, "start a thread");
	}
	int rc = layer_extract_plain(p[0], *dir, err);
	close(p[0]); /* a feeder still writing gets EPIPE and ends */
	pthread_join(feeder, NULL);
	return rc < 0 ? cb_error_wrap(err, "read context tar from stdin") : 0;
}

static int read_dockerfile(const build_args_t *a, const char *context, char **data, size_t *len,
			   char **path, cb_error_t *err)
{
	if (a->file && !strcmp(a->file, "-")) {
		cb_buf_t b;
		cb_buf_init(&b);
		char chunk[65536];
		ssize_t n;
		while ((n = read(0, chunk, sizeof(chunk))) > 0 && b.len < DOCKERFILE_MAX)
			cb_buf_add(&b, chunk, (size_t)n);
		*data = cb_buf_detach(&b, len);
		*path = cb_xstrdup("Dockerfile");
		return 0;
	}
	*path = a->file ? cb_xstrdup(a->file) : cb_path_join(context, "Dockerfile");
	if (cb_read_file(*path, DOCKERFILE_MAX, data, len, err) < 0) {
		if (err->code == ENOENT) {
			cb_error_release(err);
			return cb_error_fail(err, ENOENT, "no Dockerfile: '%s' does not exist", *path);
		}
		return -1;
	}
	return 0;
}

/* .dockerignore: a Dockerfile-specific NAME.dockerignore beside the file
 * wins over CONTEXT/.dockerignore. */
static void read_dockerignore(const char *context, const char *dockerfile, char **data,
			      size_t *len)
{
	_cleanup_free_ char *specific = df_ignore_dockerfile_specific(dockerfile);
	_cleanup_free_ char *general = cb_path_join(context, ".dockerignore");
	cb_error_t e = CB_ERROR_INIT;
	*data = NULL;
	if (specific && cb_read_file(specific, DOCKERFILE_MAX, data, len, &e) == 0)
		return;
	cb_error_release(&e);
	if (cb_read_file(general, DOCKERFILE_MAX, data, len, &e) < 0) {
		cb_error_release(&e);
		*data = NULL;
	}
}

static bld_progress_t progress_mode(const build_args_t *a)
{
	if (a->quiet)
		return BLD_PROGRESS_QUIET;
	if (a->progress && !strcmp(a->progress, "tty"))
		return BLD_PROGRESS_TTY;
	if ((!a->progress || !strcmp(a->progress, "auto")) && isatty(2))
		return BLD_PROGRESS_TTY;
	return BLD_PROGRESS_PLAIN;
}

static int report(const build_args_t *a, const bld_result_t *res, cb_error_t *err)
{
	for (size_t i = 0; !a->quiet && a->tags && a->tags[i]; i++) {
		_cleanup_free_ char *shown = reg_ref_shorten(a->tags[i]);
		fprintf(stderr, "Successfully tagged %s\n", shown);
	}
	printf("%s\n", res->image_id);
	if (a->iidfile && cb_write_file_atomic(a->iidfile, NULL, res->image_id,
					       strlen(res->image_id), 0644, err) < 0)
		return -1;
	return 0;
}

/* --check: docker's closing line; violations make the exit status 1. */
static int check_report(cmd_ctx_t *ctx, const bld_result_t *res)
{
	if (!res->check_warnings) {
		fprintf(stderr, "Check complete, no warnings found.\n");
		return 0;
	}
	fprintf(stderr, "Check complete, %zu warning%s found!\n", res->check_warnings,
		res->check_warnings == 1 ? " has been" : "s have been");
	ctx->exit_code = 1;
	return 0;
}

/* --cache-from: each artifact's entries; a missing, unreachable, corrupt
 * or foreign cache is a warning (the first pipeline run has none). */
static bld_remote_cache_t *import_caches(store_t *st, const build_args_t *a)
{
	if (!a->cache_from || a->no_cache)
		return NULL;
	bld_remote_cache_t *rc = bld_remote_cache_new();
	reg_opts_t ro;
	reg_opts_init(&ro);
	ro.quiet = true;
	for (size_t i = 0; a->cache_from[i]; i++) {
		cb_error_t e = CB_ERROR_INIT;
		_cleanup_free_ char *config = NULL;
		size_t len = 0;
		size_t before = bld_remote_cache_count(rc);
		if (reg_cache_fetch(st, a->cache_from[i], &ro, &config, &len, &e) < 0 ||
		    bld_remote_cache_add(rc, a->cache_from[i], config, len, &e) < 0)
			fprintf(stderr, "cbuild: warning: %s (cache ignored)\n", e.msg);
		else if (!a->quiet)
			fprintf(stderr, "Imported cache: %zu steps from %s\n",
				bld_remote_cache_count(rc) - before, a->cache_from[i]);
		cb_error_release(&e);
	}
	return rc;
}

static int export_cache(store_t *st, const build_args_t *a, const bld_result_t *res,
			cb_error_t *err)
{
	reg_opts_t ro;
	reg_opts_init(&ro);
	ro.quiet = true;
	const bld_cache_artifact_t *c = &res->cache;
	if (reg_cache_push(st, a->cache_to, c->config, c->config_len, c->layers, c->n_layers, &ro,
			   NULL, err) < 0)
		return -1;
	if (!a->quiet)
		fprintf(stderr, "Exported cache: %zu steps, %zu layers to %s\n", c->n_entries,
			c->n_layers, a->cache_to);
	return 0;
}

static int do_build(cmd_ctx_t *ctx, build_args_t *a, cb_error_t *err)
{
	store_t *st = cmd_store(ctx, err);
	if (!st)
		return -1;
	_cleanup_free_ char *tmpctx = NULL;
	const char *context = a->context;
	if (!strcmp(context, "-")) {
		if (context_from_stdin(st, &tmpctx, err) < 0)
			return -1;
		context = tmpctx;
	} else if (!cb_is_dir(context)) {
		return cb_error_fail(err, ENOENT, "build context '%s' is not a directory", context);
	}
	_cleanup_free_ char *df = NULL, *df_path = NULL, *ignore = NULL;
	size_t df_len = 0, ignore_len = 0;
	int rc = read_dockerfile(a, context, &df, &df_len, &df_path, err);
	if (rc == 0) {
		read_dockerignore(context, df_path, &ignore, &ignore_len);
		bld_opts_t o;
		bld_opts_init(&o);
		o.dockerfile_name = a->file && strcmp(a->file, "-") ? df_path : "Dockerfile";
		o.dockerfile = df;
		o.dockerfile_len = df_len;
		o.dockerignore = ignore;
		o.dockerignore_len = ignore_len;
		o.context_dir = context;
		o.tags = a->tags;
		o.build_args = a->build_args;
		o.labels = a->labels;
		o.secrets = a->secrets;
		o.ssh = a->ssh;
		o.target = a->target;
		o.platform = a->platform;
		o.no_cache = a->no_cache;
		o.pull = a->pull;
		o.network_none = a->network_none;
		o.network_host = a->network_host;
		o.allow_insecure = a->allow_insecure;
		if (run_pids_from_env(&o.run_pids_limit, err) < 0 || driver_from_env(err) < 0)
			return CMD_USAGE;
		o.docker_format = a->docker_format;
		o.explain_cache = a->explain_cache;
		o.jobs = a->jobs;
		o.layer = a->layer;
		o.layer.source_date_epoch = a->timestamp;
		o.timestamp = a->timestamp;
		o.progress = progress_mode(a);
		o.resolver.resolve = cmd_resolve_image;
		o.resolver.ctx = ctx;
		o.fetcher.fetch = cmd_fetch_url;
		bld_remote_cache_t *rcache = import_caches(st, a);
		o.cache_from = rcache;
		o.check_only = a->check;
		o.sbom = a->sbom;
		/* an SBOM brings min provenance along unless told otherwise (buildx) */
		o.provenance = a->provenance_set ? a->provenance
						 : a->sbom ? BLD_PROVENANCE_MIN : BLD_PROVENANCE_NONE;
		o.cache_to = a->cache_to ? (a->cache_mode ? a->cache_mode : BLD_CACHE_MIN) : BLD_CACHE_NONE;
		bld_result_t res;
		memset(&res, 0, sizeof(res));
		rc = a->n_plats > 1 ? bld_build_platforms(st, &o, a->plats, a->n_plats, &res, err)
				    : bld_build(st, &o, &res, err);
		if (rc == 0 && a->check)
			rc = check_report(ctx, &res);
		else if (rc == 0 && a->cache_to)
			rc = export_cache(st, a, &res, err);
		if (rc == 0 && !a->check)
			rc = report(a, &res, err);
		bld_result_release(&res);
		bld_remote_cache_free(rcache);
	}
	if (tmpctx) {
		cb_error_t e = CB_ERROR_INIT;
		if (cb_rm_rf(tmpctx, &e) < 0)
			cb_error_release(&e);
	}
	return rc;
}

/* --dry-run: what `cbuild plan` prints for the same Dockerfile and args. */
static int dry_run(cmd_ctx_t *ctx, const build_args_t *a, cb_error_t *err)
{
	_cleanup_strv_ char **pargv = cb_strv_push(NULL, "plan");
	if (a->file) {
		pargv = cb_strv_push(pargv, "-f");
		pargv = cb_strv_push(pargv, a->file);
	}
	if (a->target) {
		pargv = cb_strv_push(pargv, "--target");
		pargv = cb_strv_push(pargv, a->target);
	}
	if (a->plats_str) { /* of several platforms, the first one's plan */
		pargv = cb_strv_push(pargv, "--platform");
		pargv = cb_strv_push(pargv, a->plats_str);
	}
	for (size_t i = 0; a->build_args && a->build_args[i]; i++) {
		pargv = cb_strv_push(pargv, "--build-arg");
		pargv = cb_strv_push(pargv, a->build_args[i]);
	}
	pargv = cb_strv_push(pargv, a->context);
	ctx->verb = cmd_find("plan");
	return cmd_plan(ctx, (int)cb_strv_len(pargv), pargv, err);
}

int cmd_build(cmd_ctx_t *ctx, int argc, char **argv, cb_error_t *err)
{
	build_args_t a = {0};
	layer_opts_t lo = LAYER_OPTS_INIT;
	a.layer = lo;
	a.timestamp = -1;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde && parse_epoch(sde, &a.timestamp, err) != 0)
		return -1;
	int rc = parse_build_args(ctx, argc, argv, &a, err);
	if (rc == 0)
		rc = a.dry_run ? dry_run(ctx, &a, err) : do_build(ctx, &a, err);
	build_args_release(&a);
	return rc;
}
