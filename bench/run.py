#!/usr/bin/env python3
"""Streaming benchmark: the direct origin, the seed's Flask design, nginx as a reverse proxy (as
installed, and tuned: `proxy_buffers 16 64k; proxy_buffer_size 64k` with upstream keep-alive),
and anyaudio, measured in one run on loopback by examples/loadgen.rs. Prints a markdown table.

anyaudio is measured three times: serving the file from its library (beside nginx serving it
with sendfile), in front of the plain origin (an HTTP source), and playing a YouTube-style track: the tests' googlevideo stand-in (examples/googlevideo.rs, `range=` answered
with 200s) serving the same file, resolved by the real yt-dlp over the recorded video (the tests'
recorded-YouTube plugin; yt-dlp's own format selection, its format 251 repointed at the
stand-in with the file's size). Then the time from asking a track's stream_url (its resolution
cached) to the first media byte, for each kind of track.

Usage: bench/run.py [--size-mib 256] [--seconds 10] [--concurrency 256] [--requests 300]
Installs what it needs: nginx (Debian), flask/gunicorn/requests and yt-dlp (a venv in bench/.venv).
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORTS = {"origin": 18101, "nginx": 18102, "seed": 18103, "anyaudio": 18104, "googlevideo": 18105, "tuned": 18107}
GOOGLEVIDEO_HOST = "rr1---sn-bench.googlevideo.com"
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "ytdlp")


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_tools():
    missing = [pkg for tool, pkg in (("nginx", "nginx-light"), ("ffmpeg", "ffmpeg"))
               if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}")]
    if missing:
        sh("apt-get", "update", "-qq")
        sh("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing)
    venv = os.path.join(ROOT, "bench", ".venv")
    if not os.path.exists(os.path.join(venv, "bin", "yt-dlp")):
        sh(sys.executable, "-m", "venv", venv)
        sh(os.path.join(venv, "bin", "pip"), "install", "-q", "flask", "gunicorn", "requests",
           "-r", os.path.join(ROOT, "scripts", "test-requirements.txt"))
    sh("cargo", "build", "--release", "--quiet", "--bin", "anyaudio", "--example", "loadgen", "--example", "googlevideo",
       cwd=ROOT)
    return venv


def youtube_stand_in(work, venv, size):
    """Server options for the real yt-dlp with the tests' recorded-YouTube plugin, answering every
    watch URL from the recorded video with its googlevideo URLs pointed at the stand-in origin;
    format 251 is given the bench file's size."""
    import urllib.parse
    with open(os.path.join(FIXTURES, "recorded", "youtube-video.json")) as f:
        info = json.load(f)
    expire = str(int(time.time()) + 6 * 3600)

    def repoint(url, clen=None):
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        query = [(k, expire if k == "expire" else (str(clen) if k == "clen" and clen else v)) for k, v in query]
        return urllib.parse.urlunsplit(("http", f"{GOOGLEVIDEO_HOST}:{PORTS['googlevideo']}", parts.path,
                                        urllib.parse.urlencode(query), ""))

    for fmt in info["formats"]:
        if ".googlevideo.com/videoplayback" in fmt.get("url", ""):
            opus = fmt["format_id"] == "251"
            fmt["url"] = repoint(fmt["url"], size if opus else None)
            if opus:
                fmt["filesize"] = size
    directory = os.path.join(work, "yt-dlp")
    os.makedirs(directory)
    with open(os.path.join(directory, "video.json"), "w") as f:
        json.dump(info, f)
    with open(os.path.join(directory, "targets.json"), "w") as f:
        json.dump({"https://www.youtube.com/watch?v=*": {"info": "video.json"}}, f)
    plugins = os.path.join(FIXTURES, "plugins")
    return ["--yt-dlp", os.path.join(venv, "bin", "yt-dlp"),
            "--yt-dlp-arg=--plugin-dirs", f"--yt-dlp-arg={plugins}",
            "--yt-dlp-arg=--extractor-args", f"--yt-dlp-arg=anyaudiorecorded:dir={directory}"]


def nginx_conf(work, name, server_block, events="events { worker_connections 4096; }"):
    conf = os.path.join(work, f"{name}.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes auto;
pid {work}/{name}.pid;
error_log {work}/{name}.error.log;
{events}
http {{
    access_log off;
    types {{ audio/mpeg mp3; }}
    client_body_temp_path {work}/{name}-body;
    proxy_temp_path {work}/{name}-proxy;
    fastcgi_temp_path {work}/{name}-fcgi;
    uwsgi_temp_path {work}/{name}-uwsgi;
    scgi_temp_path {work}/{name}-scgi;
    {server_block}
}}
""")
    return conf


def tree_rss_kib(pid, tree=True):
    """RSS of a process and its descendants (or the process alone), in KiB."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    total, stack = 0, [pid]
    if not tree:
        children = {}
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
        stack.extend(children.get(p, []))
    return total


class PeakSampler(threading.Thread):
    def __init__(self, pid, tree=True):
        super().__init__(daemon=True)
        self.pid, self.tree, self.peak, self.stop = pid, tree, 0, False

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, tree_rss_kib(self.pid, self.tree))
            time.sleep(0.05)


