/* Running a container: the init layer, the overlay in a private mount
 * namespace, the monitor (attached or detached), the log, -p forwarding. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/container_internal.h"
#include "runtime/forward.h"
#include "runtime/isolation.h"
#include "runtime/monitor.h"
#include "runtime/mount.h"
#include "runtime/netavark.h"
#include "runtime/pasta.h"
#include "runtime/volume.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/keep.h"
#include "store/places.h"

/* ---- the init layer ---- */

/* Mode and owner of rel in the image: the top-most lower that has it. */
static bool lower_stat(char *const *lowers, const char *rel, struct stat *sb)
{
	for (size_t i = 0; lowers[i]; i++) {
		_cleanup_free_ char *p = cb_path_join(lowers[i], rel);
		if (lstat(p, sb) == 0)
			return !(S_ISCHR(sb->st_mode) && sb->st_rdev == 0); /* a whiteout */
	}
	return false;
}

/* The mount points the sandbox binds over live here, below the upper dir:
 * the container's own changes are all that `diff` and `commit` see. */
static int make_init_layer(const rt_ctr_t *c, char *const *lowers, cb_error_t *err)
{
	static const struct {
		const char *rel;
		mode_t mode;
	} entries[] = {{"dev", S_IFDIR | 0755},          {"proc", S_IFDIR | 0555},
		       {"sys", S_IFDIR | 0555},          {"etc", S_IFDIR | 0755},
		       {"etc/hosts", S_IFREG | 0644},    {"etc/hostname", S_IFREG | 0644},
		       {"etc/resolv.conf", S_IFREG | 0644}};
	_cleanup_free_ char *init = ctr_path(c, "init");
	for (size_t i = 0; i < CB_ARRAY_SIZE(entries); i++) {
		_cleanup_free_ char *p = cb_path_join(init, entries[i].rel);
		struct stat sb;
		bool in_image = lower_stat(lowers, entries[i].rel, &sb);
		if (S_ISDIR(entries[i].mode)) {
			/* an image whose /etc is a symlink keeps it */
			if (in_image && !S_ISDIR(sb.st_mode))
				continue;
			if (mkdir(p, entries[i].mode & 07777) < 0 && errno != EEXIST)
				return cb_error_errno(err, "create '%s'", p);
			if (in_image) {
				if (chown(p, sb.st_uid, sb.st_gid) < 0 && errno != EPERM)
					return cb_error_errno(err, "chown '%s'", p);
				chmod(p, sb.st_mode & 07777);
			}
		} else {
			_cleanup_free_ char *parent = cb_path_join(init, "etc");
			if (!cb_is_dir(parent))
				continue;
			int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, entries[i].mode & 07777);
			if (fd < 0)
				return cb_error_errno(err, "create '%s'", p);
			close(fd);
		}
	}
	return 0;
}

static int write_etc_files(store_t *st, const rt_ctr_t *c, cb_error_t *err)
{
	_cleanup_free_ char *hostname = ctr_path(c, "hostname");
	_cleanup_free_ char *hosts = ctr_path(c, "hosts");
	_cleanup_free_ char *resolv = ctr_path(c, "resolv.conf");
	_cleanup_free_ char *h = cb_asprintf("%s\n", c->hostname);
	_cleanup_free_ char *hs0 = ctr_hosts_text(st, c);
	cb_buf_t hb;
	cb_buf_init(&hb);
	cb_buf_addstr(&hb, hs0);
	ctr_extra_hosts(c, &hb);
	_cleanup_free_ char *hs = cb_buf_detach(&hb, NULL);
	_cleanup_free_ char *rc = NULL;
	size_t rlen = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (c->dns_server) {
		/* aardvark-dns on the gateway: members' names, then the host's servers */
		rc = cb_asprintf("nameserver %s\n", c->dns_server);
	} else if (cb_read_file("/etc/resolv.conf", 1 << 16, &rc, &rlen, &e) < 0) {
		cb_error_release(&e);
		rc = cb_xstrdup("");
	}
	char *dns = ctr_extra_resolv(c, rc);
	if (dns) {
		free(rc);
		rc = dns;
	}
	if (cb_write_file_atomic(hostname, NULL, h, strlen(h), 0644, err) < 0 ||
	    cb_write_file_atomic(hosts, NULL, hs, strlen(hs), 0644, err) < 0 ||
	    cb_write_file_atomic(resolv, NULL, rc, strlen(rc), 0644, err) < 0)
		return -1;
	return 0;
}

