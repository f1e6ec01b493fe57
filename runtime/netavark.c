/* A container's network namespace through netavark: the request JSON, the
 * namespace file, address allocation, setup and teardown. See
 * runtime/netavark.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/netavark.h"
#include "runtime/mount.h"
#include "common/fs.h"
#include "common/util.h"

#define NAV_BIN "/usr/lib/podman/netavark"
#define AARDVARK_BIN "/usr/lib/podman/aardvark-dns"

static const char *run_dir(void)
{
	const char *d = getenv("CBUILD_RUN_DIR");
	return d && *d ? d : "/run/cbuild";
}

char *rt_nav_run_path(const char *fmt, const char *a, const char *b)
{
	_cleanup_free_ char *rel = cb_asprintf(fmt, a, b);
	return cb_path_join(run_dir(), rel);
}

/* ---- addresses ---- */

static int parse_cidr(const char *cidr, uint32_t *net, int *prefix)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%s", cidr);
	char *slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash = 0;
	struct in_addr a;
	char *end;
	long p = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, buf, &a) != 1 || *end || p < 8 || p > 30)
		return -1;
	*prefix = (int)p;
	*net = ntohl(a.s_addr) & (0xffffffffu << (32 - p));
	return 0;
}

static void ip_str(uint32_t ip, char out[INET_ADDRSTRLEN])
{
	struct in_addr a = {.s_addr = htonl(ip)};
	inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}

/* Claim ip (a string) on n's bridge: a file naming the container and
 * this process, linked into place whole (link fails when the name is
 * taken), so that no claim is ever seen empty: one cut short stays
 * .claim-PID-*, swept once PID is gone. 1 when another container holds it. */
static int claim_ip(const char *dir, const char *ip, const char *ctr_id, cb_error_t *err)
{
	_cleanup_free_ char *p = cb_path_join(dir, ip);
	char hex[17];
	cb_random_hex(hex, 8);
	_cleanup_free_ char *tmp = cb_asprintf("%s/.claim-%ld-%s", dir, (long)getpid(), hex);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return cb_error_errno(err, "claim address '%s'", p);
	/* the pid: a claim of a process killed before it wrote its request
	 * is stale (rt_nav_sweep_gone) */
	_cleanup_free_ char *text = cb_asprintf("%s\n%ld\n", ctr_id, (long)getpid());
	int rc = cb_write_all(fd, text, strlen(text), err);
	close(fd);
	if (rc == 0 && link(tmp, p) < 0)
		rc = errno == EEXIST ? 1 : cb_error_errno(err, "claim address '%s'", p);
	unlink(tmp);
	return rc;
}

/* want (--ip) or the first free host address of the subnet (not the
 * gateway, .1), claimed by claim_ip. */
static int alloc_ip(const rt_net_t *n, const char *ctr_id, const char *want,
		    char out[INET_ADDRSTRLEN], cb_error_t *err)
{
	uint32_t net;
	int prefix;
	if (parse_cidr(n->subnet, &net, &prefix) < 0)
		return cb_error_fail(err, EINVAL, "network '%s': bad subnet '%s'", n->name,
				     n->subnet);
	_cleanup_free_ char *dir = rt_nav_run_path("ipam/%s%s", n->bridge, "");
	if (cb_mkdir_p(dir, 0700, err) < 0)
		return -1;
	uint32_t last = net | ~(0xffffffffu << (32 - prefix));
	if (want) {
		struct in_addr a;
		uint32_t ip = inet_pton(AF_INET, want, &a) == 1 ? ntohl(a.s_addr) : 0;
		if (ip < net + 2 || ip >= last)
			return cb_error_fail(err, EINVAL, "address '%s' is not a host address of "
							  "network '%s' (%s, gateway %s)", want,
					     n->name, n->subnet, n->gateway);
		ip_str(ip, out);
		int rc = claim_ip(dir, out, ctr_id, err);
		return rc <= 0 ? rc : cb_error_fail(err, EADDRINUSE, "address '%s' is already in "
								      "use on network '%s'", want,
						    n->name);
	}
	for (uint32_t ip = net + 2; ip < last; ip++) {
		ip_str(ip, out);
		int rc = claim_ip(dir, out, ctr_id, err);
		if (rc <= 0)
			return rc;
	}
	return cb_error_fail(err, ENOSPC, "network '%s': no free address in %s", n->name,
			     n->subnet);
}

