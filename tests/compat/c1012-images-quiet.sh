#!/usr/bin/env bash
# images -q with two names of one image; images of a missing name.
. "$(dirname "$0")/lib.sh"
d tag busybox second:1
is "$(d images -q | sort -u | wc -l)" 1 "one image ID"
is "$(d images --format '{{.ID}}' | wc -l)" 2 "two rows, one per name"
is "$(d images nosuch)" "$(d images nosuch | head -1)" "images of a missing name: the header only"
is "$(rc d images nosuch)" 0 "and exit 0"
done_testing
