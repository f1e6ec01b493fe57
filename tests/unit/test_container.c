/*
 * runtime/container: containers on disk in a real store (create, find,
 * state and stale detection, diff of a real upper dir with a real whiteout,
 * commit into a real image, remove); networks on disk (records, names,
 * membership, hosts text); the helpers' parsing tables. Running
 * processes is covered end to end by tests/e2e/t5*.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builder/builder.h"
#include "runtime/container.h"
#include "runtime/container_internal.h"
#include "runtime/log.h"
#include "runtime/network.h"
#include "store/places.h"
#include "common/fs.h"
#include "common/util.h"
#include "store/image.h"
#include "store/layer.h"

static struct {
	char *dir;
	store_t *st;
	char *image; /* manifest digest of a 1-layer image: etc/group etc/passwd bin/sh */
} g;

static void write_file(const char *path, const char *text)
{
	cb_error_t e = CB_ERROR_INIT;
	assert_int_equal(cb_write_file_atomic(path, NULL, text, strlen(text), 0644, &e), 0);
}

static int group_setup(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/cbuild-test-ctr.XXXXXX";
	if (!mkdtemp(tmpl))
		return -1;
	g.dir = cb_xstrdup(tmpl);
	cb_error_t e = CB_ERROR_INIT;
	/* our networks' subnet claims stay ours, not the host's */
	_cleanup_free_ char *claims = cb_path_join(g.dir, "subnets");
	setenv("CBUILD_SUBNET_DIR", claims, 1);
	_cleanup_free_ char *root = cb_path_join(g.dir, "root");
	if (store_open(root, &g.st, &e) < 0)
		return -1;
	_cleanup_free_ char *tree = cb_path_join(g.dir, "tree");
	_cleanup_free_ char *etc = cb_path_join(tree, "etc");
	_cleanup_free_ char *bin = cb_path_join(tree, "bin");
	if (cb_mkdir_p(etc, 0755, &e) < 0 || cb_mkdir_p(bin, 0755, &e) < 0)
		return -1;
	_cleanup_free_ char *grp = cb_path_join(etc, "group");
	_cleanup_free_ char *pw = cb_path_join(etc, "passwd");
	_cleanup_free_ char *sh = cb_path_join(bin, "sh");
	write_file(grp, "root:x:0:\n");
	write_file(pw, "root:x:0:0:root:/root:/bin/sh\n");
	write_file(sh, "#!/bin/false\n");
	layer_opts_t lo = LAYER_OPTS_INIT;
	layer_result_t res;
	if (layer_write_dir(g.st, tree, &lo, &res, &e) < 0)
		return -1;
	oci_config_t *cfg = oci_config_new();
	cfg->cmd = cb_strv_push(NULL, "sh");
	cfg->stop_signal = cb_xstrdup("SIGQUIT");
	oci_config_add_diff_id(cfg, res.diff_id);
	oci_descriptor_t d = {.media_type = (char *)res.media_type, .digest = res.digest,
			      .size = res.size};
	image_t *img = image_commit(g.st, cfg, &d, 1, false, &e);
	oci_config_free(cfg);
	if (!img)
		return -1;
	g.image = cb_xstrdup(img->manifest_digest);
	image_free(img);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	store_free(g.st);
	cb_error_t e = CB_ERROR_INIT;
	if (cb_rm_rf(g.dir, &e) < 0)
		cb_error_release(&e);
	free(g.dir);
	free(g.image);
	return 0;
}

static rt_ctr_t *create(const char *name, char *const *cmd)
{
	rt_ctr_spec_t s = {.image = g.image, .image_name = "test:1", .name = name, .cmd = cmd};
	rt_ctr_t *c = NULL;
	cb_error_t e = CB_ERROR_INIT;
	int rc = rt_ctr_create(g.st, &s, &c, &e);
	if (rc < 0)
		fail_msg("create: %s", e.msg);
	return c;
}

static void test_parse_signal(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int sig;
	} cases[] = {{"SIGTERM", SIGTERM}, {"TERM", SIGTERM}, {"15", 15},  {"sigkill", SIGKILL},
		     {"SIGQUIT", SIGQUIT}, {"USR1", SIGUSR1},  {"", -1},    {"SIGNOPE", -1},
		     {"0", -1},            {"99999", -1},      {"9x", -1}};
	for (size_t i = 0; i < CB_ARRAY_SIZE(cases); i++)
		assert_int_equal(rt_ctr_parse_signal(cases[i].in), cases[i].sig);
}