/* ---- the overlay ---- */

/* rootfs = overlay(upper, init, image layers). Must run in a private mount
 * namespace (rt_enter_mount_ns). */
static int mount_rootfs(store_t *st, const rt_ctr_t *c, char *const *lowers, cb_error_t *err)
{
	if (make_init_layer(c, lowers, err) < 0 || write_etc_files(st, c, err) < 0)
		return -1;
	_cleanup_free_ char *upper = ctr_path(c, "upper");
	_cleanup_free_ char *work = ctr_path(c, "work");
	_cleanup_free_ char *rootfs = ctr_path(c, "rootfs");
	/* the init layer (hosts, resolv.conf, mount points) above the image's */
	_cleanup_strv_ char **all = cb_strv_push_take(NULL, ctr_path(c, "init"));
	for (size_t i = 0; lowers[i]; i++)
		all = cb_strv_push(all, lowers[i]);
	cb_buf_t o;
	cb_buf_init(&o);
	/* same as build steps: the upper must stay a plain layer diff */
	int rc = rt_overlay_options(all, upper, work, &o, err);
	if (rc == 0 && mount("overlay", rootfs, "overlay", 0, o.data) < 0)
		rc = cb_error_errno(err, "mount overlay on '%s'", rootfs);
	cb_buf_release(&o);
	return rc;
}

int ctr_mount_stopped(store_t *st, const rt_ctr_t *c, cb_error_t *err)
{
	_cleanup_strv_ char **lowers = NULL;
	if (ctr_image_lowers(st, c->image, &lowers, NULL, err) < 0)
		return cb_error_wrap(err, "container '%.12s'", c->id);
	if (rt_enter_mount_ns(err) < 0 || mount_rootfs(st, c, lowers, err) < 0)
		return -1;
	return 0;
}

/* ---- the log ---- */

typedef struct log_ctx {
	int fd;          /* the log file, O_APPEND */
	char *path;      /* ROOT/containers/ID/log */
	int64_t size;    /* its size, when it rotates */
	int64_t max_size;
	int max_file;
	bool tty;        /* a terminal's output: partial lines recorded at once
			  * (a prompt), as docker's json-file does, so that
			  * attach and run -it show them */
	int out[3];      /* attached: where streams 1 and 2 go, -1 = nowhere */
	cb_buf_t line[3];
} log_ctx_t;

/* log -> log.1 -> ... -> log.N-1 (dropped), or truncate when only one file
 * is kept. Readers notice the new inode (or the shorter file) and reopen. */
static void log_rotate(log_ctx_t *l)
{
	if (l->max_file <= 1) {
		if (ftruncate(l->fd, 0) == 0)
			l->size = 0;
		return;
	}
	for (int i = l->max_file - 1; i >= 1; i--) {
		_cleanup_free_ char *from = i > 1 ? cb_asprintf("%s.%d", l->path, i - 1)
						  : cb_xstrdup(l->path);
		_cleanup_free_ char *to = cb_asprintf("%s.%d", l->path, i);
		rename(from, to);
	}
	int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return; /* keep writing to the renamed file rather than lose output */
	close(l->fd);
	l->fd = fd;
	l->size = 0;
}

static void log_record(log_ctx_t *l, int stream, const char *text, size_t len, bool full)
{
	char stamp[CB_RFC3339_LEN];
	cb_rfc3339_now(stamp);
	cb_buf_t b;
	cb_buf_init(&b);
	cb_buf_addf(&b, "%s %d %c ", stamp, stream, full ? 'F' : 'P');
	cb_buf_add(&b, text, len);
	cb_buf_addch(&b, '\n');
	cb_error_t e = CB_ERROR_INIT;
	/* one write per record: O_APPEND keeps records whole for readers */
	if (cb_write_all(l->fd, b.data, b.len, &e) < 0)
		cb_error_release(&e);
	l->size += (int64_t)b.len;
	cb_buf_release(&b);
	if (l->max_size > 0 && l->size >= l->max_size)
		log_rotate(l);
}