/* Give back the addresses the request holds (only those still ours). */
static void free_ips(json_t *req, const char *ctr_id)
{
	json_t *nets = json_object_get(req, "networks"), *info = json_object_get(req, "network_info");
	const char *name;
	json_t *v;
	json_object_foreach(nets, name, v) {
		const char *bridge = json_string_value(
			json_object_get(json_object_get(info, name), "network_interface"));
		const char *ip = json_string_value(json_array_get(json_object_get(v, "static_ips"), 0));
		if (!bridge || !ip)
			continue;
		_cleanup_free_ char *p = rt_nav_run_path("ipam/%s/%s", bridge, ip);
		_cleanup_free_ char *owner = NULL;
		size_t len;
		cb_error_t e = CB_ERROR_INIT;
		if (cb_read_file(p, 256, &owner, &len, &e) < 0) {
			cb_error_release(&e);
			continue;
		}
		size_t n = strlen(ctr_id);
		if (!strncmp(owner, ctr_id, n) && (owner[n] == '\n' || !owner[n]))
			unlink(p);
	}
}

/* ---- the request ---- */

/* A request's mode says whether netavark finished its setup: written
 * REQ_PENDING before the setup, REQ_UP once it succeeded (the bits mean
 * nothing else: only root reads them). */
#define REQ_PENDING 0600
#define REQ_UP 0400

/* Write a request whole (readers see the old one or the new one) through
 * PATH.tmp-PID: a process killed before its rename leaves that name, which
 * rt_nav_sweep_gone removes once PID is gone (a random name would stay). */