static void test_parse_port(void **state)
{
	(void)state;
	rt_ctr_port_t p;
	cb_error_t e = CB_ERROR_INIT;
	assert_int_equal(rt_ctr_parse_port("18080:8080", &p, &e), 0);
	assert_string_equal(p.host_ip, "0.0.0.0");
	assert_int_equal(p.host_port, 18080);
	assert_int_equal(p.ctr_port, 8080);
	assert_int_equal(rt_ctr_parse_port("127.0.0.1:80:8080/tcp", &p, &e), 0);
	assert_string_equal(p.host_ip, "127.0.0.1");
	assert_int_equal(p.host_port, 80);
	assert_false(p.udp);
	assert_int_equal(rt_ctr_parse_port("5353:53/udp", &p, &e), 0);
	assert_true(p.udp);
	assert_int_equal(p.ctr_port, 53);
	/* docker's -p CTR and -p IP::CTR: a free host port, picked at start */
	assert_int_equal(rt_ctr_parse_port("8080", &p, &e), 0);
	assert_int_equal(p.host_port, 0);
	assert_int_equal(p.ctr_port, 8080);
	assert_string_equal(p.host_ip, "0.0.0.0");
	assert_int_equal(rt_ctr_parse_port("127.0.0.1::53/udp", &p, &e), 0);
	assert_string_equal(p.host_ip, "127.0.0.1");
	assert_int_equal(p.host_port, 0);
	assert_int_equal(p.ctr_port, 53);
	assert_true(p.udp);
	static const char *const bad[] = {"a:80", "80:0", "70000:80", "1:2/sctp", ":80:80",
					  "80:", ":80", "0", "1.2.3.4::", "x/tcp"};
	for (size_t i = 0; i < CB_ARRAY_SIZE(bad); i++) {
		assert_int_equal(rt_ctr_parse_port(bad[i], &p, &e), -1);
		assert_int_equal(e.code, EINVAL);
		cb_error_release(&e);
	}
}

static void test_proc_start(void **state)
{
	(void)state;
	uint64_t me = rt_ctr_proc_start(getpid());
	assert_true(me > 0);
	assert_true(ctr_pid_alive(getpid(), me));
	assert_false(ctr_pid_alive(getpid(), me + 1)); /* a reused pid */
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	uint64_t cs = rt_ctr_proc_start(child);
	waitpid(child, NULL, 0);
	assert_false(ctr_pid_alive(child, cs)); /* reaped: gone */
	assert_int_equal(rt_ctr_proc_start(0), 0);
}

static void test_create_find_remove(void **state)
{
	(void)state;
	cb_error_t e = CB_ERROR_INIT;
	rt_ctr_t *c = create("web", (char *[]){"echo", "hi", NULL});
	assert_non_null(c);
	assert_int_equal(strlen(c->id), 64);
	assert_int_equal(c->status, RT_CTR_CREATED);
	assert_string_equal(c->argv[0], "echo");
	assert_string_equal(c->stop_signal, "SIGQUIT");
	assert_int_equal(strlen(c->hostname), 12);
	assert_true(!strncmp(c->hostname, c->id, 12));
	/* found by name, full ID and prefix; the on-disk config reads back */
	static const char *const whats[] = {"web", NULL, NULL};
	char id[CTR_ID_LEN + 1];
	for (size_t i = 0; i < 3; i++) {
		_cleanup_free_ char *what =
			whats[i] ? cb_xstrdup(whats[i]) : cb_asprintf("%.*s", i == 1 ? 64 : 7, c->id);
		assert_int_equal(rt_ctr_find(g.st, what, id, &e), 0);
		assert_string_equal(id, c->id);
	}
	rt_ctr_t *l = rt_ctr_load(g.st, "web", &e);
	assert_non_null(l);
	assert_string_equal(l->image, g.image);
	assert_string_equal(l->argv[1], "hi");
	assert_string_equal(l->image_name, "test:1");
	assert_true(l->created > 0);
	rt_ctr_free(l);
	/* names are unique */
	rt_ctr_spec_t s = {.image = g.image, .name = "web"};
	rt_ctr_t *dup = NULL;
	assert_int_equal(rt_ctr_create(g.st, &s, &dup, &e), -1);
	assert_int_equal(e.code, EEXIST);
	cb_error_release(&e);
	s.name = "bad/name";
	assert_int_equal(rt_ctr_create(g.st, &s, &dup, &e), -1);
	cb_error_release(&e);
	/* no command at all */
	s.name = NULL;
	s.entrypoint = "";
	assert_int_equal(rt_ctr_create(g.st, &s, &dup, &e), -1);
	cb_error_release(&e);
	/* list: newest first */
	rt_ctr_t *c2 = create(NULL, NULL);
	assert_string_equal(c2->argv[0], "sh"); /* the image's Cmd */
	char **ids = NULL;
	assert_int_equal(rt_ctr_list(g.st, &ids, &e), 0);
	assert_int_equal(cb_strv_len(ids), 2);
	assert_string_equal(ids[0], c2->id);
	cb_strv_free(ids);
	assert_int_equal(rt_ctr_remove(g.st, c, false, &e), 0);
	assert_int_equal(rt_ctr_remove(g.st, c2, false, &e), 0);
	assert_false(cb_path_exists(c->dir));
	assert_int_equal(rt_ctr_find(g.st, "web", id, &e), -1);
	assert_int_equal(e.code, ENOENT);
	cb_error_release(&e);
	rt_ctr_free(c);
	rt_ctr_free(c2);
}

