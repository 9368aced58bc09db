#!/usr/bin/env python3
"""Catalog benchmark: anyaudio against mpd on one generated library, in one run.

Generates a deterministic library of N tiny but real audio files (1 s clips made by ffmpeg in
MP3, FLAC, Ogg/Opus and M4A, copied and tagged with mutagen) in an Artist/Album tree (ten tracks
an album, four albums an artist), with
diacritics, compilations, a few corrupt files and an M3U playlist; then measures, for both
servers: initial scan, unchanged rescan, rescan after retagging 1% and deleting 0.5%, search
latency over a few hundred queries, autocomplete latency (anyaudio; mpd has none), and whether
diacritic-less queries find accented names; and for anyaudio's Subsonic API, `search3` with the
same queries, `getAlbumList2` pages and an empty-query `search3` sync, beside its JSON search.
Prints markdown tables.

Usage: bench/catalog.py [--tracks 20000] [--queries 300]
Installs what it needs: ffmpeg, mpd, mpc (Debian), mutagen (a venv in bench/.venv).
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MPD_PORT, AA_PORT = 18201, 18202
ARTISTS = ["Beyoncé", "Sigur Rós", "Motörhead", "Björk", "Zoë Keating", "Mötley Crüe", "Françoise Hardy", "Hüsker Dü",
           "Antônio Carlos Jobim", "Jóhann Jóhannsson", "Café Tacvba", "Åsa Ödmark", "Miles Davis", "Nina Simone",
           "The Square Waves", "Aurora Sines", "Blue Harbour", "Night Tram", "Paper Lanterns", "Iron & Wine"]
WORDS = ("love night river light dream fire city rain summer winter heart road gold silver ocean storm shadow song "
         "dance blue red green morning evening star moon sun echo glass stone garden window mirror train ghost").split()


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_tools():
    missing = [p for p in ("ffmpeg", "mpd", "mpc") if not shutil.which(p) and not os.path.exists(f"/usr/bin/{p}")]
    if missing:
        sh("apt-get", "update", "-qq")
        sh("apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing)
    venv = os.path.join(ROOT, "bench", ".venv")
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        sh(sys.executable, "-m", "venv", venv)
    sh(os.path.join(venv, "bin", "pip"), "install", "-q", "mutagen")
    sh("cargo", "build", "--release", "--quiet", "--bin", "anyaudio", cwd=ROOT)
    return os.path.join(venv, "bin", "python")


TAGGER = r'''
import json, sys, shutil
from mutagen.easyid3 import EasyID3
from mutagen.flac import FLAC
from mutagen.oggopus import OggOpus
from mutagen.easymp4 import EasyMP4
OPEN = {"mp3": EasyID3, "flac": FLAC, "opus": OggOpus, "m4a": EasyMP4}
for line in sys.stdin:
    job = json.loads(line)
    if "clip" in job:
        shutil.copyfile(job["clip"], job["path"])
    f = OPEN[job["ext"]](job["path"]) if job["ext"] != "mp3" else None
    if job["ext"] == "mp3":
        try:
            f = EasyID3(job["path"])
        except Exception:
            f = EasyID3()
    for k, v in job["tags"].items():
        f[k] = v
    if job["ext"] == "mp3":
        f.save(job["path"])
    else:
        f.save()
'''


def n_albums(tracks):
    """How many albums `generate` makes of that many tracks (ten a folder)."""
    return (tracks + 9) // 10


def generate(lib, n, python):
    clips = {}
    for ext, args in {"mp3": ["-c:a", "libmp3lame", "-b:a", "32k"], "flac": ["-c:a", "flac"],
                      "opus": ["-c:a", "libopus", "-b:a", "16k"], "m4a": ["-c:a", "aac", "-b:a", "32k"]}.items():
        clips[ext] = os.path.join(lib, f".clip.{ext}")
        sh("ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1:sample_rate=8000",
           "-ac", "1", *args, clips[ext])
    rng = random.Random(42)
    jobs, paths, albums = [], [], {}
    per_album, albums_per_artist = 10, 4
    for i in range(n):
        album_no = i // per_album
        compilation = album_no % 25 == 0
        a = album_no // albums_per_artist
        artist = f"{ARTISTS[a % len(ARTISTS)]} {a // len(ARTISTS)}" if a >= len(ARTISTS) else ARTISTS[a]
        track_artist = f"{ARTISTS[rng.randrange(len(ARTISTS))]}" if compilation else artist
        if album_no not in albums:  # one name per album: ten tracks in one folder
            albums[album_no] = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {album_no}"
        album = albums[album_no]
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 4))).title()
        ext = ["mp3", "flac", "opus", "m4a"][i % 4]
        folder = os.path.join(lib, "Various Artists" if compilation else artist.replace("/", "-"), album)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{i % per_album + 1:02d} {title}.{ext}")
        tags = {"title": title, "artist": track_artist, "album": album, "tracknumber": str(i % per_album + 1),
                "genre": rng.choice(["Rock", "Jazz", "Electronic", "Folk", "Classical", "Pop"]), "date": str(1970 + album_no % 50)}
        if compilation:
            tags["albumartist"] = "Various Artists"
        jobs.append({"clip": clips[ext], "path": path, "ext": ext, "tags": tags})
        paths.append((path, ext, tags))
    run_tagger(python, jobs)
    for k in range(max(1, n // 5000)):
        with open(os.path.join(lib, f"corrupt-{k}.mp3"), "wb") as f:
            f.write(rng.randbytes(4096))
    with open(os.path.join(lib, "Mix.m3u"), "w") as f:
        f.write("#EXTM3U\n" + "\n".join(os.path.relpath(p, lib) for p, _, _ in paths[:50]) + "\n")
    for c in clips.values():
        os.remove(c)
    return paths


def run_tagger(python, jobs):
    subprocess.run([python, "-c", TAGGER], input="".join(json.dumps(j) + "\n" for j in jobs), text=True, check=True)


def peak_rss_kib(pid):
    """VmHWM of a running process (KiB), or 0 once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(next(l for l in f if l.startswith("VmHWM:")).split()[1])
    except (OSError, StopIteration):
        return 0


