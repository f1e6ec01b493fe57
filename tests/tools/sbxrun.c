/*
 * tests/tools/sbxrun.c - run a command in the sandbox from the shell, for the
 * e2e tests and bench/sandbox/run.
 *
 *   sbxrun [-n] [-r] [-t] [-i] [-q] [-u USER] [-H HOST] [-w CWD] [-e K=V]...
 *          [-v SRC:DST[:ro]]... [-T DST]... [-c COUNT] [-x PID] ROOTFS CMD [ARG]...
 *
 *   -n network none     -r read-only root   -t pty   -i stdin passthrough
 *   -c run COUNT times (benchmark; output must be quiet)
 *   -x PID   exec in the running sandbox of PID (ROOTFS is ignored, give "-")
 *   -q       capture output through the callback and print it (tests the relay)
 * Exit status: the process's (128 + signal when killed), 125 on a sandbox error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/sandbox.h"
#include "common/fs.h"
#include "common/util.h"

static int to_stdio(void *opaque, int stream, const char *data, size_t len, cb_error_t *err)
{
	return cb_write_all(stream == 2 ? 2 : 1, data, len, err);
}

int main(int argc, char **argv)
{
	sbx_config_t cfg;
	sbx_config_init(&cfg);
	char **env = NULL;
	sbx_mount_t mounts[32];
	size_t nm = 0;
	long count = 1;
	pid_t join = 0;
	int opt;
	while ((opt = getopt(argc, argv, "+nrtiqu:H:w:e:v:T:c:x:")) != -1) {
		switch (opt) {
		case 'n': cfg.network = SBX_NET_NONE; break;
		case 'r': cfg.readonly_rootfs = true; break;
		case 't': cfg.tty = true; break;
		case 'i': cfg.stdin_mode = SBX_STDIN_INHERIT; break;
		case 'q': cfg.output_cb = to_stdio; break;
		case 'u': cfg.user = optarg; break;
		case 'H': cfg.hostname = optarg; break;
		case 'w': cfg.cwd = optarg; break;
		case 'e': env = cb_strv_push(env, optarg); break;
		case 'c': count = atol(optarg); break;
		case 'x': join = atoi(optarg); break;
		case 'v':
		case 'T': {
			if (nm == CB_ARRAY_SIZE(mounts))
				return 2;
			sbx_mount_t *m = &mounts[nm++];
			memset(m, 0, sizeof *m);
			if (opt == 'T') {
				m->type = SBX_MOUNT_TMPFS;
				m->dest = optarg;
				break;
			}
			char *d = strchr(optarg, ':');
			if (!d)
				return 2;
			*d++ = '\0';
			char *ro = strchr(d, ':');
			if (ro) {
				*ro++ = '\0';
				m->readonly = !strcmp(ro, "ro");
			}
			m->type = SBX_MOUNT_BIND;
			m->source = optarg;
			m->dest = d;
			break;
		}
		default:
			fprintf(stderr, "usage: sbxrun [opts] ROOTFS CMD [ARG]...\n");
			return 2;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: sbxrun [opts] ROOTFS CMD [ARG]...\n");
		return 2;
	}
	if (!env)
		env = cb_strv_push(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	cfg.rootfs = argv[optind];
	cfg.argv = argv + optind + 1;
	cfg.env = env;
	cfg.mounts = mounts;
	cfg.n_mounts = nm;
	sbx_status_t st = {0};
	cb_error_t err = CB_ERROR_INIT;
	for (long i = 0; i < count; i++) {
		int rc = join ? sbx_exec(join, &cfg, &st, &err) : sbx_run(&cfg, &st, &err);
		if (rc < 0) {
			cb_error_print(stderr, "sbxrun", &err);
			cb_error_release(&err);
			cb_strv_free(env);
			return 125;
		}
	}
	cb_strv_free(env);
	return sbx_status_shell_code(&st);
}
