#!/usr/bin/env python3
"""A client that reads a proxied track at a fixed pace, and what its origin served for it.

A stream whose client turns from downloading to listening lets its upstream connection go and
asks again from the byte reached (`stream::proxy`), so a client whose pace hovers around the
line between the two (`stream::paced::Uptake`) could make its origin send what it had sent
ahead again and again. For each pace, one client reads the track through anyaudio at that pace
for the given time; the origin (nginx, with an access log) counts the requests and bytes it
served. Prints one JSON line a pace.

Usage: bench/pace_turns.py [--binary target/release/anyaudio] [--seconds 20] [--paces 700,1000,1100,1200,1400]
(paces in KiB/s). Needs nginx, and a release build.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the stream benchmark's helpers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORIGIN, ANYAUDIO = 18201, 18202


def measure(binary, pace, seconds):
    work = tempfile.mkdtemp(prefix="anyaudio-pace-")
    os.chmod(work, 0o755)  # nginx workers run as www-data
    with open(os.path.join(work, "track.wav"), "wb") as f:
        f.write(os.urandom(1 << 20) * 256)
    os.makedirs(os.path.join(work, "library"))
    conf = os.path.join(work, "origin.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1; pid {work}/origin.pid; error_log {work}/error.log; events {{}}
http {{ log_format served '$request_uri $status $body_bytes_sent'; access_log {work}/access.log served;
  client_body_temp_path {work}/b; proxy_temp_path {work}/p; fastcgi_temp_path {work}/f;
  uwsgi_temp_path {work}/u; scgi_temp_path {work}/s;
  server {{ listen 127.0.0.1:{ORIGIN}; root {work}; }} }}""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    procs = [subprocess.Popen([nginx, "-c", conf, "-g", "daemon off;"])]
    procs.append(subprocess.Popen(
        [binary, "serve", "--listen", f"127.0.0.1:{ANYAUDIO}", "--data-dir", os.path.join(work, "data"),
         "--library", os.path.join(work, "library"), "--allow-private-sources"],
        env=dict(os.environ, ANYAUDIO_LOG="warn"), stderr=subprocess.DEVNULL))
    try:
        base = f"http://127.0.0.1:{ANYAUDIO}"
        run.wait_http(f"{base}/healthz")
        request = urllib.request.Request(
            f"{base}/api/v1/sources/http", data=json.dumps({"url": f"http://127.0.0.1:{ORIGIN}/track.wav"}).encode(),
            headers={"content-type": "application/json"})
        track = json.load(urllib.request.urlopen(request))["tracks"][0]["id"]
        url = json.load(urllib.request.urlopen(f"{base}/api/v1/tracks/{track}/stream_url"))["url"]
        time.sleep(1)
        open(os.path.join(work, "access.log"), "w").close()  # what adding the source asked
        client = socket.create_connection(("127.0.0.1", ANYAUDIO))
        client.sendall(f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1:{ANYAUDIO}\r\n\r\n".encode())
        taken, start = 0, time.monotonic()
        while time.monotonic() - start < seconds:
            delay = start + taken / (pace * 1024) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            got = client.recv(16384)
            if not got:
                raise SystemExit("the stream ended early")
            taken += len(got)
        client.close()
        time.sleep(0.5)
        with open(os.path.join(work, "access.log")) as f:
            served = [line.split() for line in f if line.strip()]
        return {"pace_kib_s": pace, "taken_mib": round(taken / 1048576, 1), "origin_requests": len(served),
                "origin_mib": round(sum(int(line[2]) for line in served) / 1048576, 1)}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()
        shutil.rmtree(work)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "anyaudio"))
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--paces", default="700,1000,1100,1200,1400")
    args = parser.parse_args()
    for pace in args.paces.split(","):
        print(json.dumps(measure(args.binary, float(pace), args.seconds)), flush=True)


if __name__ == "__main__":
    main()
