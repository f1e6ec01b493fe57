#!/usr/bin/env bash
# docker's management forms: image ls|tag|inspect|rm, container ls|inspect|logs|rm.
. "$(dirname "$0")/lib.sh"
d image tag busybox forms:1; ok $? "image tag"
is "$(d image ls --format '{{.Repository}}:{{.Tag}}' forms)" forms:1 "image ls REPO"
is "$(d image inspect --format '{{json .Config.Cmd}}' forms:1)" '["sh"]' "image inspect --format"
d container run --name f1 busybox echo from-container-run >/dev/null; ok $? "container run"
is "$(d container ls -a --format '{{.Names}}')" f1 "container ls -a"
is "$(d container logs f1)" from-container-run "container logs"
is "$(d container inspect -f '{{.State.Status}}' f1)" exited "container inspect"
is "$(d container rm f1)" f1 "container rm"
is "$(d image rm forms:1)" "Untagged: forms:1" "image rm"
is "$(rc d image)" 0 "image alone: its commands, exit 0"
like "$(d container 2>&1)" "ls" "container alone lists ls"
done_testing