def wait_http(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers={"Range": "bytes=0-0"}), timeout=2).read()
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{url} never answered")


def loadgen(url, size, mode, args):
    out = subprocess.run(
        [os.path.join(ROOT, "target", "release", "examples", "loadgen"), "--url", url, "--size", str(size), "--mode", mode,
         "--requests", str(args.requests), "--concurrency", str(args.concurrency), "--seconds", str(args.seconds)],
        check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--only", help="measure only this target key (origin, seed, nginx, tuned, anyaudio), for quick checks")
    parser.add_argument("--skip", action="append", default=[], help="leave out this target key (repeat)")
    parser.add_argument("--runs", type=int, default=1,
                        help="rounds over every target, one after another; the tables give each figure's median")
    args = parser.parse_args()
    venv = ensure_tools()
    size = args.size_mib * 1024 * 1024
    work, bench_file, library = bench_media("anyaudio-bench-", size)
    procs = {}
    origin_url = f"http://127.0.0.1:{PORTS['origin']}/bench.wav"
    try:
        procs.update(start_servers(work, venv, bench_file, library, size))
        base = f"http://127.0.0.1:{PORTS['anyaudio']}"
        urls, ids = anyaudio_streams(base, origin_url)
        targets = {
            "direct origin (nginx static)": ("origin", origin_url),
            "seed design (Flask + requests, gunicorn)": ("seed", f"http://127.0.0.1:{PORTS['seed']}/stream"),
            "nginx reverse proxy": ("nginx", f"http://127.0.0.1:{PORTS['nginx']}/bench.wav"),
            "nginx reverse proxy, tuned (buffers 16×64k)": ("tuned", f"http://127.0.0.1:{PORTS['tuned']}/bench.wav"),
            "anyaudio, library file": ("anyaudio", urls["library file"]),
            "anyaudio": ("anyaudio", urls["HTTP track"]),
            "anyaudio, YouTube-style track (googlevideo stand-in)": ("anyaudio", urls["YouTube-style track"]),
        }
        rounds, plays = [], []
        for round_ in range(args.runs):
            results = {}
            for name, (key, url) in targets.items():
                if (args.only and key not in (args.only, "origin", "nginx", "tuned")) or key in args.skip:
                    continue
                results[name] = measure(procs[key].pid, key, url, size, args)
                print(f"run {round_ + 1}, {name}: {json.dumps(results[name])}", file=sys.stderr)
            rounds.append(results)
            plays.append({kind: play_ttfb(base, id_, args.requests) for kind, id_ in ids.items()})
        print_table(median(rounds), args)
        print_play_table(median(plays), args)
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


def bench_media(prefix, size):
    """A new working directory holding the bench file (`size` bytes) and a library folder with
    the same file in it: the directory, the file and the folder."""
    work = tempfile.mkdtemp(prefix=prefix)
    os.chmod(work, 0o755)  # nginx workers run as www-data
    bench_file = os.path.join(work, "bench.wav")
    write_wav(bench_file, size)
    library = os.path.join(work, "library")
    os.makedirs(library)
    os.link(bench_file, os.path.join(library, "bench.wav"))  # one file, one page cache
    return work, bench_file, library


def start_servers(work, venv, bench_file, library, size, binary=None):
    """Every contender on its port (`PORTS`) in front of `bench_file` (anyaudio: `binary`, by
    default the release build), each answering before this returns. Answers the processes."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    procs = {}
    origin_url = f"http://127.0.0.1:{PORTS['origin']}/bench.wav"
    try:
        conf = nginx_conf(work, "origin", f"server {{ listen 127.0.0.1:{PORTS['origin']}; root {work}; sendfile on; tcp_nopush on; }}")
        procs["origin"] = subprocess.Popen([nginx, "-c", conf, "-g", "daemon off;"])
        conf = nginx_conf(work, "proxy", f"""
    upstream origin {{ server 127.0.0.1:{PORTS['origin']}; keepalive 256; }}
    server {{ listen 127.0.0.1:{PORTS['nginx']};
        location / {{ proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }} }}""")
        procs["nginx"] = subprocess.Popen([nginx, "-c", conf, "-g", "daemon off;"])
        # What a self-hoster puts in front of an origin: buffered, 16 × 64 KiB a request,
        # upstream keep-alive (issue 18).
        conf = nginx_conf(work, "tuned", f"""
    upstream origin {{ server 127.0.0.1:{PORTS['origin']}; keepalive 256; }}
    server {{ listen 127.0.0.1:{PORTS['tuned']};
        location / {{ proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";
                     proxy_buffering on; proxy_buffers 16 64k; proxy_buffer_size 64k; }} }}""")
        procs["tuned"] = subprocess.Popen([nginx, "-c", conf, "-g", "daemon off;"])
        env = dict(os.environ, SEED_UPSTREAM=origin_url)
        procs["seed"] = subprocess.Popen(
            [os.path.join(venv, "bin", "gunicorn"), "-w", "5", "-b", f"127.0.0.1:{PORTS['seed']}", "--chdir",
             os.path.join(ROOT, "bench"), "--log-level", "warning", "seed_app:app"], env=env)
        procs["googlevideo"] = subprocess.Popen(
            [os.path.join(ROOT, "target", "release", "examples", "googlevideo"), "--listen",
             f"127.0.0.1:{PORTS['googlevideo']}", "--file", bench_file])
        procs["anyaudio"] = subprocess.Popen(
            [binary or os.path.join(ROOT, "target", "release", "anyaudio"), "serve",
             "--listen", f"127.0.0.1:{PORTS['anyaudio']}",
             "--data-dir", os.path.join(work, "anyaudio-data"), "--library", library,
             "--youtube", *youtube_stand_in(work, venv, size), "--youtube-suggest-url", "",
             "--resolve", f"{GOOGLEVIDEO_HOST}=127.0.0.1",
             # The origins are on loopback, which sources may not be by default (SSRF), and
             # every load-test client comes from one address, which is capped by default.
             "--allow-private-sources", "--max-connections-per-address", "100000",
             "--max-connections", "100000"],
            env=dict(os.environ, ANYAUDIO_LOG="warn"))
        wait_http(origin_url)
        wait_http(f"http://127.0.0.1:{PORTS['nginx']}/bench.wav")
        wait_http(f"http://127.0.0.1:{PORTS['tuned']}/bench.wav")
        wait_http(f"http://127.0.0.1:{PORTS['seed']}/stream")
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORTS['anyaudio']}/healthz", timeout=2)
                break
            except Exception:
                time.sleep(0.1)
    except BaseException:
        stop_all(procs)
        raise
    return procs


def anyaudio_streams(base, origin_url):
    """The stream URLs of anyaudio at `base` for each kind of track: its library file, the
    origin's file added as an HTTP track, and the YouTube-style track; and the tracks' ids."""
    request = urllib.request.Request(f"{base}/api/v1/sources/http", data=json.dumps({"url": origin_url}).encode(),
                                     headers={"content-type": "application/json"})
    track = json.load(urllib.request.urlopen(request))["tracks"][0]
    stream = json.load(urllib.request.urlopen(f"{base}/api/v1/tracks/{track['id']}/stream_url"))["url"]
    for _ in range(300):  # the YouTube source is checked and the library scanned
        found = [t for t in json.load(urllib.request.urlopen(f"{base}/api/v1/search?q=bench"))["tracks"]
                 if t["source"] == "local"]
        if json.load(urllib.request.urlopen(f"{base}/healthz"))["sources"]["youtube"]["available"] and found:
            break
        time.sleep(0.1)
    local_id = found[0]["id"]
    local = json.load(urllib.request.urlopen(f"{base}/api/v1/tracks/{local_id}/stream_url"))["url"]
    youtube = json.load(urllib.request.urlopen(f"{base}/api/v1/tracks/yt-uApthBVk7mw/stream_url?format=opus"))["url"]
    urls = {"library file": base + local, "HTTP track": base + stream, "YouTube-style track": base + youtube}
    ids = {"library file": local_id, "HTTP track": track["id"], "YouTube-style track": "yt-uApthBVk7mw"}
    return urls, ids


def measure(pid, key, url, size, args):
    """One target's figures: fresh plays, seeks, the best of three single streams, then the
    concurrent clients with the server's peak RSS."""
    r = {}
    # anyaudio's own process: its yt-dlp workers (children) are not on the stream path.
    tree = key != "anyaudio"
    idle = tree_rss_kib(pid, tree)
    r["fresh"] = loadgen(url, size, "fresh", args)
    r["seek"] = loadgen(url, size, "seek", args)
    r["throughput"] = max((loadgen(url, size, "throughput", args) for _ in range(3)), key=lambda x: x["mib_per_s"])
    sampler = PeakSampler(pid, tree)
    sampler.start()
    r["concurrent"] = loadgen(url, size, "concurrent", args)
    sampler.stop = True
    sampler.join()
    r["idle_kib"], r["peak_kib"] = idle, sampler.peak
    return r


def median(rounds):
    """The rounds' figures, each the median of its values (single p50 figures move by ±0.2 ms
    run to run here), and their errors added up."""
    first = rounds[0]
    if isinstance(first, dict):
        # Errors add up: one run's failures are not a spread to take the middle of.
        return {k: sum(r[k] for r in rounds) if k == "errors" else median([r[k] for r in rounds]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(median([r[i] for r in rounds]) for i in range(len(first)))
    return statistics.median(rounds)


def write_wav(path, size):
    """A WAV file of `size` bytes: a canonical header (16-bit stereo, 44.1 kHz), then random
    samples. A library can scan it, nginx can serve it, the stand-ins can play it."""
    import struct
    data = size - 44
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", size - 8) + b"WAVEfmt " +
                struct.pack("<IHHIIHH", 16, 1, 2, 44100, 44100 * 4, 4, 16) + b"data" + struct.pack("<I", data))
        left = data
        while left:
            n = min(left, 1024 * 1024)
            f.write(os.urandom(n))
            left -= n


def play_ttfb(base, track_id, n):
    """What a player waits from asking for a track's stream_url (its resolution cached after
    the first) to the first media byte, n times: the API call on a kept-alive connection, the
    media on a new one (as `<audio>` opens it). Answers p50 and p99 in ms."""
    import http.client
    host, port = base.removeprefix("http://").split(":")
    api = http.client.HTTPConnection(host, int(port))
    path = f"/api/v1/tracks/{track_id}/stream_url" + ("?format=opus" if track_id.startswith("yt-") else "")
    api.request("GET", path)
    api.getresponse().read()  # the first resolution is not what this measures
    times = []
    for _ in range(n):
        started = time.perf_counter()
        api.request("GET", path)
        url = json.loads(api.getresponse().read())["url"]
        media = http.client.HTTPConnection(host, int(port))
        media.request("GET", url, headers={"Range": "bytes=0-"})
        response = media.getresponse()
        assert response.status == 206 and response.read(1), (track_id, response.status)
        times.append((time.perf_counter() - started) * 1000)
        media.close()
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))]


