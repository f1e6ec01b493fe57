#!/usr/bin/env bash
# an image's USER and WORKDIR apply to run and exec; -u and -w override them.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
WORKDIR /srv/app
USER nobody
CMD ["sh", "-c", "id -un; pwd"]
DF
d build -q -t uw:1 "$T/c" >/dev/null
is "$(d run --rm uw:1 | tr '\n' ' ')" "nobody /srv/app " "USER and WORKDIR"
is "$(d run --rm -u root -w / uw:1 | tr '\n' ' ')" "root / " "-u and -w override them"
d run -d --name uw uw:1 sleep 100 >/dev/null
is "$(d exec uw id -un)" nobody "exec runs as the image's USER"
is "$(d exec uw pwd)" /srv/app "in its WORKDIR"
is "$(d exec -u 0 uw id -u)" 0 "exec -u 0"
done_testing
