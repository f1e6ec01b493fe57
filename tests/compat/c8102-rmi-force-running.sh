#!/usr/bin/env bash
# rmi -f of an image a running container uses: untagged, kept as <none> while it runs.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
RUN echo used > /used
DF
d build -q -t used:2 "$T/c" >/dev/null
d run -d --name runner used:2 sleep 300 >/dev/null
id=$(d inspect -f '{{.Image}}' runner | sed 's/^sha256://' | cut -c1-12)
out=$(d rmi -f used:2 2>&1); s=$?
is "$s" 0 "rmi -f of a running container's image: 0"
like "$out" "^Untagged: used:2$" "it untags"
unlike "$out" "Deleted" "and deletes nothing"
is "$(d images --format '{{.Repository}}:{{.Tag}} {{.ID}}' | grep -c "^<none>:<none> $id")" 1 "the image stays as <none>"
is "$(d ps --format '{{.Names}} {{.Image}}')" "runner $id" "ps shows the image ID once the name is gone"
is "$(d exec runner cat /used)" used "the container still runs on it"
d run --name keepbb busybox true  # busybox stays for the next scenario
d image prune -af >/dev/null
is "$(d images -q | grep -c "^$id")" 1 "image prune -a keeps an image a container uses"
d rm -f runner keepbb >/dev/null
d image prune -f >/dev/null
is "$(d images -q | grep -c "^$id")" 0 "without the container it is dangling and pruned"
done_testing