static int write_request(const char *path, const char *text, mode_t mode, cb_error_t *err)
{
	_cleanup_free_ char *tmp = cb_asprintf("%s.tmp-%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return cb_error_errno(err, "create '%s'", tmp);
	int rc = cb_write_all(fd, text, strlen(text), err);
	if (rc == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		rc = cb_error_errno(err, "write '%s'", tmp);
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = cb_error_errno(err, "rename '%s'", tmp);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* The interface's MAC, made from its address as docker's bridge makes it
 * (02:42 and the four bytes): an address given back and handed to the
 * next container keeps its MAC, so the host's neighbour entry for it stays
 * right. With a random MAC the host kept sending to the old container's
 * for seconds (its entry goes stale, is probed, fails, only then asks
 * again), and the new container got nothing meanwhile. */
static void mac_for_ip(const char *ip, char out[18])
{
	struct in_addr a = {0};
	inet_pton(AF_INET, ip, &a);
	const unsigned char *b = (const unsigned char *)&a.s_addr;
	snprintf(out, 18, "02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3]);
}

/* n's entries of a request: the endpoint (networks) and the network
 * (network_info) */
static void add_network(json_t *networks, json_t *info, const rt_ctr_t *c, const rt_net_t *n,
			const char *ip, const char *ifname)
{
	json_t *aliases = json_array();
	json_array_append_new(aliases, json_string(c->name));
	json_array_append_new(aliases, json_sprintf("%.12s", c->id));
	char **more = rt_ctr_net_values(c->net_aliases, n->name);
	for (size_t i = 0; more[i]; i++)
		json_array_append_new(aliases, json_string(more[i]));
	cb_strv_free(more);
	char mac[18];
	mac_for_ip(ip, mac);
	json_object_set_new(networks, n->bridge,
			    json_pack("{s:[s], s:s, s:s, s:o, s:s}", "static_ips", ip, "static_mac",
				      mac, "interface_name", ifname, "aliases", aliases,
				      "cbuild_name", n->name));
	/* isolate: as docker's bridges, networks do not reach each other;
	 * internal: no default route, no NAT (network create --internal);
	 * metric: each interface's default route its own (100 + N for ethN,
	 * as podman), or the second network's route is refused (EEXIST);
	 * name: netavark (1.4) names the network's NAT chains and its
	 * aardvark-dns config after it, not after the ID, so it gets the
	 * bridge's name, unique on the host: every store's default network is
	 * "bridge" and two stores' compose projects both have "app_default",
	 * and they must not share (and tear down) each other's chains and
	 * names. Its entries are keyed by that name too (netavark's teardown
	 * finds the aardvark-dns config by the key); the endpoint keeps the
	 * store's name as "cbuild_name" (netavark ignores it), req_key. */
	char metric[32];
	snprintf(metric, sizeof metric, "%ld", 100 + strtol(ifname + 3, NULL, 10));
	json_object_set_new(info, n->bridge,
			    json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s}], s:b, s:b, s:b, "
				      "s:{s:s}, s:{s:s, s:s}}",
				      "name", n->bridge, "id", n->id, "driver", "bridge",
				      "network_interface", n->bridge, "subnets", "subnet", n->subnet,
				      "gateway", n->gateway, "ipv6_enabled", 0, "internal",
				      n->internal, "dns_enabled", n->dns, "ipam_options", "driver",
				      "host-local", "options", "isolate", "true", "metric", metric));
}

static json_t *port_mappings(const rt_ctr_t *c)
{
	json_t *pm = json_array();
	for (size_t i = 0; i < c->n_ports; i++) {
		const rt_ctr_port_t *p = &c->ports[i];
		/* netavark's "all addresses" is "", and it DNATs 127.0.0.1 too
		 * (it sets route_localnet on the bridge) */
		const char *hip = strcmp(p->host_ip, "0.0.0.0") ? p->host_ip : "";
		json_array_append_new(pm, json_pack("{s:s, s:i, s:i, s:i, s:s}", "host_ip", hip,
						    "container_port", p->ctr_port, "host_port",
						    p->bound_port ? p->bound_port : p->host_port,
						    "range", 1, "protocol", p->udp ? "udp" : "tcp"));
	}
	return pm;
}

static json_t *make_request(const rt_ctr_t *c, rt_net_t *const *nets,
			    char ips[][INET_ADDRSTRLEN])
{
	json_t *networks = json_object(), *info = json_object();
	for (size_t i = 0; nets[i]; i++) {
		char ifname[32];
		snprintf(ifname, sizeof ifname, "eth%zu", i);
		add_network(networks, info, c, nets[i], ips[i], ifname);
	}
	json_t *req = json_pack("{s:s, s:s, s:o, s:o, s:o}", "container_id", c->id,
				"container_name", c->name, "networks", networks, "network_info",
				info, "port_mappings", port_mappings(c));
	/* the container's directory (netavark ignores it): once its
	 * config.json is gone, so is the container (rt_nav_sweep_gone) */
	if (c->dir && c->dir[0] == '/')
		json_object_set_new(req, "cbuild_dir", json_string(c->dir));
	return req;
}

/* ---- running netavark ---- */

static int host_netns_fd = -1; /* where netavark must run, once we left it */

/* netavark edits the host's one firewall (its NETAVARK-* chains, shared by
 * every network) and assumes its caller serializes it, as podman does with
 * a lock of its own. Every cbuild on the host, whatever its store or run
 * directory, takes this one: two setups or teardowns at once fail with
 * "iptables: No chain/target/match by that name" when one removes a chain
 * the other is adding to. Returns the locked fd, or -1 (err set). */
int rt_nav_lock_firewall(cb_error_t *err)
{
	const char *path = cb_path_exists("/run/lock") ? "/run/lock/cbuild-netavark.lock"
						       : "/run/cbuild-netavark.lock";
	return cb_lock_path(path, 0600, err);
}

static int run_netavark_locked(const char *verb, const char *netns, const char *req,
			       cb_error_t *err);

/* One kind of line of `iptables -S`: those starting with prefix that
 * contain has (any, when NULL); n counts them. */
typedef struct {
	const char *prefix, *has;
	int n;
} ipt_lines_t;

/* iptables ARGS in the host's network namespace: its exit status, or -1
 * when it could not run; counts (ended by a NULL prefix, or NULL) counts
 * the lines it printed of each kind. */
static int iptables(const char *const *args, ipt_lines_t *counts)
{
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(out[0]), close(out[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || (host_netns_fd >= 0 && setns(host_netns_fd, CLONE_NEWNET) < 0))
			_exit(126);
		dup2(out[1], 1);
		dup2(null, 2);
		execvp("iptables", (char *const *)args);
		execv("/usr/sbin/iptables", (char *const *)args);
		_exit(127);
	}
	close(out[1]);
	char line[512];
	size_t len = 0;
	FILE *f = fdopen(out[0], "r");
	while (f && fgets(line + len, (int)(sizeof line - len), f)) {
		len = strlen(line);
		if (len && line[len - 1] != '\n' && len + 1 < sizeof line)
			continue; /* the rest of a long line */
		for (ipt_lines_t *c = counts; c && c->prefix; c++)
			c->n += !strncmp(line, c->prefix, strlen(c->prefix)) &&
				(!c->has || strstr(line, c->has));
		len = 0;
	}
	if (f)
		fclose(f);
	else
		close(out[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* netavark (1.4) deletes `FORWARD -j NETAVARK_ISOLATION_1` when the last
 * member of ANY isolated network leaves, although the other networks'
 * rules stay in that chain: until the next setup puts it back, networks
 * reach each other (and another store's teardown can do it at any time).
 * Its delete removes one copy: while the chain holds a rule, FORWARD keeps
 * two, so one is always there; topped up after every setup and teardown
 * (under the firewall lock, so no teardown of ours runs in between). One
 * listing of the filter table counts both (an iptables run is 5-20 ms of
 * every build's setup and teardown). */
static void keep_isolation(void)
{
	const char *list[] = {"iptables", "-w", "-S", NULL};
	const char *add_jump[] = {"iptables", "-w", "-I", "FORWARD", "1", "-j",
				  "NETAVARK_ISOLATION_1", NULL};
	ipt_lines_t counts[] = {{"-A NETAVARK_ISOLATION_1 ", NULL, 0},
				{"-A FORWARD ", "-j NETAVARK_ISOLATION_1", 0},
				{NULL, NULL, 0}};
	if (iptables(list, counts) != 0 || counts[0].n == 0)
		return;
	for (int n_jumps = counts[1].n; n_jumps < 2; n_jumps++)
		if (iptables(add_jump, NULL) != 0)
			return;
}

bool rt_nav_net_left(const rt_net_t *n)
{
	if (!n->bridge || !n->subnet)
		return false;
	if (if_nametoindex(n->bridge) != 0)
		return true;
	char has[64];
	snprintf(has, sizeof has, " %s ", n->subnet);
	const char *filter[] = {"iptables", "-w", "-S", NULL};
	const char *nat[] = {"iptables", "-w", "-t", "nat", "-S", NULL};
	ipt_lines_t counts[] = {{"-A ", has, 0}, {NULL, NULL, 0}};
	iptables(filter, counts);
	iptables(nat, counts);
	return counts[0].n > 0;
}

static int run_netavark(const char *verb, const char *netns, const char *req, cb_error_t *err)
{
	int lock = rt_nav_lock_firewall(err);
	if (lock < 0)
		return -1;
	int rc = run_netavark_locked(verb, netns, req, err);
	keep_isolation();
	close(lock); /* the child exited: nothing else holds it */
	return rc;
}

static int run_netavark_locked(const char *verb, const char *netns, const char *req,
			       cb_error_t *err)
{
	_cleanup_free_ char *cfg = rt_nav_run_path("aardvark%s%s", "", "");
	if (cb_mkdir_p(cfg, 0700, err) < 0)
		return -1;
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return cb_error_errno(err, "pipe");
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]), close(in[1]);
		return cb_error_errno(err, "pipe");
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		return cb_error_errno(err, "fork netavark");
	}
	if (pid == 0) {
		/* killed with us: a netavark left running would go on adding
		 * rules after the firewall lock died with us and a sweeper's
		 * teardown ran; cut short, the request still tears it down */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(126);
		if (host_netns_fd >= 0 && setns(host_netns_fd, CLONE_NEWNET) < 0)
			_exit(126);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		execl(NAV_BIN, "netavark", "--config", cfg, "--aardvark-binary", AARDVARK_BIN,
		      verb, netns, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	cb_error_t e = CB_ERROR_INIT;
	if (cb_write_all(in[1], req, strlen(req), &e) < 0)
		cb_error_release(&e);
	close(in[1]);
	cb_buf_t msg;
	cb_buf_init(&msg);
	char buf[1024];
	ssize_t n;
	while ((n = read(out[0], buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		cb_buf_add(&msg, buf, (size_t)n);
	}
	close(out[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	int rc = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		/* its error is JSON {"error": "..."} on stdout */
		json_t *j = msg.len ? json_loads(msg.data, 0, NULL) : NULL;
		const char *why = json_string_value(json_object_get(j, "error"));
		rc = cb_error_fail(err, EIO, "netavark %s: %s (status %d)", verb,
				   why ? why : msg.len ? msg.data : "failed", st);
		json_decref(j);
	}
	cb_buf_release(&msg);
	return rc;
}

/* ---- the namespace file ---- */

/* Bind the child's network namespace on path here and, when this process
 * left its first mount namespace (a build's overlays live in a private
 * one), there too: a command that tears it down after we were killed
 * (rt_nav_sweep, rt_nav_detach) runs there, and finds only an empty file
 * without it ("setns: Invalid argument"), leaving the firewall rules. Our
 * own teardown unmounts here and unlinks, which detaches the other. */
static int bind_netns(const char *path)
{
	if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
		return -1;
	int outer = rt_outer_mount_ns();
	struct stat a, b;
	if (outer < 0 || stat("/proc/self/ns/mnt", &a) < 0 || fstat(outer, &b) < 0 ||
	    a.st_ino == b.st_ino)
		return 0;
	/* not root in the first namespace's user namespace (rootless): only
	 * the private mount, as before */
	if (setns(outer, CLONE_NEWNS) < 0)
		return 0;
	return mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL);
}

int rt_nav_bind_from_outer(const char *path)
{
	int outer = rt_outer_mount_ns();
	_cleanup_close_ int here = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	struct stat a, b;
	if (outer < 0 || here < 0 || fstat(outer, &a) < 0 || fstat(here, &b) < 0 ||
	    a.st_ino == b.st_ino)
		return -1;
	pid_t pid = fork(); /* setns of a mount namespace: one thread only */
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setns(outer, CLONE_NEWNS) < 0)
			_exit(1);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(here, CLONE_NEWNS) < 0)
			_exit(2);
		char from[64];
		snprintf(from, sizeof from, "/proc/self/fd/%d", fd);
		_exit(mount(from, path, NULL, MS_BIND, NULL) < 0 ? 3 : 0);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* A new network namespace bound on path, made by a child (we stay put). */
static int make_netns(const char *path, cb_error_t *err)
{
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return cb_error_errno(err, "create '%s'", path);
	close(fd);
	pid_t pid = fork();
	if (pid < 0)
		return cb_error_errno(err, "fork");
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0 || bind_netns(path) < 0)
			_exit(errno ? errno : 1);
		_exit(0);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		unlink(path);
		return cb_error_set(err, WIFEXITED(st) ? WEXITSTATUS(st) : EIO,
				    "create a network namespace on '%s'", path);
	}
	return 0;
}

static void drop_netns(const char *path)
{
	umount2(path, MNT_DETACH);
	unlink(path);
}

int rt_nav_attach(const rt_ctr_t *c, rt_net_t *const *nets, char **dns, cb_error_t *err)
{
	const char *ctr_id = c->id, *ctr_name = c->name;
	*dns = NULL;
	size_t n = 0;
	while (nets[n])
		n++;
	_cleanup_free_ char *dir = rt_nav_run_path("netns%s%s", "", "");
	_cleanup_free_ char *ns = rt_nav_run_path("netns/%s%s", ctr_id, "");
	_cleanup_free_ char *reqp = rt_nav_run_path("netns/%s%s", ctr_id, ".json");
	if (cb_mkdir_p(dir, 0700, err) < 0)
		return -1;
	/* what a crashed run of this container left */
	rt_nav_detach(ctr_id);
	char(*ips)[INET_ADDRSTRLEN] = cb_xcalloc(n + 1, sizeof *ips);
	json_t *req = NULL;
	int rc = 0;
	size_t got = 0;
	for (; got < n && rc == 0; got++) {
		char **want = rt_ctr_net_values(c->net_ips, nets[got]->name);
		rc = alloc_ip(nets[got], ctr_id, want[0], ips[got], err);
		cb_strv_free(want);
	}
	if (rc < 0)
		got--;
	req = make_request(c, nets, ips);
	char *text = json_dumps(req, JSON_COMPACT);
	/* the request first: whoever finds it can tear down */
	if (rc == 0)
		rc = write_request(reqp, text, REQ_PENDING, err);
	if (rc == 0)
		rc = make_netns(ns, err);
	if (rc == 0)
		rc = run_netavark("setup", ns, text, err);
	if (rc == 0)
		chmod(reqp, REQ_UP); /* failing, its teardown is only quiet */
	int fd = -1;
	if (rc == 0 && host_netns_fd < 0)
		host_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (rc == 0 && (fd = open(ns, O_RDONLY | O_CLOEXEC)) < 0)
		rc = cb_error_errno(err, "open '%s'", ns);
	if (rc == 0 && setns(fd, CLONE_NEWNET) < 0)
		rc = cb_error_errno(err, "enter the network namespace '%s'", ns);
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; rc == 0 && nets[i] && !*dns; i++)
		if (nets[i]->dns)
			*dns = cb_xstrdup(nets[i]->gateway);
	if (rc < 0) {
		if (cb_path_exists(ns) && cb_path_exists(reqp)) {
			rt_nav_detach(ctr_id);
		} else {
			for (size_t i = 0; i < got; i++) {
				_cleanup_free_ char *p = rt_nav_run_path("ipam/%s/%s", nets[i]->bridge, ips[i]);
				unlink(p);
			}
			unlink(reqp);
			drop_netns(ns);
		}
		cb_error_wrap(err, "container '%s': networks", ctr_name);
	}
	free(text);
	json_decref(req);
	free(ips);
	return rc;
}

int rt_nav_make_ns(const char *id, const char *name, rt_net_t *const *nets, int *fd,
		   cb_error_t *err)
{
	/* setns(CLONE_NEWNET) moves only the calling thread: other threads of
	 * a build go on in the host's namespace, and this one goes back */
	_cleanup_close_ int here = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (here < 0)
		return cb_error_errno(err, "open '/proc/thread-self/ns/net'");
	char *empty[] = {NULL};
	rt_ctr_t c = {.name = (char *)name, .networks = empty, .net_aliases = empty,
		      .net_ips = empty};
	snprintf(c.id, sizeof c.id, "%s", id);
	_cleanup_free_ char *dns = NULL;
	if (rt_nav_attach(&c, nets, &dns, err) < 0)
		return -1;
	int ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int e = ns < 0 ? errno : 0;
	if (setns(here, CLONE_NEWNET) < 0) /* cannot happen as root; never stay inside */
		abort();
	if (ns < 0) {
		rt_nav_detach(id);
		return cb_error_set(err, e, "open the network namespace of '%s'", name);
	}
	*fd = ns;
	return 0;
}

/* In the namespace fd, a link named each of names[0..n) that is missing
 * (`ip link add`, in a child): one end of a veth pair, as netavark's own
 * (a dummy needs a driver a host may lack). 0 when one was added. */
static int add_placeholders(int fd, char names[][IF_NAMESIZE], size_t n)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setns(fd, CLONE_NEWNET) < 0)
			_exit(126);
		int added = 0;
		for (size_t i = 0; i < n; i++) {
			if (if_nametoindex(names[i]) != 0)
				continue;
			char peer[IF_NAMESIZE];
			snprintf(peer, sizeof peer, "cbput%u", (unsigned)(i % 8));
			const char *args[] = {"ip", "link", "add", names[i], "type", "veth",
					      "peer", "name", peer, NULL};
			pid_t ip = fork();
			if (ip == 0) {
				execvp("ip", (char *const *)args);
				execv("/usr/sbin/ip", (char *const *)args);
				_exit(127);
			}
			int st = 0;
			while (ip > 0 && waitpid(ip, &st, 0) < 0 && errno == EINTR)
				;
			added += ip > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
		}
		_exit(added ? 0 : 1);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* netavark (1.4) ends a teardown at the first container interface it
 * cannot delete, before the network's firewall rules and its bridge: a
 * teardown cut short after that interface went (its process killed), or a
 * setup cut short before it was made, would keep them for good. A link of
 * that name put in the namespace lets the teardown go through.
 * 0 when one was put back. */
static int put_back_ifaces(const char *ns, json_t *req)
{
	char names[8][IF_NAMESIZE];
	size_t n = 0;
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(req, "networks"), key, v) {
		const char *name = json_string_value(json_object_get(v, "interface_name"));
		if (name && strlen(name) < IF_NAMESIZE && n < 8)
			snprintf(names[n++], IF_NAMESIZE, "%s", name);
	}
	_cleanup_close_ int fd = open(ns, O_RDONLY | O_CLOEXEC);
	return n && fd >= 0 ? add_placeholders(fd, names, n) : -1;
}

/* netavark's teardown of the request (text, parsed as req) on ns; again
 * once its missing interfaces are put back, when it failed. */
static int teardown(const char *ns, const char *text, json_t *req, cb_error_t *err)
{
	if (run_netavark("teardown", ns, text, err) == 0)
		return 0;
	if (put_back_ifaces(ns, req) < 0)
		return -1;
	cb_error_release(err);
	return run_netavark("teardown", ns, text, err);
}

void rt_nav_detach(const char *ctr_id)
{
	_cleanup_free_ char *ns = rt_nav_run_path("netns/%s%s", ctr_id, "");
	_cleanup_free_ char *reqp = rt_nav_run_path("netns/%s%s", ctr_id, ".json");
	char suffix[48];
	snprintf(suffix, sizeof suffix, ".json.down-%d", (int)getpid());
	_cleanup_free_ char *mine = rt_nav_run_path("netns/%s%s", ctr_id, suffix);
	/* the rename is the claim: one of several racing callers wins */
	if (rename(reqp, mine) < 0)
		return;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	json_t *req = NULL;
	struct stat sb;
	/* a setup cut short (its process killed while netavark worked) has
	 * parts netavark never made: their teardown fails, as expected, and
	 * says nothing; the rest goes all the same */
	bool up = stat(mine, &sb) == 0 && (sb.st_mode & 0777) == REQ_UP;
	if (cb_read_file(mine, 1 << 20, &text, &len, &e) == 0)
		req = json_loads(text, 0, NULL);
	cb_error_release(&e);
	if (req && cb_path_exists(ns) && teardown(ns, text, req, &e) < 0) {
		if (up)
			cb_warn_error(&e);
		else
			cb_error_release(&e);
	}
	if (req)
		free_ips(req, ctr_id);
	json_decref(req);
	drop_netns(ns);
	unlink(mine);
}

/* The key of network `net` (the store's name) in a request: its bridge, or
 * in a request made before that the name itself. NULL when not there. */
static const char *req_key(json_t *req, const char *net)
{
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(req, "networks"), key, v) {
		const char *name = json_string_value(json_object_get(v, "cbuild_name"));
		if (cb_streq(name ? name : key, net))
			return key;
	}
	return NULL;
}

