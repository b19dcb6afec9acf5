#!/usr/bin/env python3
"""A package server for the package cache's tests: python's http.server over TLS.

Serves the files of --root under /pkg/<name> (any query string is ignored, so each child can
have its own URL), honours Range (unless --ignore-range), can require a Bearer token
(--require-token, with --reject-token T answered 401), can cut the connection after N bytes
of a response (--cut-after N, for the first --cut-times responses), or stall there
(--stall-after N), answer late (--delay S), and serve wrong bytes (--corrupt). One line per request on stdout:
  req path=/pkg/a.bin range=bytes=100- auth=tok-1 status=206 sent=900
"ready PORT" once listening.
"""
import argparse
import http.server
import os
import socket
import ssl
import sys
import threading
import time

lock = threading.Lock()
state = {"cuts": 0, "stalls": 0}


def log(line):
    with lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        args = self.server.args
        if args.delay:
            time.sleep(args.delay)
        path = self.path.split("?", 1)[0]
        rng = self.headers.get("Range")
        auth = self.headers.get("Authorization") or ""
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        prefix = "req path=%s range=%s auth=%s" % (path, rng or "-", token or "-")
        if (args.require_token and not token) or (token and token in args.reject_token):
            self.answer(prefix, 401, b"unauthorized\n")
            return
        name = path[len("/pkg/"):] if path.startswith("/pkg/") else ""
        full = os.path.join(args.root, name)
        if not name or "/" in name or not os.path.isfile(full):
            self.answer(prefix, 404, b"not found\n")
            return
        with open(full, "rb") as f:
            body = f.read()
        if args.corrupt:
            body = bytes(b ^ 0x5A for b in body)
        start = 0
        status = 200
        if rng and not args.ignore_range and rng.startswith("bytes="):
            first = rng[6:].split("-", 1)[0]
            if first.isdigit():
                start = int(first)
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", "bytes */%d" % len(body))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    log(prefix + " status=416 sent=0")
                    return
                status = 206
        part = body[start:]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(part)))
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(body) - 1, len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        limit = len(part)
        cut = stall = False
        with lock:
            if args.cut_after is not None and state["cuts"] < args.cut_times:
                state["cuts"] += 1
                limit, cut = min(limit, args.cut_after), True
            elif args.stall_after is not None and state["stalls"] < args.stall_times:
                state["stalls"] += 1
                limit, stall = min(limit, args.stall_after), True
        sent = 0
        try:
            while sent < limit:
                chunk = part[sent:min(limit, sent + 16384)]
                self.wfile.write(chunk)
                sent += len(chunk)
            self.wfile.flush()
        except OSError:
            pass
        log("%s status=%d sent=%d%s" % (prefix, status, sent, " cut" if cut else (" stall" if stall else "")))
        if stall:
            time.sleep(args.stall_seconds)
        if cut or stall:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def answer(self, prefix, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        log("%s status=%d sent=0" % (prefix, status))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--require-token", action="store_true")
    parser.add_argument("--reject-token", action="append", default=[])
    parser.add_argument("--ignore-range", action="store_true")
    parser.add_argument("--corrupt", action="store_true")
    parser.add_argument("--cut-after", type=int)
    parser.add_argument("--cut-times", type=int, default=1)
    parser.add_argument("--stall-after", type=int)
    parser.add_argument("--stall-times", type=int, default=1)
    parser.add_argument("--stall-seconds", type=float, default=30)
    parser.add_argument("--delay", type=float, default=0)
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.args = args
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    log("ready %d" % args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
