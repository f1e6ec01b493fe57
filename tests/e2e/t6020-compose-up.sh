#!/usr/bin/env bash
# compose up/ps/logs/down on the WordPress-shaped example: the web service
# reaches db through the service name in the pod, the page shows db's data,
# down removes every container and keeps named volumes unless -v.
. "$(dirname "$0")/lib.sh"

cb run --help >/dev/null 2>&1 || skip_all "containers are not in this build"
import_busybox
cp -r "$TOP/testdata/compose/wordpress" "$T/wp"
cd "$T/wp"
export WEB_PORT; WEB_PORT=$(free_port)
trap 'cb compose down -v >/dev/null 2>&1; _cleanup' EXIT

out=$(cb compose up -d 2>&1); ok $? "compose up -d builds and starts the project"
like "$out" "Container wp-db-1  Started" "db started"
like "$out" "Container wp-web-1  Started" "web started"
# web waits for db's healthcheck: it was started after db became healthy
db_line=$(printf '%s\n' "$out" | grep -n "wp-db-1  Started" | cut -d: -f1)
web_line=$(printf '%s\n' "$out" | grep -n "wp-web-1  Started" | cut -d: -f1)
[ "$db_line" -lt "$web_line" ]; ok $? "depends_on: db started before web"

wait_port "$WEB_PORT" 10
page=$(curl -s -m 10 "127.0.0.1:$WEB_PORT/")
like "$page" "My WordPress-shaped blog" "curl gets the web page through the published port"
like "$page" "db wordpress \(boot 1\):" "the page shows data that came from db (db:3306 by name)"
like "$page" "post 1: Hello world! \(from database 'wordpress'\)" "db's environment reached db"

ps=$(cb compose ps)
like "$ps" "wp-db-1 +localhost/wp-db:dev +db +Up .*\(healthy\)" "ps: db up and healthy"
like "$ps" "wp-web-1 .* web +Up .*0.0.0.0:$WEB_PORT->80/tcp" "ps: web up with its port"
is "$(cb compose ps --services | tr '\n' ' ')" "db web " "ps --services"

logs=$(cb compose logs db)
like "$logs" "^wp-db-1 +\| db: boot 1, serving wordpress on 3306" "logs: prefixed with the container name"
err=$(cb compose up -d 2>&1); is $? 1 "a second up is refused while the project is up"
like "$err" "project 'wp' is already up" "with a clear message"

out=$(cb compose down 2>&1); ok $? "compose down"
like "$out" "Container wp-web-1  Removed" "web removed"
like "$out" "Container wp-db-1  Removed" "db removed"
is "$(cb ps -a -q | wc -l)" 0 "no container is left"
is "$(ls "$ROOT/containers" | wc -l)" 0 "no container directory is left"
ok "$(ps -eo args | grep -c "[-]-root $ROOT ")" "no process of the project is left"
[ -d "$ROOT/volumes/wp_db_data" ]; ok $? "the named volume is kept"
curl -s -m 2 "127.0.0.1:$WEB_PORT/" >/dev/null; is $? 7 "the port is closed"

out=$(cb compose up -d 2>&1); ok $? "up again"
wait_port "$WEB_PORT" 10
like "$(curl -s -m 10 "127.0.0.1:$WEB_PORT/")" "\(boot 2\)" "the named volume kept db's data"
out=$(cb compose down -v 2>&1); ok $? "down -v"
like "$out" "Volume wp_db_data  Removed" "down -v removes the named volume"
[ ! -e "$ROOT/volumes/wp_db_data" ]; ok $? "the volume directory is gone"

# the port is checked before anything starts
start_bg python3 -c "import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', $WEB_PORT)); s.listen(); time.sleep(60)"
wait_port "$WEB_PORT" 5
err=$(cb compose up -d 2>&1); is $? 1 "a published port in use fails up"
like "$err" "service 'web': publish port $WEB_PORT: Address already in use" "the error names the port"
is "$(cb ps -a -q | wc -l)" 2 "containers were created but none started"
unlike "$(cb ps)" "wp-" "nothing runs"
done_testing
