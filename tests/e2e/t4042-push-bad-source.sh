#!/bin/bash
# push of a source that is no image fails with the one error line and exit
# 1, nothing else (under make asan, a leak exits 23: there was one).
. "$(dirname "$0")/lib.sh"
import_busybox

err=$(cb push "localhost:1/nothere-$$:1" 2>&1); rc=$?
is "$rc" 1 "pushing a missing local image exits 1"
is "$err" "cbuild: error: push 'localhost:1/nothere-$$:1': image not known: 'localhost:1/nothere-$$:1'" \
	"with the one error line"

done_testing
