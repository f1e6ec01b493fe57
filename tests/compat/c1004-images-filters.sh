#!/usr/bin/env bash
# images: dangling images after a rebuild, --filter, -a, REPOSITORY:TAG.
. "$(dirname "$0")/lib.sh"
ctx "$T/c" <<'DF'
FROM busybox
RUN echo v1 > /v
DF
d build -q -t app:1 "$T/c" >/dev/null
old=$(d images -q app:1)
sed -i 's/v1/v2/' "$T/c/Dockerfile"
d build -q -t app:1 "$T/c" >/dev/null
new=$(d images -q app:1)
[ "$old" != "$new" ]; ok $? "a rebuild moves the tag"
is "$(d images -q --filter dangling=true)" "$old" "the old image is dangling"
like "$(d images -a)" "<none> +<none> +$old" "images -a shows it as <none>"
is "$(d images --filter reference='app:*' --format '{{.Repository}}:{{.Tag}}')" app:1 "--filter reference="
is "$(d images app:1 --format '{{.ID}}')" "$new" "images REPO:TAG"
d rmi "$old" >/dev/null; ok $? "rmi of a dangling image by ID"
is "$(d images -q --filter dangling=true)" "" "none left"
done_testing
