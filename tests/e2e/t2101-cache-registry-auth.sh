#!/bin/bash
# The registry build cache behind TLS (self-signed CA in certs.d) and
# htpasswd auth: export and import with the credentials of `login`, lazy
# layers fetched with them too; without credentials the cache is a warning.
. "$(dirname "$0")/lib.sh"
command -v htpasswd >/dev/null || skip_all "htpasswd not installed"
start_registry tls auth >/dev/null 2>&1 || skip_all "cannot start docker-registry"
export HOME=$T/home XDG_RUNTIME_DIR=$T/run SOURCE_DATE_EPOCH=1700000000
unset REGISTRY_AUTH_FILE DOCKER_CONFIG
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
RA=$T/a; RB=$T/b
for r in "$RA" "$RB"; do
	"$CBUILD" --root "$r" import -c 'CMD ["sh"]' "$ROOTFS_TAR" busybox:latest >/dev/null
done
mkdir -p "$T/c1" "$T/c2"; cp -r "$BUILDS/course/." "$T/c1/"; cp -r "$BUILDS/course/." "$T/c2/"

"$CBUILD" --root "$RA" build -q --cache-to "$REG/cache/app" "$T/c1" >/dev/null 2>"$T/e0"
ok $((! $?)) "export without credentials fails"
like "$(cat "$T/e0")" "denied|authentication required" "and says why"
"$CBUILD" --root "$RB" build -q --cache-from "$REG/cache/app" "$T/c2" >/dev/null 2>"$T/e1"
ok $? "import without credentials: the build still succeeds"
like "$(cat "$T/e1")" "warning: " "with a warning"

"$CBUILD" login -u testuser -p testpass "$REG" >/dev/null 2>&1; ok $? "login"
ida=$("$CBUILD" --root "$RA" build -q --cache-to "$REG/cache/app" "$T/c1" 2>"$T/e2"); ok $? "export with credentials"
rm -rf "$RB"; "$CBUILD" --root "$RB" import -c 'CMD ["sh"]' "$ROOTFS_TAR" busybox:latest >/dev/null
idb=$("$CBUILD" --root "$RB" build -t app:1 --cache-from "$REG/cache/app" "$T/c2" 2>"$T/e3"); ok $? "import with credentials"
is "$idb" "$ida" "same image ID through a TLS + auth registry"
is "$(grep -c 'remote hit' "$T/e3")" 6 "every step is a remote hit"
out=$("$CBUILD" --root "$RB" run --rm app:1 cat /tmp/copy.txt 2>&1 | tail -1)
is "$out" "built" "run fetches the lazy layers with the stored credentials"
done_testing
