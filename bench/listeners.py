#!/usr/bin/env python3
"""Listener benchmark: how many listeners one small machine carries, and what each one costs.

Thousands of clients (examples/listeners.rs) on loopback, each reading a 7 MiB MP3 at 320 kbit/s,
pausing with the socket open, then seeking to the middle, for a bounded time. The same job is
done, one server at a time, by:
- nginx as a reverse proxy with buffering off (what a streaming proxy does);
- nginx as a tuned reverse proxy (`proxy_buffers 16 64k; proxy_buffer_size 64k`, upstream
  keep-alive): what a self-hoster puts in front of an origin;
- anyaudio, on a library file, on an HTTP track (the same file from the nginx origin), on a
  YouTube-style track (the googlevideo stand-in, resolved by the real yt-dlp), and on all three
  at once (clients spread over them).
The nginx configurations are run at both scales: as many listeners as each anyaudio kind alone,
and as many as all three at once. For each: the server's RSS when idle, at the peak and after
every listener left (RSS per listener is the peak above idle over the listeners), its CPU time
per listener, stalls (a client more than 2 s of audio behind its rate: a player running dry;
where the clients play several kinds, by kind, and before or after their seek) and errors.

And the kernel's side, which on loopback is one machine's: the TCP memory in use at the peak
(`/proc/net/sockstat`) against `tcp_mem`'s pressure mark and limit, where receivers drop
segments (`TCPRcvQDrop`, counted over the run) and senders wait for a retransmission timer;
and, from `ss -tm` snapshots every 10 s, the largest split of it between the server's own
sockets (toward its clients and toward its origin), its clients' and its origins'. A remote
origin's and a remote client's buffers would be on other machines. So would their CPU: the
machine's idle CPU over the run (and the seconds it had none) and the load generator's own CPU
say when a run measures the machine rather than the server.

Usage: bench/listeners.py [--clients 10000] [--seconds 60] [--per-kind 2000] [--tcp-mem-scale 3]
`--tcp-mem-scale` raises the kernel's TCP memory marks for the run (root; restored after), to
tell what the server needs from what its loopback clients and origins take of one machine's.
Installs what it needs as bench/run.py does. Descriptors: each process may have 20,000 here,
so a run of 10,000 proxied listeners (two sockets each) is split over kinds in the mixed run.
"""
import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the stream benchmark's helpers: nginx configs, yt-dlp stand-in, RSS)

ROOT = run.ROOT
PORTS = {"origin": 18111, "unbuffered": 18112, "tuned": 18113, "anyaudio": 18114}
TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pid):
    """User and system CPU seconds of a process and its children, added up."""
    return sum(tree_cpu_split_s(pid))


def tree_cpu_split_s(pid):
    """User CPU seconds of a process and its children, and their system CPU seconds."""
    user = system = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[1] is the parent; utime and stime are stat's 14th and 15th fields.
        if int(entry) == pid or int(fields[1]) == pid:
            user += int(fields[11])
            system += int(fields[12])
    return user / TICKS, system / TICKS


PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def tcp_memory_kib():
    """The TCP memory in use on this machine (/proc/net/sockstat counts it in pages)."""
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                fields = line.split()
                return int(fields[fields.index("mem") + 1]) * PAGE_KIB
    return 0


def tcp_mem_marks_kib():
    """`tcp_mem`'s pressure mark and limit: past the limit, receivers drop segments."""
    with open("/proc/sys/net/ipv4/tcp_mem") as f:
        _, pressure, limit = (int(v) * PAGE_KIB for v in f.read().split())
    return pressure, limit


def receive_queue_drops():
    """Segments receivers dropped for want of memory since boot (TcpExt TCPRcvQDrop)."""
    with open("/proc/net/netstat") as f:
        lines = [line.split() for line in f if line.startswith("TcpExt:")]
    names, values = lines[0], lines[1]
    return int(values[names.index("TCPRcvQDrop")])


