#!/bin/bash
# build --platform linux/amd64,linux/arm64 (issue 28): one OCI index (a
# Docker manifest list with --format docker), a child per platform whose
# config names it, TARGETARCH per platform and BUILDPLATFORM the host's,
# `FROM --platform=$BUILDPLATFORM` running natively, the arm64 RUN under
# qemu-user-static (binfmt F flag); pushed to a registry, read back by
# skopeo (and buildah). Also: --platform validated, FROM scratch's config
# and cache key per platform, import --platform, the error for a foreign
# RUN without an emulator.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
[ "$(uname -m)" = x86_64 ] || skip_all "the test's rootfs pair assumes an x86_64 host"

ARM_TAR=$ROOTFS_CACHE/busybox-rootfs-arm64.tar
if [ ! -s "$ARM_TAR" ]; then
	"$TOP/testdata/mkrootfs-arch.sh" arm64 "$ARM_TAR.$$" >&2 && mv "$ARM_TAR.$$" "$ARM_TAR"
fi
[ -s "$ARM_TAR" ] || skip_all "no arm64 busybox rootfs (testdata/mkrootfs-arch.sh arm64)"

# qemu-aarch64 with the F flag: registered here when missing, removed at
# the end only if this test registered it (the machine's binfmt state is
# shared: never touch an entry someone else made).
BINFMT=/proc/sys/fs/binfmt_misc
BINFMT_MOUNTED=0 QEMU_ADDED=0
# Another suite's t2020 beside this one registers and removes the entry
# too: the check without an emulator and the part with one each hold a
# host-wide lock (the latter until the end), so neither sees the other's.
BINFMT_LOCK=/run/lock/cbuild-test-binfmt.lock
[ -d /run/lock ] || BINFMT_LOCK=/tmp/cbuild-test-binfmt.lock
exec 9>>"$BINFMT_LOCK"
binfmt_setup() {
	flock -x 9
	[ -e /usr/share/binfmts/qemu-aarch64 ] && command -v update-binfmts >/dev/null || return 1
	if [ ! -e $BINFMT/status ]; then
		mount -t binfmt_misc binfmt_misc $BINFMT 2>/dev/null || return 1
		BINFMT_MOUNTED=1
	fi
	if [ ! -e $BINFMT/qemu-aarch64 ]; then
		update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || return 1
		QEMU_ADDED=1
	fi
	grep -q '^flags: .*F' $BINFMT/qemu-aarch64
}
binfmt_teardown() {
	[ $QEMU_ADDED = 1 ] && update-binfmts --disable qemu-aarch64 >/dev/null 2>&1
	if [ $BINFMT_MOUNTED = 1 ] && [ -z "$(ls $BINFMT | grep -vx -e register -e status)" ]; then
		umount $BINFMT 2>/dev/null
	fi
}
trap 'binfmt_teardown; _cleanup' EXIT

# os/arch[/variant] of an image's config: plat_of [--platform P] IMAGE
plat_of() {
	cb inspect "$@" | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(d["Os"]+"/"+d["Architecture"]+("/"+d["Variant"] if d.get("Variant") else ""))'
}

C=$T/ctx
mkdir -p "$C"
cp "$ROOTFS_TAR" "$C/rootfs-amd64.tar"
cp "$ARM_TAR" "$C/rootfs-arm64.tar"

# ---- a foreign RUN without an emulator says what to install ----
# (before this test registers one; skipped when the machine has one)
flock -x 9
if [ -e $BINFMT/qemu-aarch64 ]; then
	pass "# SKIP qemu-aarch64 is registered here: no failing RUN to check"
	pass "# SKIP"
else
	printf 'FROM scratch\nADD rootfs-arm64.tar /\nRUN true\n' >"$C/Dockerfile.arm"
	cb build -q --platform linux/arm64 -f "$C/Dockerfile.arm" "$C" >/dev/null 2>"$T/err"
	[ $? = 1 ]; ok $? "a RUN for arm64 without an emulator fails"
	like "$(cat "$T/err")" "needs an emulator: apt-get install qemu-user-static binfmt-support.*update-binfmts --enable qemu-aarch64" \
		"the error says what to install and how to register it"
