/* Compose files: interpolation, the model, merging, errors with positions,
 * dependency order and cycles, env files, config output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/util.h"
#include "parser/compose.h"

static char *const test_env[] = {"HOME=/home/u", "TAG=1.2", "EMPTY=", "PORT=8000",
				 "NAME=web", NULL};

/* ---- interpolation ---- */

static const struct {
	const char *in, *out, *err;
} interp_cases[] = {
	{"plain", "plain", NULL},
	{"${TAG}", "1.2", NULL},
	{"$TAG-x", "1.2-x", NULL},
	{"a${TAG}b", "a1.2b", NULL},
	{"$$TAG", "$TAG", NULL},
	{"$${TAG}", "${TAG}", NULL},
	{"${NOPE}", "", NULL},
	{"${NOPE:-def}", "def", NULL},
	{"${NOPE-def}", "def", NULL},
	{"${EMPTY:-def}", "def", NULL},
	{"${EMPTY-def}", "", NULL},
	{"${TAG:-def}", "1.2", NULL},
	{"${NOPE:-${TAG}}", "1.2", NULL},
	{"${NOPE:-${ALSO:-deep}}", "deep", NULL},
	{"${TAG:+alt}", "alt", NULL},
	{"${EMPTY:+alt}", "", NULL},
	{"${EMPTY+alt}", "alt", NULL},
	{"${NOPE+alt}", "", NULL},
	{"${TAG:?must}", "1.2", NULL},
	{"${NOPE:?must be set}", NULL, "required variable 'NOPE' is missing a value: must be set"},
	{"${EMPTY:?}", NULL, "required variable 'EMPTY' is missing a value"},
	{"${EMPTY?x}", "", NULL},
	{"${NOPE?gone}", NULL, "required variable 'NOPE' is missing a value: gone"},
	{"${TAG", NULL, "unclosed '${'"},
	{"a $ b", NULL, "lone '$'"},
	{"${1X}", NULL, "invalid interpolation format"},
	{"${TAG:x}", NULL, "invalid interpolation format"},
	{"port ${PORT:-80}:80", "port 8000:80", NULL},
};

static void test_interpolate(void **state)
{
	(void)state;
	for (size_t i = 0; i < CB_ARRAY_SIZE(interp_cases); i++) {
		cb_error_t err = CB_ERROR_INIT;
		char **unset = NULL;
		char *got = df_compose_interpolate(interp_cases[i].in, test_env, &unset, &err);
		if (interp_cases[i].out) {
			if (!got || strcmp(got, interp_cases[i].out))
				fail_msg("'%s' -> '%s' (%s), want '%s'", interp_cases[i].in,
					 got ? got : "NULL", err.msg ? err.msg : "", interp_cases[i].out);
		} else if (got || !err.msg || !strstr(err.msg, interp_cases[i].err)) {
			fail_msg("'%s': want error '%s', got '%s' / '%s'", interp_cases[i].in,
				 interp_cases[i].err, got ? got : "NULL", err.msg ? err.msg : "");
		}
		free(got);
		cb_strv_free(unset);
		cb_error_release(&err);
	}
	char **unset = NULL;
	char *got = df_compose_interpolate("${A}${B}${A}", NULL, &unset, NULL);
	assert_string_equal(got, "");
	assert_int_equal(cb_strv_len(unset), 2);
	free(got);
	cb_strv_free(unset);
}

/* ---- loading: one or more files, then the config YAML ---- */

static df_compose_project_t *load(const char *const *texts, const char *name, cb_error_t *err)
{
	df_compose_file_t files[4];
	size_t n = 0;
	for (; texts[n]; n++) {
		files[n].name = n == 0 ? "compose.yaml" : n == 1 ? "override.yaml" : "third.yaml";
		files[n].data = texts[n];
		files[n].len = strlen(texts[n]);
	}
	df_compose_opts_t o = {.files = files, .n_files = n, .project_dir = "/srv/My App",
			       .project_name = name, .env = test_env};
	df_compose_project_t *p = NULL;
	return df_compose_load(&o, &p, err) < 0 ? NULL : p;
}

