#!/bin/bash
# t2210: on a real distribution base (Debian bookworm, testdata/mkdebian.sh,
# cached per machine): install nginx with apt-get, serve a page through
# `run -d -p`, and check buildah builds the same tree from the same base.
# Needs the Debian mirror (skips when it is unreachable).
. "$(dirname "$0")/lib.sh"
import_debian
mkdir -p "$T/ctx"
cat > "$T/ctx/Dockerfile" <<'DF'
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends nginx-light && rm -rf /var/lib/apt/lists/*
RUN echo 'hello from cbuild' > /var/www/html/index.html
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
DF
# buildah builds the same beside cbuild (the time goes to the mirror)
BH_PID=
if command -v buildah >/dev/null; then
	bh_base debian:bookworm || diag "$(cat "$T/bh.err")"
	bh_build web "$T/ctx" & BH_PID=$!; _bg_pids+=("$BH_PID")
fi
SOURCE_DATE_EPOCH=1704067200 cb build -q -t web:1 "$T/ctx" >/dev/null 2>"$T/build.err"
ok $? "apt-get install nginx on bookworm builds" || diag "$(tail -20 "$T/build.err")"

port=$(free_port)
name=web-$$-$RANDOM
cid=$(cb run -d --name "$name" -p "$port:80" web:1 2>"$T/run.err")
ok $? "run -d -p $port:80" || diag "$(cat "$T/run.err")"
got=
for _ in $(seq 100); do
	got=$(curl -fsS -m 2 "http://127.0.0.1:$port/" 2>/dev/null) && break
	sleep 0.1
done
is "$got" "hello from cbuild" "nginx serves the page on 127.0.0.1:$port"
cb stop -t 5 "$name" >/dev/null 2>&1
cb rm -f "$name" >/dev/null 2>&1

if [ -n "$BH_PID" ]; then
	wait "$BH_PID"; ok $? "buildah builds it too" || diag "$(tail -20 "$T/bh.err")"
	out=$(same_tree web:1 "$T/bh.tar" --apt 2>&1)
	ok $? "cbuild's and buildah's images are the same tree and config (tests/difftest/README.md)" || diag "$out"
fi
done_testing
