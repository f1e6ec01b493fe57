#!/bin/bash
# t2212: a multi-stage C build on Debian bookworm: gcc in the build stage
# installed with RUN --mount=type=cache,target=/var/cache/apt, the source
# from a heredoc, the binary alone in the final stage. buildah (1.28 has no
# heredocs: the same file comes from the context there) builds the same
# tree. Needs the Debian mirror.
. "$(dirname "$0")/lib.sh"
import_debian
mkdir -p "$T/ctx"
cat > "$T/ctx/Dockerfile" <<'DF'
FROM debian:bookworm AS build
RUN rm -f /etc/apt/apt.conf.d/docker-clean && \
    echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache
RUN --mount=type=cache,target=/var/cache/apt \
    apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY <<EOF hello.c
#include <stdio.h>
int main(void) { puts("hello from C"); return 0; }
EOF
RUN gcc -O2 -o /hello hello.c
FROM debian:bookworm
COPY --from=build /hello /usr/local/bin/hello
CMD ["hello"]
DF
BH_PID=
if command -v buildah >/dev/null; then
	mkdir -p "$T/bctx"
	# the heredoc's file, from the context (buildah 1.28 has no heredocs)
	printf '#include <stdio.h>\nint main(void) { puts("hello from C"); return 0; }\n' > "$T/bctx/hello.c"
	sed -e '/^COPY <<EOF hello.c$/,/^EOF$/c\COPY hello.c hello.c' "$T/ctx/Dockerfile" > "$T/bctx/Dockerfile"
	bh_base debian:bookworm || diag "$(cat "$T/bh.err")"
	bh_build chello "$T/bctx" & BH_PID=$!; _bg_pids+=("$BH_PID")
fi
SOURCE_DATE_EPOCH=1704067200 cb build -q -t chello:1 "$T/ctx" >/dev/null 2>"$T/build.err"
ok $? "the C program builds" || diag "$(tail -20 "$T/build.err")"
is "$(cb run --rm chello:1 2>&1)" "hello from C" "and runs from the final stage"
SOURCE_DATE_EPOCH=1704067200 cb build -q --target build -t cbuild-stage:1 "$T/ctx" >/dev/null 2>&1
unpack cbuild-stage:1 "$T/u"
n=$(find "$T/u/rootfs/var/cache/apt" -name '*.deb' 2>/dev/null | wc -l)
is "$n" "0" "the apt cache mount's .debs are not in the build stage's image"
[ -x "$T/u/rootfs/usr/bin/gcc" ] || [ -e "$T/u/rootfs/usr/bin/gcc-12" ]; ok $? "but gcc is"

if [ -n "$BH_PID" ]; then
	wait "$BH_PID"; ok $? "buildah builds it too" || diag "$(tail -20 "$T/bh.err")"
	out=$(same_tree chello:1 "$T/bh.tar" --apt 2>&1)
	ok $? "cbuild's and buildah's images are the same tree and config" || diag "$out"
fi
done_testing
