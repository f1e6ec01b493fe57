#!/usr/bin/env bash
# commit -m and -a: the image's Comment-bearing history and Author.
. "$(dirname "$0")/lib.sh"
d run --name cm busybox touch /made
d commit -m "added made" -a "Jane Doe <jane@example.com>" cm meta:1 >/dev/null; ok $? "commit -m -a"
is "$(d inspect -f '{{.Author}}' meta:1)" "Jane Doe <jane@example.com>" "Author"
is "$(d history --format '{{.Comment}}' meta:1 | head -1)" "added made" "the history's comment"
like "$(d commit cm 2>/dev/null)" "^sha256:[0-9a-f]{64}$" "commit without a name prints the ID"
done_testing
