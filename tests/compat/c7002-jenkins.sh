#!/usr/bin/env bash
# The course's Jenkins pipeline, twice in a row (builds 1 and 2): Build
# (--force-rm=true), Tag with the build number, Push (login, :N, :latest),
# Deploy (stop and rm the old container, run -d -p the new one).
. "$(dirname "$0")/lib.sh"
reg_start || { echo "1..0 # SKIP no registry"; exit 0; }
export DOCKER_CONFIG=$T/cfg HOME=$T/home
mkdir -p "$DOCKER_CONFIG" "$HOME"
DOCKER_USER_ID=$REG/ciuser DOCKER_USER_PASSWORD=pw
port=$(free_port)
mkdir -p "$T/src"
cat >"$T/src/Dockerfile" <<'DF'
FROM busybox
COPY site /site
EXPOSE 4567
CMD ["httpd", "-f", "-p", "4567", "-h", "/site"]
DF
for BUILD_NUMBER in 1 2; do
	mkdir -p "$T/src/site"
	echo "build $BUILD_NUMBER" >"$T/src/site/index.html"
	# stage('Build')
	(cd "$T/src" && d build --force-rm=true -t ${DOCKER_USER_ID}/ruby-app:latest . >/dev/null 2>&1)
	ok $? "#$BUILD_NUMBER Build"
	# stage('Tag')
	d tag ${DOCKER_USER_ID}/ruby-app ${DOCKER_USER_ID}/ruby-app:${BUILD_NUMBER}; ok $? "#$BUILD_NUMBER Tag"
	# stage('Push')
	d login -u ciuser -p ${DOCKER_USER_PASSWORD} "$REG" >/dev/null 2>&1; ok $? "#$BUILD_NUMBER login"
	d push ${DOCKER_USER_ID}/ruby-app:${BUILD_NUMBER} >/dev/null 2>&1; ok $? "#$BUILD_NUMBER push :$BUILD_NUMBER"
	d push ${DOCKER_USER_ID}/ruby-app:latest >/dev/null 2>&1; ok $? "#$BUILD_NUMBER push :latest"
	# stage('Deploy')
	if d stop ruby-app >/dev/null 2>&1 && d rm ruby-app >/dev/null 2>&1; then
		[ "$BUILD_NUMBER" -gt 1 ]; ok $? "#$BUILD_NUMBER the old container is stopped and removed"
	else
		echo "No ruby-app container exists" >/dev/null
		[ "$BUILD_NUMBER" = 1 ]; ok $? "#$BUILD_NUMBER no old container the first time"
	fi
	d run -d -p "$port:4567" --name=ruby-app ${DOCKER_USER_ID}/ruby-app:${BUILD_NUMBER} >/dev/null
	ok $? "#$BUILD_NUMBER run -d -p --name=ruby-app"
	wait_until 20 sh -c "probe $port | grep -q 'build $BUILD_NUMBER'"
	like "$(probe "$port")" "build $BUILD_NUMBER" "#$BUILD_NUMBER serves build $BUILD_NUMBER"
done
is "$(d ps --format '{{.Names}} {{.Image}}')" "ruby-app ${DOCKER_USER_ID}/ruby-app:2" "one container, of build 2"
is "$(d images --format '{{.Tag}}' ${DOCKER_USER_ID}/ruby-app | sort | tr '\n' ' ')" "1 2 latest " "tags 1, 2 and latest"
done_testing
