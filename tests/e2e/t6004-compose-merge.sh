#!/usr/bin/env bash
# Several -f files merged in order; the override file found beside the
# default file; !reset and !override.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/p" && cd "$T/p"
cat > compose.yaml <<'Y'
services:
  web:
    image: web:1
    command: ["serve", "--port", "80"]
    environment: [A=1, B=2]
    ports: ["8080:80"]
    volumes: ["./html:/www", "./logs:/logs"]
    labels: {tier: front}
  db:
    image: db:1
Y
cat > prod.yaml <<'Y'
services:
  web:
    image: web:2
    command: ["serve", "--prod"]
    environment:
      B: 3
      C: 4
    ports: ["8443:443"]
    volumes: ["./prod-html:/www"]
    restart: on-failure:5
    depends_on: [db]
  cache:
    image: redis
Y
cat > third.yaml <<'Y'
services:
  web:
    ports: !reset []
    labels: !override {tier: edge}
Y

out=$(cb compose -f compose.yaml -f prod.yaml config --format json 2>&1); ok $? "two files"
j() { printf '%s' "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
is "$(j 'd["services"]["web"]["image"]')" "web:2" "scalars: the later file wins"
is "$(j '" ".join(d["services"]["web"]["command"])')" "serve --prod" "command replaced, not appended"
is "$(j '",".join(k+"="+v for k,v in d["services"]["web"]["environment"].items())')" "A=1,B=3,C=4" \
	"environment merged by key"
is "$(j '",".join(p["published"]+":"+str(p["target"]) for p in d["services"]["web"]["ports"])')" \
	"8080:80,8443:443" "ports appended"
is "$(j '",".join(v["source"].split("/")[-1]+":"+v["target"] for v in d["services"]["web"]["volumes"])')" \
	"prod-html:/www,logs:/logs" "volumes merged by target"
is "$(j 'd["services"]["web"]["restart"]')" "on-failure:5" "restart: on-failure:N"
is "$(j '" ".join(sorted(d["services"]))')" "cache db web" "services from both files"

out=$(cb compose -f compose.yaml -f prod.yaml -f third.yaml config --format json 2>&1); ok $? "three files"
is "$(j '"ports" in d["services"]["web"]')" "False" "!reset drops a value"
is "$(j 'd["services"]["web"]["labels"]')" "{'tier': 'edge'}" "!override replaces"

# the override file beside the default one is merged without -f
cp prod.yaml compose.override.yaml
out=$(cb compose config --format json 2>&1)
is "$(j 'd["services"]["web"]["image"]')" "web:2" "compose.override.yaml merged automatically"
out=$(cb compose -f compose.yaml config --format json 2>&1)
is "$(j 'd["services"]["web"]["image"]')" "web:1" "not with an explicit -f"
rm compose.override.yaml

# docker-compose.yml is found too; errors point into the right file
mkdir "$T/q" && cd "$T/q"
printf 'services:\n  a:\n    image: x\n    ports: ["80:80"]\n' > docker-compose.yml
printf 'services:\n  b:\n    image: y\n    ports: ["80:81"]\n' > other.yml
out=$(cb compose config --services 2>&1); is "$out" "a" "docker-compose.yml found"
err=$(cb compose -f docker-compose.yml -f other.yml config 2>&1); is $? 1 "a port used twice across files"
like "$err" "other.yml:4:13: host port 80/tcp is published twice: by service 'a' \(.*docker-compose.yml:4:13\)" \
	"both positions are given"
err=$(cb compose -f nosuch.yml config 2>&1); is $? 1 "a missing -f file"
like "$err" "compose file '.*nosuch.yml' does not exist" "is named"
done_testing