static const struct {
	const char *what;
	const char *files[4];
	const char *yaml; /* the whole `config` output */
} load_cases[] = {
	{"minimal, name from the directory",
	 {"services:\n  web:\n    image: nginx\n", NULL},
	 "name: myapp\nservices:\n  web:\n    image: nginx\n"},
	{"version ignored, name key, build string",
	 {"version: '3.8'\nname: shop\nservices:\n  api:\n    build: ./api\n", NULL},
	 "name: shop\nservices:\n  api:\n    build:\n      context: /srv/My App/api\n"
	 "      dockerfile: /srv/My App/api/Dockerfile\n"},
	{"build long form, args list and map",
	 {"services:\n  a:\n    build:\n      context: ctx\n      dockerfile: docker/Dockerfile.dev\n"
	  "      args:\n        - V=${TAG}\n        - HOME\n        - UNSET_ONE\n"
	  "      target: dev\n      labels: {x: y}\n      cache_from: [foo]\n"
	  "  b:\n    build:\n      dockerfile_inline: |\n        FROM busybox\n"
	  "      args: {K: v, NAME: null}\n", NULL},
	 "name: myapp\nservices:\n  a:\n    build:\n      context: /srv/My App/ctx\n"
	 "      dockerfile: /srv/My App/ctx/docker/Dockerfile.dev\n"
	 "      args:\n        V: \"1.2\"\n        HOME: /home/u\n      labels:\n        x: \"y\"\n"
	 "      target: dev\n"
	 "  b:\n    build:\n      context: /srv/My App\n      dockerfile_inline: \"FROM busybox\\n\"\n"
	 "      args:\n        K: v\n        NAME: web\n"},
	{"command, entrypoint, environment, ports, volumes, restart, healthcheck",
	 {"services:\n  s:\n    image: busybox:${TAG}\n    command: sh -c 'echo \"hi there\"'\n"
	  "    entrypoint: [\"/bin/init\", \"--\"]\n"
	  "    environment:\n      A: 1\n      B:\n      HOME:\n    working_dir: /app\n    user: '1000:1000'\n"
	  "    ports:\n      - 80\n      - \"${PORT}:80\"\n      - 127.0.0.1:9000-9001:90-91/udp\n"
	  "      - target: 443\n        published: 8443\n"
	  "    volumes:\n      - ./data:/data:ro\n      - db:/var/lib/db\n      - /anon\n"
	  "      - type: tmpfs\n        target: /tmp\n"
	  "    restart: on-failure:3\n"
	  "    healthcheck:\n      test: wget -q localhost\n      interval: 1m30s\n"
	  "      timeout: 500ms\n      retries: 3\n"
	  "volumes:\n  db:\n", NULL},
	 "name: myapp\nservices:\n  s:\n    command:\n      - sh\n      - -c\n"
	 "      - echo \"hi there\"\n"
	 "    entrypoint:\n      - /bin/init\n      - --\n"
	 "    environment:\n      A: \"1\"\n      HOME: /home/u\n"
	 "    healthcheck:\n      test:\n        - CMD-SHELL\n        - wget -q localhost\n"
	 "      interval: 1m30s\n      timeout: 500ms\n      retries: 3\n"
	 "    image: busybox:1.2\n    ports:\n      - target: 80\n        protocol: tcp\n"
	 "      - target: 80\n        published: \"8000\"\n        protocol: tcp\n"
	 "      - target: 90\n        published: \"9000\"\n        host_ip: 127.0.0.1\n        protocol: udp\n"
	 "      - target: 91\n        published: \"9001\"\n        host_ip: 127.0.0.1\n        protocol: udp\n"
	 "      - target: 443\n        published: \"8443\"\n        protocol: tcp\n"
	 "    restart: on-failure:3\n    user: 1000:1000\n"
	 "    volumes:\n      - type: bind\n        source: /srv/My App/data\n        target: /data\n"
	 "        read_only: true\n        bind:\n          create_host_path: true\n"
	 "      - type: volume\n        source: db\n        target: /var/lib/db\n"
	 "      - type: volume\n        target: /anon\n      - type: tmpfs\n        target: /tmp\n"
	 "    working_dir: /app\n"
	 "volumes:\n  db:\n    name: myapp_db\n"},
	{"depends_on map, env_file, anchors and merge keys",
	 {"x-common: &common\n  image: busybox\n  restart: always\n"
	  "services:\n  web:\n    <<: *common\n    depends_on:\n      db:\n        condition: service_healthy\n"
	  "    env_file: [web.env, {path: opt.env, required: false}]\n"
	  "  db:\n    <<: *common\n    restart: unless-stopped\n    healthcheck:\n      disable: true\n",
	  NULL},
	 "name: myapp\nservices:\n  db:\n    healthcheck:\n      test:\n        - NONE\n"
	 "    image: busybox\n    restart: unless-stopped\n"
	 "  web:\n    depends_on:\n      db:\n        condition: service_healthy\n        required: true\n"
	 "    env_file:\n      - /srv/My App/web.env\n      - /srv/My App/opt.env\n"
	 "    image: busybox\n    restart: always\n"},
	{"merge: scalars replaced, environment by key, command replaced, ports appended",
	 {"services:\n  web:\n    image: web:1\n    command: [a, b]\n    environment: [A=1, B=2]\n"
	  "    ports: ['8000:80']\n    volumes: ['./x:/data', './y:/logs']\n    depends_on: [db]\n"
	  "  db:\n    image: db\n",
	  "services:\n  web:\n    image: web:2\n    command: [c]\n    environment:\n      B: 3\n      C: 4\n"
	  "    ports: ['8000:80', '8001:81']\n    volumes: ['./z:/data']\n"
	  "    depends_on:\n      db:\n        condition: service_started\n  cache:\n    image: redis\n",
	  NULL},
	 "name: myapp\nservices:\n  cache:\n    image: redis\n  db:\n    image: db\n"
	 "  web:\n    command:\n      - c\n    depends_on:\n      db:\n        condition: service_started\n"
	 "        required: true\n    environment:\n      A: \"1\"\n      B: \"3\"\n      C: \"4\"\n"
	 "    image: web:2\n    ports:\n      - target: 80\n        published: \"8000\"\n        protocol: tcp\n"
	 "      - target: 81\n        published: \"8001\"\n        protocol: tcp\n"
	 "    volumes:\n      - type: bind\n        source: /srv/My App/z\n        target: /data\n"
	 "        bind:\n          create_host_path: true\n"
	 "      - type: bind\n        source: /srv/My App/y\n        target: /logs\n"
	 "        bind:\n          create_host_path: true\n"},
	{"merge: !reset and !override, build string then map",
	 {"services:\n  web:\n    build: .\n    ports: ['80:80']\n    environment: {A: 1}\n",
	  "services:\n  web:\n    build:\n      target: prod\n    ports: !reset []\n"
	  "    environment: !override {B: 2}\n",
	  NULL},
	 "name: myapp\nservices:\n  web:\n    build:\n      context: /srv/My App\n"
	 "      dockerfile: /srv/My App/Dockerfile\n      target: prod\n"
	 "    environment:\n      B: \"2\"\n"},
	{"three files in order",
	 {"services:\n  a:\n    image: one\n", "services:\n  a:\n    image: two\n",
	  "services:\n  a:\n    user: nobody\n"},
	 "name: myapp\nservices:\n  a:\n    image: two\n    user: nobody\n"},
};