static void test_stale_state(void **state)
{
	(void)state;
	cb_error_t e = CB_ERROR_INIT;
	rt_ctr_t *c = create(NULL, (char *[]){"x", NULL});
	/* "running" with live pids that are really ours: believed */
	c->status = RT_CTR_RUNNING;
	c->monitor_pid = c->pid = getpid();
	c->monitor_start = c->pid_start = rt_ctr_proc_start(getpid());
	c->started = ctr_now();
	assert_int_equal(ctr_write_state(g.st, c, &e), 0);
	assert_int_equal(rt_ctr_refresh(g.st, c, &e), 0);
	assert_int_equal(c->status, RT_CTR_RUNNING);
	/* the same pid with another start time (reboot, reuse): exited */
	c->pid_start++;
	assert_int_equal(ctr_write_state(g.st, c, &e), 0);
	assert_int_equal(rt_ctr_refresh(g.st, c, &e), 0);
	assert_int_equal(c->status, RT_CTR_EXITED);
	assert_int_equal(c->exit_code, 137);
	/* a running container is not removed without force */
	c->status = RT_CTR_RUNNING;
	c->pid_start--;
	assert_int_equal(ctr_write_state(g.st, c, &e), 0);
	assert_int_equal(rt_ctr_remove(g.st, c, false, &e), -1);
	assert_int_equal(e.code, EBUSY);
	cb_error_release(&e);
	/* stop of a stale one is a no-op; rm cleans it */
	c->pid_start++;
	assert_int_equal(ctr_write_state(g.st, c, &e), 0);
	assert_int_equal(rt_ctr_stop(g.st, c, 0, &e), 0);
	assert_int_equal(rt_ctr_remove(g.st, c, false, &e), 0);
	rt_ctr_free(c);
}

