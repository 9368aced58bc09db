#!/usr/bin/env python3
"""Idle-connection flood: N connections from 127.0.0.1 that never send a byte, against the
server with its default limits. Reports how many were refused at once (503 or closed), whether
a client on another address (127.0.0.2) is still answered and the flooding address is not,
when the server has closed every silent one (--idle-timeout, 30 s), and the server's
descriptors afterwards. Bounded: N connections, at most 60 s of waiting.

Usage: bench/idle_flood.py [--connections 2000] [--bin target/release/anyaudio]
"""
import argparse
import http.client
import os
import resource
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT = 18779


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "anyaudio"))
    args = ap.parse_args()
    n = args.connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 200)), hard))
    data = tempfile.mkdtemp(prefix="anyaudio-flood-")
    server = subprocess.Popen([args.bin, "serve", "--listen", f"127.0.0.1:{PORT}", "--data-dir", data, "--no-scan"],
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        started = time.time()
        silent = [socket.create_connection(("127.0.0.1", PORT)) for _ in range(n)]
        print(f"{n} silent connections opened in {time.time() - started:.1f} s")
        time.sleep(1)
        refused = 0
        for s in silent:
            s.setblocking(False)
            try:
                answer = s.recv(4096)
                refused += answer == b"" or answer.startswith(b"HTTP/1.1 503")
            except BlockingIOError:
                pass
        print(f"refused at once (503 or closed): {refused}; held: {n - refused}")
        for source, label in [("127.0.0.2", "another address"), ("127.0.0.1", "the flooding address")]:
            asked = time.time()
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5, source_address=(source, 0))
            try:
                conn.request("GET", "/healthz")
                status = conn.getresponse().status
            except OSError as e:
                status = type(e).__name__
            print(f"/healthz from {label} ({source}): {status} in {(time.time() - asked) * 1000:.1f} ms")
        deadline = time.time() + 60
        while time.time() < deadline:
            still = 0
            for s in silent:
                try:
                    s.recv(4096)
                except BlockingIOError:
                    still += 1
                except OSError:
                    pass
            if not still:
                break
            time.sleep(0.5)
        print(f"every silent connection closed by the server {time.time() - started:.1f} s after the first opened"
              if not still else f"{still} still open after 60 s")
        print(f"server descriptors afterwards: {len(os.listdir(f'/proc/{server.pid}/fd'))}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
