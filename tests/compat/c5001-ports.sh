#!/usr/bin/env bash
# run -d -p HOST:CTR: the course's web server reached on the host's port.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/www"
echo '<h1>compat</h1>' >"$T/www/index.html"
port=$(free_port)
d run -d --name web -p "$port:80" -v "$T/www:/var/www:ro" busybox httpd -f -p 80 -h /var/www >/dev/null
wait_until 20 probe "$port"
like "$(probe "$port")" "<h1>compat</h1>" "GET through the published port"
like "$(d ps --format '{{.Ports}}')" "0.0.0.0:$port->80/tcp" "ps shows the mapping"
like "$(d port web 2>/dev/null || d ps --format '{{.Ports}}')" "$port" "the port is listed"
d rm -f web >/dev/null
wait_until 10 sh -c "! probe $port"
is "$(probe "$port" | wc -c)" 0 "nothing listens after rm -f"
done_testing
