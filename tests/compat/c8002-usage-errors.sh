#!/usr/bin/env bash
# usage errors: docker's words, a pointer to --help, non-zero (125 for run).
. "$(dirname "$0")/lib.sh"
err=$(d images --bogus 2>&1); s=$?
is "$s" 125 "images --bogus: 125 (docker's flag parser, every verb)"
like "$err" "unknown flag: --bogus" "it names the flag"
like "$err" "See '.* images --help'" "and points to the help"
err=$(d run --bogus busybox 2>&1); s=$?
is "$s" 125 "run --bogus: 125"
like "$err" "unknown flag: --bogus" "run names the flag"
err=$(d ps -Z 2>&1); s=$?
is "$s" 125 "ps -Z: 125"
like "$err" "unknown shorthand flag: 'Z' in -Z" "an unknown short flag"
err=$(d stop -t 2>&1); s=$?
is "$s" 125 "stop -t without its value: 125"
like "$err" "flag needs an argument" "a flag without its value"
[ "$(rc d tag onlyone)" != 0 ]; ok $? "tag with one argument fails"
is "$(rc d exec --bogus x true)" 125 "exec --bogus: 125"
is "$(rc d network create --bogus n1)" 125 "a subcommand's unknown flag: 125"
done_testing