static int on_output(void *opaque, int stream, const char *data, size_t len, cb_error_t *err)
{
	log_ctx_t *l = opaque;
	(void)err;
	if (stream < 1 || stream > 2)
		stream = 1;
	if (l->out[stream] >= 0) {
		cb_error_t e = CB_ERROR_INIT;
		if (cb_write_all(l->out[stream], data, len, &e) < 0) {
			cb_error_release(&e);
			l->out[stream] = -1; /* a closed terminal must not stop the container */
		}
	}
	if (l->fd < 0)
		return 0;
	cb_buf_t *b = &l->line[stream];
	cb_buf_add(b, data, len);
	size_t start = 0;
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\n') {
			log_record(l, stream, b->data + start, i - start, true);
			start = i + 1;
		}
	if (l->tty && start < b->len) {
		log_record(l, stream, b->data + start, b->len - start, false);
		start = b->len;
	}
	if (start) {
		memmove(b->data, b->data + start, b->len - start);
		b->len -= start;
		b->data[b->len] = 0;
	}
	return 0;
}

static void log_init(log_ctx_t *l, const rt_ctr_t *c)
{
	memset(l, 0, sizeof *l);
	l->path = ctr_path(c, "log");
	l->fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	struct stat sb;
	if (l->fd >= 0 && fstat(l->fd, &sb) == 0)
		l->size = sb.st_size;
	l->max_size = c->log_max_size;
	l->max_file = c->log_max_file;
	l->tty = c->tty;
	for (int i = 0; i < 3; i++) {
		l->out[i] = -1;
		cb_buf_init(&l->line[i]);
	}
}

static void log_release(log_ctx_t *l)
{
	for (int i = 1; i < 3; i++)
		if (l->line[i].len && l->fd >= 0)
			log_record(l, i, l->line[i].data, l->line[i].len, false);
	for (int i = 0; i < 3; i++)
		cb_buf_release(&l->line[i]);
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}

/* ---- -p: the host's sockets, forwarded by runtime/forward.c ---- */

/* The port a socket is bound to (the kernel's pick for port 0). */
static int bound_port(int fd, uint16_t *port, cb_error_t *err)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return cb_error_errno(err, "getsockname");
	*port = ntohs(sa.sin_port);
	return 0;
}

/* The host ports of -p, -p CTR and -P, before the network is set up.
 * On a bridge netavark DNATs them, and nothing else would keep them: the
 * monitor holds a socket on each for the container's life (holds, n_ports
 * fds), as podman's conmon does, so another container's -p of the same
 * port fails as docker's does, and no bind elsewhere (a port 0 pick
 * included) is given a port a container publishes. Without holds (pasta,
 * which binds them itself) the port is only checked, or picked (the
 * kernel's pick for port 0, where docker's allocator takes them too). */
