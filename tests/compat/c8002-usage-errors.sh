#!/usr/bin/env bash
# usage errors: docker's words, a pointer to --help, non-zero (125 for run).
. "$(dirname "$0")/lib.sh"
err=$(d images --bogus 2>&1); s=$?
[ $s != 0 ]; ok $? "images --bogus fails"
like "$err" "unknown flag: --bogus" "it names the flag"
like "$err" "See '.* images --help'" "and points to the help"
err=$(d run --bogus busybox 2>&1); s=$?
is "$s" 125 "run --bogus: 125"
like "$err" "unknown flag: --bogus" "run names the flag"
err=$(d ps -Z 2>&1)
like "$err" "unknown shorthand flag: 'Z' in -Z" "an unknown short flag"
err=$(d stop -t 2>&1)
like "$err" "flag needs an argument" "a flag without its value"
[ "$(rc d tag onlyone)" != 0 ]; ok $? "tag with one argument fails"
done_testing