static void test_load(void **state)
{
	(void)state;
	for (size_t i = 0; i < CB_ARRAY_SIZE(load_cases); i++) {
		cb_error_t err = CB_ERROR_INIT;
		df_compose_project_t *p = load(load_cases[i].files, NULL, &err);
		if (!p)
			fail_msg("%s: %s", load_cases[i].what, err.msg);
		char *y = df_compose_to_yaml(p);
		if (strcmp(y, load_cases[i].yaml))
			fail_msg("%s:\n--- got\n%s--- want\n%s", load_cases[i].what, y,
				 load_cases[i].yaml);
		free(y);
		df_compose_project_free(p);
	}
}

/* ---- errors, with positions ---- */

static const struct {
	const char *files[3];
	const char *err;
} error_cases[] = {
	{{"services:\n  web:\n    image: [a\n", NULL}, "compose.yaml:4:1: YAML syntax error"},
	{{"services:\n  web:\n\timage: x\n", NULL}, "compose.yaml:3:1: YAML syntax error"},
	{{"", NULL}, "compose.yaml: empty compose file"},
	{{"- a\n", NULL}, "compose.yaml:1:1: a compose file must be a mapping"},
	{{"name: x\n", NULL}, "no services defined"},
	{{"services:\n  web: {}\n", NULL}, "compose.yaml:2:3: service 'web' has neither 'image' nor 'build'"},
	{{"services:\n  web:\n  db:\n    image: x\n", NULL}, "compose.yaml:2:3: service 'web' is empty"},
	{{"services:\n  web:\n    image: x\n    image: y\n", NULL}, "compose.yaml:4:5: duplicate key 'image'"},
	{{"services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [c]\n"
	  "  c:\n    image: x\n    depends_on: [a]\n", NULL},
	 "dependency cycle between services: a -> b -> c -> a"},
	{{"services:\n  a:\n    image: x\n    depends_on: [a]\n", NULL}, "compose.yaml:4:18: service 'a' depends on itself"},
	{{"services:\n  a:\n    image: x\n    depends_on: [nope]\n", NULL},
	 "compose.yaml:4:18: service 'a' depends on undefined service 'nope'"},
	{{"services:\n  a:\n    image: x\n    ports: ['8080:80']\n  b:\n    image: y\n"
	  "    ports:\n      - 127.0.0.1:8080:81\n", NULL},
	 "compose.yaml:8:9: host port 8080/tcp is published twice: by service 'a' (compose.yaml:4:13) and by service 'b'"},
	{{"services:\n  a:\n    image: x\n    ports: ['8080:80', '8080:80/udp']\n", NULL}, NULL},
	{{"services:\n  a:\n    image: x\n    ports: ['80:80']\n", "services:\n  b:\n    image: x\n    ports: ['80:81']\n", NULL},
	 "override.yaml:4:13: host port 80/tcp is published twice: by service 'a' (compose.yaml:4:13)"},
	{{"services:\n  a:\n    image: ${NOPE:?set NOPE}\n", NULL},
	 "compose.yaml:3:12: required variable 'NOPE' is missing a value: set NOPE"},
	{{"services:\n  a:\n    image: x\n    restart: sometimes\n", NULL},
	 "compose.yaml:4:14: invalid restart policy 'sometimes'"},
	{{"services:\n  a:\n    image: x\n    ports: ['99999:80']\n", NULL}, "compose.yaml:4:13: invalid port '99999:80'"},
	{{"services:\n  a:\n    image: x\n    volumes: ['data:/d']\n", NULL},
	 "compose.yaml:4:15: service refers to undefined volume 'data'"},
	{{"services:\n  a:\n    image: x\n    volumes: ['./d:rel']\n", NULL}, "the target must be an absolute path"},
	{{"services:\n  a:\n    image: x\n    healthcheck:\n      interval: soon\n", NULL},
	 "compose.yaml:5:17: 'interval': invalid duration 'soon'"},
	{{"services:\n  a:\n    image: x\n    command: \"echo 'oops\"\n", NULL}, "unterminated quote"},
	{{"services:\n  a:\n    image: x\n    environment: FOO\n", NULL}, "'environment' must be a mapping or a list"},
	{{"services:\n  a:\n    build:\n      dockerfile: a\n      dockerfile_inline: b\n", NULL},
	 "has both 'dockerfile' and 'dockerfile_inline'"},
	{{"services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: service_happy}\n  b:\n    image: y\n", NULL},
	 "compose.yaml:5:22: invalid condition 'service_happy'"},
	{{"name: Bad_Name\nservices:\n  a:\n    image: x\n", NULL}, "compose.yaml:1:7: invalid project name 'Bad_Name'"},
	{{"a: &x [*x]\n", NULL}, "too deep"},
	{{"services:\n  a b:\n    image: x\n", NULL}, "invalid service name 'a b'"},
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < CB_ARRAY_SIZE(error_cases); i++) {
		cb_error_t err = CB_ERROR_INIT;
		df_compose_project_t *p = load(error_cases[i].files, NULL, &err);
		if (!error_cases[i].err) { /* must load */
			if (!p)
				fail_msg("case %zu: unexpected error '%s'", i, err.msg);
			df_compose_project_free(p);
			continue;
		}
		if (p || !err.msg || !strstr(err.msg, error_cases[i].err))
			fail_msg("case %zu: want '%s', got '%s'", i, error_cases[i].err,
				 err.msg ? err.msg : "(loaded)");
		df_compose_project_free(p);
		cb_error_release(&err);
	}
}

