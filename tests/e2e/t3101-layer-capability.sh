#!/bin/bash
# t3101-layer-capability: a file capability set by a RUN step survives into
# the image and works there.
#
# A static helper (setxattr of security.capability: v2, effective,
# cap_net_raw permitted) is COPYed in and run by a RUN step on a copy of
# busybox (named grep, so busybox runs that applet). The built image is then read by tools nobody here wrote: umoci
# unpacks it and getcap reads the capability; runc runs the copy as an
# unprivileged user, and the kernel grants it the capability at exec.
# (cbuild's own sandbox sets no_new_privs, under which the kernel grants no
# file capabilities, as docker run --security-opt no-new-privileges does.)
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (RUN, runc)"
command -v umoci >/dev/null && command -v getcap >/dev/null || skip_all "needs umoci and getcap"

C=$T/ctx
mkdir -p "$C"
cat > "$T/setcap.c" <<'EOF'
#include <stdio.h>
#include <sys/xattr.h>
int main(int argc, char **argv)
{
	/* VFS_CAP_REVISION_2 | effective; permitted = cap_net_raw (13) */
	unsigned char v[20] = {1, 0, 0, 2, 0, 0x20, 0, 0};
	if (argc != 2 || setxattr(argv[1], "security.capability", v, sizeof(v), 0) != 0) {
		perror("setcap");
		return 1;
	}
	return 0;
}
EOF
cc -static -O1 -o "$C/setcap" "$T/setcap.c"
ok $? "static setcap helper builds"
cat > "$C/Dockerfile" <<'EOF'
FROM busybox
COPY setcap /setcap
RUN mkdir /cap && cp /bin/busybox /cap/grep && /setcap /cap/grep && rm /setcap
EOF
import_busybox busybox:latest
cb build -q -t cap:1 "$C" >/dev/null 2>"$T/build.err"
rc=$?
ok $rc "build with RUN setcap"
[ $rc = 0 ] || diag "$(cat "$T/build.err")"

unpack cap:1 "$T/bundle"
ok $? "umoci unpacks the image"
like "$(getcap "$T/bundle/rootfs/cap/grep")" "cap_net_raw[=+]ep" "getcap: the RUN step's capability is in the image"
is "$(getcap "$T/bundle/rootfs/bin/busybox")" "" "and only on the file it was set on"

if command -v runc >/dev/null; then
	python3 - "$T/bundle/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["user"] = {"uid": 65534, "gid": 65534}
c["process"]["noNewPrivileges"] = False
caps = c["process"]["capabilities"]
caps.pop("ambient", None)
# the bounding set limits what a file capability can grant: Docker's has
# CAP_NET_RAW, umoci's default does not
caps["bounding"] = sorted(set(caps.get("bounding", [])) | {"CAP_NET_RAW"})
c["process"]["args"] = ["/cap/grep", "^CapEff", "/proc/self/status"]
json.dump(c, open(p, "w"))
EOF
	eff=$(cd "$T/bundle" && runc --root "$T/runc" run "cap-$$" 2>"$T/runc.err")
	is "$eff" "$(printf 'CapEff:\t0000000000002000')" "runc: the copy runs as uid 65534 with cap_net_raw effective"
	[ -n "$eff" ] || diag "$(cat "$T/runc.err")"
	eff=$(python3 -c '
import json, sys
p = sys.argv[1]; c = json.load(open(p)); c["process"]["args"][0] = "/bin/grep"; json.dump(c, open(p, "w"))' \
		"$T/bundle/config.json" && cd "$T/bundle" && runc --root "$T/runc" run "cap2-$$" 2>/dev/null)
	is "$eff" "$(printf 'CapEff:\t0000000000000000')" "runc: the plain busybox gets none"
fi
done_testing
