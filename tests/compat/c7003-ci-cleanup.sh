#!/usr/bin/env bash
# A CI script's idioms: build with a build number, test with run --rm, clean up with ps -q/xargs, rmi of dangling images, prunes.
. "$(dirname "$0")/lib.sh"
BUILD_NUMBER=41
for n in 1 2; do
	ctx "$T/app" <<DF
FROM busybox
ARG REV=none
RUN echo "\$REV" > /rev && echo build-$n > /build
CMD ["cat", "/rev", "/build"]
DF
	BUILD_NUMBER=$((BUILD_NUMBER + 1))
	d build -q --build-arg REV=r$BUILD_NUMBER -t ci/app:$BUILD_NUMBER -t ci/app:latest "$T/app" >/dev/null
	ok $? "build $n: -t app:BUILD_NUMBER -t app:latest"
	is "$(d run --rm ci/app:latest | xargs)" "r$BUILD_NUMBER build-$n" "build $n: run --rm of latest is this build"
	d ps -aq -f name=ci-app | xargs -r $DOCKER rm -f >/dev/null
	d run -d --name ci-app ci/app:$BUILD_NUMBER sleep 300 >/dev/null
	is "$(d ps -f name=ci-app --format '{{.Image}}')" "ci/app:$BUILD_NUMBER" "build $n: ps -f name= shows the new image"
done
is "$(d images ci/app --format '{{.Tag}}' | sort | xargs)" "42 43 latest" "images REPO: every build's tag"
is "$(d images --filter reference='ci/app:4*' -q | sort -u | wc -l)" 2 "--filter reference= with a pattern"
d rmi ci/app:42 >/dev/null
d tag ci/app:43 ci/app:keep
d rmi ci/app:latest ci/app:43 >/dev/null
is "$(d images ci/app --format '{{.Tag}}' | xargs)" "keep" "rmi of several names"
d stop -t 1 ci-app >/dev/null
is "$(d ps -q | wc -l)" 0 "stop"
is "$(d ps -aq -f status=exited | wc -l)" 1 "ps -f status=exited"
d container prune -f >/dev/null
is "$(d ps -aq | wc -l)" 0 "container prune -f removes it"
ctx "$T/d" <<'DF'
FROM busybox
RUN echo dangling > /d
DF
d build -q -t ci/dangle "$T/d" >/dev/null
d build -q -t ci/dangle "$T/app" >/dev/null
is "$(d images -q -f dangling=true | wc -l)" 1 "a rebuilt name leaves a dangling image"
d images -q -f dangling=true | xargs -r $DOCKER rmi >/dev/null
is "$(d images -q -f dangling=true | wc -l)" 0 "rmi \$(images -q -f dangling=true)"
d run --name keepbb busybox true # busybox stays for the next scenario
d image prune -af >/dev/null
is "$(d images --format '{{.Repository}}' | grep -c '^ci/')" 0 "image prune -af: every image no container uses goes"
is "$(d images --format '{{.Repository}}:{{.Tag}}')" busybox:latest "the one a container uses stays"
d rm keepbb >/dev/null
done_testing
