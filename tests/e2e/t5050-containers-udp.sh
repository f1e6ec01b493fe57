#!/usr/bin/env bash
# -p HOST:CTR/udp: the monitor relays datagrams into the container's network
# namespace, one container-side socket per client so replies go back to the
# client that asked.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "runs as root (t5020 covers rootless)"
command -v gcc >/dev/null || skip_all "gcc missing"
import_busybox

# busybox has no UDP server: a static echo server, bound into the container
cat > "$T/udpecho.c" <<'CEOF'
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
int main(int argc, char **argv)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
	if (argc < 2 || bind(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		return 1;
	for (;;) {
		char buf[2048] = "echo:";
		struct sockaddr_in from;
		socklen_t len = sizeof from;
		ssize_t n = recvfrom(s, buf + 5, sizeof buf - 5, 0, (struct sockaddr *)&from, &len);
		if (n >= 0)
			sendto(s, buf, (size_t)n + 5, 0, (struct sockaddr *)&from, len);
	}
}
CEOF
gcc -static -O2 -o "$T/udpecho" "$T/udpecho.c" || skip_all "no static libc to build the echo server"

port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tport=$(free_port)
cb run -d --name u1 -p "127.0.0.1:$port:53/udp" -p "$tport:8080" -v "$T/udpecho:/udpecho:ro" \
	busybox sh -c '/udpecho 53 & httpd -f -p 8080 -h /etc' >/dev/null
ok $? "run -d -p PORT:53/udp"
like "$(cb ps --format '{{.Ports}}')" "127.0.0.1:$port->53/udp, 0.0.0.0:$tport->8080/tcp" "ps shows the udp mapping"
like "$(cb inspect u1)" '"53/udp"' "inspect names it 53/udp"
out=$(python3 - "$port" <<'PYEOF'
import socket, sys, time
port = int(sys.argv[1])
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.settimeout(5)
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.settimeout(5)
# the server may still be starting: ask until it answers
for _ in range(50):
    a.sendto(b"hello", ("127.0.0.1", port))
    try:
        a.settimeout(0.2); print(a.recvfrom(100)[0].decode()); break
    except socket.timeout:
        pass
a.settimeout(5)
b.sendto(b"from-b", ("127.0.0.1", port))
a.sendto(b"from-a", ("127.0.0.1", port))
print(b.recvfrom(100)[0].decode(), a.recvfrom(100)[0].decode())
big = b"x" * 1400
a.sendto(big, ("127.0.0.1", port))
print(len(a.recvfrom(2000)[0]))
PYEOF
)
is "$(printf '%s\n' "$out" | head -1)" "echo:hello" "a datagram goes in and its reply comes back"
is "$(printf '%s\n' "$out" | sed -n 2p)" "echo:from-b echo:from-a" "two clients: each gets its own reply"
is "$(printf '%s\n' "$out" | sed -n 3p)" 1405 "a 1400-byte datagram whole"
like "$(curl -s "http://127.0.0.1:$tport/hostname")" "^[0-9a-f]{12}$" "tcp mapping next to it still works"
cb run --rm -p "127.0.0.1:$port:53/sctp" busybox true 2>/dev/null; ok $(( $? == 0 )) "an unknown protocol fails"
cb rm -f u1 >/dev/null
python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",int(sys.argv[1])))' "$port"
ok $? "rm frees the host port"
done_testing