def socket_memory_kib(server_port, origin_ports):
    """Kernel memory (skmem r + w + f) of the established TCP sockets, by whose they are."""
    out = subprocess.run(["ss", "-tnmH", "state", "established"], capture_output=True, text=True).stdout
    split = {"server": 0, "clients": 0, "origins": 0}
    owner = None
    for line in out.splitlines():
        if not line.startswith(("\t", " ")):
            fields = line.split()
            local, peer = (int(a.rsplit(":", 1)[1]) for a in fields[2:4])
            owner = ("server" if local == server_port or peer in origin_ports else
                     "clients" if peer == server_port else
                     "origins" if local in origin_ports else None)
            continue
        if owner and "skmem:(" in line:
            # skmem:(r<rmem_alloc>,rb<rcvbuf>,t<wmem_alloc>,tb<sndbuf>,f<fwd_alloc>,w<wmem_queued>,...)
            for item in line.split("skmem:(", 1)[1].split(")", 1)[0].split(","):
                name, value = item.rstrip("0123456789"), item.lstrip("abcdefghijklmnopqrstuvwxyz")
                if name in ("r", "w", "f"):
                    split[owner] += int(value)
    return {owner: held // 1024 for owner, held in split.items()}


def cpu_ticks():
    """The machine's idle and total CPU ticks so far, all CPUs (`/proc/stat`; iowait is idle)."""
    with open("/proc/stat") as f:
        user, nice, system, idle, iowait, irq, softirq = (int(v) for v in f.readline().split()[1:8])
    return idle + iowait, user + nice + system + idle + iowait + irq + softirq


class KernelSampler(threading.Thread):
    """The peak of the machine's TCP memory (every 0.5 s), the largest of `ss` snapshots
    (every 10 s: `ss` itself takes time at 40,000 sockets), and the machine's idle CPU in each
    2 s of a run."""

    WINDOW_S = 2

    def __init__(self, server_port, origin_ports):
        super().__init__(daemon=True)
        self.ports, self.peak_kib, self.split, self.stop = (server_port, origin_ports), 0, {}, False
        self.idle_windows = []  # (idle share, seconds) of each window

    def run(self):
        next_split = time.time() + 10
        window_start = (time.time(), *cpu_ticks())
        while not self.stop:
            self.peak_kib = max(self.peak_kib, tcp_memory_kib())
            if time.time() >= next_split:
                next_split += 10
                split = socket_memory_kib(*self.ports)
                if sum(split.values()) > sum(self.split.values()):
                    self.split = split
            # Windows are measured, not assumed: `ss` above may hold the loop for seconds.
            if time.time() >= window_start[0] + self.WINDOW_S:
                (start, idle0, total0), (end, idle1, total1) = window_start, (time.time(), *cpu_ticks())
                self.idle_windows.append(((idle1 - idle0) / max(1, total1 - total0), end - start))
                window_start = (end, idle1, total1)
            time.sleep(0.5)

    def cpu_report(self):
        """The machine's idle CPU over the run (%) and the seconds it had none (windows of 2 s
        or more under 2 % idle)."""
        seconds = sum(length for _, length in self.idle_windows) or 1
        idle = sum(share * length for share, length in self.idle_windows) / seconds
        return 100 * idle, round(sum(length for share, length in self.idle_windows if share < 0.02))


def make_mp3(path, seconds=180):
    """A 320 kbit/s MP3 of noise (7 MiB for three minutes), encoded by ffmpeg."""
    run.sh("ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"anoisesrc=d={seconds}:c=pink:a=0.3",
           "-ac", "2", "-ar", "44100", "-b:a", "320k", "-metadata", "title=Listener Bench",
           "-metadata", "artist=Bench", path)


def listeners(urls, clients, args):
    cmd = [os.path.join(ROOT, "target", "release", "examples", "listeners"), "--clients", str(clients),
           "--seconds", str(args.seconds), "--play", str(args.play), "--pause", str(args.pause),
           "--ramp", str(args.ramp)]
    for url in urls:
        cmd += ["--url", url]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def children_cpu_s():
    """CPU seconds of the finished children waited for (the load generator's runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(name, pid, port, urls, clients, args, kinds=None):
    """One run against the server `pid` on `port`: idle, peak and after RSS (KiB), CPU, the
    clients' view, the kernel's TCP memory and drops, the machine's idle CPU and the load
    generator's. `kinds` names the `urls`, where there are several."""
    time.sleep(1)
    idle, cpu_before, drops_before = run.tree_rss_kib(pid), tree_cpu_s(pid), receive_queue_drops()
    generator_before = children_cpu_s()
    sampler = run.PeakSampler(pid)
    kernel = KernelSampler(port, {PORTS["origin"], run.PORTS["googlevideo"]})
    sampler.start()
    kernel.start()
    seen = listeners(urls, clients, args)
    sampler.stop = kernel.stop = True
    sampler.join()
    kernel.join()
    cpu = tree_cpu_s(pid) - cpu_before
    generator = children_cpu_s() - generator_before
    drops = receive_queue_drops() - drops_before
    machine_idle_pct, saturated_s = kernel.cpu_report()
    time.sleep(3)  # the last connections close, the server settles
    after = run.tree_rss_kib(pid)
    r = dict(seen, name=name, idle_kib=idle, peak_kib=sampler.peak, after_kib=after, cpu_s=cpu,
             tcp_peak_kib=kernel.peak_kib, tcp_split_kib=kernel.split, receive_drops=drops,
             machine_idle_pct=machine_idle_pct, saturated_s=saturated_s, generator_cpu_s=generator,
             kinds=kinds or [])
    print(json.dumps(r), file=sys.stderr)
    return r


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=10000, help="listeners in the big runs")
    parser.add_argument("--per-kind", type=int, default=2000, help="listeners in each single-kind anyaudio run")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--play", type=int, default=10)
    parser.add_argument("--pause", type=int, default=10)
    parser.add_argument("--ramp", type=int, default=10)
    parser.add_argument("--only", choices=["nginx", "anyaudio"], help="measure one server only")
    parser.add_argument("--tcp-mem-scale", type=float, default=1,
                        help="multiply the kernel's tcp_mem for the run, restored after (root): on loopback the "
                             "clients' and origins' socket buffers count against the server machine's limit")
    args = parser.parse_args()
    with scaled_tcp_mem(args.tcp_mem_scale):
        measure_all(args)


