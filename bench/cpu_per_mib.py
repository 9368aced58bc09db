#!/usr/bin/env python3
"""What a MiB costs each server at 256 clients: bench/run.py's servers held, and its concurrent
run (256 clients asking 1 MiB ranges) repeated against nginx serving the file (`sendfile`),
anyaudio's library file, the tuned nginx, anyaudio's HTTP track and its YouTube-style track in
turn. For each run: requests a second, the server's CPU a MiB (user and system time, from
/proc), its origin's CPU a MiB where it has one (nginx's `sendfile`, or the googlevideo
stand-in), the TCP connections opened and segments retransmitted on the machine (`nstat`), and
the server's RSS idle and at the peak.

At 256 clients the proxy, its origin and the load generator share the machine's two cores, so
the proxy that spends less CPU a MiB serves more; alternating short runs compare two builds
(`--bin`) under the same conditions, which the medians of bench/run.py cannot at this spread.

Usage: bench/cpu_per_mib.py [--rounds 2] [--seconds 5] [--bin target/release/anyaudio]
Installs what it needs as bench/run.py does.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the stream benchmark's servers and helpers)
import listeners  # noqa: E402  (tree_cpu_s)

PORTS = run.PORTS


def nstat(*counters):
    """The counters' increase since the last call (`nstat` keeps its own history)."""
    out = subprocess.run(["nstat", *counters], capture_output=True, text=True).stdout.splitlines()[1:]
    values = {line.split()[0]: int(line.split()[1]) for line in out if line.strip()}
    return [values.get(c, 0) for c in counters]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--bin", default=os.path.join(run.ROOT, "target", "release", "anyaudio"),
                        help="the anyaudio binary to measure (another build to compare)")
    args = parser.parse_args()
    venv = run.ensure_tools()
    if not shutil.which("nstat"):
        run.sh("apt-get", "install", "-y", "-qq", "--no-install-recommends", "iproute2")
    size = 256 * 1024 * 1024
    work, bench_file, library = run.bench_media("anyaudio-cpu-", size)
    procs = {}
    try:
        procs.update(run.start_servers(work, venv, bench_file, library, size, args.bin))
        urls, _ = run.anyaudio_streams(f"http://127.0.0.1:{PORTS['anyaudio']}", f"http://127.0.0.1:{PORTS['origin']}/bench.wav")
        targets = [
            ("nginx static (sendfile)", f"http://127.0.0.1:{PORTS['origin']}/bench.wav", "origin", None),
            ("anyaudio, library file", urls["library file"], "anyaudio", None),
            ("tuned nginx", f"http://127.0.0.1:{PORTS['tuned']}/bench.wav", "tuned", "origin"),
            ("anyaudio, HTTP track", urls["HTTP track"], "anyaudio", "origin"),
            ("anyaudio, YouTube-style track", urls["YouTube-style track"], "anyaudio", "googlevideo"),
        ]

        class Load:
            requests, concurrency, seconds = 300, 256, args.seconds

        print("| round | | req/s | server CPU a MiB: user + system (ms) | origin CPU a MiB (ms) | connections opened "
              "| segments retransmitted | server RSS idle → peak (MiB) |")
        print("|---|---|---|---|---|---|---|---|")
        for round_ in range(args.rounds):
            for name, url, proxy, origin in targets:
                tree = proxy != "anyaudio"  # anyaudio's yt-dlp workers are not on the stream path
                origin_cpu_s = (lambda: listeners.tree_cpu_s(procs[origin].pid)) if origin else (lambda: 0.0)
                proxy_before, origin_before = listeners.tree_cpu_split_s(procs[proxy].pid), origin_cpu_s()
                idle = run.tree_rss_kib(procs[proxy].pid, tree)
                sampler = run.PeakSampler(procs[proxy].pid, tree)
                sampler.start()
                nstat("TcpActiveOpens", "TcpRetransSegs")
                result = run.loadgen(url, size, "concurrent", Load)
                opened, retransmitted = nstat("TcpActiveOpens", "TcpRetransSegs")
                sampler.stop = True
                sampler.join()
                user, system = (after - before for after, before in zip(listeners.tree_cpu_split_s(procs[proxy].pid), proxy_before))
                origin_cpu = origin_cpu_s() - origin_before
                mib = result["requests_per_s"] * args.seconds
                print(f"| {round_ + 1} | {name} | {result['requests_per_s']:.0f} | {1000 * user / mib:.3f} + "
                      f"{1000 * system / mib:.3f} = {1000 * (user + system) / mib:.3f} | "
                      f"{f'{1000 * origin_cpu / mib:.3f}' if origin else '—'} | "
                      f"{opened} | {retransmitted} | {idle / 1024:.0f} → {sampler.peak / 1024:.0f} |", flush=True)
    finally:
        run.stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
