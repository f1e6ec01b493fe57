#!/usr/bin/env bash
# A CI job: compose build -> images tagged with BUILD_NUMBER -> push to the
# registry -> deploy on a fresh store root that pulls from it.
. "$(dirname "$0")/lib.sh"

start_registry || skip_all "no docker-registry"
import_busybox
cb push busybox "oci:$T/probe" 2>&1 | grep -q "not implemented" &&
	skip_all "registry push is not implemented in this build"
cp -r "$TOP/testdata/compose/wordpress" "$T/wp"
cd "$T/wp"
export REGISTRY=$REG BUILD_NUMBER=42

out=$(cb compose build 2>&1); ok $? "compose build"
imgs=$(cb images)
like "$imgs" "$REG/wp-db +42 " "db tagged with the build number"
like "$imgs" "$REG/wp-web +42 " "web tagged with the build number"

out=$(cb compose push 2>&1); ok $? "compose push"
like "$out" "Pushed db: $REG/wp-db:42@sha256:" "db pushed"
like "$out" "Pushed web: $REG/wp-web:42@sha256:" "web pushed"
skopeo inspect --tls-verify=false "docker://$REG/wp-web:42" >/dev/null 2>&1
ok $? "the registry serves web:42 (skopeo)"

# the deploy host: a fresh store
FRESH=$T/fresh
out=$("$CBUILD" --root "$FRESH" compose pull 2>&1); ok $? "compose pull on a fresh store"
imgs=$("$CBUILD" --root "$FRESH" images)
like "$imgs" "$REG/wp-db +42 " "db pulled"
like "$imgs" "$REG/wp-web +42 " "web pulled"
is "$("$CBUILD" --root "$FRESH" inspect "$REG/wp-web:42" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')" \
	"$(cb inspect "$REG/wp-web:42" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])')" \
	"the pulled image is the one built"

out=$(BUILD_NUMBER=43 "$CBUILD" --root "$FRESH" compose pull 2>&1)
like "$out" "warning: pull service 'web' \('$REG/wp-web:43'\)" \
	"a build number never pushed: a warning (the service can be built instead)"
printf 'services:\n  x:\n    image: %s/none:1\n' "$REG" > "$T/nobuild.yaml"
"$CBUILD" --root "$FRESH" compose -f "$T/nobuild.yaml" pull >/dev/null 2>&1
is $? 1 "a missing image of a service without build: fails"
done_testing