static int pick_ports(rt_ctr_t *c, int *holds, cb_error_t *err)
{
	for (size_t i = 0; i < c->n_ports; i++) {
		rt_ctr_port_t *p = &c->ports[i];
		p->bound_port = p->host_port;
		if (p->host_port && !holds)
			continue;
		int fd = rt_fwd_listen(p->host_ip, p->host_port, p->udp);
		if (fd < 0 && errno == EADDRINUSE)
			return cb_error_fail(err, EADDRINUSE,
					     "Bind for %s:%u failed: port is already allocated",
					     p->host_ip, (unsigned)p->host_port);
		if (fd < 0)
			return cb_error_errno(err, "publish port %s:%u:%u/%s", p->host_ip,
					      (unsigned)p->host_port, (unsigned)p->ctr_port,
					      p->udp ? "udp" : "tcp");
		int rc = bound_port(fd, &p->bound_port, err);
		if (holds && rc == 0)
			holds[i] = fd;
		else
			close(fd);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int listen_ports(rt_ctr_t *c, rt_fwd_t *fw, cb_error_t *err)
{
	for (size_t i = 0; i < c->n_ports; i++) {
		const rt_ctr_port_t *p = &c->ports[i];
		struct in_addr a;
		if (inet_pton(AF_INET, p->host_ip, &a) != 1)
			return cb_error_fail(err, EINVAL, "port mapping: bad IPv4 address '%s'",
					     p->host_ip);
		fw[i].listen_fd = rt_fwd_listen(p->host_ip, p->host_port, p->udp);
		if (fw[i].listen_fd < 0)
			return cb_error_errno(err, "publish port %s:%u/%s", p->host_ip,
					      (unsigned)p->host_port, p->udp ? "udp" : "tcp");
		if (bound_port(fw[i].listen_fd, &c->ports[i].bound_port, err) < 0)
			return -1;
		fw[i].udp = p->udp;
		fw[i].ctr_port = p->ctr_port;
	}
	return 0;
}

static int start_forwarders(const rt_ctr_t *c, rt_fwd_t *fw, pid_t pid, cb_error_t *err)
{
	if (!c->n_ports)
		return 0;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return cb_error_errno(err, "open '%s'", path);
	for (size_t i = 0; i < c->n_ports; i++) {
		fw[i].netns_fd = ns;
		if (rt_fwd_start(&fw[i], err) < 0)
			return -1;
	}
	return 0;
}

/* ---- starting the process ---- */

typedef struct mounts {
	sbx_mount_t *v;
	size_t n;
	char **owned;
} mounts_t;

static int build_mounts(store_t *st, const rt_ctr_t *c, mounts_t *m, cb_error_t *err)
{
	size_t nv = cb_strv_len(c->volumes);
	m->v = cb_xcalloc(nv + 1, sizeof(sbx_mount_t));
	m->owned = cb_xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < nv; i++) {
		char *spec = cb_xstrdup(c->volumes[i]);
		m->owned = cb_strv_push_take(m->owned, spec);
		char *colon = strchr(spec, ':');
		*colon = 0;
		char *dest = colon + 1;
		char *opt = strchr(dest, ':');
		bool ro = false;
		if (opt) {
			*opt = 0;
			ro = !strcmp(opt + 1, "ro");
			if (!ro && strcmp(opt + 1, "rw"))
				return cb_error_fail(err, EINVAL, "volume '%s': unknown option '%s'",
						     c->volumes[i], opt + 1);
		}
		const char *src = spec;
		if (!strchr(spec, '/')) {
			/* a named volume: a directory of the store, made on first use */
			char *dir = NULL;
			if (rt_vol_ensure(st, spec, &dir, NULL, err) < 0)
				return -1;
			m->owned = cb_strv_push_take(m->owned, dir);
			/* docker fills a volume from the image when the container
			 * is created; here at its first start, the first time
			 * its root is mounted */
			_cleanup_free_ char *rootfs = ctr_path(c, "rootfs");
			if (c->started < 0 && rt_vol_copy_up(rootfs, dest, dir, err) < 0)
				return -1;
			src = dir;
		} else if (!cb_path_exists(spec) && cb_mkdir_p(spec, 0755, err) < 0) {
			/* docker's -v makes a missing host path a directory */
			return cb_error_wrap(err, "volume '%s'", c->volumes[i]);
		}
		m->v[m->n++] = (sbx_mount_t){.type = SBX_MOUNT_BIND, .source = src, .dest = dest,
					     .readonly = ro};
	}
	return 0;
}

static void mounts_release(mounts_t *m)
{
	free(m->v);
	cb_strv_free(m->owned);
	memset(m, 0, sizeof *m);
}

typedef struct running {
	sbx_handle_t *h;
	ctr_limits_t limits;
	log_ctx_t log;
	rt_fwd_t *fw;
	size_t n_fw;
	rt_pasta_t pasta; /* a rootless network's pasta (pid 0 = none) */
	int *port_holds;  /* a bridge's published ports, held (pick_ports) */
} running_t;

static void running_release(running_t *r)
{
	sbx_handle_free(r->h);
	r->h = NULL;
	ctr_limits_leave(&r->limits);
	log_release(&r->log);
	for (size_t i = 0; i < r->n_fw; i++)
		if (r->fw[i].listen_fd >= 0)
			close(r->fw[i].listen_fd);
	for (size_t i = 0; r->port_holds && i < r->n_fw; i++)
		if (r->port_holds[i] >= 0)
			close(r->port_holds[i]);
	free(r->port_holds);
	r->port_holds = NULL;
	free(r->fw);
	r->fw = NULL;
	r->n_fw = 0;
	rt_pasta_stop(&r->pasta);
}

static int launch_process(store_t *st, rt_ctr_t *c, running_t *r, bool attached,
			  cb_error_t *err);

/* The container's namespace on its networks (netavark), this process in
 * it; the nameserver for resolv.conf. */
static int attach_networks(store_t *st, rt_ctr_t *c, cb_error_t *err)
{
	size_t n = cb_strv_len(c->networks);
	rt_net_t **nets = cb_xcalloc(n + 1, sizeof *nets);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!(nets[i] = rt_net_load(st, c->networks[i], err)))
			rc = -1;
	if (rc == 0) {
		free(c->dns_server);
		c->dns_server = NULL;
		rc = rt_nav_attach(c, nets, &c->dns_server, err);
	}
	for (size_t i = 0; i < n; i++)
		rt_net_free(nets[i]);
	free(nets);
	return rc;
}