static void test_billion_laughs(void **state)
{
	(void)state;
	cb_buf_t b;
	cb_buf_init(&b);
	cb_buf_addstr(&b, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i < 10; i++)
		cb_buf_addf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
			    i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	const char *files[] = {b.data, NULL};
	cb_error_t err = CB_ERROR_INIT;
	assert_null(load(files, NULL, &err));
	assert_non_null(strstr(err.msg, "too large"));
	cb_error_release(&err);
	cb_buf_release(&b);
}

/* ---- warnings: unknown keys once, version silent, unset variables ---- */

static void test_warnings(void **state)
{
	(void)state;
	const char *files[] = {"version: '3'\nbogus: 1\nservices:\n  a:\n    image: x\n    colour: red\n"
			       "    deploy: {}\n  b:\n    image: ${UNSET_VAR}y\n    colour: blue\n"
			       "    x-mine: ok\n    build:\n      cache_from: [z]\n",
			       NULL};
	cb_error_t err = CB_ERROR_INIT;
	df_compose_project_t *p = load(files, NULL, &err);
	assert_non_null(p);
	const char *want[] = {
		"variable 'UNSET_VAR' is not set",
		"compose.yaml:2:1: unknown top-level key 'bogus'",
		"compose.yaml:6:5: unknown key 'colour' in service 'a'",
		"compose.yaml:7:5: 'deploy' is not supported",
		"compose.yaml:13:7: build.cache_from is ignored",
	};
	assert_int_equal(cb_strv_len(p->warnings), CB_ARRAY_SIZE(want));
	for (size_t i = 0; i < CB_ARRAY_SIZE(want); i++)
		if (!strstr(p->warnings[i], want[i]))
			fail_msg("warning %zu: '%s', want '%s'", i, p->warnings[i], want[i]);
	df_compose_project_free(p);
}