char *rt_nav_address(const char *ctr_id, const char *net)
{
	_cleanup_free_ char *reqp = rt_nav_run_path("netns/%s%s", ctr_id, ".json");
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(reqp, 1 << 20, &text, &len, &e) < 0) {
		cb_error_release(&e);
		return cb_xstrdup("");
	}
	json_t *req = json_loads(text, 0, NULL);
	const char *key = req_key(req, net);
	const char *ip = !key ? NULL : json_string_value(json_array_get(
		json_object_get(json_object_get(json_object_get(req, "networks"), key), "static_ips"),
		0));
	char *out = cb_xstrdup(ip ? ip : "");
	json_decref(req);
	return out;
}

/* ---- one network more or less on a running container ---- */

/* The request c's namespace was set up with; ENOTCONN when it has none. */
static json_t *load_request(const rt_ctr_t *c, cb_error_t *err)
{
	_cleanup_free_ char *reqp = rt_nav_run_path("netns/%s%s", c->id, ".json");
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (cb_read_file(reqp, 1 << 20, &text, &len, &e) < 0) {
		if (e.code != ENOENT) {
			cb_error_move(err, &e);
			return NULL;
		}
		cb_error_release(&e);
		cb_error_fail(err, ENOTCONN, "container '%s' has no network namespace of its own",
			      c->name);
		return NULL;
	}
	json_t *req = json_loads(text, 0, NULL);
	if (!json_is_object(json_object_get(req, "networks"))) {
		json_decref(req);
		cb_error_fail(err, EBADMSG, "container '%s': bad %s", c->name, reqp);
		return NULL;
	}
	return req;
}

