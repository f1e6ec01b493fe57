#!/usr/bin/env bash
# Bytes that are not UTF-8 in a Dockerfile, a build arg or a context file
# name (issue 23 item 4: a SIGSEGV in builder/cache.c before). BuildKit
# (Docker 20.10, checked by hand) turns each such byte of the Dockerfile into
# U+FFFD before it parses, RUN included, and writes configs as Go's
# encoding/json does (U+FFFD again); context file names stay raw bytes. A NUL
# byte is an error naming Dockerfile:LINE:COL (BuildKit fails at exec).
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
FFFD=$(printf '\357\277\275')
c=$T/c
mkdir -p "$c"
printf 'FROM busybox\nRUN printf caf\351\350 > /x\nLABEL a=caf\351\nENV E=\351\nCOPY f* /d/\n' > "$c/Dockerfile"
printf 'x\n' > "$c/f$(printf '\351')"
cb build -q -t l1:1 "$c" > "$T/out" 2> "$T/err"; ok $? "a Latin-1 Dockerfile builds"
unpack l1:1 "$T/u"; ok $? "umoci unpacks it"
is "$(od -An -c "$T/u/rootfs/x" | tr -s ' ')" "$(printf 'caf%s%s' "$FFFD" "$FFFD" | od -An -c | tr -s ' ')" \
	"RUN ran with one U+FFFD per bad byte, as BuildKit"
[ -f "$T/u/rootfs/d/f$(printf '\351')" ]; ok $? "a context file named in Latin-1 is copied under its own bytes"
cfg=$(config_of l1:1)
like "$cfg" "\"a\":\"caf\\\\ufffd\"" "the label is in the config, repaired"
like "$cfg" "\"E=\\\\ufffd\"" "the ENV is in the config, repaired"

# build args and --label from the command line: kept in the config
printf 'FROM busybox\nARG X\nENV Y=$X\nRUN echo "$X" > /y\n' > "$c/Dockerfile"
cb build -q -t l2:1 --build-arg X=$'\351' --label l=$'\350' "$c" >/dev/null 2>"$T/err"; ok $? "a Latin-1 build arg builds"
cfg=$(config_of l2:1)
like "$cfg" "\"Y=\\\\ufffd\"" "the ENV made from it is in the config"
like "$cfg" "\"l\":\"\\\\ufffd\"" "the --label is in the config"
out=$(cb build -t l3:1 --build-arg X=$'\350' "$c" 2>&1); ok $? "another Latin-1 build arg builds"
like "$out" "RUN.*cache miss" "and is not a cache hit of the first (the key keeps the bytes)"

# a NUL byte: an error with the position, nothing tagged
printf 'FROM busybox\nRUN echo a\000b > /z\n' > "$c/Dockerfile"
cb build -q -t n:1 "$c" >/dev/null 2>"$T/err"; is $? 1 "a NUL byte fails the build"
like "$(cat "$T/err")" "Dockerfile:2:11: a NUL byte is not allowed" "naming Dockerfile:LINE:COL"
cb inspect n:1 >/dev/null 2>&1; is $? 1 "nothing tagged"
done_testing
