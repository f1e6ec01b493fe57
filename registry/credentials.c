/*
 * registry/credentials.c - credentials in docker's config.json / containers'
 * auth.json format, and docker-credential-* helpers. See registry.h.
 *
 *   {"auths": {"localhost:5000": {"auth": base64("user:pass")}},
 *    "credHelpers": {"ghcr.io": "NAME"}, "credsStore": "NAME"}
 *
 * Docker Hub's key is "https://index.docker.io/v1/"; other registries are
 * keyed by host[:port], sometimes with a scheme or a path, which lookups
 * ignore.
 */
#include "registry/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "common/fs.h"
#include "common/util.h"
#include "registry/client.h"
#include "registry/wire.h"
#include "store/json.h"

#define AUTH_FILE_MAX (4u << 20)
#define HELPER_OUT_MAX (64u << 10)
#define HUB_KEY "https://index.docker.io/v1/"

void reg_opts_init(reg_opts_t *o)
{
	memset(o, 0, sizeof(*o));
	o->tls_verify = true;
}

char *reg_auth_normalize_host(const char *registry)
{
	const char *s = registry ? registry : "";
	if (cb_str_has_prefix(s, "https://"))
		s += 8;
	else if (cb_str_has_prefix(s, "http://"))
		s += 7;
	size_t n = strcspn(s, "/");
	char *h = cb_xstrndup(s, n);
	if (!*h || !strcmp(h, "index.docker.io") || !strcmp(h, "registry-1.docker.io") ||
	    !strcmp(h, "docker.io")) {
		free(h);
		return cb_xstrdup("docker.io");
	}
	return h;
}

char *reg_auth_default_file(void)
{
	const char *dc = getenv("DOCKER_CONFIG");
	if (dc && *dc)
		return cb_path_join(dc, "config.json");
	const char *home = getenv("HOME");
	return cb_asprintf("%s/.docker/config.json", home && *home ? home : "/root");
}

/* Load a JSON auth file; a missing file is an empty object. */
static json_t *load_file(const char *path, bool *exists, cb_error_t *err)
{
	char *data = NULL;
	size_t len = 0;
	cb_error_t e = CB_ERROR_INIT;
	if (exists)
		*exists = false;
	if (cb_read_file(path, AUTH_FILE_MAX, &data, &len, &e) < 0) {
		if (e.code == ENOENT) {
			cb_error_release(&e);
			return json_object();
		}
		cb_error_move(err, &e);
		return NULL;
	}
	if (exists)
		*exists = true;
	json_error_t je;
	json_t *j = len ? json_loadb(data, len, 0, &je) : json_object();
	free(data);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		cb_error_fail(err, EINVAL, "parse auth file '%s': %s", path,
			     j ? "not a JSON object" : je.text);
		return NULL;
	}
	return j;
}

/* The entry key in `auths` matching host, or NULL. */
static const char *find_key(json_t *auths, const char *host)
{
	const char *k;
	json_t *v;
	json_object_foreach(auths, k, v)
	{
		_cleanup_free_ char *h = reg_auth_normalize_host(k);
		if (!strcmp(h, host))
			return k;
	}
	return NULL;
}

static int decode_entry(json_t *e, const char *path, char **user, char **pass, cb_error_t *err)
{
	const char *auth = json_string_value(json_object_get(e, "auth"));
	const char *u = json_string_value(json_object_get(e, "username"));
	const char *p = json_string_value(json_object_get(e, "password"));
	const char *idt = json_string_value(json_object_get(e, "identitytoken"));
	if (idt && *idt) {
		/* Saved by a login whose token server gave a refresh token: it
		 * stands in for the password. */
		*user = cb_xstrdup(REG_IDENTITY_TOKEN_USER);
		*pass = cb_xstrdup(idt);
		return 1;
	}
	if (auth && *auth) {
		size_t len;
		char *dec = reg_base64_decode(auth, &len);
		char *colon = dec ? memchr(dec, ':', len) : NULL;
		if (!colon) {
			free(dec);
			return cb_error_fail(err, EINVAL, "auth file '%s': bad 'auth' value", path);
		}
		*colon = '\0';
		*user = cb_xstrdup(dec);
		*pass = cb_xstrdup(colon + 1);
		explicit_bzero(dec, len);
		free(dec);
		return 1;
	}
	if (u && p) {
		*user = cb_xstrdup(u);
		*pass = cb_xstrdup(p);
		return 1;
	}
	return 0;
}