static void test_diff_and_commit(void **state)
{
	(void)state;
	cb_error_t e = CB_ERROR_INIT;
	rt_ctr_t *c = create("d1", (char *[]){"sh", "-c", "change", NULL});
	_cleanup_free_ char *upper = ctr_path(c, "upper");
	_cleanup_free_ char *etc = cb_path_join(upper, "etc");
	_cleanup_free_ char *grp = cb_path_join(etc, "group");
	_cleanup_free_ char *x = cb_path_join(upper, "x");
	_cleanup_free_ char *newdir = cb_path_join(upper, "new/sub");
	_cleanup_free_ char *newf = cb_path_join(upper, "new/sub/f");
	assert_int_equal(mkdir(etc, 0755), 0);
	if (mknod(grp, S_IFCHR | 0, makedev(0, 0)) < 0) {
		rt_ctr_remove(g.st, c, true, &e);
		rt_ctr_free(c);
		skip(); /* whiteouts need CAP_MKNOD */
	}
	write_file(x, "hi\n");
	assert_int_equal(cb_mkdir_p(newdir, 0755, &e), 0);
	write_file(newf, "f\n");
	rt_ctr_change_t *v = NULL;
	size_t n = 0;
	assert_int_equal(rt_ctr_diff(g.st, c, &v, &n, &e), 0);
	static const char *const want[] = {"C /etc", "D /etc/group", "A /new", "A /new/sub",
					   "A /new/sub/f", "A /x"};
	assert_int_equal(n, CB_ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *line = cb_asprintf("%c %s", v[i].kind, v[i].path);
		assert_string_equal(line, want[i]);
	}
	rt_ctr_changes_free(v, n);

	rt_ctr_commit_opts_t o = {.message = "snap", .author = "me",
				  .changes = (char *[]){"ENV A=1", NULL},
				  .apply_changes = bld_apply_changes};
	image_t *img = rt_ctr_commit(g.st, c, &o, &e);
	if (!img)
		fail_msg("commit: %s", e.msg);
	assert_int_equal(img->manifest->n_layers, 2);
	assert_int_equal(cb_strv_len(img->config->diff_ids), 2);
	assert_string_equal(img->config->cmd[2], "change");
	assert_string_equal(img->config->author, "me");
	assert_string_equal(oci_config_getenv(img->config, "A"), "1");
	assert_null(oci_config_getenv(img->config, "HOSTNAME"));
	oci_history_t *h = &img->config->history[img->config->n_history - 1];
	assert_string_equal(h->comment, "snap");
	assert_string_equal(h->author, "me");
	/* the new layer applied on the image: /x there, /etc/group gone */
	_cleanup_free_ char *out = cb_path_join(g.dir, "applied");
	assert_int_equal(mkdir(out, 0755), 0);
	for (size_t i = 0; i < 2; i++) {
		_cleanup_free_ char *blob = store_blob_path(g.st, img->manifest->layers[i].digest);
		assert_int_equal(layer_apply_path(blob, out, 0, &e), 0);
	}
	_cleanup_free_ char *ax = cb_path_join(out, "x");
	_cleanup_free_ char *ag = cb_path_join(out, "etc/group");
	_cleanup_free_ char *ap = cb_path_join(out, "etc/passwd");
	assert_true(cb_path_exists(ax));
	assert_false(cb_path_exists(ag));
	assert_true(cb_path_exists(ap));
	image_free(img);
	assert_int_equal(rt_ctr_remove(g.st, c, false, &e), 0);
	rt_ctr_free(c);
}

static void test_network_names(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {{"app-network", true}, {"a", true},     {"A.b_c-9", true}, {"", false},
		     {"-x", false},         {".x", false},   {"_x", false},     {"a/b", false},
		     {"a b", false},        {"a:b", false},  {"é", false}};
	for (size_t i = 0; i < CB_ARRAY_SIZE(cases); i++)
		assert_int_equal(rt_net_valid_name(cases[i].name), cases[i].ok);
	char long_name[200];
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = 0;
	assert_false(rt_net_valid_name(long_name));
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return true;
	return false;
}