fi
flock -u 9

# ---- validation ----
cat >"$C/Dockerfile" <<'EOF'
FROM scratch
ARG TARGETARCH
ADD rootfs-${TARGETARCH}.tar /
EOF
cb build -q --platform foo "$C" >/dev/null 2>"$T/err"
is "$?" 2 "--platform foo is a usage error"
like "$(cat "$T/err")" "invalid platform 'foo'" "the error names the bad platform"
cb build -q --platform linux/amd64,linux/amd46 "$C" >/dev/null 2>"$T/err"
is "$?" 2 "a list with a bad entry is refused"
like "$(cat "$T/err")" "unknown architecture 'amd46'" "... naming the bad architecture"
like "$(cb build --help 2>&1)" "--platform" "--platform is in build --help"

# ---- FROM scratch: the target platform in the config, per-platform cache ----
id_arm=$(cb build -q --platform linux/aarch64 -t s:arm64 "$C") || fail "scratch build for arm64"
is "$(plat_of s:arm64)" linux/arm64 "FROM scratch for arm64 says arm64 (aarch64 normalized)"
id_amd=$(cb build -q --platform linux/amd64 -t s:amd64 "$C")
is "$(plat_of s:amd64)" linux/amd64 "... and for amd64 amd64"
[ "$id_arm" != "$id_amd" ]; ok $? "the two are different images (the scratch cache key has the platform)"
is "$(cb build -q --platform linux/arm64 "$C")" "$id_arm" "a rebuild for arm64 hits arm64's cache"
printf 'FROM scratch\nADD rootfs-amd64.tar /\n' >"$C/Dockerfile.fixed"
cb build -q --platform linux/armhf -t s:armv7 -f "$C/Dockerfile.fixed" "$C" >/dev/null
is "$(plat_of s:armv7)" linux/arm/v7 "armhf: architecture arm, variant v7 in the config"
cb import --platform linux/arm64 "$ARM_TAR" imp:arm64 >/dev/null
is "$(plat_of imp:arm64)" linux/arm64 "import --platform writes the platform"
cb import --platform bogus "$ARM_TAR" imp:x >/dev/null 2>&1
is "$?" 2 "import --platform bogus is a usage error"

binfmt_setup; EMU=$?

# ---- two platforms, one index ----
cat >"$C/Dockerfile" <<'EOF'
FROM --platform=$BUILDPLATFORM scratch AS tools
ADD rootfs-amd64.tar /
ARG TARGETARCH BUILDPLATFORM
RUN uname -m > /build-uname && echo "$BUILDPLATFORM" > /build-platform

FROM scratch
ARG TARGETARCH TARGETPLATFORM TARGETOS TARGETVARIANT
ADD rootfs-${TARGETARCH}.tar /
COPY --from=tools /build-uname /build-platform /
RUN uname -m > /uname && echo "$TARGETPLATFORM $TARGETOS $TARGETARCH [$TARGETVARIANT]" > /target
EOF
if [ $EMU != 0 ]; then
	skip_all "cannot register qemu-aarch64 with the F flag here (apt-get install qemu-user-static binfmt-support)"
