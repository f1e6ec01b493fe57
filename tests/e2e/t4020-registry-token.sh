#!/bin/bash
# Bearer token auth: docker-registry with token auth, our small token server
# as the realm. Scopes asked for, GET with Basic credentials, the OAuth2
# POST form when GET is refused, and refresh tokens kept by login.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/reglib.sh"
command -v skopeo >/dev/null || skip_all "skopeo not installed"
command -v docker-registry >/dev/null || skip_all "docker-registry not installed"
export HOME=$T/home
mkdir -p "$HOME"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=cbuild-token \
	-keyout "$T/tok.key" -out "$T/tok.crt" 2>/dev/null

start_token_setup() { # start_token_setup [--no-get]: token server + registry
	TPORT=$(free_port)
	TLOG=$T/token-$TPORT.log
	start_bg python3 "$TOOLS/tokenserver.py" --port "$TPORT" --key "$T/tok.key" --cert "$T/tok.crt" \
		--service cbuild-registry --issuer cbuild-token --log "$TLOG" --user testuser:testpass "$@"
	wait_port "$TPORT" 10 || return 1
	local port; port=$(free_port)
	mkdir -p "$T/reg-$port"
	cat > "$T/reg-$port/config.yml" <<C
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $T/reg-$port/data}}
http: {addr: 127.0.0.1:$port}
auth:
  token: {realm: "http://127.0.0.1:$TPORT/token", service: cbuild-registry, issuer: cbuild-token, rootcertbundle: $T/tok.crt}
C
	start_bg docker-registry serve "$T/reg-$port/config.yml" >/dev/null 2>&1
	REG=127.0.0.1:$port
	wait_port "$port" 10
}

start_token_setup || skip_all "cannot start the token server and registry"
mkimage "$T/l" app --tar "$ROOTFS_TAR" --gzip >/dev/null
to_store "$T/l" app "$REG/team/app:1"

err=$(cb push "$REG/team/app:1" 2>&1); ok $((! $?)) "push without credentials fails"
like "$err" "unauthorized|denied|authentication required" "with an auth message"

cb login -u testuser -p wrong "$REG" >/dev/null 2>&1; ok $((! $?)) "login with a wrong password fails"
echo testpass | cb login -u testuser --password-stdin "$REG" >/dev/null 2>&1; ok $? "login through the token server"

: > "$TLOG"
d=$(cb push -q "$REG/team/app:1" 2>"$T/err"); ok $? "push with a bearer token"
like "$(cat "$TLOG")" "GET user=testuser scope=repository:team/app:pull,push" "push asks for pull,push on the repository"
is "$(grep -c . "$TLOG")" 1 "one token for the whole push (cached)"

: > "$TLOG"
"$CBUILD" --root "$T/r2" pull -q "$REG/team/app:1" >/dev/null 2>&1; ok $? "pull with a bearer token"
like "$(cat "$TLOG")" "GET user=testuser scope=repository:team/app:pull$" "pull asks for pull only"
is "$(skopeo inspect --format '{{.Digest}}' "oci:$T/r2:$REG/team/app:1")" "$d" "same manifest"

# mount from a sibling repository: the token covers both
: > "$TLOG"
"$CBUILD" --root "$T/r2" push -q "$REG/team/app:1" "$REG/team/other:1" >/dev/null 2>&1; ok $? "push to a sibling repository"
like "$(cat "$TLOG")" "scope=repository:team/other:pull,push scope=repository:team/app:pull" \
	"the token asks for pull on the mount source"
skopeo inspect --creds testuser:testpass --tls-verify=false "docker://$REG/team/other:1" >/dev/null 2>&1
ok $? "skopeo reads the mounted image"

# a redirect to another host (blob storage): Authorization is not sent there
start_proxy "$REG" "redirect:GET /v2/team/app/blobs/"
echo testpass | cb login -u testuser --password-stdin "$PROXY" >/dev/null 2>&1
"$CBUILD" --root "$T/r5" pull -q "$PROXY/team/app:1" >/dev/null 2>"$T/err"; ok $? "pull follows blob redirects"
grep -q "^REDIRECTED" "$PROXY_LOG"; ok $? "the blobs were redirected"
unlike "$(grep '^REDIRECTED' "$PROXY_LOG")" "auth=yes" "the token is not sent to the other host"
blobs_ok "$T/r5"; ok $? "redirected blobs are good"

# a token server that refuses GET: the OAuth2 password grant by POST
start_token_setup --no-get || skip_all "second setup failed"
to_store "$T/l" app "$REG/app:2"
cb push -q --creds testuser:testpass "$REG/app:2" >/dev/null 2>&1; ok $? "push with a POST-only token server"
like "$(cat "$TLOG")" "GET refused" "GET was tried first"
like "$(cat "$TLOG")" "POST user=testuser scope=repository:app:pull,push" "then the OAuth2 POST form"

# a token server giving refresh tokens: login keeps the refresh token (as
# docker's identitytoken), not the password; later tokens use it
start_token_setup --refresh || skip_all "third setup failed"
CFG=$HOME/.docker/config.json
to_store "$T/l" app "$REG/app:3"
: > "$TLOG"
echo testpass | cb login -u testuser --password-stdin "$REG" >/dev/null 2>&1; ok $? "login to a token server giving refresh tokens"
grep -q "^REFRESH-ISSUED user=testuser" "$TLOG"; ok $? "login asked for offline access (password grant by POST)"
entry() { python3 -c 'import json,sys,base64; e=json.load(open(sys.argv[1]))["auths"][sys.argv[2]]; print(base64.b64decode(e["auth"]).decode(), "identitytoken" in e)' "$CFG" "$REG"; }
is "$(entry)" "testuser: True" "config.json holds the identity token and no password"
: > "$TLOG"
cb push -q "$REG/app:3" >/dev/null 2>"$T/err"; ok $? "push with the saved refresh token"
like "$(cat "$TLOG")" "POST-REFRESH user=testuser scope=repository:app:pull,push" "the token came from the refresh-token grant"
grep -q "^GET user\|^POST user" "$TLOG"; ok $((! $?)) "the password was not used"
: > "$TLOG"
"$CBUILD" --root "$T/r6" pull -q "$REG/app:3" >/dev/null 2>&1; ok $? "pull with it"
like "$(cat "$TLOG")" "POST-REFRESH user=testuser scope=repository:app:pull$" "asking for pull only"
# --creds without a saved token: the GET form, as before
: > "$TLOG"
"$CBUILD" --root "$T/r7" pull -q --creds testuser:testpass "$REG/app:3" >/dev/null 2>&1; ok $? "pull with --creds"
like "$(cat "$TLOG")" "^GET user=testuser" "--creds alone uses the GET form"
# a refused refresh token: a clear message
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); j["auths"][sys.argv[2]]["identitytoken"]="bogus"; json.dump(j, open(sys.argv[1], "w"))' "$CFG" "$REG"
err=$("$CBUILD" --root "$T/r8" pull -q "$REG/app:3" 2>&1); ok $((! $?)) "a refused refresh token fails"
like "$err" "log in again" "asking to log in again"
cb logout "$REG" >/dev/null 2>&1; ok $? "logout"
done_testing
