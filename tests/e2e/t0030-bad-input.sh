#!/usr/bin/env bash
# Bad input: clear errors, exit 1, store unchanged.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
snap() { (cd "$ROOT" && cat index.json && ls blobs/sha256 | sort); }
before=$(snap)

err=$(cb import "$T/missing.tar" x:1 2>&1); is $? 1 "missing file: exit 1"
like "$err" "missing.tar" "missing file: error names the file"
echo "this is not a tar" > "$T/notatar.tar"
err=$(cb import "$T/notatar.tar" x:1 2>&1); is $? 1 "not a tar: exit 1"
like "$err" "^cbuild: error: " "not a tar: one clear error line"
for ref in UPPER/case a:b:c 'bad ref' ':tag'; do
	err=$(cb import "$ROOTFS_TAR" "$ref" 2>&1); is $? 1 "bad reference '$ref': exit 1"
	like "$err" "invalid reference" "bad reference '$ref': says so"
done
err=$(cb rmi nosuch:1 2>&1); is $? 1 "rmi of a missing image: exit 1"
like "$err" "no such image: 'nosuch:1'" "rmi names the missing image"
err=$(cb tag nosuch:1 y:2 2>&1); is $? 1 "tag of a missing image: exit 1"
is "$(snap)" "$before" "store unchanged after all of that"
ls "$ROOT/tmp" | grep -q . && fail "tmp/ is empty" || pass "tmp/ is empty"
done_testing
