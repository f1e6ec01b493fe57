#!/usr/bin/env bash
# network create/ls/inspect/rm, containers on it reach each other by name.
. "$(dirname "$0")/lib.sh"
net=appnet$$
d network create "$net" >/dev/null; ok $? "network create"
like "$(d network ls --format '{{.Name}}' 2>/dev/null || d network ls)" "$net" "network ls lists it"
d run -d --name db --network "$net" busybox httpd -f -p 8080 -h /etc >/dev/null
wait_until 20 $DOCKER run --rm --network "$net" busybox sh -c 'printf "GET /passwd HTTP/1.0\r\n\r\n" | nc -w 2 db 8080 | grep -q root'
like "$(d run --rm --network "$net" busybox sh -c 'printf "GET /passwd HTTP/1.0\r\n\r\n" | nc -w 2 db 8080')" "root:x:0:0" "a container reaches another by name"
is "$(d inspect -f '{{json .Name}}' db)" '"/db"' "inspect of a container on it"
is "$(rc d network rm "$net")" 1 "rm of a network in use fails"
d rm -f db >/dev/null
d network rm "$net" >/dev/null; ok $? "network rm"
is "$(rc d network inspect "$net")" 1 "gone"
done_testing
