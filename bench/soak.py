#!/usr/bin/env python3
"""Soak test: hundreds of listeners for a bounded few minutes on loopback, then SIGTERM.

Listeners (examples/soak.rs), in rounds, play, seek, pause and hang up at random across library files (two
long WAVs and one file of every format), an HTTP track from a faulty origin (examples/origin.rs:
every connection dropped after 768 KiB, some requests answered 500) and a YouTube-style track
(the googlevideo stand-in, resolved by the real yt-dlp and the tests' recorded-YouTube plugin), checking every byte; a
rescan runs every 7.5 s, a file added, then removed. Before, during and after: the server's
descriptors, threads, runtime tasks and RSS. Last, 100 listeners are mid-stream when the server
gets SIGTERM: each stream must end whole or closed (never a wrong byte), the server must exit
within its grace period.

Usage: scripts/soak.sh [--seconds 90] [--rounds 2] [--clients 300]   (not part of CI; ~8 minutes)
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the stream benchmark's helpers: the recorded-YouTube yt-dlp, RSS of a process)

ROOT = run.ROOT
PORTS = dict(run.PORTS, origin=18106)
GRACE = 5
# src/upstream/clients.rs POOL_IDLE_TIMEOUT: an idle upstream connection is kept this long, and
# swept at this interval: after twice that, every connection of the load is gone.
POOL_IDLE = 30
SETTLE = 2 * POOL_IDLE + 5


def release(name):
    return os.path.join(ROOT, "target", "release", *(["examples"] if name != "anyaudio" else []), name)


def ensure_tools():
    venv = os.path.join(ROOT, "bench", ".venv-soak")
    if not os.path.exists(os.path.join(venv, "bin", "yt-dlp")):
        run.sh(sys.executable, "-m", "venv", venv)
        run.sh(os.path.join(venv, "bin", "pip"), "install", "-q", "-r", os.path.join(ROOT, "scripts", "test-requirements.txt"))
    run.sh("cargo", "build", "--release", "--quiet", "--bin", "anyaudio", "--example", "soak", "--example", "origin",
           "--example", "googlevideo", cwd=ROOT)
    return venv


def write_wav(path, mib):
    """A valid WAV of noise (the scan reads it; the bytes are what the listeners check)."""
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        for _ in range(mib):
            w.writeframes(os.urandom(1024 * 1024))


def get(base, path):
    return json.load(urllib.request.urlopen(f"{base}{path}", timeout=30))


def post(base, path, body=None):
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(f"{base}{path}", data=data, headers={"content-type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=60))


def wait_scan(base):
    for _ in range(3000):
        scan = get(base, "/api/v1/scan")["scan"]
        if not scan["running"] and scan.get("finished_at"):
            return scan
        time.sleep(0.1)
    raise SystemExit("the scan never finished")


def process_state(pid, base):
    """Descriptors, threads, RSS (KiB) of the server, and its runtime's live tasks."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.split()[0] if value.split() else ""
    tasks = None
    try:
        metrics = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
        for line in metrics.splitlines():
            if line.startswith("anyaudio_runtime_alive_tasks"):
                tasks = int(float(line.split()[-1]))
    except OSError:
        pass
    return {"fds": fds, "threads": int(status["Threads"]), "rss_kib": int(status["VmRSS"]), "tasks": tasks}


def descriptor_kinds(pid):
    """What the server's descriptors are: sockets, the catalog's files, others."""
    kinds = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kind = target.split(":")[0] if ":" in target and not target.startswith("/") else os.path.basename(target)
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def sockets(pid):
    """The server's TCP sockets by state and by the port of their other end."""
    out = subprocess.run(["ss", "-tanpH"], capture_output=True, text=True).stdout
    counts = {}
    for line in out.splitlines():
        if f"pid={pid}," not in line:
            continue
        fields = line.split()
        state, local, peer = fields[0], fields[3], fields[4]
        port = local.rsplit(":", 1)[1] if local.endswith(f":{PORTS['anyaudio']}") else peer.rsplit(":", 1)[1]
        key = f"{state} {'client' if port != '*' and local.endswith(str(PORTS['anyaudio'])) else 'upstream:' + port}"
        counts[key] = counts.get(key, 0) + 1
    return counts


class Sampler(threading.Thread):
    """The highest descriptors, threads, tasks and RSS seen while the load runs."""

    def __init__(self, pid, base):
        super().__init__(daemon=True)
        self.pid, self.base, self.stop, self.peak = pid, base, False, {}

    def run(self):
        while not self.stop:
            try:
                state = process_state(self.pid, self.base)
            except OSError:
                break
            for k, v in state.items():
                if v is not None:
                    self.peak[k] = max(self.peak.get(k, 0), v)
            time.sleep(1)


