#!/usr/bin/env bash
# A CI deploy step, twice in a row: stop and rm the old container, then
# run -d --restart unless-stopped -p the new one; its port answers.
. "$(dirname "$0")/lib.sh"
port=$(free_port)
mkdir -p "$T/www" && echo build-1 >"$T/www/index.html"
for build in 1 2; do
	echo "build-$build" >"$T/www/index.html"
	d stop app >/dev/null 2>&1
	d rm app >/dev/null 2>&1
	is "$(rc d run -d --name app --restart unless-stopped -p "$port:8080" -v "$T/www:/www:ro" busybox httpd -f -p 8080 -h /www)" 0 "deploy $build: run -d --restart unless-stopped -p"
	serves() { probe "$port" | grep -q "build-$build"; }
	wait_until 60 serves; ok $? "deploy $build: the new container answers on the published port"
	like "$(d ps --filter name=app --format '{{.Status}}')" "^Up " "deploy $build: ps shows it up"
done
d stop app >/dev/null
is "$(d ps -a --filter name=app --format '{{.Status}}' | cut -c1-6)" "Exited" "stop: it stays down"
done_testing