static void test_network_membership(void **state)
{
	(void)state;
	cb_error_t e = CB_ERROR_INIT;
	rt_net_t *n = NULL;
	assert_int_equal(rt_net_create(g.st, "net1", "10.89.77.9/24", false, &n, &e), 0);
	assert_int_equal(strlen(n->id), NET_ID_LEN);
	assert_string_equal(n->driver, "bridge");
	assert_string_equal(n->subnet, "10.89.77.0/24");
	assert_string_equal(n->gateway, "10.89.77.1");
	rt_net_free(n);
	assert_int_equal(rt_net_create(g.st, "net2", "10.89.77.0/33", false, &n, &e), -1);
	assert_int_equal(e.code, EINVAL);
	cb_error_release(&e);
	assert_int_equal(rt_net_create(g.st, "net1", NULL, false, &n, &e), -1);
	assert_int_equal(e.code, EEXIST);
	cb_error_release(&e);
	assert_int_equal(rt_net_create(g.st, "none", NULL, false, &n, &e), -1);
	assert_int_equal(e.code, EEXIST);
	cb_error_release(&e);
	assert_null(rt_net_load(g.st, "nope", &e));
	assert_int_equal(e.code, ENOENT);
	assert_string_equal(e.msg, "network 'nope' not found");
	cb_error_release(&e);

	rt_net_t **v = NULL;
	size_t nv = 0;
	assert_int_equal(rt_net_list(g.st, &v, &nv, &e), 0);
	assert_int_equal(nv, 4);
	assert_string_equal(v[0]->name, "bridge");
	assert_string_equal(v[0]->bridge, "cbuild0");
	assert_string_equal(v[1]->name, "host");
	assert_string_equal(v[2]->name, "none");
	assert_string_equal(v[3]->name, "net1");
	for (size_t i = 0; i < nv; i++)
		rt_net_free(v[i]);
	free(v);

	/* run --network net1, and one connected later */
	rt_ctr_spec_t s = {.image = g.image, .name = "m1", .network = "net1"};
	rt_ctr_t *m1 = NULL, *m2 = create("m2", NULL);
	assert_int_equal(rt_ctr_create(g.st, &s, &m1, &e), 0);
	s.name = "m3";
	s.network = "nonet";
	rt_ctr_t *bad = NULL;
	assert_int_equal(rt_ctr_create(g.st, &s, &bad, &e), -1);
	assert_int_equal(e.code, ENOENT);
	cb_error_release(&e);
	assert_int_equal(rt_net_connect(g.st, "net1", "m2", NULL, NULL, &e), 0);
	assert_int_equal(rt_net_connect(g.st, "net1", "m2", NULL, NULL, &e), -1);
	assert_int_equal(e.code, EEXIST);
	cb_error_release(&e);
	assert_int_equal(rt_net_connect(g.st, "host", "m2", NULL, NULL, &e), -1);
	cb_error_release(&e);

	/* --network-alias and --ip belong to a user-defined network, as docker */
	char *aliases[] = {"db", "database", NULL};
	rt_ctr_spec_t sa = {.image = g.image, .name = "m4", .aliases = aliases, .ip = "10.89.77.9"};
	assert_int_equal(rt_ctr_create(g.st, &sa, &bad, &e), -1);
	assert_int_equal(e.code, EINVAL);
	assert_non_null(strstr(e.msg, "user defined networks"));
	cb_error_release(&e);
	sa.network = "net1";
	rt_ctr_t *m4 = NULL;
	assert_int_equal(rt_ctr_create(g.st, &sa, &m4, &e), 0);
	rt_ctr_t *l4 = rt_ctr_load(g.st, "m4", &e);
	assert_non_null(l4);
	char **al = rt_ctr_net_values(l4->net_aliases, "net1");
	assert_int_equal(cb_strv_len(al), 2);
	assert_string_equal(al[1], "database");
	cb_strv_free(al);
	char **ips = rt_ctr_net_values(l4->net_ips, "net1");
	assert_string_equal(ips[0], "10.89.77.9");
	cb_strv_free(ips);
	rt_ctr_free(l4);
	/* disconnect forgets the endpoint's names */
	assert_int_equal(rt_net_disconnect(g.st, "net1", "m4", &e), 0);
	l4 = rt_ctr_load(g.st, "m4", &e);
	assert_int_equal(cb_strv_len(l4->net_aliases) + cb_strv_len(l4->net_ips), 0);
	rt_ctr_free(l4);
	assert_int_equal(rt_ctr_remove(g.st, m4, false, &e), 0);
	rt_ctr_free(m4);

	_cleanup_strv_ char **ids = NULL;
	assert_int_equal(rt_net_members(g.st, "net1", &ids, &e), 0);
	assert_int_equal(cb_strv_len(ids), 2);

	/* m1's hosts: localhost and itself only; aardvark-dns serves the names */
	rt_ctr_t *l1 = rt_ctr_load(g.st, "m1", &e);
	assert_non_null(l1);
	_cleanup_free_ char *text = ctr_hosts_text(g.st, l1);
	assert_true(has_line(text, "127.0.0.1\tlocalhost"));
	assert_null(strstr(text, "m2"));

	assert_int_equal(rt_net_remove(g.st, "net1", &e), -1);
	assert_int_equal(e.code, EBUSY);
	assert_string_equal(e.msg, "network net1 has active endpoints (m1, m2)");
	cb_error_release(&e);

	/* off the network: by disconnect, by rm */
	assert_int_equal(rt_net_disconnect(g.st, "net1", "m2", &e), 0);
	assert_int_equal(rt_net_disconnect(g.st, "net1", "m2", &e), -1);
	assert_int_equal(e.code, ENOENT);
	cb_error_release(&e);
	assert_int_equal(rt_ctr_remove(g.st, m1, false, &e), 0);
	assert_int_equal(rt_net_remove(g.st, "net1", &e), 0);
	assert_null(rt_net_load(g.st, "net1", &e));
	cb_error_release(&e);
	assert_int_equal(rt_ctr_remove(g.st, m2, false, &e), 0);
	rt_ctr_free(l1);
	rt_ctr_free(m1);
	rt_ctr_free(m2);
}