fi
out=$(cb build -q --platform linux/amd64,linux/arm64 --iidfile "$T/iid" -t multi:1 "$C" 2>"$T/err")
ok $? "build --platform linux/amd64,linux/arm64" || diag "$(cat "$T/err")"
raw=$(cb inspect --raw multi:1)
idx=$(printf '%s' "$raw" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["mediaType"], " ".join(m["platform"]["os"]+"/"+m["platform"]["architecture"] for m in d["manifests"]))')
is "$idx" "application/vnd.oci.image.index.v1+json linux/amd64 linux/arm64" "the tag names one OCI index of two platforms"
dig=sha256:$(printf '%s' "$raw" | sha256sum | cut -d' ' -f1)
is "$(cat "$T/iid")" "$dig" "--iidfile holds the index digest"
is "$out" "$dig" "build prints it"
for p in amd64:x86_64 arm64:aarch64; do
	a=${p%%:*} m=${p#*:}
	is "$(plat_of --platform linux/$a multi:1)" "linux/$a" "the $a child's config says $a"
	is "$(cb run --rm --platform linux/$a multi:1 cat /uname 2>/dev/null)" "$m" "the $a RUN ran as $m"
	is "$(cb run --rm --platform linux/$a multi:1 cat /target 2>/dev/null)" "linux/$a linux $a []" \
		"TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT for $a"
	is "$(cb run --rm --platform linux/$a multi:1 cat /build-uname /build-platform 2>/dev/null | tr '\n' ' ')" \
		"x86_64 linux/amd64 " "the \$BUILDPLATFORM stage ran natively for $a"
done
like "$(cb run --rm --platform linux/arm64 multi:1 true 2>&1)" \
	"WARNING: The requested image's platform \(linux/arm64\) does not match the detected host platform \(linux/amd64\)" \
	"running the arm64 child warns as docker does"
out2=$(cb build -q --platform linux/amd64,linux/arm64 "$C" 2>/dev/null)
is "$out2" "$dig" "a rebuild hits every platform's cache: the same index"

# --no-cache: the step cache does not key on --format yet (a cached OCI
# step image comes back for a docker build, with or without --platform)
cb build -q --no-cache --platform linux/amd64,linux/arm64 --format docker -t multi:docker "$C" >/dev/null 2>&1
is "$(cb inspect --raw multi:docker | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["mediaType"], {m["mediaType"] for m in d["manifests"]} == {"application/vnd.docker.distribution.manifest.v2+json"})')" \
	"application/vnd.docker.distribution.manifest.list.v2+json True" "--format docker: a Docker manifest list of Docker manifests"

# ---- push and read back ----
command -v skopeo >/dev/null || { done_testing; }
quiet_registry || { diag "cannot start docker-registry"; done_testing; }
cb push -q multi:1 "$REG/multi:1" >/dev/null 2>"$T/err"; ok $? "push the index" || diag "$(cat "$T/err")"
rraw=$(skopeo inspect --raw --tls-verify=false "docker://$REG/multi:1")
is "$rraw" "$raw" "skopeo inspect --raw shows the same index"
arm=$(printf '%s' "$raw" | python3 -c 'import json,sys; print([m["digest"] for m in json.load(sys.stdin)["manifests"] if m["platform"]["architecture"]=="arm64"][0])')
skopeo copy -q --src-tls-verify=false --override-arch arm64 "docker://$REG/multi:1" "oci:$T/arm:x" >/dev/null 2>&1
is "$(skopeo inspect --format '{{.Digest}} {{.Architecture}}' "oci:$T/arm:x")" "$arm arm64" \
	"skopeo copy --override-arch arm64 gets the arm64 child"
# --cache-to/--cache-from: every platform's steps in one artifact, so a
# fresh store rebuilds the very same index from it (mode max: the
# $BUILDPLATFORM stage too)
cdig=$(cb build -q --platform linux/amd64,linux/arm64 --cache-to "$REG/cache:multi" --cache-to-mode max "$C" 2>"$T/err")
ok $? "--cache-to of a two-platform build" || diag "$(cat "$T/err")"
is "$("$CBUILD" --root "$T/fresh" build -q --platform linux/amd64,linux/arm64 --cache-from "$REG/cache:multi" "$C" 2>"$T/err")" \
	"$cdig" "--cache-from in a fresh store: the same index (both platforms hit)"
if command -v buildah >/dev/null; then
	BR=$T/buildah
	buildah --root "$BR/root" --runroot "$BR/run" --storage-driver vfs pull -q --tls-verify=false \
		--platform linux/arm64 "docker://$REG/multi:1" >/dev/null 2>"$T/berr"
	ok $? "buildah pull --platform linux/arm64" || diag "$(cat "$T/berr")"
	is "$(buildah --root "$BR/root" --runroot "$BR/run" --storage-driver vfs inspect --type image \
		--format '{{.OCIv1.Architecture}}' "$REG/multi:1" 2>/dev/null)" arm64 "buildah gets the arm64 image"
	buildah --root "$BR/root" --runroot "$BR/run" --storage-driver vfs rmi -a -f >/dev/null 2>&1
fi
done_testing