@contextlib.contextmanager
def scaled_tcp_mem(scale):
    """The kernel's TCP memory marks (pages: no pressure below, pressure, limit) times `scale`
    while the block runs, as they were after. They are set at boot from the machine's memory and
    are one machine's for all its sockets: on loopback a server's listeners and origins spend
    them too, where remote ones would spend their own machines'."""
    path = "/proc/sys/net/ipv4/tcp_mem"
    if scale == 1:
        yield
        return
    with open(path) as f:
        before = f.read().split()
    with open(path, "w") as f:
        f.write(" ".join(str(int(int(pages) * scale)) for pages in before))
    try:
        yield
    finally:
        with open(path, "w") as f:
            f.write(" ".join(before))


def measure_all(args):
    venv = run.ensure_tools()
    run.sh("cargo", "build", "--release", "--quiet", "--example", "listeners", cwd=ROOT)
    work = tempfile.mkdtemp(prefix="anyaudio-listeners-")
    os.chmod(work, 0o755)  # nginx workers run as www-data
    library = os.path.join(work, "library")
    os.makedirs(library)
    mp3 = os.path.join(library, "listen.mp3")
    make_mp3(mp3)
    size = os.path.getsize(mp3)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    procs = {}
    origin_url = f"http://127.0.0.1:{PORTS['origin']}/library/listen.mp3"
    events = "worker_rlimit_nofile 20000;\nevents { worker_connections 19000; }"
    try:
        conf = run.nginx_conf(work, "origin", f"server {{ listen 127.0.0.1:{PORTS['origin']} backlog=4096; root {work}; "
                                              "sendfile on; tcp_nopush on; }", events)
        procs["origin"] = subprocess.Popen([nginx, "-c", conf, "-g", "daemon off;"])
        upstream = f"upstream origin {{ server 127.0.0.1:{PORTS['origin']}; keepalive 256; }}"
        proxy = 'proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";'
        conf = run.nginx_conf(work, "unbuffered", f"""{upstream}
    server {{ listen 127.0.0.1:{PORTS['unbuffered']} backlog=4096; location / {{ {proxy} proxy_buffering off; }} }}""",
                              events)
        procs["unbuffered"] = subprocess.Popen([nginx, "-c", conf, "-g", "daemon off;"])
        conf = run.nginx_conf(work, "tuned", f"""{upstream}
    server {{ listen 127.0.0.1:{PORTS['tuned']} backlog=4096; location / {{ {proxy}
        proxy_buffering on; proxy_buffers 16 64k; proxy_buffer_size 64k; }} }}""", events)
        procs["tuned"] = subprocess.Popen([nginx, "-c", conf, "-g", "daemon off;"])
        procs["googlevideo"] = subprocess.Popen(
            [os.path.join(ROOT, "target", "release", "examples", "googlevideo"), "--listen",
             f"127.0.0.1:{run.PORTS['googlevideo']}", "--file", mp3])
        anyaudio = [
            os.path.join(ROOT, "target", "release", "anyaudio"), "serve", "--listen",
            f"127.0.0.1:{PORTS['anyaudio']}", "--data-dir", os.path.join(work, "anyaudio-data"),
            "--library", library,
            "--youtube", *run.youtube_stand_in(work, venv, size), "--youtube-suggest-url", "",
            "--resolve", f"{run.GOOGLEVIDEO_HOST}=127.0.0.1",
            # Loopback origins (private addresses are refused as sources by default), every
            # client from one address (capped by default), a proxied listener holds an
            # upstream request (1,024 at once by default).
            "--allow-private-sources", "--max-connections-per-address", "100000",
            "--max-connections", "100000", "--max-upstream-requests", "100000"]
        base = f"http://127.0.0.1:{PORTS['anyaudio']}"

        def start_anyaudio():
            """A fresh server process (each kind is measured from its own idle state) on the
            same data dir: same catalog, same signing key, so the stream URLs stay good."""
            procs["anyaudio"] = subprocess.Popen(anyaudio, env=dict(os.environ, ANYAUDIO_LOG="warn"))
            for _ in range(300):  # the library is scanned and the YouTube source checked
                try:
                    health = json.load(urllib.request.urlopen(f"{base}/healthz", timeout=2))
                    found = json.load(urllib.request.urlopen(f"{base}/api/v1/search?q=listener", timeout=2))
                    if health["sources"]["youtube"]["available"] and found["tracks"]:
                        return found["tracks"][0]["id"]
                except Exception:
                    pass
                time.sleep(0.1)
            raise SystemExit("anyaudio never became ready")

        def stop_anyaudio():
            run.stop_all({"anyaudio": procs.pop("anyaudio")})

        for key in ("origin", "unbuffered", "tuned"):
            run.wait_http(f"http://127.0.0.1:{PORTS[key]}/library/listen.mp3")
        local_id = start_anyaudio()

        def stream_url(track, query=""):
            return base + json.load(urllib.request.urlopen(f"{base}/api/v1/tracks/{track}/stream_url{query}"))["url"]

        request = urllib.request.Request(f"{base}/api/v1/sources/http", data=json.dumps({"url": origin_url}).encode(),
                                         headers={"content-type": "application/json"})
        http_id = json.load(urllib.request.urlopen(request))["tracks"][0]["id"]
        kinds = {
            "library file": stream_url(local_id),
            "HTTP track": stream_url(http_id),
            "YouTube-style track": stream_url("yt-uApthBVk7mw", "?format=opus"),
        }
        stop_anyaudio()
        results = []
        if args.only != "anyaudio":
            for clients in (args.per_kind, args.clients):
                for key, label in (("unbuffered", "nginx proxy, unbuffered"), ("tuned", "nginx proxy, buffered 16×64k")):
                    url = f"http://127.0.0.1:{PORTS[key]}/library/listen.mp3"
                    results.append(measure(label, procs[key].pid, PORTS[key], [url], clients, args))
        if args.only != "nginx":
            runs = [(f"anyaudio, {label}", {label: url}, args.per_kind) for label, url in kinds.items()]
            runs.append(("anyaudio, all three kinds", kinds, args.clients))
            for label, urls, clients in runs:
                start_anyaudio()
                results.append(measure(label, procs["anyaudio"].pid, PORTS["anyaudio"], list(urls.values()), clients,
                                       args, kinds=list(urls)))
                stop_anyaudio()
        print_table(results, args, size)
    finally:
        run.stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


