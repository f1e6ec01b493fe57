#!/usr/bin/env bash
# run's file-system and identity flags: --tmpfs, --mount, --read-only,
# -v of a missing host path, --workdir, --user, --hostname, --add-host,
# --dns, --label, --init.
. "$(dirname "$0")/lib.sh"
J() { d inspect "$1" | python3 -c 'import json,sys; j=json.load(sys.stdin)[0]; print(eval(sys.argv[1]))' "$2"; }
is "$(d run --rm --tmpfs /scratch busybox sh -c 'touch /scratch/a && grep -c " /scratch tmpfs " /proc/mounts')" 1 "--tmpfs: a tmpfs"
opts() { d run --rm "$@" busybox grep " /t " /proc/mounts | cut -d' ' -f4; }
is "$(opts --tmpfs /t)" "rw,nosuid,nodev,noexec,relatime" "--tmpfs: noexec, nosuid, nodev"
is "$(opts --tmpfs /t:exec,size=1m)" "rw,nosuid,nodev,relatime,size=1024k" "--tmpfs DIR:exec,size=1m"
is "$(opts --mount type=tmpfs,target=/t,tmpfs-size=1m)" "rw,nosuid,nodev,noexec,relatime,size=1024k" "--mount type=tmpfs,tmpfs-size="
is "$(d run --rm --read-only busybox sh -c 'touch /x 2>/dev/null; echo $?')" 1 "--read-only: the root refuses writes"
is "$(d run --rm --read-only --tmpfs /tmp busybox sh -c 'touch /tmp/x && echo ok')" ok "--read-only with a writable --tmpfs"
mkdir -p "$T/src" && echo hi >"$T/src/f"
is "$(d run --rm --mount type=bind,source="$T/src",target=/b busybox cat /b/f)" hi "--mount type=bind"
is "$(d run --rm --mount type=bind,source="$T/src",target=/b,readonly busybox sh -c 'touch /b/g 2>/dev/null; echo $?')" 1 "--mount ...,readonly"
is "$(rc d run --rm --mount type=bind,source="$T/nosuch",target=/b busybox true)" 125 "--mount of a missing bind source: 125"
is "$(d run --rm --mount type=tmpfs,target=/t busybox sh -c 'grep -c " /t tmpfs " /proc/mounts')" 1 "--mount type=tmpfs"
d run --rm -v "$T/made/here:/m" busybox true
[ -d "$T/made/here" ]; ok $? "-v of a missing host path creates it as a directory"
is "$(d run --rm -w /work/dir busybox pwd)" /work/dir "--workdir (created)"
is "$(d run --rm -u 1234:5678 busybox id)" "uid=1234 gid=5678 groups=5678" "--user UID:GID"
is "$(d run --rm --hostname myhost busybox hostname)" myhost "--hostname"
like "$(d run --rm --add-host db.local:10.1.2.3 busybox cat /etc/hosts)" "^10\.1\.2\.3[[:space:]]+db\.local$" "--add-host"
like "$(d run --rm --dns 10.9.9.9 busybox cat /etc/resolv.conf)" "^nameserver 10\.9\.9\.9$" "--dns"
unlike "$(d run --rm --dns 10.9.9.9 busybox cat /etc/resolv.conf | grep nameserver | grep -v 10.9.9.9)" . "--dns replaces the nameservers"
d run --name lab --label team=a --label tier=web busybox true
is "$(J lab 'j["Config"]["Labels"]["team"] + "," + j["Config"]["Labels"]["tier"]')" "a,web" "--label: Config.Labels"
is "$(d ps -a --filter label=team=a --format '{{.Names}}')" lab "ps --filter label= sees it"
is "$(d run --rm --init busybox sh -c 'cat /proc/1/cmdline | tr "\0" " "' | cut -d' ' -f1)" /sbin/docker-init "--init: PID 1 is docker-init"
is "$(J lab 'j["HostConfig"]["ReadonlyRootfs"]')" False "ReadonlyRootfs false by default"
d run --name ro --read-only --init busybox true
is "$(J ro 'str(j["HostConfig"]["ReadonlyRootfs"]) + " " + str(j["HostConfig"]["Init"])')" "True True" "inspect: ReadonlyRootfs, Init"
done_testing
