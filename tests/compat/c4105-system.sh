#!/usr/bin/env bash
# system df's table and system prune -f
. "$(dirname "$0")/lib.sh"
d run --name stopped busybox true
d run -d --name running busybox sleep 1000 >/dev/null
out=$(d system df)
like "$(printf '%s\n' "$out" | head -1)" "^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$" "system df: the columns"
is "$(printf '%s\n' "$out" | awk 'NR > 1' | cut -c1-15 | sed 's/ *$//' | tr '\n' ,)" "Images,Containers,Local Volumes,Build Cache," "and rows"
like "$(printf '%s\n' "$out" | grep '^Images')" "^Images +1 +1 " "one image, in use"
like "$(printf '%s\n' "$out" | grep '^Containers')" "^Containers +2 +1 " "two containers, one running"
is "$(echo n | d system prune 2>/dev/null >/dev/null; d ps -aq | wc -l)" "2" "prune answered n keeps everything"
out=$(d system prune -f)
like "$out" "^Deleted Containers:" "prune -f deletes the stopped container"
like "$out" "Total reclaimed space: " "and says what it reclaimed"
is "$(d ps -a --format '{{.Names}}')" "running" "the running one stays"
is "$(d images --format '{{.Repository}}')" "busybox" "the image in use stays"
done_testing
