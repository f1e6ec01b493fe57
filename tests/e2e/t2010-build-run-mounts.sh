#!/usr/bin/env bash
# RUN --mount=type=bind,from=IMAGE (an image reference, not a stage);
# bind mounts are inputs of the cache key (a changed context file under a
# bind mount re-runs the step); RUN --mount=type=ssh forwards an agent
# socket (--ssh ID=SOCKET or $SSH_AUTH_SOCK) and leaves nothing in the layer.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
mkdir -p "$T/tools"
printf 'FROM busybox\nRUN mkdir /tools && echo from-the-tools-image > /tools/hello\n' > "$T/tools/Dockerfile"
cb build -q -t tools:1 "$T/tools" >/dev/null; ok $? "an image to mount"

mkdir -p "$T/bi"
cat > "$T/bi/Dockerfile" <<'DF'
FROM busybox
RUN --mount=type=bind,from=tools:1,source=/tools,target=/mnt/t cat /mnt/t/hello > /got
DF
cb build -q -t bi:1 "$T/bi" >/dev/null; ok $? "RUN --mount=type=bind,from=IMAGE builds"
unpack bi:1 "$T/u" && is "$(cat "$T/u/rootfs/got")" "from-the-tools-image" "the image's files were mounted"
[ ! -e "$T/u/rootfs/mnt/t/hello" ]; ok $? "the mounted files are not in the layer"
out=$(cb build --progress plain -t bi:1 "$T/bi" 2>&1); like "$out" "Using cache" "unchanged image: a cache hit"
printf 'FROM busybox\nRUN mkdir /tools && echo changed > /tools/hello\n' > "$T/tools/Dockerfile"
cb build -q -t tools:1 "$T/tools" >/dev/null
out=$(cb build --progress plain -t bi:2 "$T/bi" 2>&1); unlike "$out" "Using cache" "the mounted image changed: the step re-runs"
unpack bi:2 "$T/u" && is "$(cat "$T/u/rootfs/got")" "changed" "... and sees the new content"
printf 'FROM busybox\nRUN --mount=type=bind,from=nosuch:9,target=/m true\n' > "$T/bi/Dockerfile"
err=$(cb build -q "$T/bi" 2>&1); is $? 1 "a missing mount image fails"
like "$err" "nosuch" "... naming it"

# a bind mount of the context is an input: a changed file re-runs the step
mkdir -p "$T/bc/src"
echo v1 > "$T/bc/src/version"
printf 'FROM busybox\nRUN --mount=type=bind,source=src,target=/src cat /src/version > /v\n' > "$T/bc/Dockerfile"
cb build -q -t bc:1 "$T/bc" >/dev/null; ok $? "bind mount of the context"
echo v2 > "$T/bc/src/version"
out=$(cb build --progress plain -t bc:2 "$T/bc" 2>&1); unlike "$out" "Using cache" "changed context file under the mount: re-run"
unpack bc:2 "$T/u" && is "$(cat "$T/u/rootfs/v")" "v2" "the new content is used"
out=$(cb build --progress plain -t bc:3 "$T/bc" 2>&1); like "$out" "Using cache" "unchanged: cache hit"

# ssh: a real agent's socket
eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
_bg_pids+=("$SSH_AGENT_PID")
mkdir -p "$T/ssh"
cat > "$T/ssh/Dockerfile" <<'DF'
FROM busybox
RUN --mount=type=ssh,required=true test -S "$SSH_AUTH_SOCK" && echo "$SSH_AUTH_SOCK" > /sock-path
RUN --mount=type=ssh,id=deploy,target=/root/agent test -S /root/agent && echo ok > /deploy-ok
DF
cb build -q -t ssh:1 --ssh default --ssh deploy="$SSH_AUTH_SOCK" "$T/ssh" >/dev/null; ok $? "--ssh default (from SSH_AUTH_SOCK) and --ssh id=SOCKET"
unpack ssh:1 "$T/u"
is "$(cat "$T/u/rootfs/sock-path")" "/run/buildkit/ssh_agent.0" "the agent is a socket at BuildKit's path, in SSH_AUTH_SOCK"
is "$(cat "$T/u/rootfs/deploy-ok")" "ok" "a socket at a custom target"
[ ! -e "$T/u/rootfs/run/buildkit" ] && [ ! -e "$T/u/rootfs/root/agent" ]; ok $? "no mount point left in the image"
err=$(SSH_AUTH_SOCK= cb build -q --no-cache -t ssh:2 "$T/ssh" 2>&1); is $? 1 "no --ssh: the (required) mount fails"
like "$err" "ssh agent 'default' not provided" "... saying so"
err=$(cb build -q --no-cache --ssh default="$T/ssh/Dockerfile" "$T/ssh" 2>&1); is $? 1 "--ssh of a non-socket fails"
like "$err" "not an agent socket" "... saying so"
no_leftovers; ok $? "no mount or temp dir left"
# no target= mounts at the working directory, as BuildKit does (issue 22,
# bug 6: `RUN --mount=ro make`, docker/cli's own Dockerfile, was refused)
mkdir -p "$T/nt"
echo in-the-context > "$T/nt/input"
printf 'FROM busybox\nWORKDIR /src\nRUN --mount=ro cat input > /got-ro\nRUN --mount=type=bind,source=. ls > /got-ls\n' > "$T/nt/Dockerfile"
cb build -q -t nt:1 "$T/nt" >/dev/null 2>"$T/nt.err"; ok $? "RUN --mount=ro without target builds"
[ -s "$T/nt.err" ] && diag "$(cat "$T/nt.err")"
unpack nt:1 "$T/u" && is "$(cat "$T/u/rootfs/got-ro")" "in-the-context" "the context was mounted at WORKDIR"
like "$(cat "$T/u/rootfs/got-ls" 2>/dev/null)" "Dockerfile" "type=bind without target: the context at WORKDIR"
[ ! -e "$T/u/rootfs/src/input" ]; ok $? "the mounted files are not in the layer"
printf 'FROM busybox\nRUN --mount=type=bind true\n' > "$T/nt/Dockerfile"
err=$(cb build -q "$T/nt" 2>&1); is $? 1 "no target with WORKDIR / is refused"
like "$err" 'invalid mount target "/"' "... as BuildKit says it"

done_testing