static int save_request(const rt_ctr_t *c, json_t *req, cb_error_t *err)
{
	_cleanup_free_ char *reqp = rt_nav_run_path("netns/%s%s", c->id, ".json");
	char *text = json_dumps(req, JSON_COMPACT);
	int rc = write_request(reqp, text, REQ_UP, err);
	free(text);
	return rc;
}

/* The request for network `net` alone (from its entries in full, or the
 * given ones), with the container's ports, as podman's connect sends. */
static json_t *one_network(json_t *full, const char *net, json_t *entry, json_t *info)
{
	json_t *nets = json_object(), *infos = json_object();
	json_object_set(nets, net, entry ? entry : json_object_get(json_object_get(full, "networks"), net));
	json_object_set(infos, net,
			info ? info : json_object_get(json_object_get(full, "network_info"), net));
	return json_pack("{s:O, s:O, s:o, s:o, s:O}", "container_id",
			 json_object_get(full, "container_id"), "container_name",
			 json_object_get(full, "container_name"), "networks", nets, "network_info",
			 infos, "port_mappings", json_object_get(full, "port_mappings"));
}

/* The first ethN no network of the request uses. */
static void free_ifname(json_t *req, char out[32])
{
	for (unsigned k = 0;; k++) {
		snprintf(out, 32, "eth%u", k);
		bool used = false;
		const char *name;
		json_t *v;
		json_object_foreach(json_object_get(req, "networks"), name, v)
			used |= cb_streq(json_string_value(json_object_get(v, "interface_name")), out);
		if (!used)
			return;
	}
}