/* ---- networks: declared, per service, the implicit default ---- */

static void test_networks(void **state)
{
	(void)state;
	const char *files[] = {"services:\n  web:\n    image: w\n"
			       "  api:\n    image: a\n    networks:\n      front:\n        aliases: [x, y]\n"
			       "        ipv4_address: 10.1.2.3\n      back:\n"
			       "  db:\n    image: d\n    networks: [back]\n"
			       "  h:\n    image: h\n    network_mode: host\n"
			       "networks:\n  front: {internal: true, ipam: {config: [{subnet: 10.1.2.0/24}]}}\n"
			       "  back:\n    external: true\n    name: shared\n",
			       NULL};
	cb_error_t err = CB_ERROR_INIT;
	df_compose_project_t *p = load(files, "proj", &err);
	assert_non_null(p);
	assert_int_equal(p->n_networks, 3); /* back default front, by key */
	assert_string_equal(p->networks[0].name, "shared");
	assert_true(p->networks[0].external);
	assert_string_equal(p->networks[1].name, "proj_default");
	assert_string_equal(p->networks[2].name, "proj_front");
	assert_true(p->networks[2].internal);
	assert_string_equal(p->networks[2].subnet, "10.1.2.0/24");
	const df_compose_service_t *api = df_compose_service(p, "api");
	assert_int_equal(api->n_networks, 2);
	assert_string_equal(api->networks[0].key, "back");
	assert_string_equal(api->networks[1].key, "front");
	assert_string_equal(api->networks[1].aliases[1], "y");
	assert_string_equal(api->networks[1].ipv4_address, "10.1.2.3");
	assert_int_equal(df_compose_service(p, "web")->n_networks, 1);
	assert_string_equal(df_compose_service(p, "web")->networks[0].key, "default");
	assert_int_equal(df_compose_service(p, "h")->n_networks, 0);
	assert_string_equal(df_compose_service(p, "h")->network_mode, "host");
	assert_int_equal(cb_strv_len(p->warnings), 0);
	df_compose_project_free(p);

	const char *bad[][2] = {
		{"services:\n  a:\n    image: x\n    networks: [nope]\n", "undefined network 'nope'"},
		{"services:\n  a:\n    image: x\n    network_mode: host\n    networks: [default]\n",
		 "mutually exclusive"},
		{"services:\n  a:\n    image: x\n    network_mode: container:b\n", "not supported"},
	};
	for (size_t i = 0; i < CB_ARRAY_SIZE(bad); i++) {
		const char *one[] = {bad[i][0], NULL};
		assert_null(load(one, NULL, &err));
		if (!strstr(err.msg, bad[i][1]))
			fail_msg("case %zu: '%s', want '%s'", i, err.msg, bad[i][1]);
		cb_error_release(&err);
	}
}

