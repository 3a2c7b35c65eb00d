"""Benchmark: the positions endpoint for 1,000 objects, 50 concurrent clients,
the full 2023-10-13 catalog (26,140 objects) loaded, on loopback.

The server is ``satwatch serve`` (uvicorn, one process) in a subprocess; the
load generator is ``wrk`` (Debian package; one thread, 50 connections, a
fixed duration per run) where installed, else an asyncio httpx client with 50
concurrent connections (closed loop, a bounded number of requests per run;
it needs far more CPU per request than wrk, which on a small machine it
takes from the server).  Each request asks for the same 1,000
NORAD ids; ``--at now`` (default) is what the page does, with the server's
clock replaying 2023-10-13 (``satwatch serve --now``).

With wrk, each run also sends a different slice of 1,000 ids in every
request (a Lua script), so nothing is shared between requests: the worst case.

Baseline, timed in the same run: the same request answered in-process
(FastAPI's TestClient, one at a time, no network, no concurrency), its clock
replaying the same day as the server's (it ran on the real clock, so
``at=now`` propagated the 2023 sets to today: other work than the server's).

Prints medians over ``--runs`` runs of p50 and p99 latency and throughput;
the target is p99 under 100 ms.  The LAST line is the ratio of the loopback
p99 at 50 clients to the in-process single-request median.

    python benchmarks/api.py [--requests 1000] [--runs 3] [--clients 50]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SATWATCH_REFERENCE_DATA", ROOT.parent / "shared" / "data"))
CATALOG = DATA / "catalogs" / "full-3le-2023-10-13.txt"
TARGET_P99_MS = 100.0
# The server's clock replays the catalog's own days (serve --now): positions
# "now" are then a few days from the element sets' epochs, as with a fresh
# catalog.  (Propagating 2023 elements to today's date would time SGP4's
# deep-space integrator over years, not the service.)
SIMULATED_NOW = "2023-10-13T00:00:00Z"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, SATWATCH_CACHE_DIR=str(tmp / "cache"),
               SATWATCH_DATA_DIR=str(tmp / "data"))
    cmd = [sys.executable, "-c", "from satwatch.cli import main; main()", "serve", "--port",
           str(port), "--db", f"sqlite:///{tmp / 'bench.sqlite'}", "--catalog", str(CATALOG),
           "--log-level", "warning", "--now", SIMULATED_NOW]
    proc = subprocess.Popen(cmd, env=env)
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    while True:
        try:
            if httpx.get(url + "/api/v1/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() - t0 > 120:
            proc.kill()
            sys.exit("the server did not start")
        time.sleep(0.1)
    print(f"server ready in {time.monotonic() - t0:.1f} s (catalog loaded once)")
    return proc, url


async def load(url: str, path: str, n_requests: int, clients: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    remaining = n_requests
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        async def worker():
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                t = time.perf_counter()
                r = await client.get(path)
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    raise SystemExit(f"HTTP {r.status_code}: {r.text[:200]}")
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t0
    return latencies, wall


def _ms(text: str) -> float:
    value = float(re.match(r"[\d.]+", text).group())
    return value * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[re.search(r"[a-z]+$", text).group()]


WRK_VARIED = """
local ids = {}
local n_obj = tonumber(os.getenv("BENCH_OBJECTS"))
local at = os.getenv("BENCH_AT")
for id in io.open(os.getenv("BENCH_IDS_FILE")):read("*a"):gmatch("%d+") do ids[#ids + 1] = id end
math.randomseed(os.time())
request = function()
  local o = math.random(0, #ids - n_obj)
  return wrk.format("GET", "/api/v1/positions?at=" .. at .. "&ids=" ..
                    table.concat(ids, ",", o + 1, o + n_obj))
end
"""


def run_wrk(url: str, clients: int, seconds: float, script: str | None = None,
            env: dict | None = None) -> tuple[int, float, float, float]:
    """One wrk run: (requests, p50 ms, p99 ms, requests/s)."""
    cmd = ["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--latency", "--timeout", "30s"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True,
                         env={**os.environ, **(env or {})}).stdout
    p50 = _ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    n = int(re.search(r"(\d+) requests in", out).group(1))
    if "Non-2xx" in out:
        sys.exit("wrk saw non-2xx answers:\n" + out)
    return n, p50, p99, rate


def in_process_baseline(ids_text: str, at: str, repeats: int) -> float:
    import satwatch
    from fastapi.testclient import TestClient

    from satwatch.web import Settings, create_app
    catalog = satwatch.load_catalog(CATALOG)
    offset = satwatch.utc(SIMULATED_NOW).ns - time.time_ns()     # as serve --now does
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(catalog=catalog, db_url=f"sqlite:///{tmp}/b.sqlite",
                                  clock_ns=lambda: time.time_ns() + offset))
        with TestClient(app) as client:
            path = f"/api/v1/positions?ids={ids_text}&at={at}"
            client.get(path)
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                assert client.get(path).status_code == 200
                times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=1000, help="requests per run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--objects", type=int, default=1000)
    ap.add_argument("--at", default="now", help="'now' or an ISO time")
    ap.add_argument("--tool", choices=["auto", "wrk", "httpx"], default="auto")
    ap.add_argument("--seconds", type=float, default=10.0, help="wrk: seconds per run")
    ap.add_argument("--no-varied", dest="varied", action="store_false",
                    help="wrk: skip the runs where every request asks for different objects")
    args = ap.parse_args()
    if not CATALOG.is_file():
        sys.exit(f"missing {CATALOG} (set SATWATCH_REFERENCE_DATA)")
    import satwatch
    all_ids = satwatch.load_catalog(CATALOG).norad_ids
    ids = all_ids[:args.objects]
    varied: list = []
    ids_text = ",".join(str(int(n)) for n in ids)
    path = f"/api/v1/positions?ids={ids_text}&at={args.at}"
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp), 1)
        try:
            tool = args.tool
            if tool == "auto":
                tool = "wrk" if shutil.which("wrk") else "httpx"
            print(f"load generator: {tool}")
            asyncio.run(load(url, path, 100, args.clients))          # warm-up
            p50s, p99s, rates = [], [], []
            for run in range(args.runs):
                if tool == "wrk":
                    n, p50, p99, rate = run_wrk(url + path, args.clients, args.seconds)
                    if args.varied:
                        (Path(tmp) / "ids.txt").write_text(
                            " ".join(str(int(x)) for x in all_ids))
                        (Path(tmp) / "varied.lua").write_text(WRK_VARIED)
                        vn, v50, v99, vrate = run_wrk(
                            url, args.clients, args.seconds, str(Path(tmp) / "varied.lua"),
                            {"BENCH_IDS_FILE": str(Path(tmp) / "ids.txt"),
                             "BENCH_OBJECTS": str(args.objects), "BENCH_AT": args.at})
                        varied.append((v50, v99, vrate))
                        print(f"run {run + 1}, a different set of {args.objects} objects in "
                              f"each request: {vn} requests, p50 {v50:.1f} ms, "
                              f"p99 {v99:.1f} ms, {vrate:.0f} req/s")
                else:
                    lat, wall = asyncio.run(load(url, path, args.requests, args.clients))
                    ms = np.array(lat) * 1e3
                    n, p50, p99 = len(lat), np.percentile(ms, 50), np.percentile(ms, 99)
                    rate = len(lat) / wall
                p50s.append(p50)
                p99s.append(p99)
                rates.append(rate)
                print(f"run {run + 1}: {n} requests, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                      f"{rate:.0f} req/s")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    base = in_process_baseline(ids_text, args.at, 30) * 1e3
    p50, p99, rate = statistics.median(p50s), statistics.median(p99s), statistics.median(rates)
    print(f"positions of {args.objects} objects, {args.clients} clients, {args.runs} runs "
          f"with {tool} (medians): p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"throughput {rate:.0f} req/s; target p99 < {TARGET_P99_MS:.0f} ms: "
          f"{'met' if p99 < TARGET_P99_MS else 'NOT met'}")
    if varied:
        v50, v99, vrate = (statistics.median(x) for x in zip(*varied))
        print(f"a different set of {args.objects} objects in each request (no shared work, "
              f"medians): p50 {v50:.1f} ms, p99 {v99:.1f} ms, throughput {vrate:.0f} req/s; "
              f"target p99 < {TARGET_P99_MS:.0f} ms: {'met' if v99 < TARGET_P99_MS else 'NOT met'}")
    print(f"baseline: the same request in-process, one at a time: median {base:.2f} ms")
    print(f"ratio p99 at {args.clients} clients / in-process median: {p99 / base:.1f}")


if __name__ == "__main__":
    main()
