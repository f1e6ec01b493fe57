#!/usr/bin/env bash
# restart policies (honoured by the project's supervisor) and depends_on
# order at run time.
. "$(dirname "$0")/lib.sh"

cb run --help >/dev/null 2>&1 || skip_all "containers are not in this build"
import_busybox
mkdir -p "$T/p/data" && cd "$T/p"
trap 'cb compose down -v >/dev/null 2>&1; _cleanup' EXIT
cat > compose.yaml <<'Y'
services:
  flaky:
    image: busybox
    command: ["sh", "-c", "echo run >> /data/flaky; exit 3"]
    volumes: ["./data:/data"]
    restart: on-failure:2
  once:
    image: busybox
    command: ["sh", "-c", "echo run >> /data/once; exit 0"]
    volumes: ["./data:/data"]
    restart: on-failure
  always:
    image: busybox
    command: ["sh", "-c", "echo run >> /data/always; exit 0"]
    volumes: ["./data:/data"]
    restart: always
  never:
    image: busybox
    command: ["sh", "-c", "echo run >> /data/never; exit 1"]
    volumes: ["./data:/data"]
    restart: "no"
Y
out=$(cb compose up -d 2>&1); ok $? "up -d"
for i in $(seq 1 1200); do
	[ "$(wc -l < data/flaky 2>/dev/null)" -ge 3 ] && [ "$(wc -l < data/always 2>/dev/null)" -ge 3 ] && break
	sleep 0.1
done
sleep 1.5 # enough for a wrong fourth run of flaky to show
is "$(wc -l < data/flaky)" 3 "on-failure:2: the first run and two restarts"
is "$(wc -l < data/once)" 1 "on-failure: an exit 0 is not restarted"
is "$(wc -l < data/never)" 1 "no: never restarted"
[ "$(wc -l < data/always)" -ge 3 ]; ok $? "always: restarted after exit 0"
like "$(cb compose ps -a)" "p-flaky-1 .* Exited \(3\)" "ps -a shows flaky's exit code"
cb compose down >/dev/null 2>&1; ok $? "down"
n=$(wc -l < data/always); sleep 1
is "$(wc -l < data/always)" "$n" "after down nothing restarts"

# depends_on order at run time: each service logs itself when it runs
rm -f data/order
cat > order.yaml <<'Y'
services:
  app:
    image: busybox
    command: ["sh", "-c", "echo app >> /data/order; sleep 30"]
    volumes: ["./data:/data"]
    depends_on:
      migrate: {condition: service_completed_successfully}
      cache: {condition: service_started}
  migrate:
    image: busybox
    command: ["sh", "-c", "sleep 0.5; echo migrate >> /data/order"]
    volumes: ["./data:/data"]
    depends_on:
      db: {condition: service_healthy}
  db:
    image: busybox
    command: ["sh", "-c", "sleep 0.5; echo db >> /data/order; touch /ready; sleep 30"]
    volumes: ["./data:/data"]
    healthcheck: {test: ["CMD", "test", "-f", "/ready"], interval: 200ms, retries: 50}
  cache:
    image: busybox
    command: ["sh", "-c", "sleep 30"]
Y
out=$(cb compose -f order.yaml up -d 2>&1); ok $? "up -d with conditions"
is "$(tr '\n' ' ' < data/order)" "db migrate app " \
	"service_healthy and service_completed_successfully order the runs"
cb compose -f order.yaml down -t 1 >/dev/null 2>&1; ok $? "down"

# service_healthy on the image's own HEALTHCHECK (built from dockerfile_inline)
rm -f data/order
cat > imagehealth.yaml <<'Y'
services:
  db:
    build:
      dockerfile_inline: |
        FROM busybox
        HEALTHCHECK --interval=1s --retries=30 CMD test -f /ready
        CMD ["sh", "-c", "sleep 1; echo db >> /data/order; touch /ready; sleep 30"]
    volumes: ["./data:/data"]
  app:
    image: busybox
    command: ["sh", "-c", "echo app >> /data/order; sleep 30"]
    volumes: ["./data:/data"]
    depends_on:
      db: {condition: service_healthy}
Y
out=$(cb compose -f imagehealth.yaml up -d 2>&1); ok $? "up -d: db built from dockerfile_inline" || diag "$out"
is "$(tr '\n' ' ' < data/order)" "db app " "service_healthy waits on the image's HEALTHCHECK"
like "$(cb compose -f imagehealth.yaml ps)" "p-db-1 .*Up .*\(healthy\)" "ps shows the image healthcheck's state"
cb compose -f imagehealth.yaml down -t 1 >/dev/null 2>&1; ok $? "down"

printf 'services:\n  a:\n    image: busybox\n    command: ["true"]\n  b:\n    image: busybox\n    command: ["sleep", "5"]\n    depends_on:\n      a: {condition: service_healthy}\n' > nohealth.yaml
err=$(cb compose -f nohealth.yaml up -d 2>&1); is $? 1 "service_healthy on a service without healthcheck fails"
like "$err" "service 'b' waits for 'a' to be healthy, but 'a' has no healthcheck" "clear error"
cb compose -f nohealth.yaml down >/dev/null 2>&1
done_testing