class Rescanner(threading.Thread):
    """Every 7.5 s a rescan: a file added, then the file removed."""

    def __init__(self, base, library):
        super().__init__(daemon=True)
        self.base, self.library, self.stop, self.scans, self.problems = base, library, False, 0, []

    def run(self):
        source = os.path.join(ROOT, "tests", "fixtures", "formats", "Format flac.flac")
        added = os.path.join(self.library, "Soak", "Added During Soak.flac")
        while not self.stop:
            for step in ("add", "remove"):
                time.sleep(7.5)
                if self.stop:
                    return
                if step == "add":
                    shutil.copy(source, added)
                else:
                    os.remove(added)
                try:
                    post(self.base, "/api/v1/scan")
                    report = wait_scan(self.base)
                    self.scans += 1
                    if report["errors"]:
                        self.problems.append(report)
                except Exception as e:  # noqa: BLE001 (reported in the summary)
                    self.problems.append(str(e))


def soak(args, mode, clients, seconds, manifest, base, on_ready=None):
    proc = subprocess.Popen([release("soak"), "--base", base, "--manifest", manifest, "--mode", mode,
                             "--clients", str(clients), "--seconds", str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    result = None
    for line in proc.stdout:
        if line.startswith("ready") and on_ready:
            on_ready(int(line.split()[1]))
        elif line.startswith("{"):
            result = json.loads(line)
    proc.wait()
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=90, help="per round")
    parser.add_argument("--rounds", type=int, default=2, help="a leak grows from one round to the next; retention does not")
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--drain-clients", type=int, default=100)
    args = parser.parse_args()
    venv = ensure_tools()
    work = tempfile.mkdtemp(prefix="anyaudio-soak-")
    procs = {}
    try:
        library = os.path.join(work, "library")
        shutil.copytree(os.path.join(ROOT, "tests", "fixtures", "formats"), os.path.join(library, "Formats"))
        os.makedirs(os.path.join(library, "Soak"))
        write_wav(os.path.join(library, "Soak", "Soak Long One.wav"), 16)
        write_wav(os.path.join(library, "Soak", "Soak Long Two.wav"), 32)
        write_wav(os.path.join(work, "remote.wav"), 24)
        youtube_size = 20 * 1024 * 1024
        with open(os.path.join(work, "youtube.webm"), "wb") as f:
            f.write(os.urandom(youtube_size))

        procs["origin"] = subprocess.Popen([release("origin"), "--listen", f"127.0.0.1:{PORTS['origin']}", "--file",
                                            os.path.join(work, "remote.wav"), "--drop-every", str(768 * 1024),
                                            "--server-error-at", "3,40,200,700,1500,3000"])
        procs["googlevideo"] = subprocess.Popen([release("googlevideo"), "--listen", f"127.0.0.1:{PORTS['googlevideo']}",
                                                 "--file", os.path.join(work, "youtube.webm")])
        base = f"http://127.0.0.1:{PORTS['anyaudio']}"
        procs["anyaudio"] = subprocess.Popen(
            [release("anyaudio"), "serve", "--listen", f"127.0.0.1:{PORTS['anyaudio']}", "--library", library,
             "--data-dir", os.path.join(work, "data"), "--shutdown-grace", str(GRACE),
             "--youtube", *run.youtube_stand_in(work, venv, youtube_size), "--youtube-suggest-url", "",
             "--resolve", f"{run.GOOGLEVIDEO_HOST}=127.0.0.1",
             # The origins are on loopback, which sources may not be by default (SSRF), and
             # every load-test client comes from one address, which is capped by default.
             "--allow-private-sources", "--max-connections-per-address", "100000",
             "--max-connections", "100000"],
            env=dict(os.environ, ANYAUDIO_LOG="warn"))
        server = procs["anyaudio"]
        for _ in range(300):
            try:
                get(base, "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        wait_scan(base)
        for _ in range(100):
            if get(base, "/healthz")["sources"]["youtube"]["available"]:
                break
            time.sleep(0.1)
        remote = post(base, "/api/v1/sources/http", {"url": f"http://127.0.0.1:{PORTS['origin']}/remote.wav"})["tracks"][0]

        entries = []
        for name in sorted(os.listdir(os.path.join(library, "Formats"))):
            if name.endswith(".md"):
                continue
            title = os.path.splitext(name)[0]
            found = get(base, "/api/v1/search?q=" + urllib.parse.quote(title) + "&limit=100")["tracks"]
            track = next(t for t in found if t["title"] == title)
            entries.append({"id": track["id"], "file": os.path.join(library, "Formats", name)})
        for title, name in (("Soak Long One", "Soak Long One.wav"), ("Soak Long Two", "Soak Long Two.wav")):
            track = next(t for t in get(base, "/api/v1/search?q=" + urllib.parse.quote(title))["tracks"]
                         if t["title"] == title)
            entries += [{"id": track["id"], "file": os.path.join(library, "Soak", name)}] * 4
        entries += [{"id": remote["id"], "file": os.path.join(work, "remote.wav")}] * 8
        entries += [{"id": "yt-uApthBVk7mw", "file": os.path.join(work, "youtube.webm"), "format": "opus"}] * 8
        manifest = os.path.join(work, "manifest.json")
        with open(manifest, "w") as f:
            json.dump(entries, f)

        warm = soak(args, "run", 8, 5, manifest, base)
        # Idle: after the warm-up's pooled upstream connections expire (their tasks and sockets
        # are the pool's, kept POOL_IDLE_TIMEOUT for reuse) and the blocking threads idle out.
        time.sleep(SETTLE)
        idle = process_state(server.pid, base)
        print(f"idle descriptors: {descriptor_kinds(server.pid)}", file=sys.stderr)
        print(f"idle: {idle}; warm-up: {warm['requests']} requests, {warm['errors']} errors", file=sys.stderr)

        sampler, rescanners = Sampler(server.pid, base), []
        sampler.start()
        rounds = []
        for _ in range(args.rounds):
            rescanner = Rescanner(base, library)
            rescanner.start()
            load = soak(args, "run", args.clients, args.seconds, manifest, base)
            rescanner.stop = True
            rescanner.join()
            rescanners.append(rescanner)
            print(f"load: {json.dumps(load)}", file=sys.stderr)
            time.sleep(3)
            after = process_state(server.pid, base)
            time.sleep(SETTLE)
            settled = process_state(server.pid, base)
            print(f"sockets left: {sockets(server.pid)}; descriptors: {descriptor_kinds(server.pid)}", file=sys.stderr)
            rounds.append((load, after, settled))
        sampler.stop = True
        sampler.join()

        stopped = {}

        def terminate(started):
            stopped["streams"] = started
            stopped["at"] = time.monotonic()
            server.send_signal(signal.SIGTERM)

        def watch_exit():
            server.wait()
            stopped["exited"] = time.monotonic()

        drain = {}
        waiter = threading.Thread(target=lambda: drain.update(
            soak(args, "drain", args.drain_clients, 0, manifest, base, on_ready=terminate)))
        waiter.start()
        exit_watch = threading.Thread(target=watch_exit, daemon=True)
        exit_watch.start()
        waiter.join(timeout=120)
        exit_watch.join(timeout=30)
        exit_seconds = stopped.get("exited", float("nan")) - stopped.get("at", float("nan"))

        print_summary(args, idle, sampler.peak, rounds, rescanners, drain, stopped, exit_seconds, server.returncode)
    finally:
        run.stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


def print_summary(args, idle, peak, rounds, rescanners, drain, stopped, exit_seconds, code):
    print(f"Soak: {args.clients} listeners, {args.rounds} rounds of {args.seconds} s, then SIGTERM with "
          f"{args.drain_clients} streams in flight\n")
    heads = [f"round {n + 1}: 3 s after | {SETTLE} s after" for n in range(len(rounds))]
    print(f"| | idle (after warm-up) | peak under load | {' | '.join(heads)} |")
    print("|---" * (3 + 2 * len(rounds)) + "|")
    for key, name, mib in (("fds", "open descriptors", False), ("threads", "threads", False),
                           ("tasks", "runtime tasks", False), ("rss_kib", "RSS", True)):
        show = (lambda v: f"{v / 1024:.1f} MiB") if mib else str
        cells = [f"{show(after[key])} | {show(settled[key])}" for _, after, settled in rounds]
        print(f"| {name} | {show(idle[key])} | {show(peak.get(key, 0))} | {' | '.join(cells)} |")
    print()
    for n, (load, _, _) in enumerate(rounds):
        print(f"- round {n + 1}: {load['requests']} streams ({load['whole_bodies_checked']} whole files and "
              f"{load['partial_bodies_checked']} ranges read to their end and checked byte for byte, "
              f"{load['hung_up']} hung up on purpose, {load['paused']} paused), {load['mib']:.0f} MiB; "
              f"errors: {load['errors']}, wrong bytes: {load['wrong_bytes']} {load['error_samples'] or ''}")
    problems = [p for r in rescanners for p in r.problems]
    print(f"- rescans during the load: {sum(r.scans for r in rescanners)}, problems: {problems or 'none'}")
    print(f"- SIGTERM with {stopped.get('streams')} streams in flight: server exited in {exit_seconds:.2f} s "
          f"(grace {GRACE} s, exit code {code}); streams: {drain.get('whole_bodies_checked')} whole, "
          f"{drain.get('closed_early')} closed early, {drain.get('wrong_bytes')} with wrong bytes, "
          f"{drain.get('errors')} errors {drain.get('error_samples') or ''}")


if __name__ == "__main__":
    main()
