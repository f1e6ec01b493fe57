#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of a registry, for cbuild's e2e tests.

    faultproxy.py --port P --upstream 127.0.0.1:5000 --log FILE [--fault SPEC]...
                  [--chunk-min N]

Every request is forwarded to the upstream registry (Host header kept, so
the registry's absolute Location URLs point back at the proxy) and logged to
FILE as one line: "METHOD PATH STATUS REQUEST-BODY-BYTES RESPONSE-BODY-BYTES".
A request body sent with Transfer-Encoding: chunked is read whole and
forwarded with a Content-Length; its line ends with " chunked".

With --chunk-min N, every answer to a POST .../blobs/uploads/ carries
"OCI-Chunk-Min-Length: N" (distribution spec 1.1), and a PATCH whose chunk
is shorter than N is logged with status "SMALLCHUNK" before being forwarded
(the last chunk of an upload may be short: the test decides).

A fault SPEC is KIND:REGEX[@COUNT]; it applies to requests whose
"METHOD PATH" matches REGEX (re.search), at most COUNT times (default:
always). Kinds:
  drop      send the headers and half the body, then close the connection
  500       answer 500 without forwarding
  429       answer 429 with Retry-After: 1 without forwarding
  413       answer 413 (request too large) to a request with a body
  corrupt   flip one byte of the response body (same length)
  grow      append a byte to the response body (Content-Length follows)
  shortlen  announce a Content-Length larger than the body, send the body, close
  indexsize add 7 to every "size" of an index's manifests (a lying descriptor),
            and drop Docker-Content-Digest (some registries send none)
  norange   ignore Range headers (always answer 200 with the whole body)
  hang      a request with a body: read it, then never answer; any other: send
            the headers and half the body, then send nothing more. Logged as
            "hang" when the stall begins; the connection is held until the
            client closes it (a hung registry, for cancellation tests)
  cut       a request with a body: read part of it, then close the connection
            (a registry hanging up in the middle of an upload); logged as "cut"
  405       answer 405 (method not allowed) after reading the body
  sizeinv   answer 400 SIZE_INVALID after reading the body (a registry that
            demands a Content-Length)
  corruptreq flip one byte of the request body before forwarding it (same length)
  redirect  answer 307 to http://localhost:PORT/__redirected__PATH (another host
            name, like blob storage); that request is logged as
            "REDIRECTED auth=yes|no" and served with the Authorization of the
            last request that had one (a presigned URL, in effect)
