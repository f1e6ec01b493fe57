#!/usr/bin/env bash
# inspect of several objects, and of a container and an image by name.
. "$(dirname "$0")/lib.sh"
d run --name ins1 busybox true
d tag busybox ins:1
is "$(d inspect -f '{{.Name}}' ins1)" /ins1 "a container by name"
is "$(d inspect --format '{{index .RepoTags 0}}' ins:1 | head -1)" busybox:latest "an image by a tag (its first name)"
is "$(d inspect -f '{{.State.Status}}' ins1 ins1 | wc -l)" 2 "two objects: two lines"
out=$(d inspect -f '{{.State.Status}}' ins1 nosuch 2>/dev/null); s=$?
is "$s" 1 "one missing: 1"
is "$out" exited "and the found one is printed"
is "$(d inspect --type image -f '{{.Os}}' busybox)" linux "--type image"
is "$(rc d inspect --type container busybox)" 1 "--type container of an image: 1"
is "$(d inspect ins1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["ExitCode"])')" 0 "the JSON parses"
done_testing
