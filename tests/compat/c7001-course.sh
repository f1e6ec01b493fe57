#!/usr/bin/env bash
# The course's commands in order (docker-course.md, lectures 2 and 3), with
# busybox standing in for its images: run, ps, stop, rm, logs, images, pull,
# rmi, networks, commit/diff, build, login, push, pull, run -p.
. "$(dirname "$0")/lib.sh"
reg_start || { echo "1..0 # SKIP no registry"; exit 0; }
export DOCKER_CONFIG=$T/cfg HOME=$T/home
mkdir -p "$DOCKER_CONFIG" "$HOME"
# 2강: run --rm -it IMAGE /bin/sh (stdin instead of a terminal)
is "$(echo 'echo inside; exit' | d run --rm -i busybox /bin/sh)" inside "run --rm -i IMAGE /bin/sh"
# run --name=redis -d -p 1234:6379 redis
port=$(free_port)
d run --name=redis -d -p "$port:6379" busybox sh -c 'echo ready; exec httpd -f -p 6379 -h /etc' >/dev/null
ok $? "run --name=redis -d -p"
like "$(d ps)" "redis" "ps"
wait_until 20 sh -c "probe $port | grep -q HTTP"
like "$(probe "$port")" "^HTTP/1" "the service answers on the published port"
d stop redis >/dev/null; ok $? "stop"
like "$(d ps -a)" "Exited .* redis" "ps -a"
is "$(d logs --tail 1 redis)" ready "logs --tail"
d rm redis >/dev/null; ok $? "rm"
like "$(d images)" "^busybox +latest" "images"
# pull / rmi (the registry stands in for Docker Hub)
d tag busybox "$REG/library/busybox:1.0"
d push "$REG/library/busybox:1.0" >/dev/null 2>&1
d rmi "$REG/library/busybox:1.0" >/dev/null
d pull "$REG/library/busybox:1.0" >/dev/null 2>&1; ok $? "pull NAME:TAG"
d rmi "$REG/library/busybox:1.0" >/dev/null; ok $? "rmi"
# network create app-network; a service and a client on it, by name
d network create app-network >/dev/null; ok $? "network create app-network"
d run -d --name mysql --network app-network busybox httpd -f -p 3306 -h /etc >/dev/null
wport=$(free_port)
d run -d -p "$wport:80" --name wp --network=app-network -e WORDPRESS_DB_HOST=mysql busybox \
	sh -c 'mkdir -p /w; (while :; do printf "GET /hostname HTTP/1.0\r\n\r\n" | nc -w 2 $WORDPRESS_DB_HOST 3306 > /w/i.tmp; mv /w/i.tmp /w/index.html; sleep 1; done) & exec httpd -f -p 80 -h /w' >/dev/null
wait_until 30 sh -c "probe $wport | grep -q 200"
like "$(probe "$wport")" "200 OK" "the front end reaches 'mysql' by name"
d rm -f wp mysql >/dev/null
d network rm app-network >/dev/null; ok $? "network rm"
# 3강: commit a container's changes
d run --name git busybox sh -c 'echo "git version 2" > /usr/bin/git-version'
like "$(d diff git | grep git | head -n 10)" "A /usr/bin/git-version" "diff | grep git"
d commit git busybox:git >/dev/null; ok $? "commit CONTAINER busybox:git"
is "$(d run --rm busybox:git cat /usr/bin/git-version)" "git version 2" "run of the committed image"
# build -t busybox:git02 .
ctx "$T/app" <<'DF'
FROM busybox
ADD data.txt /tmp/data.txt
RUN echo installed > /installed
WORKDIR /tmp
ENV AWESOME_VAR=FOOBAR
EXPOSE 4567
CMD ["httpd", "-f", "-p", "4567", "-h", "/tmp"]
DF
echo data >"$T/app/data.txt"
(cd "$T/app" && d build -t busybox:git02 . >/dev/null 2>&1); ok $? "build -t busybox:git02 ."
# login, push, pull, run --rm -p 4567:4567
like "$(d login -u das101096 -p pw "$REG" 2>/dev/null)" "Login Succeeded" "login"
d tag busybox:git02 "$REG/das101096/wordpress:latest"
d push "$REG/das101096/wordpress:latest" >/dev/null 2>&1; ok $? "push USER/IMAGE:latest"
d rmi "$REG/das101096/wordpress:latest" >/dev/null
d pull "$REG/das101096/wordpress:latest" >/dev/null 2>&1; ok $? "pull USER/IMAGE:latest"
aport=$(free_port)
d run -d --rm -p "$aport:4567" --name app "$REG/das101096/wordpress:latest" >/dev/null
wait_until 20 sh -c "probe $aport/data.txt >/dev/null; printf 'GET /data.txt HTTP/1.0\r\n\r\n' | $NS_EXEC busybox nc -w 3 127.0.0.1 $aport | grep -q data"
like "$(printf 'GET /data.txt HTTP/1.0\r\n\r\n' | $NS_EXEC busybox nc -w 3 127.0.0.1 "$aport")" "^data" "run --rm -p 4567:4567 serves the image's file"
d stop app >/dev/null
done_testing