int rt_nav_connect(const rt_ctr_t *c, const rt_net_t *n, cb_error_t *err)
{
	json_t *req = load_request(c, err);
	if (!req)
		return -1;
	_cleanup_free_ char *ns = rt_nav_run_path("netns/%s%s", c->id, "");
	int rc = 0;
	if (req_key(req, n->name))
		rc = cb_error_fail(err, EEXIST, "container '%s' is already connected to network "
						"'%s'", c->name, n->name);
	char ip[INET_ADDRSTRLEN] = "", ifname[32];
	char **want = rt_ctr_net_values(c->net_ips, n->name);
	if (rc == 0)
		rc = alloc_ip(n, c->id, want[0], ip, err);
	cb_strv_free(want);
	json_t *one = NULL;
	if (rc == 0) {
		free_ifname(req, ifname);
		json_t *networks = json_object(), *info = json_object();
		add_network(networks, info, c, n, ip, ifname);
		one = one_network(req, n->bridge, json_object_get(networks, n->bridge),
				  json_object_get(info, n->bridge));
		json_decref(networks);
		json_decref(info);
		char *text = json_dumps(one, JSON_COMPACT);
		rc = run_netavark("setup", ns, text, err);
		free(text);
		if (rc < 0) {
			_cleanup_free_ char *p = rt_nav_run_path("ipam/%s/%s", n->bridge, ip);
			unlink(p);
		}
	}
	if (rc == 0) {
		json_object_set(json_object_get(req, "networks"), n->bridge,
				json_object_get(json_object_get(one, "networks"), n->bridge));
		json_object_set(json_object_get(req, "network_info"), n->bridge,
				json_object_get(json_object_get(one, "network_info"), n->bridge));
		rc = save_request(c, req, err);
	}
	json_decref(one);
	json_decref(req);
	return rc < 0 ? cb_error_wrap(err, "connect '%s' to network '%s'", c->name, n->name) : 0;
}

int rt_nav_disconnect(const rt_ctr_t *c, const char *net, cb_error_t *err)
{
	json_t *req = load_request(c, err);
	if (!req)
		return -1;
	int rc = 0;
	_cleanup_free_ char *key = req_key(req, net) ? cb_xstrdup(req_key(req, net)) : NULL;
	if (key) {
		_cleanup_free_ char *ns = rt_nav_run_path("netns/%s%s", c->id, "");
		json_t *one = one_network(req, key, NULL, NULL);
		char *text = json_dumps(one, JSON_COMPACT);
		rc = run_netavark("teardown", ns, text, err);
		free(text);
		if (rc == 0) {
			free_ips(one, c->id);
			json_object_del(json_object_get(req, "networks"), key);
			json_object_del(json_object_get(req, "network_info"), key);
			rc = save_request(c, req, err);
		}
		json_decref(one);
	}
	json_decref(req);
	return rc < 0 ? cb_error_wrap(err, "disconnect '%s' from network '%s'", c->name, net) : 0;
}