"""
import argparse
import http.client
import json
import re
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-connection", "content-length"}


class Fault:
    def __init__(self, spec):
        self.kind, _, rest = spec.partition(":")
        rx, at, count = rest.rpartition("@")
        if not at:
            rx, count = rest, ""
        self.rx = re.compile(rx or ".")
        self.left = int(count) if count else -1

    def take(self, line):
        with LOCK:
            if self.left == 0 or not self.rx.search(line):
                return False
            if self.left > 0:
                self.left -= 1
            return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def log(self, status, inlen, outlen):
        with LOCK:
            with open(self.server.logfile, "a") as f:
                f.write("%s %s %s %d %d%s\n" % (self.command, self.path, status, inlen, outlen,
                                                 " chunked" if getattr(self, "chunked", False) else ""))

    def faults(self):
        line = "%s %s" % (self.command, self.path)
        return {f.kind for f in self.server.faults if f.take(line)}

    def simple(self, status, extra=None, inlen=0, code="INJECTED"):
        body = json.dumps({"errors": [{"code": code, "message": "injected %d" % status}]}).encode()
        self.send_response(status)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.log(status, inlen, len(body))

    def stall(self, inlen, outlen):
        self.log("hang", inlen, outlen)
        self.close_connection = True
        try:
            while self.rfile.read(1):  # until the client goes away
                pass
        except OSError:
            pass

    def read_chunked(self, limit=None):
        parts, got = [], 0
        while limit is None or got < limit:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if not size:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            parts.append(self.rfile.read(size))
            got += size
            self.rfile.readline()
        return b"".join(parts)

    def handle_any(self):
        self.chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        kinds0 = {f.kind for f in self.server.faults if f.rx.search("%s %s" % (self.command, self.path)) and f.left != 0}
        if "cut" in kinds0 and (self.chunked or self.headers.get("Content-Length")):
            self.faults()  # counts it
            part = self.read_chunked(1 << 20) if self.chunked else self.rfile.read(min(int(self.headers["Content-Length"]) // 2, 1 << 20))
            self.log("cut", len(part), 0)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.read_chunked() if self.chunked else (self.rfile.read(n) if n else b"")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        redirected = self.path.startswith("/__redirected__")
        if redirected:
            with LOCK:
                with open(self.server.logfile, "a") as f:
                    f.write("REDIRECTED auth=%s\n" % ("yes" if "Authorization" in self.headers else "no"))
            self.path = self.path[len("/__redirected__"):]
            headers.pop("Authorization", None)
            if self.server.last_auth:
                headers["Authorization"] = self.server.last_auth
        elif "Authorization" in self.headers:
            self.server.last_auth = self.headers["Authorization"]
        kinds = set() if redirected else self.faults()
        if "redirect" in kinds:
            self.send_response(307)
            self.send_header("Location", "http://localhost:%d/__redirected__%s" % (self.server.server_port, self.path))
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.log(307, len(body), 0)
            return
        if "hang" in kinds and body:
            return self.stall(len(body), 0)
        if "500" in kinds:
            return self.simple(500, inlen=len(body))
        if "405" in kinds:
            return self.simple(405, inlen=len(body))
        if "sizeinv" in kinds:
            return self.simple(400, inlen=len(body), code="SIZE_INVALID")
        if "corruptreq" in kinds and body:
            body = body[:len(body) // 2] + bytes([body[len(body) // 2] ^ 0xff]) + body[len(body) // 2 + 1:]
        if "413" in kinds and body:
            return self.simple(413, inlen=len(body))
        if "429" in kinds:
            return self.simple(429, {"Retry-After": "1"}, inlen=len(body))
        if "norange" in kinds:
            headers.pop("Range", None)
        cmin = self.server.chunk_min
        if cmin and self.command == "PATCH" and len(body) < cmin:
            self.log("SMALLCHUNK", len(body), 0)
        if body or self.command in ("PUT", "POST", "PATCH"):
            headers["Content-Length"] = str(len(body))
        up = http.client.HTTPConnection(self.server.upstream, timeout=120)
        up.request(self.command, self.path, body=body, headers=headers)
        r = up.getresponse()
        data = r.read() if self.command != "HEAD" else b""
        if "corrupt" in kinds and data:
            data = data[:len(data) // 2] + bytes([data[len(data) // 2] ^ 0xff]) + data[len(data) // 2 + 1:]
        if "grow" in kinds and data:
            data = data + b" "
        if "indexsize" in kinds and data:
            try:
                j = json.loads(data)
                for m in j.get("manifests", []):
                    m["size"] = m.get("size", 0) + 7
                data = json.dumps(j).encode()
            except ValueError:
                pass
        self.send_response(r.status)
        for k, v in r.getheaders():
            if "indexsize" in kinds and k.lower() == "docker-content-digest":
                continue
            if k.lower() not in HOP:
                self.send_header(k, v)
        if cmin and self.command == "POST" and "/blobs/uploads/" in self.path:
            self.send_header("OCI-Chunk-Min-Length", str(cmin))
        length = len(data)
        if self.command == "HEAD":
            length = int(r.getheader("Content-Length") or 0)
        if "shortlen" in kinds:
            length += 100
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if "hang" in kinds and len(data) > 1:
            up.close()
            try:
                self.wfile.write(data[:len(data) // 2])
                self.wfile.flush()
            except OSError:  # the client gave up already
                self.close_connection = True
                return
            return self.stall(len(body), len(data) // 2)
        if "drop" in kinds and len(data) > 1:
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.log("drop", len(body), len(data) // 2)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            up.close()
            return
        self.wfile.write(data)
        if "shortlen" in kinds:
            self.close_connection = True
        self.log(r.status, len(body), len(data))
        up.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--fault", action="append", default=[])
    ap.add_argument("--chunk-min", type=int, default=0)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.upstream = a.upstream
    srv.logfile = a.log
    srv.faults = [Fault(s) for s in a.fault]
    srv.last_auth = None
    srv.chunk_min = a.chunk_min
    open(a.log, "a").close()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
