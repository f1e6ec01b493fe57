#!/usr/bin/env bash
# Crash test (issue 23): kill -9 of build, pull, push, commit, import, rmi
# and prune at random points; after each kill, `cbuild fsck` must find
# nothing wrong and every image the test expects must be whole (a container
# of it sees the content it was made with). The kill targets the cbuild
# process itself (a backgrounded simple command: $! is cbuild's PID).
#
# CRASH_N kills (default 14, two of each command; `make crashtest N=1000`),
# CRASH_SEED the RNG seed (printed; give it back to replay a run's choices).
. "$(dirname "$0")/lib.sh"
N=${CRASH_N:-14}
SEED=${CRASH_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
echo "# crash test: N=$N seed=$SEED (CRASH_SEED=$SEED replays)"
start_registry || skip_all "no registry"
import_busybox

# ---- fixtures: a stable image, a base in the registry, a tar, a container
mkdir -p "$T/ctx/files"
for i in $(seq 1 50); do echo "file $i" > "$T/ctx/files/f$i"; done
cat > "$T/ctx/Dockerfile" <<'DF'
FROM busybox
ARG GEN=0
COPY files /files
RUN echo "gen $GEN" > /gen && head -c 1500000 /dev/urandom > /r1
RUN head -c 1500000 /dev/urandom > /r2 && md5sum /r1 /r2 > /sums
CMD ["sh"]
DF
cb build -q -t stable:1 --build-arg GEN=stable "$T/ctx" > /dev/null || { fail "build stable:1"; done_testing; }
cb tag stable:1 "$REG/base:1" && cb push -q "$REG/base:1" > /dev/null || { fail "push base"; done_testing; }
mkdir -p "$T/fs" && tar -C "$T/fs" -xf "$ROOTFS_TAR"
python3 - "$T/fs/many" <<'PY'
import os, sys
for i in range(40):
    d = os.path.join(sys.argv[1], "%02d" % i); os.makedirs(d)
    for j in range(100):
        open(os.path.join(d, "%02d" % j), "w").write("x")
PY
tar -C "$T/fs" -cf "$T/fs.tar" .
cb run -d --name box busybox sh -c 'head -c 20000000 /dev/urandom > /big; touch /ready; sleep 100000' > /dev/null
box=$(cb inspect --type container box | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')
for i in $(seq 1 600); do [ -e "$ROOT/containers/$box/upper/ready" ] && break; sleep 0.1; done
ctr_pid() { cb inspect --type container box | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])'; }

# ---- content checks of what a (killed or not) command may have left
check_built() { # IMAGE GEN
	local out; out=$(cb run --rm "$1" sh -c 'cat /gen; md5sum -c /sums >/dev/null && echo sums-ok; ls /files | wc -l') || return 1
	[ "$out" = "$(printf 'gen %s\nsums-ok\n50' "$2")" ]
}
check_import() { [ "$(cb run --rm "$1" sh -c 'find /many -type f | wc -l')" = 4000 ]; }
check_commit() { [ "$(cb run --rm "$1" sh -c 'wc -c < /big')" = 20000000 ]; }
check_all() { # every image that exists must be whole
	local t bad=0
	check_built stable:1 stable || { diag "stable:1 is broken"; bad=1; }
	for t in $(cb images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null); do
		case $t in
		*/built:*|built:*) check_built "$t" "${t##*:}" || { diag "$t is broken"; bad=1; } ;;
		*/imported:*|imported:*) check_import "$t" || { diag "$t is broken"; bad=1; } ;;
		*/committed:*|committed:*) check_commit "$t" || { diag "$t is broken"; bad=1; } ;;
		*/base:*) check_built "$t" stable || { diag "$t is broken"; bad=1; } ;;
		esac
	done
	return $bad
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# how long each command takes here, to kill inside it
declare -A dur
ops=(build pull push commit import rmi prune)
op_cmd() { # OP I: the command line
	case $1 in
	build) echo "build -q -t built:$2 --build-arg GEN=$2 $T/ctx" ;;
	pull) echo "pull -q $REG/base:1" ;;
	push) echo "push -q stable:1 $REG/pushed:$2" ;;
	commit) echo "commit box committed:$2" ;;
	import) echo "import $T/fs.tar imported:$2" ;;
	rmi) echo "rmi -f $(cb images --format '{{.Repository}}:{{.Tag}}' | grep -E '(built|imported|committed):' | head -1)" ;;
	prune) echo "prune" ;;
	esac
}
prepare() { # what an op needs before it runs
	case $1 in
	pull) cb rmi "$REG/base:1" > /dev/null 2>&1 ;;
	rmi) [ -n "$(cb images --format '{{.Repository}}:{{.Tag}}' | grep -E '(built|imported|committed):')" ] ||
		cb import "$T/fs.tar" imported:r$2 > /dev/null ;;
	esac
}
for op in "${ops[@]}"; do
	prepare "$op" t
	t0=$(now_ms); cb $(op_cmd "$op" t) > /dev/null 2>&1; t1=$(now_ms)
	dur[$op]=$(( t1 - t0 + 20 ))
done
diag "durations (ms): $(for op in "${ops[@]}"; do printf '%s=%s ' "$op" "${dur[$op]}"; done)"

failures=0
for i in $(seq 1 "$N"); do
	op=${ops[$(( (i - 1) % ${#ops[@]} ))]}
	[ "$N" -gt 14 ] && op=${ops[$(( RANDOM % ${#ops[@]} ))]}
	prepare "$op" "$i"
	delay=$(( (RANDOM * 32768 + RANDOM) % (${dur[$op]} + 1) ))
	cmdline=$(op_cmd "$op" "$i")
	"$CBUILD" --root "$ROOT" $cmdline > /dev/null 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	kill -9 "$pid" 2>/dev/null && killed=killed || killed=finished
	wait "$pid" 2>/dev/null
	why=""
	# a commit killed while it had the container stopped: the next
	# command resumes it
	cb ps > /dev/null 2>&1
	cp=$(ctr_pid)
	[ "$(awk '{print $3}' "/proc/$cp/stat" 2>/dev/null)" = T ] && sleep 0.2 &&
		[ "$(awk '{print $3}' "/proc/$cp/stat" 2>/dev/null)" = T ] && why="$why container left stopped;"
	fsck_out=$(cb fsck 2>&1) || why="$why fsck: $(echo "$fsck_out" | grep -v '^checked' | tr '\n' ' ');"
	check_all || why="$why content check failed;"
	if [ -n "$why" ]; then
		failures=$((failures + 1))
		fail "kill $i: $op $killed after ${delay} ms:$why"
	else
		pass "kill $i: $op $killed after ${delay} ms"
	fi
done
diag "crash test: $N kills, $failures failures, seed $SEED"
cb rm -f box > /dev/null 2>&1
done_testing
