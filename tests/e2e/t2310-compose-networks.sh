#!/usr/bin/env bash
# Compose networks as docker compose has them: each service in a namespace
# of its own on PROJECT_default, reached by its service name, container
# name and aliases (aardvark-dns); two services both listen on port 80; the
# file's networks: put a service where others cannot reach it; ports: are
# published per container; down removes the project's networks and their
# bridges, and keeps an external one.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "bridge networks need root"
[ -x /usr/lib/podman/netavark ] || skip_all "no netavark"
import_busybox

OCTET_SEED=57
o1=$(octet); claim "$o1"; o2=$(octet); claim "$o2"; o3=$(octet); claim "$o3"
export CBUILD_RUN_DIR=$T/run
retry() { local i; for i in $(seq 300); do "$@" && return 0; sleep 0.1; done; return 1; }
get() { # get CONTAINER HOST: the page HOST:80 serves, seen from CONTAINER
	cb exec "$1" sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 3 $2 80 | tail -n 1"
}
page_is() { [ "$(get "$1" "$2" 2>/dev/null)" = "$3" ]; }

p=cn$$ ext=ext$$
PORT=$(free_port)
cb network create --subnet "10.89.$o3.0/24" "$ext" >/dev/null; ok $? "an external network $ext"
mkdir -p "$T/proj" && cd "$T/proj" || exit 1
serve() { # serve NAME: a busybox httpd on port 80 whose page is "I am NAME"
	printf '    command: ["sh", "-c", "mkdir /w && echo I am %s > /w/index.html && exec httpd -f -p 80 -h /w"]\n' "$1"
}
{
	echo "name: $p"
	echo "services:"
	echo "  a:"; echo "    image: busybox"; serve a
	echo "    ports: [\"127.0.0.1:$PORT:80\"]"
	echo "  b:"; echo "    image: busybox"; serve b
	echo "  c:"; echo "    image: busybox"; serve c
	echo "    networks: [back]"
	echo "  d:"; echo "    image: busybox"; serve d
	echo "    networks:"
	echo "      default:"
	echo "      back:"
	echo "        aliases: [dee]"
	echo "      outside:"
	echo "networks:"
	echo "  default:"
	echo "    ipam: {config: [{subnet: 10.89.$o1.0/24}]}"
	echo "  back:"
	echo "    ipam: {config: [{subnet: 10.89.$o2.0/24}]}"
	echo "  outside:"
	echo "    external: true"
	echo "    name: $ext"
} >compose.yaml
trap 'cb compose down >/dev/null 2>&1; _cleanup' EXIT

out=$(cb compose up -d 2>&1); ok $? "compose up -d" || diag "$out"
like "$out" "Network ${p}_default  Created" "up makes PROJECT_default"
like "$out" "Network ${p}_back  Created" "and the file's network, named PROJECT_back"
unlike "$out" "Network $ext  Created" "an external network is not made"
unlike "$out" "ignored" "no networks: key is ignored"

retry page_is "$p-a-1" b "I am b"; ok $? "a reaches b by its service name, both on port 80"
retry page_is "$p-b-1" a "I am a"; ok $? "b reaches a by its service name"
retry page_is "$p-b-1" "$p-a-1" "I am a"; ok $? "b reaches a by its container name"
addr() { cb exec "$1" sh -c 'ip -o -4 addr show eth0' 2>/dev/null | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p'; }
a_ip=$(addr "$p-a-1"); b_ip=$(addr "$p-b-1")
[ -n "$a_ip" ] && [ "$a_ip" != "$b_ip" ]; ok $? "a and b have addresses of their own ($a_ip, $b_ip)"
like "$a_ip" "^10\.89\.$o1\." "on the subnet the file gave default"
retry page_is "$p-c-1" dee "I am d"; ok $? "c (on back only) reaches d by its alias on back"
retry page_is "$p-c-1" d "I am d"; ok $? "and by its service name"
out=$(get "$p-c-1" a 2>&1); unlike "$out" "I am a" "c cannot reach a: different networks"
out=$(get "$p-a-1" dee 2>&1); unlike "$out" "I am d" "d's alias is on back only, not on default"
like "$(curl -s -m 5 "127.0.0.1:$PORT/")" "I am a" "ports: published a's 80 on the host"
is "$(cb exec "$p-d-1" sh -c 'ip -o -4 addr show | grep -vc "^1: lo"')" 3 "d has one interface per network"
nets=$(cb network ls)
like "$nets" "${p}_default" "network ls shows PROJECT_default"
br=cb-$(cb network inspect "${p}_default" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"][:10])')
ip link show "$br" >/dev/null 2>&1; ok $? "its bridge $br exists"

out=$(cb compose down 2>&1); ok $? "compose down"
like "$out" "Network ${p}_default  Removed" "down removes PROJECT_default"
like "$out" "Network ${p}_back  Removed" "and PROJECT_back"
unlike "$(cb network ls)" "${p}_" "no project network is left"
like "$(cb network ls)" "$ext" "the external network is kept"
ip link show "$br" >/dev/null 2>&1; is $? 1 "the bridge is gone"
is "$(cb ps -a -q | wc -l)" 0 "no container is left"
cb network rm "$ext" >/dev/null; ok $? "the external network has no members left"

# undefined networks are the file's error
printf 'services:\n  a:\n    image: busybox\n    networks: [nope]\n' >compose.yaml
err=$(cb compose up -d 2>&1); is $? 1 "a service on an undeclared network fails"
like "$err" "service 'a' refers to undefined network 'nope'" "with compose's message"
done_testing
