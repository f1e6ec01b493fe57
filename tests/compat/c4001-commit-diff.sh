#!/usr/bin/env bash
# diff and commit: the course's "save a container as an image".
. "$(dirname "$0")/lib.sh"
d run --name g1 busybox sh -c 'mkdir -p /opt/tool && echo v1 > /opt/tool/version && rm /etc/group'
is "$(d diff g1 | grep -E ' /opt|/etc' | sort | tr '\n' ' ')" "A /opt A /opt/tool A /opt/tool/version C /etc D /etc/group " "diff: A, C, D"
d commit g1 tooled:1 >/dev/null; ok $? "commit CONTAINER IMAGE"
is "$(d run --rm tooled:1 cat /opt/tool/version)" v1 "the image has the change"
is "$(rc d run --rm tooled:1 test -e /etc/group)" 1 "and the deletion"
d commit -c 'CMD ["cat", "/opt/tool/version"]' g1 tooled:2 >/dev/null
is "$(d run --rm tooled:2)" v1 "commit -c CMD"
like "$(d images --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')" "tooled:1 tooled:2" "images lists them"
done_testing
