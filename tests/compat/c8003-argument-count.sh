#!/usr/bin/env bash
# A wrong number of arguments: docker's sentence, its help pointer and usage, exit 1 for every verb.
. "$(dirname "$0")/lib.sh"
check() { # WANT-SENTENCE "VERB [SUBVERB]" ARGS...
	local want=$1 verb=$2 out s; shift 2
	# shellcheck disable=SC2086 # the verb's words
	out=$(d $verb "$@" </dev/null 2>&1); s=$?
	is "$s" 1 "$verb $* : exit 1"
	like "$(printf '%s\n' "$out" | head -1)" "^\"[a-z]+ $verb\" $want\.\$" "$verb $* : docker's words"
}
check "requires at least 1 argument" rm
check "requires exactly 2 arguments" tag x
check "requires exactly 2 arguments" tag a b c
check "requires at least 1 argument" run
check "requires at least 2 arguments" exec x
check "accepts no arguments" ps x
check "requires exactly 1 argument" logs
check "requires at least 1 and at most 2 arguments" port
check "requires exactly 2 arguments" rename x
check "requires exactly 2 arguments" cp x
check "requires exactly 1 argument" attach
check "requires at least 1 argument" stop
check "requires at least 1 argument" start
check "requires at least 1 argument" kill
check "requires at least 1 argument" wait
check "requires at least 1 argument" rmi
check "requires at least 1 argument" inspect
check "requires exactly 1 argument" history
check "requires at least 1 argument" save
check "accepts no arguments" load x
check "requires exactly 1 argument" build a b
check "requires exactly 1 argument" diff
check "requires at least 1 and at most 2 arguments" commit
check "requires at most 1 argument" images a b
check "requires exactly 1 argument" pull
check "requires at most 1 argument" login a b
check "requires at least 1 argument" pause
check "requires at least 1 argument" top
check "requires at least 1 argument" "volume rm"
check "requires exactly 1 argument" "network create"
check "requires exactly 2 arguments" "network connect" x
check "requires at least 1 argument" "image rm"
check "accepts no arguments" "container ls" x
err=$(d rm 2>&1)
like "$err" "See '[a-z]+ rm --help'\." "the help pointer"
like "$err" "Usage:  [a-z]+ rm \[OPTIONS\] CONTAINER" "the usage line"
done_testing
