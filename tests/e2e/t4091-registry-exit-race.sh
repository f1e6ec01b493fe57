#!/usr/bin/env bash
# Early-failing pulls exit cleanly (issue 23 item 5): `pull` loads libcurl
# and OpenSSL on a thread while the store opens (reg_warm_up), and exit()
# ran their teardown under that thread when the pull failed first. Before
# the fix, 24 of 3,000 such pulls (4 at a time) died of SIGSEGV here; the
# loop below, 1,000 pulls 4 at a time, saw about 8 on the old code.
. "$(dirname "$0")/lib.sh"

N=${CBUILD_EXIT_RACE_N:-1000}
seq "$N" | xargs -P4 -I{} sh -c '"$1" --root "$2" pull -q "Bad/X:1" >/dev/null 2>&1; echo $?' sh "$CBUILD" "$ROOT" \
	| sort | uniq -c > "$T/rcs"
is "$(awk '$2 != 1' "$T/rcs")" "" "$N early-failing pulls all exit 1 (no signal)"
diag "$(cat "$T/rcs")"
cb pull -q "Bad/X:1" 2>"$T/err"; is $? 1 "the error is the reference's"
like "$(cat "$T/err")" "invalid reference 'Bad/X:1'" "and says so"
done_testing
