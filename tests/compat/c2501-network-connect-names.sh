#!/usr/bin/env bash
# a running container on the default bridge, connected to a user-defined
# network, reaches its members by name at once (its resolver is switched).
. "$(dirname "$0")/lib.sh"
net=cnames$$
d network create "$net" >/dev/null; ok $? "network create"
d run -d --name db --network "$net" busybox httpd -f -p 8080 -h /etc >/dev/null
d run -d --name lone busybox sleep 300 >/dev/null
get() { $DOCKER exec lone sh -c 'printf "GET /passwd HTTP/1.0\r\n\r\n" | nc -w 2 db 8080 | grep -q root'; }
is "$(rc d network connect "$net" lone)" 0 "network connect of a running container"
wait_until 20 get; ok $? "then it reaches db by name"
d rm -f db lone >/dev/null
d network rm "$net" >/dev/null; ok $? "network rm once both are gone"
done_testing
