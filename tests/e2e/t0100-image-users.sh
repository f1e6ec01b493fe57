#!/bin/bash
# "Who uses this image" is the store's answer (store/users.h): rmi names a
# running container before a stopped one (docker's checkImageDeleteConflict
# with -f too), and prune keeps an untagged image a container uses, even a
# stopped one, until that container is gone.
. "$(dirname "$0")/lib.sh"
import_busybox

mkdir -p "$T/ctx"
printf 'FROM busybox\nRUN echo users > /u\n' >"$T/ctx/Dockerfile"
id=$(cb build -q --network none "$T/ctx" 2>/dev/null)
like "$id" '^sha256:[0-9a-f]{64}$' "an untagged build"
hex=${id#sha256:}

# a stopped container first, then a running one (made later: the newest)
cb run --name "users-stopped-$$" "$id" true >/dev/null 2>&1
is $? 0 "a container that exits"
run_id=$(cb run -d --name "users-running-$$" "$id" sleep 300 2>/dev/null)
like "$run_id" '^[0-9a-f]{64}$' "a detached container"
out=$(cb rmi -f "${hex:0:12}" 2>&1); rc=$?
is "$rc" 1 "rmi -f of an ID a running container uses fails"
like "$out" "image is being used by running container ${run_id:0:12}" "it names the running one"
cb stop -t 1 "$run_id" >/dev/null 2>&1
cb rm "$run_id" >/dev/null 2>&1
is $? 0 "the running container stopped and removed"

# only the stopped one left: prune keeps the image, rmi names that one
cb prune >/dev/null 2>&1
cb inspect "$id" >/dev/null 2>&1; is $? 0 "prune keeps an untagged image a stopped container uses"
out=$(cb rmi "${hex:0:12}" 2>&1); rc=$?
is "$rc" 1 "rmi of it fails"
like "$out" "image is being used by stopped container [0-9a-f]{12}" "with docker's text"
cb rm "users-stopped-$$" >/dev/null 2>&1
cb prune >/dev/null 2>&1
cb inspect "$id" >/dev/null 2>&1; is $? 1 "without the container, prune removes it"

done_testing
