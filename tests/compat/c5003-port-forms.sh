#!/usr/bin/env bash
# -p forms on 127.0.0.1 (HOST:CTR, a random host port, /udp, two at once): port with and without PRIVATE_PORT, ps's Ports.
. "$(dirname "$0")/lib.sh"
p1=$(free_port)
d run -d --name pf1 -p "127.0.0.1:$p1:80" -p 127.0.0.1::81 -p "127.0.0.1::53/udp" busybox httpd -f -p 80 >/dev/null
out=$(d port pf1 | sort)
like "$out" "^53/udp -> 127\.0\.0\.1:[0-9]+$" "port: the udp one"
like "$out" "^80/tcp -> 127\.0\.0\.1:$p1$" "port: HOST:CTR"
like "$out" "^81/tcp -> 127\.0\.0\.1:[0-9]+$" "port: a random host port"
is "$(d port pf1 | wc -l)" 3 "three lines"
is "$(d port pf1 80)" "127.0.0.1:$p1" "port CONTAINER 80: the host side only"
is "$(d port pf1 80/tcp)" "127.0.0.1:$p1" "port CONTAINER 80/tcp"
is "$(rc d port pf1 82)" 1 "a port not published: 1"
ports=$(d ps --format '{{.Ports}}' -f name=pf1)
like "$ports" "127\.0\.0\.1:$p1->80/tcp" "ps: HOST:CTR"
like "$ports" "127\.0\.0\.1:[0-9]+->53/udp" "ps: the udp one"
wait_until 20 probe "$p1"; ok $? "the published port answers"
done_testing
