#!/usr/bin/env bash
# ADD https?://...: downloaded (from a server the test starts on 127.0.0.1),
# verified with --checksum, copied with mode 600, never unpacked; the cache
# follows the content.
. "$(dirname "$0")/lib.sh"

import_busybox busybox:latest
mkdir -p "$T/www" "$T/ctx"
echo "remote v1" > "$T/www/file.txt"
tar -C "$T/www" -czf "$T/www/pkg.tar.gz" file.txt
port=$(free_port)
start_bg python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$port" 2>/dev/null >&2
wait_port "$port" 10; ok $? "test HTTP server is up"
sum=$(sha256sum "$T/www/file.txt" | cut -d' ' -f1)
cat > "$T/ctx/Dockerfile" <<DF
FROM busybox
ADD http://127.0.0.1:$port/file.txt /remote/
ADD --checksum=sha256:$sum http://127.0.0.1:$port/file.txt /checked.txt
ADD http://127.0.0.1:$port/pkg.tar.gz /pkgs/
DF
cb build -q -t url:1 "$T/ctx" >/dev/null; ok $? "build with ADD URLs"
unpack url:1 "$T/u"
is "$(cat "$T/u/rootfs/remote/file.txt")" "remote v1" "downloaded into the directory"
is "$(stat -c %a "$T/u/rootfs/remote/file.txt")" "600" "with mode 600, as Docker"
is "$(cat "$T/u/rootfs/checked.txt")" "remote v1" "--checksum verified"
[ -f "$T/u/rootfs/pkgs/pkg.tar.gz" ]; ok $? "a downloaded archive is not unpacked"

cb build -t url:1 "$T/ctx" >/dev/null 2>"$T/log"
is "$(grep -c 'Using cache' "$T/log")" 3 "same content: cache hits"
echo "remote v2" > "$T/www/file.txt"
err=$(cb build -q -t url:2 "$T/ctx" 2>&1); is $? 1 "changed content fails --checksum"
like "$err" "checksum mismatch" "the error says so"
sed -i '/--checksum/d' "$T/ctx/Dockerfile"
cb build -q -t url:2 "$T/ctx" >/dev/null; ok $? "without the checksum it builds"
unpack url:2 "$T/u"
is "$(cat "$T/u/rootfs/remote/file.txt")" "remote v2" "and the new content is in"
printf 'FROM busybox\nADD http://127.0.0.1:%s/missing.txt /x\n' "$port" > "$T/ctx/Dockerfile"
err=$(cb build -q "$T/ctx" 2>&1); is $? 1 "a 404 fails the build"
like "$err" "HTTP 404" "the error names the status"
done_testing
