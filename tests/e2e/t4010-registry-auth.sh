#!/bin/bash
# TLS (self-signed CA in a certs.d folder) + htpasswd auth: login, logout,
# credentials files and helpers, push and pull with credentials.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
command -v htpasswd >/dev/null || skip_all "htpasswd not installed"
quiet_registry tls auth || skip_all "cannot start docker-registry"
export HOME=$T/home XDG_RUNTIME_DIR=$T/run
unset REGISTRY_AUTH_FILE DOCKER_CONFIG
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
CFG=$HOME/.docker/config.json

mkimage "$T/l" app --tar "$ROOTFS_TAR" --gzip >/dev/null
to_store "$T/l" app "$REG/app:1"

err=$(cb push "$REG/app:1" 2>&1); ok $((! $?)) "push without credentials fails"
like "$err" "push denied|authentication required" "with a clear message"

err=$(cb login -u testuser -p wrong "$REG" 2>&1); ok $((! $?)) "login with a wrong password fails"
like "$err" "incorrect username or password" "and says why"
[ ! -e "$CFG" ]; ok $? "nothing is saved"

out=$(cb login -u testuser -p testpass "$REG" 2>"$T/err"); ok $? "login"
is "$out" "Login Succeeded" "prints Login Succeeded"
like "$(cat "$T/err")" "WARNING! Using --password via the CLI is insecure" "a password on the command line is warned about"
is "$(stat -c %a "$CFG")" 600 "config.json is written 0600"
is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["auths"][sys.argv[2]]["auth"])' "$CFG" "$REG")" \
	"$(printf testuser:testpass | base64)" "auths entry holds base64 user:pass"

d=$(cb push -q "$REG/app:1" 2>"$T/err"); ok $? "push with saved credentials"
"$CBUILD" --root "$T/r2" pull -q "$REG/app:1" >/dev/null 2>&1; ok $? "pull with saved credentials"
is "$(skopeo inspect --format '{{.Digest}}' "oci:$T/r2:$REG/app:1")" "$d" "the same manifest came back"
blobs_ok "$T/r2"; ok $? "pulled blobs match their digests"

out=$(cb logout "$REG" 2>&1); ok $? "logout"
like "$out" "Removing login credentials for $REG" "says what it removed"
python3 -c 'import json,sys; sys.exit(sys.argv[2] in json.load(open(sys.argv[1])).get("auths", {}))' "$CFG" "$REG"
ok $? "the entry is gone"
"$CBUILD" --root "$T/r3" pull -q "$REG/app:1" >/dev/null 2>&1; ok $((! $?)) "pull fails again after logout"

echo testpass | cb login -u testuser --password-stdin "$REG" >/dev/null 2>"$T/err"; ok $? "login --password-stdin"
unlike "$(cat "$T/err")" "WARNING" "no warning with --password-stdin"
"$CBUILD" --root "$T/r3" pull -q "$REG/app:1" >/dev/null 2>&1; ok $? "and pull works"
cb logout "$REG" >/dev/null 2>&1

# other credential files: --authfile, $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json
echo testpass | cb login --authfile "$T/auth.json" -u testuser --password-stdin "$REG" >/dev/null 2>&1
ok $? "login --authfile"
REGISTRY_AUTH_FILE=$T/auth.json "$CBUILD" --root "$T/r4" pull -q "$REG/app:1" >/dev/null 2>&1
ok $? "credentials read from \$REGISTRY_AUTH_FILE"
mkdir -p "$XDG_RUNTIME_DIR/containers" && cp "$T/auth.json" "$XDG_RUNTIME_DIR/containers/auth.json"
"$CBUILD" --root "$T/r5" pull -q "$REG/app:1" >/dev/null 2>&1
ok $? "credentials read from \$XDG_RUNTIME_DIR/containers/auth.json"
rm -f "$XDG_RUNTIME_DIR/containers/auth.json"

