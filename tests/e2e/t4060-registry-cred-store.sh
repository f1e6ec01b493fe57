#!/bin/bash
# login and logout through a credential helper (credsStore / credHelpers):
# the secret goes to docker-credential-NAME store, never into config.json;
# logout runs erase. The helper is a small shell script keeping one file
# per server.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
command -v htpasswd >/dev/null || skip_all "htpasswd not installed"
quiet_registry tls auth || skip_all "cannot start docker-registry"
export HOME=$T/home XDG_RUNTIME_DIR=$T/run
unset REGISTRY_AUTH_FILE DOCKER_CONFIG
mkdir -p "$HOME/.docker" "$XDG_RUNTIME_DIR" "$T/bin" "$T/vault"
CFG=$HOME/.docker/config.json
export PATH=$T/bin:$PATH VAULT=$T/vault

cat > "$T/bin/docker-credential-filevault" <<'H'
#!/bin/sh
# store: {"ServerURL","Username","Secret"} on stdin; get/erase: the URL.
input=$(cat)
echo "$1" >> "$VAULT/calls"
case $1 in
store)
	server=$(printf '%s' "$input" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ServerURL"])')
	printf '%s' "$input" > "$VAULT/$(printf '%s' "$server" | tr '/:' '__')" ;;
get|erase)
	f=$VAULT/$(printf '%s' "$input" | tr '/:' '__')
	[ -f "$f" ] || { echo "credentials not found in native keychain"; exit 1; }
	if [ "$1" = get ]; then cat "$f"; else rm -f "$f"; fi ;;
*) exit 1 ;;
esac
H
chmod +x "$T/bin/docker-credential-filevault"
VF=$T/vault/$(printf '%s' "$REG" | tr '/:' '__')

mkimage "$T/l" app --tar "$ROOTFS_TAR" --gzip >/dev/null
to_store "$T/l" app "$REG/app:1"

# credsStore
printf '{"credsStore":"filevault","other":{"kept":true}}' > "$CFG"
err=$(cb login -u testuser -p wrong "$REG" 2>&1); ok $((! $?)) "a wrong password fails"
[ ! -e "$VF" ]; ok $? "and the helper stores nothing"
echo testpass | cb login -u testuser --password-stdin "$REG" >/dev/null 2>"$T/err"; ok $? "login with credsStore"
is "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Secret"])' "$VF")" testpass \
	"the helper got the secret (store)"
grep -q testpass "$CFG"; ok $((! $?)) "config.json does not hold the password"
is "$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(json.dumps(j["auths"][sys.argv[2]]), j["credsStore"], j["other"]["kept"])' "$CFG" "$REG")" \
	"{} filevault True" "config.json keeps an empty auths entry and the other keys"
cb push -q "$REG/app:1" >/dev/null 2>&1; ok $? "push with credentials from the helper (get)"
out=$(cb logout "$REG" 2>&1); ok $? "logout"
[ ! -e "$VF" ]; ok $? "the helper erased the credentials"
grep -qx erase "$T/vault/calls"; ok $? "through docker-credential-filevault erase"
python3 -c 'import json,sys; sys.exit(sys.argv[2] in json.load(open(sys.argv[1])).get("auths", {}))' "$CFG" "$REG"
ok $? "the auths entry is gone"
"$CBUILD" --root "$T/r2" pull -q "$REG/app:1" >/dev/null 2>&1; ok $((! $?)) "pull fails after logout"
err=$(cb logout "$REG" 2>&1); ok $? "a second logout is not an error (as docker)"
like "$err" "Not logged in" "but says there was no login"

# credHelpers for this registry only
printf '{"credHelpers":{"%s":"filevault"}}' "$REG" > "$CFG"
echo testpass | cb login -u testuser --password-stdin "$REG" >/dev/null 2>&1; ok $? "login with credHelpers"
[ -f "$VF" ]; ok $? "stored through the helper"
"$CBUILD" --root "$T/r3" pull -q "$REG/app:1" >/dev/null 2>&1; ok $? "pull with the helper's credentials"
cb logout "$REG" >/dev/null 2>&1; ok $? "logout"
[ ! -e "$VF" ]; ok $? "erased"

# a helper that fails to store: login fails and says why
printf '{"credsStore":"missing"}' > "$CFG"
err=$(echo testpass | cb login -u testuser --password-stdin "$REG" 2>&1); ok $((! $?)) "a missing helper fails the login"
like "$err" "docker-credential-missing" "naming the helper"
done_testing