/* ---- order and selection ---- */

static void test_order(void **state)
{
	(void)state;
	const char *files[] = {"services:\n  web:\n    image: w\n    depends_on: [api, cache]\n"
			       "  api:\n    image: a\n    depends_on:\n      db: {condition: service_healthy}\n"
			       "  db:\n    image: d\n  cache:\n    image: c\n  lone:\n    image: l\n",
			       NULL};
	cb_error_t err = CB_ERROR_INIT;
	df_compose_project_t *p = load(files, "proj", &err);
	assert_non_null(p);
	assert_string_equal(p->name, "proj");
	const char *want[] = {"cache", "db", "api", "lone", "web"};
	for (size_t i = 0; i < p->n_services; i++)
		assert_string_equal(p->services[p->order[i]].name, want[i]);
	size_t *idx = NULL, n = 0;
	char *names[] = {"api", NULL};
	assert_int_equal(df_compose_select(p, names, true, &idx, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(p->services[idx[0]].name, "db");
	assert_string_equal(p->services[idx[1]].name, "api");
	free(idx);
	assert_int_equal(df_compose_select(p, names, false, &idx, &n, &err), 0);
	assert_int_equal(n, 1);
	free(idx);
	char *bad[] = {"nope", NULL};
	assert_int_equal(df_compose_select(p, bad, true, &idx, &n, &err), -1);
	assert_string_equal(err.msg, "no such service: 'nope'");
	cb_error_release(&err);
	char *img = df_compose_image_name(p, df_compose_service(p, "api"));
	assert_string_equal(img, "a");
	free(img);
	df_compose_project_free(p);

	const char *built[] = {"services:\n  api:\n    build: .\n", NULL};
	p = load(built, NULL, &err);
	img = df_compose_image_name(p, &p->services[0]);
	assert_string_equal(img, "myapp-api");
	free(img);
	df_compose_project_free(p);
}

/* ---- env files ---- */

static const struct {
	const char *text, *want, *err;
} env_cases[] = {
	{"A=1\nB=two words\n", "A=1|B=two words", NULL},
	{"# comment\n\n  export C=3\nD = 4\n", "C=3|D=4", NULL},
	{"E='single $TAG'\nF=\"double $TAG\\n\"\nG=${TAG}x\n", "E=single $TAG|F=double 1.2\n|G=1.2x", NULL},
	{"H=val # comment\nI=a#b\n", "H=val|I=a#b", NULL},
	{"J=1\nK=${J}${J}\n", "J=1|K=11", NULL},
	{"HOME\nNOT_SET_ANYWHERE\n", "HOME=/home/u", NULL},
	{"L=1\nL=2\n", "L=2", NULL},
	{"M=\"multi\nline\"\nN=n\n", "M=multi\nline|N=n", NULL},
	{"bad line here\n", NULL, "e.env:1: invalid line"},
	{"A=1\nB=\"open\n", NULL, "e.env:2: unterminated quoted value"},
	{"Q=${NOPE:?needed}\n", NULL, "e.env:1: required variable 'NOPE'"},
	{"CRLF=1\r\nX=2\r\n", "CRLF=1|X=2", NULL},
};

static void test_env_file(void **state)
{
	(void)state;
	for (size_t i = 0; i < CB_ARRAY_SIZE(env_cases); i++) {
		cb_error_t err = CB_ERROR_INIT;
		char **out = NULL;
		int rc = df_compose_parse_env_file("e.env", env_cases[i].text, strlen(env_cases[i].text),
						   test_env, &out, &err);
		if (env_cases[i].want) {
			if (rc < 0)
				fail_msg("case %zu: %s", i, err.msg);
			cb_buf_t b;
			cb_buf_init(&b);
			for (size_t j = 0; out && out[j]; j++)
				cb_buf_addf(&b, "%s%s", j ? "|" : "", out[j]);
			if (strcmp(b.data, env_cases[i].want))
				fail_msg("case %zu: got '%s', want '%s'", i, b.data, env_cases[i].want);
			cb_buf_release(&b);
		} else if (rc == 0 || !strstr(err.msg, env_cases[i].err)) {
			fail_msg("case %zu: want error '%s', got '%s'", i, env_cases[i].err,
				 err.msg ? err.msg : "success");
		}
		cb_strv_free(out);
		cb_error_release(&err);
	}
	char *base[] = {"A=1", "B=2", NULL}, *over[] = {"B=3", "C=4", NULL};
	char **m = df_compose_env_merge(base, over);
	assert_int_equal(cb_strv_len(m), 3);
	assert_string_equal(m[1], "B=3");
	assert_string_equal(m[2], "C=4");
	cb_strv_free(m);
}

static void test_json(void **state)
{
	(void)state;
	const char *files[] = {"services:\n  a:\n    image: \"x\\\"q\"\n    tty: true\n"
			       "    ports: ['80']\n", NULL};
	cb_error_t err = CB_ERROR_INIT;
	df_compose_project_t *p = load(files, NULL, &err);
	assert_non_null(p);
	char *j = df_compose_to_json(p);
	assert_string_equal(j, "{\n  \"name\": \"myapp\",\n  \"services\": {\n    \"a\": {\n"
			       "      \"image\": \"x\\\"q\",\n      \"ports\": [\n        {\n"
			       "          \"target\": 80,\n          \"protocol\": \"tcp\"\n        }\n"
			       "      ],\n      \"tty\": true\n    }\n  }\n}\n");
	free(j);
	df_compose_project_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interpolate),   cmocka_unit_test(test_load),
		cmocka_unit_test(test_errors),        cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_warnings),      cmocka_unit_test(test_networks),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_env_file),      cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