# a credential helper
mkdir -p "$T/bin"
cat > "$T/bin/docker-credential-cbtest" <<'H'
#!/bin/sh
read server
echo "$server" > "$(dirname "$0")/asked"
echo '{"ServerURL":"'"$server"'","Username":"testuser","Secret":"testpass"}'
H
chmod +x "$T/bin/docker-credential-cbtest"
printf '{"credHelpers":{"%s":"cbtest"}}' "$REG" > "$CFG"
PATH=$T/bin:$PATH "$CBUILD" --root "$T/r6" pull -q "$REG/app:1" >/dev/null 2>&1
ok $? "credentials from a credHelpers helper"
is "$(cat "$T/bin/asked" 2>/dev/null)" "$REG" "the helper was asked for this registry"
printf '{"credsStore":"cbtest"}' > "$CFG"
rm -f "$T/bin/asked"
PATH=$T/bin:$PATH "$CBUILD" --root "$T/r7" pull -q "$REG/app:1" >/dev/null 2>&1
ok $? "credentials from a credsStore helper"
rm -f "$CFG"

# TLS: without the CA the certificate is refused; --tls-verify=false accepts it
err=$(CBUILD_CERTS_DIR=$T/none "$CBUILD" --root "$T/r8" pull --creds testuser:testpass "$REG/app:1" 2>&1)
ok $((! $?)) "an unknown CA is refused"
like "$err" "certificate|SSL" "with a TLS message"
CBUILD_CERTS_DIR=$T/none "$CBUILD" --root "$T/r8" pull -q --tls-verify=false --creds testuser:testpass \
	"$REG/app:1" >/dev/null 2>&1
ok $? "--tls-verify=false accepts it"
"$CBUILD" --root "$T/r9" pull -q --cert-dir "$T/certs.d" --creds testuser:testpass "$REG/app:1" >/dev/null 2>&1
ok $? "--cert-dir names the certs.d folder"
# a CI-style script: build -> tag app:$BUILD_NUMBER -> login -> push -> pull on a fresh root
BUILD_NUMBER=42
mkdir -p "$T/ctx" && printf 'FROM busybox\nRUN echo built > /built\nCMD ["cat", "/built"]\n' > "$T/ctx/Dockerfile"
cb import "$ROOTFS_TAR" busybox >/dev/null 2>&1
(
	set -e
	cb build -t app "$T/ctx" >/dev/null
	cb tag app "$REG/ci/app:$BUILD_NUMBER"
	echo testpass | cb login -u testuser --password-stdin "$REG" >/dev/null
	cb push -q "$REG/ci/app:$BUILD_NUMBER" > "$T/ci.digest"
	"$CBUILD" --root "$T/fresh" pull -q "$REG/ci/app:$BUILD_NUMBER" > "$T/ci.id"
) 2>"$T/ci.err"; rc=$?; [ $rc = 0 ] || diag "$(cat "$T/ci.err")"; (exit $rc)
ok $? "CI flow: build, tag, login, push, pull on a fresh root"
is "$(cat "$T/ci.id" 2>/dev/null)" "$(cb inspect app 2>/dev/null | sed -n 's/.*"Id": "\(sha256:[0-9a-f]*\)".*/\1/p' | head -1)" \
	"the fresh root has the built image"
if command -v umoci >/dev/null; then
	umoci unpack --rootless --image "$T/fresh:$REG/ci/app:$BUILD_NUMBER" "$T/bundle" >/dev/null 2>&1
	is "$(cat "$T/bundle/rootfs/built" 2>/dev/null)" "built" "umoci unpacks the pulled image with the RUN result"
fi
if "$CBUILD" --help 2>&1 | grep -q '^  run '; then
	is "$("$CBUILD" --root "$T/fresh" run --rm "$REG/ci/app:$BUILD_NUMBER" 2>/dev/null)" "built" "and it runs"
fi
cb logout "$REG" >/dev/null 2>&1
done_testing
