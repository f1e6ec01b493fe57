#!/usr/bin/env bash
# tag: the default tag, registry hosts with ports, invalid names.
. "$(dirname "$0")/lib.sh"
d tag busybox plain
is "$(d images plain --format '{{.Tag}}')" latest "no tag: latest"
d tag busybox localhost:5000/a/b/c:v1.2.3
is "$(d images localhost:5000/a/b/c --format '{{.Repository}}:{{.Tag}}')" "localhost:5000/a/b/c:v1.2.3" "a host, a port and a nested path"
d tag busybox docker.io/library/short:1
is "$(d images short --format '{{.Repository}}')" short "docker.io/library/ is shown short"
is "$(rc d tag busybox UPPER:1)" 1 "an upper-case name is refused"
is "$(rc d tag busybox 'bad name:1')" 1 "a name with a space is refused"
is "$(rc d tag busybox ok:bad:tag)" 1 "two colons are refused"
done_testing