/* Mount, listen, start the process, record "running". This process must be
 * the monitor: it keeps the mount namespace alive. */
static int launch(store_t *st, rt_ctr_t *c, running_t *r, bool attached, const rt_ctr_io_t *io,
		  cb_error_t *err)
{
	memset(r, 0, sizeof *r);
	log_init(&r->log, c);
	if (attached && io) {
		r->log.out[1] = io->out_fd;
		r->log.out[2] = io->err_fd;
	}
	r->n_fw = c->n_ports;
	r->fw = cb_xcalloc(c->n_ports + 1, sizeof(rt_fwd_t));
	r->port_holds = cb_xcalloc(c->n_ports + 1, sizeof(int));
	for (size_t i = 0; i < c->n_ports; i++)
		r->fw[i].listen_fd = r->fw[i].netns_fd = r->port_holds[i] = -1;
	/* the image's layers are fetched (lazy ones from their registry, which
	 * may be on the host's loopback) and unpacked before this process
	 * joins the container's network namespace */
	_cleanup_strv_ char **lowers = NULL;
	if (ctr_image_lowers(st, c->image, &lowers, NULL, err) < 0)
		return cb_error_wrap(err, "container '%.12s'", c->id);
	/* before the private mount namespace: the netns file is bound in the
	 * host's, where a teardown after a crash finds it */
	if (c->networks && c->networks[0] &&
	    (pick_ports(c, r->port_holds, err) < 0 || attach_networks(st, c, err) < 0))
		return -1;
	/* rootless: pasta binds the host's ports (-p is its forwarding), its
	 * DNS forwarder is the nameserver unless --dns names others; its
	 * launcher is forked while this process is still in the host's
	 * namespaces */
	if (c->net_pasta) {
		if (pick_ports(c, NULL, err) < 0 || rt_pasta_prepare(c, c->dir, &r->pasta, err) < 0)
			return -1;
		free(c->dns_server);
		c->dns_server = c->extra.dns ? NULL : cb_xstrdup(RT_PASTA_DNS);
	}
	/* -p of a bridge network is netavark's DNAT; the userspace forwarder
	 * only serves a rootless container's own namespace when there is no
	 * pasta */
	if (rt_enter_mount_ns(err) < 0)
		return -1;
	/* the container shares this monitor's network namespace, as on a
	 * bridge; pasta configures it while the root is mounted */
	if (c->net_pasta) {
		if (unshare(CLONE_NEWNET) < 0)
			return cb_error_errno(err, "unshare network namespace");
		if (rt_pasta_go(&r->pasta, err) < 0)
			return -1;
	}
	if (rt_isolation_get() == RT_ISO_NONE) /* Docker's defaults: builds only */
		return cb_error_fail(err, ENOTSUP, "a container needs namespaces and mounts, which "
						   "are refused here (see `cbuild info`)");
	if (mount_rootfs(st, c, lowers, err) < 0 ||
	    (c->net_none && listen_ports(c, r->fw, err) < 0))
		return -1;
	return launch_process(st, c, r, attached, err);
}

