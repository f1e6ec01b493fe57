#!/usr/bin/env bash
# Concurrency test (issue 23): prune and rmi looped against builds, pulls
# and commits. Every build, pull and commit must succeed and leave a whole
# image; fsck must be clean at the end. CONC_K rounds per worker (default 4).
. "$(dirname "$0")/lib.sh"
K=${CONC_K:-4}
start_registry || skip_all "no registry"
import_busybox
mkdir -p "$T/ctx/files"
for i in $(seq 1 30); do echo "file $i" > "$T/ctx/files/f$i"; done
cat > "$T/ctx/Dockerfile" <<'DF'
FROM busybox
ARG GEN=0
COPY files /files
RUN echo "gen $GEN" > /gen && head -c 1000000 /dev/urandom > /r1
RUN head -c 1000000 /dev/urandom > /r2 && md5sum /r1 /r2 > /sums
CMD ["sh"]
DF
cb build -q -t "$REG/base:1" --build-arg GEN=base "$T/ctx" > /dev/null && cb push -q "$REG/base:1" > /dev/null
ok $? "base image in the registry"
cb rmi "$REG/base:1" > /dev/null
cb run -d --name box busybox sh -c 'head -c 5000000 /dev/urandom > /big; touch /ready; sleep 100000' > /dev/null
id=$(cb inspect --type container box | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
for i in $(seq 1 600); do [ -e "$ROOT/containers/$id/upper/ready" ] && break; sleep 0.1; done
check_built() { # IMAGE GEN
	local out; out=$(cb run --rm "$1" sh -c 'cat /gen; md5sum -c /sums >/dev/null && echo sums-ok; ls /files | wc -l') || return 1
	[ "$out" = "$(printf 'gen %s\nsums-ok\n30' "$2")" ]
}
mkdir -p "$T/res"
builder() {
	local i
	for i in $(seq 1 "$K"); do
		cb build -q -t "built:$i" --build-arg "GEN=$i" "$T/ctx" > /dev/null 2> "$T/res/build-$i.err" &&
			check_built "built:$i" "$i" 2>> "$T/res/build-$i.err" && rm "$T/res/build-$i.err"
	done
}
puller() {
	local i
	for i in $(seq 1 "$K"); do
		cb pull -q "$REG/base:1" > /dev/null 2> "$T/res/pull-$i.err" &&
			check_built "$REG/base:1" base 2>> "$T/res/pull-$i.err" && rm "$T/res/pull-$i.err"
		cb rmi "$REG/base:1" > /dev/null 2>&1
	done
}
committer() {
	local i
	for i in $(seq 1 "$K"); do
		cb commit box "committed:$i" > /dev/null 2> "$T/res/commit-$i.err" &&
			[ "$(cb run --rm "committed:$i" sh -c 'wc -c < /big')" = 5000000 ] 2>> "$T/res/commit-$i.err" &&
			rm "$T/res/commit-$i.err"
	done
}
collector() { # until the others are done: prune, import and rmi a victim
	local j=0
	while [ ! -e "$T/res/stop" ]; do
		j=$((j + 1))
		cb prune > /dev/null 2>> "$T/res/collector.log"
		cb import "$ROOTFS_TAR" "victim:$j" > /dev/null 2>> "$T/res/collector.log"
		cb rmi "victim:$j" > /dev/null 2>> "$T/res/collector.log"
		echo "$j" > "$T/res/collector.rounds"
	done
}
collector & cpid=$!
builder & b=$!
puller & p=$!
committer & c=$!
wait $b $p $c
touch "$T/res/stop"; wait $cpid
diag "prune/import/rmi rounds meanwhile: $(cat "$T/res/collector.rounds" 2>/dev/null)"
errs=$(ls "$T/res" | grep '\.err$')
for e in $errs; do diag "$e: $(cat "$T/res/$e")"; done
is "$(echo "$errs" | grep -c .)" 0 "0 failed or corrupt builds, pulls and commits ($K each)"
out=$(cb fsck 2>&1); ok $? "fsck is clean"; diag "$out"
cb rm -f box > /dev/null
done_testing