def print_table(results, args, size):
    print(f"\n{size / 1048576:.1f} MiB MP3 at 320 kbit/s; each listener plays {args.play} s, pauses {args.pause} s with "
          f"the socket open, seeks to the middle and plays on; clients connect over {args.ramp} s; {args.seconds} s "
          "a run.\n")
    print("| | listeners | stalls | errors | TTFB p50 / p99 (ms) | RSS idle → peak → after (MiB) | "
          "RSS per listener (KiB) | CPU per listener (ms/s) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        per = max(0, r["peak_kib"] - r["idle_kib"]) / r["clients"]
        cpu = r["cpu_s"] * 1000 / r["clients"] / r["elapsed_s"]
        print(f"| {r['name']} | {r['clients']} | {r['stalls']} | {r['errors']} | "
              f"{r['ttfb_p50_ms']:.2f} / {r['ttfb_p99_ms']:.2f} | "
              f"{r['idle_kib'] / 1024:.0f} → {r['peak_kib'] / 1024:.0f} → {r['after_kib'] / 1024:.0f} | {per:.1f} | {cpu:.3f} |")
    pressure, limit = tcp_mem_marks_kib()
    scaled = f", {args.tcp_mem_scale:g}× its own for this run" if args.tcp_mem_scale != 1 else ""
    print(f"\nThe kernel's TCP memory (this machine's `tcp_mem`: pressure from {pressure / 1024:.0f} MiB, limit "
          f"{limit / 1024:.0f} MiB{scaled}), and the largest `ss -tm` snapshot's split, KiB a listener:\n")
    print("| | listeners | TCP memory at the peak (MiB) | segments dropped by receivers | the server's sockets | "
          "its clients' | its origins' | machine's idle CPU (%) | seconds with none | load generator (cores) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        split = r["tcp_split_kib"] or {"server": 0, "clients": 0, "origins": 0}
        print(f"| {r['name']} | {r['clients']} | {r['tcp_peak_kib'] / 1024:.0f} | {r['receive_drops']} | "
              f"{split['server'] / r['clients']:.1f} | {split['clients'] / r['clients']:.1f} | "
              f"{split['origins'] / r['clients']:.1f} | {r['machine_idle_pct']:.0f} | {r['saturated_s']} | "
              f"{r['generator_cpu_s'] / r['elapsed_s']:.2f} |")
    for r in results:
        if len(r["kinds"]) > 1 and r["stalls"]:
            by_kind = ", ".join(f"{kind} {n}" for kind, n in zip(r["kinds"], r["stalls_by_url"]))
            before, after = r["stalls_by_play"]
            print(f"\n{r['name']}: stalls by kind: {by_kind}; {before} before the seek, {after} after it.")


if __name__ == "__main__":
    main()
