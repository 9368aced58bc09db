#!/usr/bin/env python3
"""yt-dlp benchmark: the time a client waits for what yt-dlp does, with warm workers
(`--yt-dlp-workers`, the default) beside a process per call (`--yt-dlp-per-call`), in one run,
the same server binary, the same real yt-dlp.

For each mode, against a loopback origin serving N distinct MP3 files (each its own URL):
  import      POST /api/v1/tracks/import {url}: a flat listing (`--flat-playlist --no-playlist`)
  stream_url  GET /api/v1/tracks/<id>/stream_url, uncached: a resolution (`-f <selection>`),
              then the one-byte size probe the generic extractor leaves to us
  search      GET /api/v1/search?source=youtube&q=<distinct query>: `ytsearch50:<query>`,
              answered inside the real yt-dlp by the tests' recorded-YouTube plugin from the
              recorded search listing (YouTube itself cannot be reached here), so yt-dlp's own
              work on a search (options, the listing's processing, -J) is what is timed
All through yt-dlp's generic extractor on loopback; one client, one request at a time.

Usage: bench/ytdlp.py [--urls 50] [--bin target/release/anyaudio] [--yt-dlp PATH]
Prints a markdown table (p50/p99 in ms per mode, and per-call / workers).
"""
import argparse
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "ytdlp")
MP3 = os.path.join(ROOT, "demo", "library", "Aurora Sines", "First Light", "02 Morning Drift.mp3")
PORT = 18791


class Origin(http.server.BaseHTTPRequestHandler):
    """Serves MP3 bytes at any /<n>.mp3, with single byte ranges (as nginx would)."""

    body = b""

    def do_GET(self):
        body = Origin.body
        start, end = 0, len(body) - 1
        wanted = self.headers.get("Range", "")
        if wanted.startswith("bytes="):
            first, _, last = wanted[6:].partition("-")
            start = int(first or 0)
            end = min(int(last), end) if last else end
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "audio/mpeg")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        self.wfile.write(body[start:end + 1])

    def log_message(self, *args):
        pass


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def get(url, data=None):
    headers = {"content-type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    return (time.perf_counter() - started) * 1000, body


def measure(binary, yt_dlp, mode, origin, n, work):
    port = PORT + (0 if mode == "workers" else 1)
    base = f"http://127.0.0.1:{port}"
    recorded = os.path.join(work, f"recorded-{mode}")
    os.makedirs(recorded)
    shutil.copy(os.path.join(FIXTURES, "derived", "youtube-search-flat.json"), os.path.join(recorded, "search.json"))
    with open(os.path.join(recorded, "targets.json"), "w") as f:
        json.dump({"ytsearch*": {"print": "search.json"}}, f)
    argv = [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(work, f"data-{mode}"),
            "--no-scan", "--youtube", "--yt-dlp", yt_dlp, "--youtube-suggest-url", "", "--allow-private-sources",
            "--yt-dlp-arg=--plugin-dirs", f"--yt-dlp-arg={os.path.join(FIXTURES, 'plugins')}",
            "--yt-dlp-arg=--extractor-args", f"--yt-dlp-arg=anyaudiorecorded:dir={recorded}"]
    if mode == "process":
        argv.append("--yt-dlp-per-call")
    server = subprocess.Popen(argv, env=dict(os.environ, ANYAUDIO_LOG="error"))
    try:
        for _ in range(300):
            try:
                youtube = get(f"{base}/healthz")[1]["sources"]["youtube"]
                if youtube["available"] and youtube["execution"]["reason"] != "not started yet":
                    break
            except OSError:
                pass
            time.sleep(0.1)
        assert youtube["execution"]["mode"] == mode, youtube
        times = {"import": [], "stream_url": [], "search": []}
        ids = []
        for i in range(n):
            url = f"{origin}/{mode}-{i}.mp3"
            took, body = get(f"{base}/api/v1/tracks/import", json.dumps({"url": url}).encode())
            times["import"].append(took)
            ids.append(body["tracks"][0]["id"])
        for track in ids:
            took, body = get(f"{base}/api/v1/tracks/{track}/stream_url")
            assert body["url"].startswith("/stream/"), body
            times["stream_url"].append(took)
        for i in range(n):
            query = urllib.parse.quote(f"{mode} query {i}")
            took, body = get(f"{base}/api/v1/search?source=youtube&q={query}")
            assert body["tracks"], body
            times["search"].append(took)
        return youtube["version"], times
    finally:
        server.terminate()
        server.wait(timeout=20)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--urls", type=int, default=50)
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "anyaudio"))
    ap.add_argument("--yt-dlp", default=os.path.join(ROOT, ".venv-test", "bin", "yt-dlp"))
    args = ap.parse_args()
    with open(MP3, "rb") as f:
        Origin.body = f.read()
    origin_server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT + 10), Origin)
    threading.Thread(target=origin_server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{PORT + 10}"
    work = tempfile.mkdtemp(prefix="anyaudio-ytdlp-bench-")
    try:
        results = {mode: measure(args.bin, args.yt_dlp, mode, origin, args.urls, work) for mode in ("workers", "process")}
    finally:
        origin_server.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    version = results["workers"][0]
    print(f"yt-dlp {version}, {args.urls} distinct URLs and queries per mode, one client, "
          f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores\n")
    print("| call | process per call p50 / p99 (ms) | warm workers p50 / p99 (ms) | p50 per call / workers |")
    print("|---|---|---|---|")
    for call in ("stream_url", "search", "import"):
        warm, cold = results["workers"][1][call], results["process"][1][call]
        print(f"| {call} | {percentile(cold, 50):.0f} / {percentile(cold, 99):.0f} "
              f"| {percentile(warm, 50):.1f} / {percentile(warm, 99):.1f} "
              f"| {statistics.median(cold) / statistics.median(warm):.0f}× |")


if __name__ == "__main__":
    sys.exit(main())