/* The sandbox and the state of launch(). */
static int launch_process(store_t *st, rt_ctr_t *c, running_t *r, bool attached,
			  cb_error_t *err)
{
	mounts_t m = {0};
	if (build_mounts(st, c, &m, err) < 0) {
		mounts_release(&m);
		return -1;
	}
	_cleanup_free_ char *rootfs = ctr_path(c, "rootfs");
	_cleanup_free_ char *hosts = ctr_path(c, "hosts");
	_cleanup_free_ char *hostname = ctr_path(c, "hostname");
	_cleanup_free_ char *resolv = ctr_path(c, "resolv.conf");
	sbx_config_t cfg;
	sbx_config_init(&cfg);
	cfg.rootfs = rootfs;
	cfg.mounts = m.v;
	cfg.n_mounts = m.n;
	cfg.hosts = hosts;
	cfg.hostname_file = hostname;
	cfg.resolv_conf = resolv;
	cfg.argv = c->argv;
	cfg.env = c->env;
	cfg.cwd = c->cwd;
	cfg.user = c->user && *c->user ? c->user : NULL;
	cfg.hostname = c->hostname;
	/* on a network: this monitor is in its namespace already */
	cfg.network = c->net_none ? SBX_NET_NONE : SBX_NET_HOST;
	cfg.tty = c->tty;
	/* detached -i: a stdin that stays open, fed by `attach` */
	int stdin_r = -1;
	ctr_stdin_t *in = NULL;
	if (!attached && c->interactive && ctr_stdin_open(c, &in, &stdin_r, err) < 0) {
		mounts_release(&m);
		return -1;
	}
	cfg.stdin_mode = c->interactive ? SBX_STDIN_INHERIT : SBX_STDIN_NULL;
	cfg.stdin_fd = stdin_r;
	cfg.output_cb = on_output;
	cfg.output_opaque = &r->log;
	cfg.forward_signals = false;
	cfg.tty_raw = attached;
	cfg.pids_limit = c->pids_limit;
	sbx_scmp_profile_t *profile = NULL;
	ctr_sbx_extra_t x;
	int rc = ctr_sbx_extra(c, m.v, m.n, &cfg, &x, err);
	if (rc == 0)
		rc = rt_ctr_seccomp(c, &cfg, &profile, err);
	/* memory and cpu: this monitor's cgroups, which the sandbox's fork inherits */
	if (rc == 0)
		rc = ctr_limits_enter(c, &r->limits, err);
	if (rc == 0)
		rc = rt_pasta_ready(&r->pasta, err);
	if (rc == 0)
		rc = sbx_start(&cfg, &r->h, err);
	sbx_seccomp_free(profile);
	ctr_sbx_extra_release(&x);
	mounts_release(&m);
	if (rc < 0)
		return cb_error_wrap(err, "start container '%.12s'", c->id);
	ctr_stdin_serve(in);
	pid_t pid = sbx_handle_pid(r->h);
	c->status = RT_CTR_RUNNING;
	c->pid = pid;
	c->pid_start = rt_ctr_proc_start(pid);
	c->monitor_pid = getpid();
	c->monitor_start = rt_ctr_proc_start(c->monitor_pid);
	c->exit_code = 0;
	c->started = ctr_now();
	c->finished = -1;
	if (start_forwarders(c, r->fw, pid, err) < 0 || ctr_write_state(st, c, err) < 0)
		return -1;
	return 0;
}

/* Remove everything of a container from inside its own monitor (--rm). */
static void remove_self(store_t *st, rt_ctr_t *c)
{
	_cleanup_free_ char *rootfs = ctr_path(c, "rootfs");
	umount2(rootfs, MNT_DETACH);
	_cleanup_free_ char *cfg = ctr_path(c, "config.json");
	unlink(cfg);
	cb_error_t e = CB_ERROR_INIT;
	if (cb_rm_rf(c->dir, &e) < 0)
		cb_warn_error(&e);
	else if (store_keep_remove(st, STORE_KEEP_CONTAINER, c->id, &e) < 0)
		cb_warn_error(&e);
	else
		rt_ctr_remove_anon_volumes(st, c);
}

