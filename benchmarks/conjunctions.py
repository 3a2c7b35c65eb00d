"""Benchmark: all-vs-all conjunction screening of the full catalog.

    python benchmarks/conjunctions.py                 # 26,140 objects, 24 h, 5 km
    python benchmarks/conjunctions.py --days 7 --repeat 2 --repeat-one 1
    python benchmarks/conjunctions.py --dask 2        # also on a 2-process Dask LocalCluster

satwatch is timed twice: in one process (``workers=1``) and with the
default of the CLI, one process per core (``workers=os.cpu_count()``); both
must give the same events, bit for bit (checked and printed).

Baseline, timed in the same run: the naive approach (every pair's distance at
every 0.5 s sample, the densest step that a 5 km threshold at 15 km/s of
closing speed needs not to step over an approach) on a random sample of the
catalog, extrapolated to the whole catalog and window: its SGP4 part by the
object count and the sample count, its pair part by the pair count and the
sample count (scaling the SGP4 part by pairs, as before, overstated the
naive time by ~8%).  The pair distances are computed for 20 samples at a
time (one sample at a time was ~30% slower on the same sample).  Prints events found, stage pass-through, medians of the
timings, the peak memory (ru_maxrss), and as the last line the ratio of the
naive time (one process) to satwatch's, in one process and on all cores.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from satwatch import load_catalog  # noqa: E402
from satwatch.conjunctions import ScreeningSettings, screen_conjunctions  # noqa: E402
from satwatch.time import utc  # noqa: E402

CATALOG = ROOT.parent / "shared" / "data" / "catalogs" / "full-3le-2023-10-13.txt"
START = "2023-10-13T00:00:00Z"
NAIVE_STEP_S = 0.5
NAIVE_SAMPLE = 400
NAIVE_SPAN_S = 300.0


def naive(catalog, start, span_s, step_s, threshold_km, chunk=20):
    """Every pair, every sample: the reference cost of screening without
    filters.  Returns the pair-samples under the threshold and the seconds
    spent in SGP4 (scales with objects) and on the pairs (scales with pairs)."""
    from sgp4.api import SatrecArray
    t0 = time.perf_counter()
    times = start + np.arange(0.0, span_s + step_s / 2, step_s)
    jd, fr = times.jd_utc()
    _, r, _ = SatrecArray(catalog.satrecs).sgp4(np.ascontiguousarray(jd, float),
                                               np.ascontiguousarray(fr))
    t1 = time.perf_counter()
    n = len(catalog)
    iu, ju = np.triu_indices(n, 1)
    close = 0
    for k in range(0, r.shape[1], chunk):       # every pair at ``chunk`` samples at once
        d = r[iu, k:k + chunk] - r[ju, k:k + chunk]
        close += int((np.einsum("pkc,pkc->pk", d, d) < threshold_km ** 2).sum())
    return close, t1 - t0, time.perf_counter() - t1


def stage_table(stats):
    rows = [("pairs (all vs all)", stats["pairs_total"], "pairs"),
            ("apogee/perigee overlap (window)", stats["pairs_apogee_perigee"], "pairs"),
            ("samples propagated (objects x times)", stats["samples"], "samples"),
            ("radial shell + spatial, per sample", stats["pair_samples_spatial"],
             "pair-samples"),
            ("chord test (steps around each)", stats["pair_steps_chord"], "pair-steps"),
            ("Hermite minimum < threshold (candidates)", stats["candidates"], "pair-steps"),
            ("refined events under threshold", stats["events"], "events")]
    for name, value, unit in rows:
        print(f"  {name:<44} {value:>16,} {unit}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--days", type=float, default=None, help="window in days (7: the 5-min target)")
    ap.add_argument("--threshold-km", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=3, help="runs on all cores (and of the "
                    "naive baseline)")
    ap.add_argument("--repeat-one", type=int, default=None, help="runs in one process "
                    "(default: --repeat; 0: none, all-core runs only)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="processes of the all-core run (default: os.cpu_count())")
    ap.add_argument("--dask", type=int, default=0, help="also run on a Dask LocalCluster "
                    "with this many worker processes")
    args = ap.parse_args()
    hours = args.days * 24 if args.days else args.hours

    catalog = load_catalog(CATALOG)
    start = utc(START)
    end = start + hours * 3600.0
    settings = ScreeningSettings(threshold_km=args.threshold_km)
    print(f"catalog {CATALOG.name}: {len(catalog):,} objects; window {start.iso(0)} + {hours:g} h; "
          f"threshold {args.threshold_km:g} km; step {settings.step_s:g} s")

    # compile the numba kernels once (cached on disk afterwards); not timed
    screen_conjunctions(catalog.filter(norad_ids=catalog.norad_ids[:300]), start, start + 600.0,
                        args.threshold_km)

    times, cpu, res = [], [], None
    loads = []
    for _ in range(args.repeat if args.repeat_one is None else args.repeat_one):
        t0, c0 = time.perf_counter(), time.process_time()
        res = screen_conjunctions(catalog, start, end, args.threshold_km, settings=settings)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        loads.append(os.getloadavg()[0])
    ours = statistics.median(times) if times else None
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    ptimes, pcpu, pres = [], [], None
    if args.workers > 1:
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            c0 = c0.ru_utime + c0.ru_stime + time.process_time()
            pres = screen_conjunctions(catalog, start, end, args.threshold_km,
                                       settings=settings, workers=args.workers)
            ptimes.append(time.perf_counter() - t0)
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            pcpu.append(c1.ru_utime + c1.ru_stime + time.process_time() - c0)
            loads.append(os.getloadavg()[0])
    ours_all = statistics.median(ptimes) if ptimes else ours
    if ours_all is None:
        raise SystemExit("nothing timed: give --repeat-one >= 1 or --workers >= 2")
    res = res if res is not None else pres
    parent_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"events under {args.threshold_km:g} km: {len(res):,} "
          f"({res.stats['objects_failed_propagation']} objects could not be propagated; "
          f"{len(res.coincident)} pairs share one trajectory, not events)")
    print("stage pass-through:")
    stage_table(res.stats)
    if times:
        print(f"satwatch, 1 process: median {ours:.1f} s wall over {len(times)} run(s) "
              f"{[round(t, 1) for t in times]}, median {statistics.median(cpu):.1f} s CPU; "
              f"peak memory (ru_maxrss) {peak_mb:,.0f} MB")
    if ptimes:
        from satwatch.distributed import same_events
        print(f"satwatch, {args.workers} processes (the CLI default, one per core): median "
              f"{ours_all:.1f} s wall over {len(ptimes)} run(s) "
              f"{[round(t, 1) for t in ptimes]}, median {statistics.median(pcpu):.1f} s CPU "
              f"(all processes); peak memory: parent {parent_mb:,.0f} MB + {args.workers} "
              f"workers <= {child_mb:,.0f} MB each; events identical to 1 process: "
              f"{same_events(res, pres) and res.stats == pres.stats if times else 'not run'}")
    print(f"machine load average (1 min) after each run: {[round(x, 1) for x in loads]} "
          f"on {os.cpu_count()} cores (shared machine)")
    from satwatch.collision_probability import conjunction_probability
    for method in ("FOSTER-1992", "CHAN-1997"):
        pt = []
        for _ in range(max(args.repeat, 3)):
            t0 = time.perf_counter()
            conjunction_probability(res, method=method)
            pt.append(time.perf_counter() - t0)
        print(f"Pc ({method}, default assumptions) of the {len(res):,} events: median "
              f"{statistics.median(pt):.3f} s {[round(t, 3) for t in pt]}")

    if args.dask:
        from distributed import Client, LocalCluster
        from satwatch.distributed import same_events, screen_distributed
        with LocalCluster(n_workers=args.dask, threads_per_worker=1, processes=True,
                          dashboard_address=None) as lc, Client(lc) as client:
            screen_distributed(catalog, start, start + 600.0, args.threshold_km,
                               client=client)               # warm the workers
            dt = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                dres = screen_distributed(catalog, start, end, args.threshold_km,
                                          client=client, settings=settings)
                dt.append(time.perf_counter() - t0)
        print(f"satwatch on Dask LocalCluster ({args.dask} processes): median "
              f"{statistics.median(dt):.1f} s {[round(t, 1) for t in dt]}; events identical: "
              f"{same_events(res, dres)}")

    rng = np.random.default_rng(0)
    sample = catalog.filter(norad_ids=rng.choice(catalog.norad_ids, NAIVE_SAMPLE, replace=False))
    nt_sgp4, nt_pairs = [], []
    for _ in range(args.repeat):
        _, t_sgp4, t_pairs = naive(sample, start, NAIVE_SPAN_S, NAIVE_STEP_S, args.threshold_km)
        nt_sgp4.append(t_sgp4)
        nt_pairs.append(t_pairs)
    naive_sgp4, naive_pairs = statistics.median(nt_sgp4), statistics.median(nt_pairs)
    n = len(catalog)
    span_scale = hours * 3600.0 / NAIVE_SPAN_S
    pair_scale = n * (n - 1) / (NAIVE_SAMPLE * (NAIVE_SAMPLE - 1))
    naive_full = (naive_sgp4 * n / NAIVE_SAMPLE + naive_pairs * pair_scale) * span_scale
    print(f"naive all-pairs every {NAIVE_STEP_S:g} s: median {naive_sgp4:.2f} s SGP4 + "
          f"{naive_pairs:.2f} s pairs for {NAIVE_SAMPLE} objects x {NAIVE_SPAN_S:g} s; "
          f"extrapolated (SGP4 by objects, pairs by pairs) to {n:,} objects x {hours:g} h: "
          f"{naive_full:,.0f} s ({naive_full / 86400:,.1f} days)")
    one = f"{naive_full / ours:,.0f}x in 1 process, " if times else ""
    print(f"ratio naive (1 process) / satwatch: {one}"
          f"{naive_full / ours_all:,.0f}x on {args.workers if ptimes else 1} processes")


if __name__ == "__main__":
    main()