/* Two stores never pick the same subnet (before any container makes it a
 * route); rm gives the claim back; a removed store's claim is stale. */
static void test_subnet_claims(void **state)
{
	(void)state;
	cb_error_t e = CB_ERROR_INIT;
	_cleanup_free_ char *root2 = cb_path_join(g.dir, "root2");
	store_t *st2 = NULL;
	assert_int_equal(store_open(root2, &st2, &e), 0);
	rt_net_t *a = NULL, *b = NULL, *c = NULL;
	assert_int_equal(rt_net_create(g.st, "claims", NULL, false, &a, &e), 0);
	assert_int_equal(rt_net_create(st2, "claims", NULL, false, &b, &e), 0);
	assert_string_not_equal(a->subnet, b->subnet);
	char *claim = cb_asprintf("%s/subnets/%.*s-24", g.dir, (int)(strchr(a->subnet, '/') - a->subnet),
				  a->subnet);
	assert_true(cb_path_exists(claim));
	assert_int_equal(rt_net_remove(g.st, "claims", &e), 0);
	assert_false(cb_path_exists(claim));
	/* st2's claim outlives st2's store only while its record exists */
	_cleanup_free_ char *rec = store_place_network(st2, "claims");
	assert_int_equal(unlink(rec), 0);
	assert_int_equal(rt_net_create(g.st, "over", b->subnet, false, &c, &e), 0);
	free(claim);
	claim = cb_asprintf("%s/subnets/%.*s-24", g.dir, (int)(strchr(b->subnet, '/') - b->subnet),
			    b->subnet);
	_cleanup_free_ char *text = NULL;
	size_t len;
	assert_int_equal(cb_read_file(claim, 4096, &text, &len, &e), 0);
	assert_non_null(strstr(text, c->id)); /* the stale claim was taken back */
	assert_int_equal(rt_net_remove(g.st, "over", &e), 0);
	assert_false(cb_path_exists(claim));
	free(claim);
	rt_net_free(a);
	rt_net_free(b);
	rt_net_free(c);
	store_free(st2);
}

/* Two rotations between two looks of `logs -f` (a loaded machine): the
 * reader goes on with the file in between (log.1), then the live log, and
 * no line is skipped. */
static void test_log_follow_two_rotations(void **state)
{
	(void)state;
	_cleanup_free_ char *dir = cb_path_join(g.dir, "logrot");
	assert_int_equal(mkdir(dir, 0755), 0);
	rt_ctr_t c = {.dir = dir, .log_max_size = 1024, .log_max_file = 3};
	_cleanup_free_ char *log = cb_path_join(dir, "log");
	_cleanup_free_ char *log1 = cb_asprintf("%s.1", log);
	_cleanup_free_ char *log2 = cb_asprintf("%s.2", log);
	write_file(log, "a\n");
	rt_log_reader_t r;
	rt_log_init(&r, &c);
	cb_error_t e = CB_ERROR_INIT;
	assert_int_equal(rt_log_open(&r, true, &e), 0);
	const char *data;
	size_t len;
	char seen[16] = "";
	assert_int_equal(rt_log_read(&r, &data, &len, &e), 0);
	strncat(seen, data, len);
	rt_log_consume(&r, len);
	/* the monitor's rotations: log -> log.1 -> log.2, b then c written */
	assert_int_equal(rename(log, log1), 0);
	write_file(log, "b\n");
	assert_int_equal(rename(log1, log2), 0);
	assert_int_equal(rename(log, log1), 0);
	write_file(log, "c\n");
	while (rt_log_follow_rotation(&r)) {
		assert_int_equal(rt_log_read(&r, &data, &len, &e), 0);
		strncat(seen, data, len);
		rt_log_consume(&r, len);
	}
	assert_string_equal(seen, "a\nb\nc\n");
	rt_log_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_signal),
		cmocka_unit_test(test_parse_port),
		cmocka_unit_test(test_proc_start),
		cmocka_unit_test(test_create_find_remove),
		cmocka_unit_test(test_stale_state),
		cmocka_unit_test(test_diff_and_commit),
		cmocka_unit_test(test_network_names),
		cmocka_unit_test(test_network_membership),
		cmocka_unit_test(test_subnet_claims),
		cmocka_unit_test(test_log_follow_two_rotations),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