/* Until every rt_ctr_hold_removal holder has let go. */
static void wait_attachers(const rt_ctr_t *c)
{
	_cleanup_free_ char *p = ctr_path(c, "attach.lock");
	int fd = open(p, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	while (fcntl(fd, F_SETLKW, &l) < 0 && errno == EINTR)
		;
	close(fd);
}

static int finish(store_t *st, rt_ctr_t *c, running_t *r, sbx_status_t *status, cb_error_t *err)
{
	int rc = sbx_wait(r->h, true, status, err);
	_cleanup_free_ char *rootfs = ctr_path(c, "rootfs");
	running_release(r);
	if (c->networks && c->networks[0])
		rt_nav_detach(c->id);
	c->status = RT_CTR_EXITED;
	c->exit_code = rc == 0 ? sbx_status_shell_code(status) : 255;
	c->finished = ctr_now();
	c->monitor_pid = 0;
	c->monitor_start = 0;
	if (c->auto_remove) {
		/* an attacher (run -it --rm) reads the exit code first */
		cb_error_t e = CB_ERROR_INIT;
		if (ctr_write_state(st, c, &e) < 0)
			cb_error_release(&e);
		wait_attachers(c);
		remove_self(st, c);
		return rc;
	}
	umount2(rootfs, MNT_DETACH);
	cb_error_t e = CB_ERROR_INIT;
	if (ctr_write_state(st, c, rc < 0 ? &e : err) < 0 && rc == 0)
		return -1;
	cb_error_release(&e);
	return rc;
}

/* ---- attached ---- */

static volatile sig_atomic_t fwd_pid;
static volatile sig_atomic_t fwd_count;

static void on_signal(int sig)
{
	pid_t p = fwd_pid;
	if (p > 0)
		kill(p, fwd_count++ ? SIGKILL : sig); /* PID 1 ignores unhandled signals */
}

int rt_ctr_run(store_t *st, rt_ctr_t *c, const rt_ctr_io_t *io, sbx_status_t *status,
	       cb_error_t *err)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	struct sigaction old[CB_ARRAY_SIZE(sigs)];
	struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	fwd_pid = 0;
	fwd_count = 0;
	for (size_t i = 0; i < CB_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, &old[i]);
	signal(SIGPIPE, SIG_IGN);
	running_t r;
	int rc = launch(st, c, &r, true, io, err);
	if (rc < 0) {
		running_release(&r);
		rt_nav_detach(c->id);
		c->status = RT_CTR_EXITED;
		c->exit_code = 127;
		c->finished = ctr_now();
		if (c->auto_remove) {
			remove_self(st, c);
		} else {
			cb_error_t e = CB_ERROR_INIT;
			if (ctr_write_state(st, c, &e) < 0)
				cb_error_release(&e);
		}
	} else {
		fwd_pid = sbx_handle_pid(r.h);
		rc = finish(st, c, &r, status, err);
		fwd_pid = 0;
	}
	for (size_t i = 0; i < CB_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &old[i], NULL);
	/* with the caller's signal handlers back: a keeper forked now keeps none of ours */
	if (rc == 0 && !c->auto_remove)
		ctr_keep_after_attached(st, c);
	return rc;
}

/* ---- detached: one run under the keeper (runtime/container_keep.c) ---- */

_Noreturn void ctr_monitor_run(store_t *st, rt_ctr_t *c, int ready)
{
	running_t r;
	cb_error_t e = CB_ERROR_INIT;
	/* networks: the monitor takes the store lock while its parent lives */
	int rc = store_reopen_lock(st, &e);
	if (rc == 0) {
		rc = launch(st, c, &r, false, NULL, &e);
		if (rc < 0) {
			running_release(&r);
			rt_nav_detach(c->id);
		}
	}
	if (rc < 0) {
		char buf[2048];
		cb_error_format(&e, buf, sizeof buf);
		cb_error_t we = CB_ERROR_INIT;
		if (cb_write_all(ready, buf, strlen(buf), &we) < 0)
			cb_error_release(&we);
		_exit(1);
	}
	close(ready);
	sbx_status_t status;
	if (finish(st, c, &r, &status, &e) < 0)
		cb_error_release(&e);
	_exit(0);
}