def print_play_table(plays, args):
    runs = f", median of {args.runs} runs" if args.runs > 1 else ""
    print(f"\nstream_url (resolution cached) to the first media byte, {args.requests} plays each{runs}:\n")
    print("| track | p50 (ms) | p99 (ms) |")
    print("|---|---|---|")
    for kind, (p50, p99) in plays.items():
        print(f"| {kind} | {p50:.2f} | {p99:.2f} |")


def stop_all(procs):
    """SIGTERM to every process still running, then SIGKILL to any not gone in 10 s."""
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs.values():
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def print_table(results, args):
    direct = results["direct origin (nginx static)"]
    nginx = results["nginx reverse proxy"]
    tuned = results["nginx reverse proxy, tuned (buffers 16×64k)"]
    runs = f"median of {args.runs} runs; " if args.runs > 1 else ""
    print(f"\n{runs}{args.size_mib} MiB file; {args.requests} fresh plays and {args.requests} seeks, each on a new connection; "
          f"{args.concurrency} concurrent clients for {args.seconds} s asking 1 MiB ranges at random offsets.\n")
    print("| | TTFB fresh p50 / p99 (ms) | TTFB seek p50 / p99 (ms) | overhead p50 vs direct (ms) | single stream (MiB/s) | "
          f"{args.concurrency} streams: req/s | vs tuned nginx | p99 (ms) | errors | peak RSS (MiB) | RSS per stream (KiB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        f, s, t, c = r["fresh"], r["seek"], r["throughput"], r["concurrent"]
        per_stream = max(0, r["peak_kib"] - r["idle_kib"]) / args.concurrency
        print(f"| {name} | {f['p50_ms']:.3f} / {f['p99_ms']:.3f} | {s['p50_ms']:.3f} / {s['p99_ms']:.3f} | "
              f"{f['p50_ms'] - direct['fresh']['p50_ms']:+.3f} | {t['mib_per_s']:.0f} ({t['mib_per_s'] / direct['throughput']['mib_per_s']:.2f}×) | "
              f"{c['requests_per_s']:.0f} ({c['requests_per_s'] / nginx['concurrent']['requests_per_s']:.2f}× nginx) | "
              f"{c['requests_per_s'] / tuned['concurrent']['requests_per_s']:.2f}× | {c['p99_ms']:.1f} | "
              f"{c['errors']} | {r['peak_kib'] / 1024:.1f} | {per_stream:.0f} |")


if __name__ == "__main__":
    main()