def timed(cmd, **kw):
    """Wall time, peak RSS (KiB) and stdout of a command. The peak is the process's own VmHWM,
    sampled until it exits: wait4's ru_maxrss would count the pages of this (large) Python
    process that the child had between fork and exec."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, **kw)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], peak_rss_kib(proc.pid))
            time.sleep(0.005)
    sampler = threading.Thread(target=sample)
    sampler.start()
    out = proc.stdout.read()
    proc.wait()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed with {proc.returncode}")
    return time.perf_counter() - start, peak[0], out


class Mpd:
    def __init__(self, work, lib):
        self.conf = os.path.join(work, "mpd.conf")
        os.makedirs(os.path.join(work, "mpd"), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(f'music_directory "{lib}"\ndb_file "{work}/mpd/db"\nstate_file "{work}/mpd/state"\n'
                    f'pid_file "{work}/mpd/pid"\nlog_file "{work}/mpd/log"\nbind_to_address "127.0.0.1"\nport "{MPD_PORT}"\n'
                    f'audio_output {{\n type "null"\n name "null"\n}}\n')
        self.proc = subprocess.Popen(["mpd", "--no-daemon", self.conf])
        time.sleep(0.5)
        if self.proc.poll() is not None:
            raise SystemExit(f"mpd exited at start (is port {MPD_PORT} taken?)")
        for _ in range(100):
            try:
                self.sock = socket.create_connection(("127.0.0.1", MPD_PORT))
                break
            except OSError:
                time.sleep(0.1)
        self.file = self.sock.makefile("rwb")
        self.file.readline()  # OK MPD x.y.z

    def command(self, line):
        self.file.write(line.encode() + b"\n")
        self.file.flush()
        out = []
        while True:
            reply = self.file.readline().decode()
            if reply.startswith("OK") or reply.startswith("ACK"):
                return out, reply
            out.append(reply)

    def update(self):
        start = time.perf_counter()
        self.command("update")
        while True:
            status, _ = self.command("status")
            if not any(l.startswith("updating_db") for l in status):
                return time.perf_counter() - start
            time.sleep(0.02)

    def count(self):
        stats, _ = self.command("stats")
        return int(next(l for l in stats if l.startswith("songs:")).split(":")[1])

    def search(self, q):
        start = time.perf_counter()
        found, _ = self.command(f'search any "{q}"')
        return time.perf_counter() - start, sum(1 for l in found if l.startswith("file:"))

    def rss_kib(self):
        return peak_rss_kib(self.proc.pid)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def pct(xs, p):
    xs = sorted(xs)
    return xs[int((len(xs) - 1) * p)] * 1000 if xs else float("nan")


def fold(s):
    import unicodedata
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)).lower()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tracks", type=int, default=20000)
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    python = ensure_tools()
    work = tempfile.mkdtemp(prefix="anyaudio-catalog-")
    lib = os.path.join(work, "library")
    os.makedirs(lib)
    t = time.perf_counter()
    paths = generate(lib, args.tracks, python)
    print(f"generated {len(paths)} tracks in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    bin_ = os.path.join(ROOT, "target", "release", "anyaudio")
    scan = [bin_, "scan", "--library", lib, "--data-dir", os.path.join(work, "aa")]
    env = dict(os.environ, ANYAUDIO_LOG="warn")
    r = {"anyaudio": {}, "mpd": {}}
    subprocess.run(["sync"])
    r["anyaudio"]["scan_s"], r["anyaudio"]["scan_rss_kib"], _ = timed(scan, env=env)
    r["anyaudio"]["rescan_s"], _, _ = timed(scan, env=env)
    mpd = Mpd(work, lib)
    try:
        measure(args, work, lib, paths, python, bin_, scan, env, r, mpd)
    finally:
        mpd.stop()
        shutil.rmtree(work, ignore_errors=True)


def measure(args, work, lib, paths, python, bin_, scan, env, r, mpd):
    r["mpd"]["scan_s"] = mpd.update()
    r["mpd"]["rescan_s"] = mpd.update()
    r["mpd"]["scan_rss_kib"] = mpd.rss_kib()
    # Change 1%, delete 0.5%.
    rng = random.Random(7)
    chosen = rng.sample(paths, len(paths) * 15 // 1000)
    retag, delete = chosen[: len(paths) // 100], chosen[len(paths) // 100:]
    run_tagger(python, [{"path": p, "ext": e, "tags": dict(t, title=t["title"] + " Remastered")} for p, e, t in retag])
    for p, _, _ in delete:
        os.remove(p)
    expected = len(paths) - len(delete)
    _, _, out = timed(scan, env=env)
    r["anyaudio"]["changed_s"] = json.loads(out)["duration_ms"] / 1000
    r["mpd"]["changed_s"] = mpd.update()
    r["mpd"]["count"] = mpd.count()
    # Queries: artist, album and title words, multi-word, diacritic-less.
    qrng = random.Random(9)
    queries = []
    for i in range(args.queries):
        _, _, tags = qrng.choice(paths)
        kind = i % 5
        q = {0: tags["artist"].split()[0], 1: tags["album"].split()[0], 2: tags["title"].split()[0],
             3: f'{tags["title"].split()[0]} {tags["album"].split()[0]}', 4: fold(tags["artist"].split()[0])}[kind]
        queries.append(q)
    # A user for the Subsonic API (its calls always carry credentials).
    subprocess.run([bin_, "user", "add", "--password-stdin", "--data-dir", os.path.join(work, "aa"), "bench"],
                   input=b"bench-password\n", env=env, check=True, capture_output=True)
    # The server builds its in-memory autocomplete index at start; its log says how long that took.
    server_log = os.path.join(work, "server.log")
    # --open-listening: the JSON API answers without a login, as before there was a user.
    server = subprocess.Popen([bin_, "serve", "--library", lib, "--data-dir", os.path.join(work, "aa"), "--no-scan",
                               "--open-listening", "--listen", f"127.0.0.1:{AA_PORT}"],
                              env=dict(env, ANYAUDIO_LOG="warn,anyaudio::catalog::suggest=debug"),
                              stderr=open(server_log, "w"))
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", AA_PORT)
            conn.request("GET", "/healthz")
            r["anyaudio"]["count"] = json.loads(conn.getresponse().read())["tracks"]
            break
        except OSError:
            time.sleep(0.1)

    def aa(path):
        nonlocal conn
        for attempt in range(2):
            start = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = json.loads(response.read())
                took = time.perf_counter() - start
                if response.status != 200:
                    raise SystemExit(f"{path}: {response.status} {body}")
                return took, body
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closes keep-alive connections idle for 30 s (while mpd was measured).
                conn = http.client.HTTPConnection("127.0.0.1", AA_PORT)
        raise SystemExit(f"{path} failed twice")

    for name, fn in (("anyaudio", lambda q: aa(f"/api/v1/search?q={urllib.parse.quote(q)}&limit=20")), ("mpd", mpd.search)):
        times = [fn(q)[0] for q in queries]
        r[name]["search_p50_ms"], r[name]["search_p99_ms"] = pct(times, 0.5), pct(times, 0.99)
    # The Subsonic API over the same catalog: search3 with the same queries, album lists, and an
    # empty search3 paging through every song as apps sync.
    # Token auth (md5(password + salt)), as apps send it: py-sonic, DSub, Symfonium...
    salt = "c19b2d"
    token = hashlib.md5(f"bench-password{salt}".encode()).hexdigest()
    rest = f"u=bench&t={token}&s={salt}&v=1.16.1&c=bench&f=json"

    def subsonic(method, query):
        took, body = aa(f"/rest/{method}?{rest}&{query}")
        if body["subsonic-response"]["status"] != "ok":
            raise SystemExit(f"{method}?{query}: {body}")
        return took, body["subsonic-response"]

    times = [subsonic("search3", f"query={urllib.parse.quote(q)}")[0] for q in queries]
    r["anyaudio"]["search3_p50_ms"], r["anyaudio"]["search3_p99_ms"] = pct(times, 0.5), pct(times, 0.99)
    albums = n_albums(args.tracks)
    for kind in ("newest", "alphabeticalByName", "alphabeticalByArtist", "random"):
        lists = [subsonic("getAlbumList2", f"type={kind}&size=50&offset={qrng.randrange(0, albums)}")[0]
                 for _ in range(args.queries // 3)]
        r["anyaudio"][f"list_{kind}_p50_ms"], r["anyaudio"][f"list_{kind}_p99_ms"] = pct(lists, 0.5), pct(lists, 0.99)
    synced, offset, pages = [], 0, []
    while True:
        took, page = subsonic("search3", f"query=&artistCount=0&albumCount=0&songCount=500&songOffset={offset}")
        pages.append(took)
        songs = page["searchResult3"].get("song", [])
        synced.extend(s["id"] for s in songs)
        if len(songs) < 500:
            break
        offset += len(songs)
    r["anyaudio"]["sync_songs"] = len(set(synced))
    r["anyaudio"]["sync_s"] = sum(pages)
    r["anyaudio"]["sync_page_p50_ms"], r["anyaudio"]["sync_page_p99_ms"] = pct(pages, 0.5), pct(pages, 0.99)
    prefixes = [q[: max(1, len(q) // 2)] for q in queries]
    times = [aa(f"/api/v1/suggest?q={urllib.parse.quote(p)}")[0] for p in prefixes]
    r["anyaudio"]["suggest_p50_ms"], r["anyaudio"]["suggest_p99_ms"] = pct(times, 0.5), pct(times, 0.99)
    for name, fn in (("anyaudio", lambda q: aa(f"/api/v1/search?q={urllib.parse.quote(q)}")[1]["total"]),
                     ("mpd", lambda q: mpd.search(q)[1])):
        r[name]["diacritics"] = all(fn(q) > 0 for q in ("beyonce", "motorhead", "bjork", "sigur ros"))
    r["anyaudio"]["serve_rss_kib"] = peak_rss_kib(server.pid)
    server.terminate()
    server.wait()
    built = [l for l in open(server_log) if "autocomplete index built" in l]
    m = re.search(r"elapsed=([\d.]+)(ms|s|µs)", built[0]) if built else None
    r["anyaudio"]["index_ms"] = float(m.group(1)) * {"ms": 1, "s": 1000, "µs": 0.001}[m.group(2)] if m else float("nan")
    print(json.dumps(r), file=sys.stderr)
    n = args.tracks
    a, m = r["anyaudio"], r["mpd"]
    print(f"\n{n} tracks (+{max(1, n // 5000)} corrupt files); expected {expected} after deleting {len(delete)}; "
          f"{args.queries} queries.\n")
    print("| | anyaudio | mpd | anyaudio / mpd |\n|---|---|---|---|")
    rows = [("initial scan (files/s)", n / a["scan_s"], n / m["scan_s"], "{:.0f}"),
            ("unchanged rescan (s)", a["rescan_s"], m["rescan_s"], "{:.2f}"),
            ("rescan, 1% retagged + 0.5% deleted (s)", a["changed_s"], m["changed_s"], "{:.2f}"),
            ("tracks afterwards (expected " + str(expected) + ")", a["count"], m["count"], "{}"),
            ("peak RSS while scanning (MiB)", a["scan_rss_kib"] / 1024, m["scan_rss_kib"] / 1024, "{:.1f}"),
            ("search p50 (ms)", a["search_p50_ms"], m["search_p50_ms"], "{:.2f}"),
            ("search p99 (ms)", a["search_p99_ms"], m["search_p99_ms"], "{:.2f}")]
    for label, x, y, f in rows:
        ratio = f"{x / y:.2f}×" if isinstance(x, (int, float)) and y else ""
        print(f"| {label} | {f.format(x)} | {f.format(y)} | {ratio} |")
    print(f"| autocomplete p50 / p99 (ms) | {a['suggest_p50_ms']:.2f} / {a['suggest_p99_ms']:.2f} | none | |")
    print(f"| autocomplete index built at server start (ms) | {a['index_ms']:.0f} | none | |")
    print(f"| server peak RSS after the searches (MiB) | {a['serve_rss_kib'] / 1024:.1f} | {m['scan_rss_kib'] / 1024:.1f} (after its scan) | |")
    print(f"\nThe Subsonic API (`/rest`, f=json, token auth) beside the JSON API, same server and catalog:\n")
    print("| | p50 (ms) | p99 (ms) | p50 / JSON search's |\n|---|---|---|---|")
    print(f"| JSON `/api/v1/search` (20 a page) | {a['search_p50_ms']:.2f} | {a['search_p99_ms']:.2f} | 1.00× |")
    print(f"| `search3` (20 artists, albums, songs) | {a['search3_p50_ms']:.2f} | {a['search3_p99_ms']:.2f} | "
          f"{a['search3_p50_ms'] / a['search_p50_ms']:.2f}× |")
    for kind in ("newest", "alphabeticalByName", "alphabeticalByArtist", "random"):
        print(f"| `getAlbumList2` {kind} (50 at a random offset) | {a[f'list_{kind}_p50_ms']:.2f} | "
              f"{a[f'list_{kind}_p99_ms']:.2f} | {a[f'list_{kind}_p50_ms'] / a['search_p50_ms']:.2f}× |")
    print(f"| `search3` empty query, a page of 500 songs (a sync) | {a['sync_page_p50_ms']:.2f} | "
          f"{a['sync_page_p99_ms']:.2f} | |")
    print(f"\nA whole sync: {a['sync_songs']} songs (of {a['count']}) in {a['sync_s']:.2f} s.\n")
    print(f"| diacritic-less queries find accented names | {'yes' if a['diacritics'] else 'no'} | {'yes' if m['diacritics'] else 'no'} | |")


if __name__ == "__main__":
    main()
