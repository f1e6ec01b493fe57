#!/usr/bin/env bash
# images, tag, rmi: names, the columns, untagging.
. "$(dirname "$0")/lib.sh"
like "$(d images | head -1)" "^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$" "images' header"
like "$(d images)" "busybox +latest +[0-9a-f]{12} " "busybox latest"
d tag busybox myapp:1
d tag busybox:latest localhost:5000/team/app:2
is "$(d images --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')" \
	"busybox:latest localhost:5000/team/app:2 myapp:1 " "tag adds names"
is "$(d images -q myapp:1)" "$(d images -q busybox)" "one image, one ID"
is "$(d images myapp --format '{{.Tag}}')" 1 "images REPOSITORY"
is "$(d rmi myapp:1)" "Untagged: myapp:1" "rmi of one name untags"
is "$(rc d rmi myapp:1)" 1 "rmi of a missing name: 1"
is "$(rc d tag nosuch:1 x:1)" 1 "tag of a missing image: 1"
is "$(d image ls --format '{{.Repository}}' | sort | tr '\n' ' ')" "busybox localhost:5000/team/app " "image ls"
done_testing