/* The server URL a helper is keyed by: docker's for Docker Hub. */
static char *helper_server(const char *host)
{
	return cb_xstrdup(!strcmp(host, "docker.io") ? HUB_KEY : host);
}

/* Run docker-credential-NAME VERB with `input` on stdin, collecting its
 * stdout (bounded) into out and its exit status into *status. -1 only when
 * it could not be run at all. */
static int helper_run(const char *name, const char *verb, const char *input, cb_buf_t *out,
		      int *status, cb_error_t *err)
{
	_cleanup_free_ char *prog = cb_asprintf("docker-credential-%s", name);
	int in[2], outp[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return cb_error_errno(err, "pipe");
	if (pipe2(outp, O_CLOEXEC) < 0) {
		close(in[0]), close(in[1]);
		return cb_error_errno(err, "pipe");
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(in[0]), close(in[1]), close(outp[0]), close(outp[1]);
		return cb_error_errno(err, "fork");
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		execlp(prog, prog, verb, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	/* A helper that exits early must not kill us with SIGPIPE. */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	cb_error_t e = CB_ERROR_INIT;
	cb_write_all(in[1], input, strlen(input), &e);
	cb_error_release(&e);
	close(in[1]);
	sigaction(SIGPIPE, &old, NULL);
	char buf[4096];
	ssize_t r;
	while ((r = read(outp[0], buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR))
		if (r > 0 && out->len < HELPER_OUT_MAX)
			cb_buf_add(out, buf, (size_t)r);
	explicit_bzero(buf, sizeof(buf));
	close(outp[0]);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 127)
		return cb_error_fail(err, ENOENT, "credential helper '%s' could not run", prog);
	*status = WEXITSTATUS(st);
	return 0;
}

/* The helper's complaint (it prints it on stdout), trimmed, for messages. */
static char *helper_message(const cb_buf_t *b)
{
	size_t n = b->len;
	while (n && (b->data[n - 1] == '\n' || b->data[n - 1] == ' '))
		n--;
	return n ? cb_xstrndup(b->data, n > 200 ? 200 : n) : cb_xstrdup("no message");
}

/* docker-credential-NAME get with the server URL on stdin; its answer is
 * {"Username": ..., "Secret": ...}. */
static int run_helper(const char *name, const char *host, char **user, char **pass,
		      cb_error_t *err)
{
	_cleanup_free_ char *server = helper_server(host);
	cb_buf_t b;
	cb_buf_init(&b);
	int st = 0, rc = helper_run(name, "get", server, &b, &st, err);
	if (rc == 0 && st == 0) {
		json_t *j = json_loadb(b.data, b.len, 0, NULL);
		const char *u = json_string_value(json_object_get(j, "Username"));
		const char *s = json_string_value(json_object_get(j, "Secret"));
		if (!s)
			rc = cb_error_fail(err, EPROTO, "credential helper '%s' gave no secret", name);
		else {
			/* "<token>" as user means an identity token; pass it as is */
			*user = cb_xstrdup(u ? u : "");
			*pass = cb_xstrdup(s);
			rc = 1;
		}
		json_decref(j);
	}
	/* A non-zero exit is "credentials not found in native keychain":
	 * nothing stored (rc stays 0). */
	explicit_bzero(b.data, b.len);
	cb_buf_release(&b);
	return rc;
}

/* docker-credential-NAME store / erase. */
static int helper_store(const char *name, const char *host, const char *user, const char *pass,
			cb_error_t *err)
{
	_cleanup_free_ char *server = helper_server(host);
	json_t *j = json_pack("{s:o,s:o,s:o}", "ServerURL", oci_json_str(server), "Username",
			      oci_json_str(user), "Secret", oci_json_str(pass));
	char *text = oci_json_dumps(j, JSON_COMPACT);
	json_decref(j);
	cb_buf_t b;
	cb_buf_init(&b);
	int st = 0, rc = helper_run(name, "store", text, &b, &st, err);
	explicit_bzero(text, strlen(text));
	free(text);
	if (rc == 0 && st != 0) {
		_cleanup_free_ char *msg = helper_message(&b);
		rc = cb_error_fail(err, EIO, "credential helper 'docker-credential-%s' store failed: %s",
				  name, msg);
	}
	cb_buf_release(&b);
	return rc;
}

static int helper_erase(const char *name, const char *host, cb_error_t *err)
{
	_cleanup_free_ char *server = helper_server(host);
	cb_buf_t b;
	cb_buf_init(&b);
	int st = 0, rc = helper_run(name, "erase", server, &b, &st, err);
	if (rc == 0 && st != 0) {
		_cleanup_free_ char *msg = helper_message(&b);
		int code = strstr(msg, "not found") ? ENOENT : EIO;
		rc = code == ENOENT
			     ? cb_error_fail(err, ENOENT, "not logged in to '%s'", host)
			     : cb_error_fail(err, EIO,
					    "credential helper 'docker-credential-%s' erase failed: %s",
					    name, msg);
	}
	cb_buf_release(&b);
	return rc;
}

/* The helper configured for host in an auth file (credHelpers, then
 * credsStore), or NULL. Borrowed from j. */
static const char *helper_for(json_t *j, const char *host)
{
	json_t *ch = json_object_get(j, "credHelpers");
	const char *h = json_string_value(json_object_get(ch, host));
	if (!h && !strcmp(host, "docker.io"))
		h = json_string_value(json_object_get(ch, "index.docker.io"));
	if (!h || !*h)
		h = json_string_value(json_object_get(j, "credsStore"));
	return h && *h ? h : NULL;
}

/* Look host up in one file: 1 found, 0 not there, -1 error. */
static int lookup_in(const char *path, const char *host, char **user, char **pass,
		     cb_error_t *err)
{
	json_t *j = load_file(path, NULL, err);
	if (!j)
		return -1;
	int r = 0;
	const char *helper = json_string_value(json_object_get(json_object_get(j, "credHelpers"), host));
	if (!helper && !strcmp(host, "docker.io"))
		helper = json_string_value(
			json_object_get(json_object_get(j, "credHelpers"), "index.docker.io"));
	json_t *auths = json_object_get(j, "auths");
	const char *key = find_key(auths, host);
	if (helper) {
		r = run_helper(helper, host, user, pass, err);
	} else if (key) {
		r = decode_entry(json_object_get(auths, key), path, user, pass, err);
	}
	if (r == 0) {
		const char *store = json_string_value(json_object_get(j, "credsStore"));
		if (store && *store)
			r = run_helper(store, host, user, pass, err);
	}
	json_decref(j);
	return r;
}

int reg_auth_lookup(const char *registry, const char *auth_file, char **user, char **pass,
		    cb_error_t *err)
{
	_cleanup_free_ char *host = reg_auth_normalize_host(registry);
	_cleanup_free_ char *docker = reg_auth_default_file();
	_cleanup_free_ char *xdg = NULL;
	const char *rt = getenv("XDG_RUNTIME_DIR");
	if (rt && *rt)
		xdg = cb_asprintf("%s/containers/auth.json", rt);
	const char *env = getenv("REGISTRY_AUTH_FILE");
	const char *files[3];
	size_t n = 0;
	if (auth_file) {
		files[n++] = auth_file;
	} else {
		if (env && *env)
			files[n++] = env;
		files[n++] = docker;
		if (xdg)
			files[n++] = xdg;
	}
	*user = *pass = NULL;
	for (size_t i = 0; i < n; i++) {
		char *u = NULL, *p = NULL;
		int r = lookup_in(files[i], host, &u, &p, err);
		if (r < 0)
			return cb_error_wrap(err, "credentials for '%s'", host);
		if (r > 0) {
			*user = u;
			*pass = p;
			return 0;
		}
	}
	return 0;
}

static int write_file(const char *path, json_t *j, cb_error_t *err)
{
	_cleanup_free_ char *dir = cb_xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (cb_mkdir_p(dir, 0700, err) < 0)
			return -1;
	}
	char *text = oci_json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text)
		CB_BUG("json_dumps failed");
	size_t len = strlen(text);
	cb_buf_t b;
	cb_buf_init(&b);
	cb_buf_add(&b, text, len);
	cb_buf_addch(&b, '\n');
	explicit_bzero(text, len);
	free(text);
	int r = cb_write_file_atomic(path, NULL, b.data, b.len, 0600, err);
	explicit_bzero(b.data, b.len);
	cb_buf_release(&b);
	if (r < 0)
		return cb_error_wrap(err, "write auth file '%s'", path);
	return 0;
}

/* Save user + pass, or, with an identity token, user + that token (the
 * password is then not kept: the token replaces it, as docker does). */
static int save_creds(const char *auth_file, const char *registry, const char *user,
		      const char *pass, const char *identity_token, cb_error_t *err)
{
	_cleanup_free_ char *def = auth_file ? NULL : reg_auth_default_file();
	const char *path = auth_file ? auth_file : def;
	_cleanup_free_ char *host = reg_auth_normalize_host(registry);
	json_t *j = load_file(path, NULL, err);
	if (!j)
		return -1;
	json_t *auths = json_object_get(j, "auths");
	if (!json_is_object(auths)) {
		auths = json_object();
		json_object_set_new(j, "auths", auths);
	}
	const char *old = find_key(auths, host);
	if (old)
		json_object_del(auths, old);
	const char *key = !strcmp(host, "docker.io") ? HUB_KEY : host;
	const char *helper = helper_for(j, host);
	if (helper) {
		/* As docker does: the secret goes to the helper, and an empty
		 * entry in auths records that we are logged in there. */
		int r = identity_token
				? helper_store(helper, host, REG_IDENTITY_TOKEN_USER, identity_token, err)
				: helper_store(helper, host, user, pass, err);
		if (r == 0) {
			oci_json_set(auths, key, json_object());
			r = write_file(path, j, err);
		}
		json_decref(j);
		return r;
	}
	_cleanup_free_ char *up = cb_asprintf("%s:%s", user, identity_token ? "" : pass);
	_cleanup_free_ char *b64 = reg_base64_encode(up, strlen(up));
	explicit_bzero(up, strlen(up));
	json_t *entry = json_pack("{s:s}", "auth", b64);
	if (identity_token)
		json_object_set_new(entry, "identitytoken", oci_json_str(identity_token));
	oci_json_set(auths, key, entry);
	int r = write_file(path, j, err);
	json_decref(j);
	return r;
}

int reg_auth_save(const char *auth_file, const char *registry, const char *user, const char *pass,
		  cb_error_t *err)
{
	return save_creds(auth_file, registry, user, pass, NULL, err);
}

int reg_auth_remove(const char *auth_file, const char *registry, cb_error_t *err)
{
	_cleanup_free_ char *def = auth_file ? NULL : reg_auth_default_file();
	const char *path = auth_file ? auth_file : def;
	_cleanup_free_ char *host = reg_auth_normalize_host(registry);
	json_t *j = load_file(path, NULL, err);
	if (!j)
		return -1;
	json_t *auths = json_object_get(j, "auths");
	const char *key = find_key(auths, host);
	const char *helper = helper_for(j, host);
	int r = 0;
	if (helper) {
		cb_error_t e = CB_ERROR_INIT;
		r = helper_erase(helper, host, &e);
		/* An entry in the file (the marker, or credentials saved before
		 * the helper was configured) is still a login to undo. */
		if (r < 0 && e.code == ENOENT && key) {
			cb_error_release(&e);
			r = 0;
		}
		if (r < 0)
			cb_error_move(err, &e);
		if (r == 0 && key) {
			json_object_del(auths, key);
			r = write_file(path, j, err);
		}
	} else if (!key) {
		r = cb_error_fail(err, ENOENT, "not logged in to '%s'", host);
	} else {
		json_object_del(auths, key);
		r = write_file(path, j, err);
	}
	json_decref(j);
	return r;
}

/* ---- login / logout ---- */

int reg_login(const char *registry, const char *user, const char *pass, const reg_opts_t *opts,
	      cb_error_t *err)
{
	_cleanup_free_ char *host = reg_auth_normalize_host(registry);
	reg_opts_t def;
	if (!opts) {
		reg_opts_init(&def);
		opts = &def;
	}
	_cleanup_free_ char *idt = NULL;
	if (reg_client_check_login(host, user, pass, opts, &idt, err) < 0)
		return -1;
	int r = save_creds(opts->auth_file, host, user, pass, idt, err);
	if (idt)
		explicit_bzero(idt, strlen(idt));
	return r;
}

int reg_logout(const char *registry, const reg_opts_t *opts, cb_error_t *err)
{
	return reg_auth_remove(opts ? opts->auth_file : NULL, registry, err);
}
