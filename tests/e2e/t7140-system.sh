#!/usr/bin/env bash
# system df (docker's four rows and columns, counts that follow what
# exists and what is in use) and system prune (asks; stopped containers,
# unused networks, dangling images, the build cache; -a every image no
# container uses; --volumes unused volumes; running ones are never touched).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "runs as root"
import_busybox
cb tag busybox spare:1
mkdir "$T/ctx"
printf 'FROM busybox\nRUN echo hi > /x\n' > "$T/ctx/Dockerfile"
cb build -q -t built:1 "$T/ctx" >/dev/null

cb run --name stopped -v vol1:/v --network none busybox sh -c 'head -c 100000 /dev/zero > /big; head -c 5000 /dev/zero > /v/f'
cb run -d --name running -v vol2:/v --network none busybox sleep 1000 >/dev/null
cb volume create unused >/dev/null

row() { cb system df | awk -v t="$1" 'index($0, t) == 1 {sub(t, ""); print}' | awk '{print $1, $2}'; }
out=$(cb system df)
like "$(printf '%s' "$out" | head -1)" "^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$" "system df: docker's columns"
is "$(printf '%s\n' "$out" | awk 'NR > 1' | cut -c1-15 | sed 's/ *$//' | tr '\n' ,)" "Images,Containers,Local Volumes,Build Cache," "and rows"
is "$(row Images)" "2 1" "images: 2 (busybox and spare:1 are one ID; built:1), 1 in use"
is "$(row Containers)" "2 1" "containers: 2, 1 running"
is "$(row 'Local Volumes')" "3 2" "volumes: 3, 2 named by containers"
like "$(cb system df | grep '^Containers')" "1[0-9][0-9](\.[0-9]+)?kB +1[0-9][0-9](\.[0-9]+)?kB \([0-9]+%\)$" "the stopped container's 100kB file is reclaimable"
is "$(cb system df --format '{{.Type}}={{.TotalCount}}' | head -1)" "Images=2" "--format"

echo n | cb system prune >/dev/null 2>&1
is "$(cb ps -aq | wc -l)" 2 "prune answered n removes nothing"
out=$(cb system prune -f)
like "$out" "Deleted Containers:" "prune -f: the stopped container"
unlike "$(cb ps -a --format '{{.Names}}' | tr '\n' ' ')" "stopped" "is gone"
like "$(cb ps --format '{{.Names}}')" "^running$" "the running one stays"
is "$(cb volume ls -q | tr '\n' ' ')" "unused vol1 vol2 " "volumes stay without --volumes"
like "$out" "Total reclaimed space: [0-9.]+[kM]?B" "and says what it reclaimed"
is "$(cb images --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')" "built:1 busybox:latest spare:1 " "tagged images stay without -a"

out=$(cb system prune -a --volumes -f)
like "$out" "Deleted Volumes:" "--volumes"
is "$(cb volume ls -q)" "vol2" "only the volume a container names stays"
like "$out" "untagged: built:1" "-a untags images no container uses"
is "$(cb images --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')" "busybox:latest spare:1 " "the running container's image stays (under both its names)"
is "$(row Images)" "1 1" "system df after: 1 image, in use"
is "$(row 'Build Cache')" "0 0" "no build cache"
cb system prune --nope >/dev/null 2>&1
is "$?" 125 "an unknown option: 125, as docker"
cb rm -f running >/dev/null
done_testing
