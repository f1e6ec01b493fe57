#!/usr/bin/env bash
# ${VAR} interpolation from the environment and the .env file beside the
# compose file: defaults, required variables, $$, precedence.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/p/sub" && cd "$T/p"
cat > compose.yaml <<'Y'
services:
  app:
    image: "${IMAGE:-busybox}:${TAG-latest}"
    command: ["echo", "$$HOME is literal", "${GREETING}", "${EMPTY:-was empty}", "${EMPTY-kept empty}"]
    environment:
      FROM_DOTENV: ${DOTENV_ONLY}
      BOTH: ${BOTH}
      ALT: ${GREETING:+greeting is set}
    working_dir: ${WORKDIR:-/srv}
Y
printf 'DOTENV_ONLY=from .env\nBOTH=from .env\nGREETING="hi there"\nEMPTY=\n' > .env

out=$(BOTH=from-shell cb compose config 2>&1); ok $? "config with .env and the environment"
like "$out" "image: busybox:latest" "defaults for unset variables"
like "$out" '- \$HOME is literal' "\$\$ is a literal dollar"
like "$out" "- hi there" ".env value (double-quoted) used"
like "$out" "- was empty" ":- replaces an empty value"
like "$out" '- ""' "- keeps an empty value"
like "$out" "FROM_DOTENV: from .env" ".env fills a variable"
like "$out" "BOTH: from-shell" "the process environment wins over .env"
like "$out" "ALT: greeting is set" ":+ when set"
like "$out" "working_dir: /srv" "default working_dir"

out=$(IMAGE=alpine TAG=3.20 cb compose config 2>&1)
like "$out" "image: alpine:\"?3.20" "environment values interpolated"

# from a subdirectory: the file is found in the parent, .env beside it
out=$(cd sub && cb compose config 2>&1); ok $? "compose file found from a subdirectory"
like "$out" "FROM_DOTENV: from .env" ".env is read beside the compose file, not in the cwd"

# --env-file replaces .env
printf 'DOTENV_ONLY=other file\n' > "$T/other.env"
out=$(cb compose --env-file "$T/other.env" config 2>&1)
like "$out" "FROM_DOTENV: other file" "--env-file"
like "$out" "variable 'GREETING' is not set" "an unset variable is warned about"

# a required variable
cat > req.yaml <<'Y'
services:
  app:
    image: busybox
    user: "${APP_USER:?set APP_USER to the user to run as}"
Y
err=$(cb compose -f req.yaml config 2>&1); is $? 1 "a missing required variable fails"
like "$err" "req.yaml:4:11: required variable 'APP_USER' is missing a value: set APP_USER to the user to run as" \
	"the error has file:line:column and the message"
out=$(APP_USER=nobody cb compose -f req.yaml config 2>&1); ok $? "set: passes"
like "$out" "user: nobody" "required variable used"

printf 'services:\n  app:\n    image: a$ b\n' > lone.yaml
err=$(cb compose -f lone.yaml config 2>&1); is $? 1 "a lone \$ is an error"
like "$err" "lone.yaml:3:12: invalid interpolation format" "with its position"

out=$(cb compose config --format json 2>&1 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["services"]["app"]["command"][2])')
is "$out" "hi there" "config --format json is JSON"
done_testing
