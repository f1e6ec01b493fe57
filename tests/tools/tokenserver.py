#!/usr/bin/env python3
"""A Bearer token server for docker-registry's token auth, for cbuild's tests.

    tokenserver.py --port P --key key.pem --cert cert.pem --service S \
                   --issuer I --log FILE [--user U:P] [--no-get] [--refresh]

GET /token?service=S&scope=...&scope=... (Basic credentials when --user is
given; wrong or missing ones get 401) answers {"token", "access_token",
"expires_in"}: a JWT signed RS256 with key.pem (by the openssl command), with
the certificate in its x5c header so the registry can check it against its
rootcertbundle. With --no-get, GET answers 405 and only the OAuth2 POST
form (grant_type=password) works. Every request is logged to FILE as
"METHOD user=U scope=S1 scope=S2 ...".

With --refresh, a password grant asking for access_type=offline also gets a
"refresh_token" (logged "REFRESH-ISSUED user=U"), and the refresh-token
grant (grant_type=refresh_token) is accepted for a token it issued (logged
"POST-REFRESH user=U scope=..."); an unknown one gets 400 invalid_grant
(logged "POST-REFRESH refused").
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def cert_der_b64(path):
    der = subprocess.run(["openssl", "x509", "-in", path, "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return base64.b64encode(der).decode()


def sign(key, data):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=data,
                          check=True, capture_output=True).stdout


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj, extra=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def token(self, method, user, password, scopes, offline=False, trusted=False):
        s = self.server
        with open(s.logfile, "a") as f:
            f.write("%s user=%s %s\n" % (method, user or "-", " ".join("scope=" + x for x in scopes)))
        if s.user and not trusted and (user, password) != s.user:
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                              {"WWW-Authenticate": 'Basic realm="token"'})
        access = []
        for sc in scopes:
            for one in sc.split(" "):
                parts = one.split(":")
                if len(parts) >= 3:
                    access.append({"type": parts[0], "name": ":".join(parts[1:-1]),
                                   "actions": parts[-1].split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [s.x5c]}
        claims = {"iss": s.issuer, "sub": user or "", "aud": s.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": b64u(os.urandom(12)), "access": access}
        signing = (b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(claims).encode())).encode()
        jwt = signing.decode() + "." + b64u(sign(s.key, signing))
        answer = {"token": jwt, "access_token": jwt, "expires_in": 300,
                  "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
        if offline and s.refresh:
            rt = b64u(os.urandom(24))
            s.refresh_tokens[rt] = user
            answer["refresh_token"] = rt
            with open(s.logfile, "a") as f:
                f.write("REFRESH-ISSUED user=%s\n" % user)
        self.reply(200, answer)

    def basic(self):
        h = self.headers.get("Authorization") or ""
        if not h.lower().startswith("basic "):
            return None, None
        u, _, p = base64.b64decode(h[6:]).decode().partition(":")
        return u, p

    def do_GET(self):
        if self.server.no_get:
            with open(self.server.logfile, "a") as f:
                f.write("GET refused\n")
            return self.reply(405, {"error": "use POST"})
        q = urllib.parse.urlparse(self.path).query
        params = urllib.parse.parse_qs(q)
        u, p = self.basic()
        self.token("GET", u, p, params.get("scope", []))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        grant = form.get("grant_type", [""])[0]
        scopes = form.get("scope", [])
        if grant == "refresh_token" and self.server.refresh:
            user = self.server.refresh_tokens.get(form.get("refresh_token", [""])[0])
            if user is None:
                with open(self.server.logfile, "a") as f:
                    f.write("POST-REFRESH refused\n")
                return self.reply(400, {"error": "invalid_grant"})
            return self.token("POST-REFRESH", user, None, scopes, trusted=True)
        if grant != "password":
            return self.reply(400, {"error": "unsupported_grant_type"})
        self.token("POST", form.get("username", [None])[0], form.get("password", [None])[0],
                   scopes, offline=form.get("access_type", [""])[0] == "offline")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--user")
    ap.add_argument("--no-get", action="store_true")
    ap.add_argument("--refresh", action="store_true")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.key, srv.service, srv.issuer, srv.logfile = a.key, a.service, a.issuer, a.log
    srv.x5c = cert_der_b64(a.cert)
    srv.user = tuple(a.user.split(":", 1)) if a.user else None
    srv.no_get = a.no_get
    srv.refresh = a.refresh
    srv.refresh_tokens = {}
    open(a.log, "a").close()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
