#!/usr/bin/env bash
# depends_on: start order (dependencies first), conditions, cycles,
# undefined services, and clear YAML errors.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/p" && cd "$T/p"
cat > compose.yaml <<'Y'
services:
  web:
    image: busybox
    depends_on:
      api: {condition: service_started}
      cache: {condition: service_healthy}
  api:
    image: busybox
    depends_on: [db, migrate]
  migrate:
    image: busybox
    depends_on:
      db:
        condition: service_completed_successfully
  db:
    image: busybox
  cache:
    image: busybox
    depends_on:
      ghost: {condition: service_started, required: false}
Y
out=$(cb compose config --services 2>&1); ok $? "config --services"
is "$(printf '%s' "$out" | grep -v warning | tr '\n' ' ')" "cache db migrate api web " \
	"services in start order: dependencies first"
like "$out" "depends on undefined service 'ghost' \(required: false, ignored\)" "optional missing dependency warned"
out=$(cb compose config 2>&1)
like "$out" "condition: service_completed_successfully" "conditions kept"

cat > cycle.yaml <<'Y'
services:
  a: {image: x, depends_on: [b]}
  b: {image: x, depends_on: [c]}
  c: {image: x, depends_on: [a]}
Y
err=$(cb compose -f cycle.yaml config 2>&1); is $? 1 "a cycle is an error"
like "$err" "dependency cycle between services: a -> b -> c -> a" "the cycle is shown"

printf 'services:\n  a:\n    image: x\n    depends_on: [nope]\n' > undef.yaml
err=$(cb compose -f undef.yaml config 2>&1); is $? 1 "undefined dependency"
like "$err" "undef.yaml:4:18: service 'a' depends on undefined service 'nope'" "with its position"

printf 'services:\n  a:\n    image: x\n   bad: indent\n' > syntax.yaml
err=$(cb compose -f syntax.yaml config 2>&1); is $? 1 "YAML syntax error"
like "$err" "syntax.yaml:4:4: YAML syntax error" "syntax error with file:line:column"

printf 'services:\n  a:\n    image: x\n    colour: red\n  b:\n    image: y\n    colour: blue\n' > unknown.yaml
out=$(cb compose -f unknown.yaml config 2>&1); ok $? "unknown keys are not fatal"
is "$(printf '%s\n' "$out" | grep -c "unknown key 'colour'")" 1 "an unknown key is warned about once"
like "$out" "unknown.yaml:4:5: unknown key 'colour' in service 'a'" "the warning has a position"

printf 'services:\n  a:\n    image: x\n    restart: sometimes\n' > restart.yaml
err=$(cb compose -f restart.yaml config 2>&1); is $? 1 "bad restart policy"
like "$err" "restart.yaml:4:14: invalid restart policy 'sometimes'" "named with its position"
done_testing
