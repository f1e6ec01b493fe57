#!/usr/bin/env bash
# run --network none and host; the default bridge gives eth0.
. "$(dirname "$0")/lib.sh"
is "$(d run --rm --network none busybox sh -c 'ls /sys/class/net | tr "\n" " "')" "lo " "--network none: lo only"
like "$(d run --rm busybox sh -c 'ls /sys/class/net | tr "\n" " "')" "eth0" "the default network: eth0"
like "$(d run --rm busybox ip route)" "^default via" "and a default route"
is "$(rc d run --rm --network nosuchnet busybox true)" 125 "an unknown network: 125"
done_testing
