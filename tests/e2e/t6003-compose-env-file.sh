#!/usr/bin/env bash
# env_file: files read in order under environment:, required and optional
# files, quoting rules, interpolation inside env files.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/p/conf" && cd "$T/p"
cat > compose.yaml <<'Y'
services:
  app:
    image: busybox
    env_file:
      - conf/common.env
      - path: conf/local.env
        required: false
      - conf/override.env
    environment:
      FINAL: from environment
      LEVEL: ${LEVEL:-info}
Y
cat > conf/common.env <<'E'
# common settings
export DB_HOST=db
DB_PORT=3306
FINAL=from common.env
QUOTED="line1\nline2"
LITERAL='$NOT_EXPANDED'
URL=http://${DB_HOST}:${DB_PORT}/x   # a comment
E
printf 'DB_PORT=5432\n' > conf/override.env

out=$(cb compose config 2>&1); ok $? "config with env files"
like "$out" "DB_HOST: db" "export prefix accepted"
like "$out" 'DB_PORT: "5432"' "a later env file wins"
like "$out" "FINAL: from environment" "environment: wins over env_file"
like "$out" 'QUOTED: "line1\\nline2"' "double quotes take escapes"
like "$out" 'LITERAL: \$NOT_EXPANDED' "single quotes are literal"
like "$out" "URL: http://db:3306/x" "earlier lines interpolate later ones, comments cut"
like "$out" "LEVEL: info" "environment: interpolated"

printf 'DB_HOST=local\n' > conf/local.env
out=$(cb compose config 2>&1)
like "$out" "DB_HOST: local" "an optional env file is used when present"

rm conf/override.env
err=$(cb compose config 2>&1); is $? 1 "a missing required env file fails"
like "$err" "service 'app': env_file.*conf/override.env" "the error names the service and file"

printf 'this is not a pair\n' > conf/override.env
err=$(cb compose config 2>&1); is $? 1 "a bad env file fails"
like "$err" "override.env:1: invalid line" "with file and line"
done_testing
