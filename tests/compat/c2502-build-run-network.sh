#!/usr/bin/env bash
# a build's RUN has a network namespace of its own: the builder host's
# loopback services are out of its reach; --network host reaches them.
. "$(dirname "$0")/lib.sh"
port=$((20000 + $$ % 20000))
$NS_EXEC busybox nc -ll -p "$port" -e echo hello-host &
_pids+=($!)
wait_until 10 probe "$port"
ctx "$T/c" <<DF
FROM busybox
RUN (nc -w 3 127.0.0.1 $port </dev/null || echo unreachable) >/out; ls /sys/class/net | grep -v lo | grep -c . >/ifs
DF
d build -q --no-cache -t rnet:1 "$T/c" >/dev/null; ok $? "build"
is "$(d run --rm rnet:1 cat /out)" unreachable "RUN cannot reach a service on the host's loopback"
is "$(d run --rm rnet:1 cat /ifs)" 1 "RUN has one interface besides lo"
d build -q --no-cache --network host -t rnet:2 "$T/c" >/dev/null; ok $? "build --network host"
is "$(d run --rm rnet:2 cat /out)" hello-host "with --network host it reaches it"
d rmi -f rnet:1 rnet:2 >/dev/null 2>&1
done_testing
