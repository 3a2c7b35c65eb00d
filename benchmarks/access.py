"""Benchmark: imaging access of every object of the active catalog
(../shared/data/catalogs/active-2023-11-19.txt) to 100 point targets for
24 h (max off-nadir 30 deg), timed against a baseline in the same run: the
same computation as a dense fixed-step scan (10 s steps, the step a simple
scanner needs for ~1 min windows) on a sample, scaled by count.  Rounds
interleave satwatch and the baseline (the machine is shared).  The sample is
1,000 objects: on 100 (the earlier default) the scaled figure ranged from
139 to 263 s over seeds 0-4 and repeats on one loaded evening, on 1,000
(seed 3) from 165 to 182 s.

    python benchmarks/access.py [--runs 3] [--workers 2]

Prints medians; the last line is the speed ratio (baseline / satwatch).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import satwatch  # noqa: E402
from satwatch.access import AccessG, find_access  # noqa: E402
from satwatch.passes import catalog_ephemeris  # noqa: E402
from satwatch.time import utc, utc_range  # noqa: E402

CATALOG = ROOT.parent / "shared" / "data" / "catalogs" / "active-2023-11-19.txt"
START = "2023-11-19T00:00:00Z"


def targets():
    rng = np.random.default_rng(2)
    lat = np.degrees(np.arcsin(rng.uniform(-0.95, 0.95, 100)))
    lon = rng.uniform(-180, 180, 100)
    return [satwatch.GroundPoint(a, b, 0.0, f"t{i}") for i, (a, b) in enumerate(zip(lat, lon))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2,
                    help="processes for the separately reported multi-core timing (1: skip)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    cat = satwatch.load_catalog(CATALOG)
    tg = targets()
    t0 = utc(START)
    t1 = t0 + 86400.0
    print(f"catalog: {CATALOG.name}, {len(cat)} objects; {len(tg)} targets; 24 h; "
          "max off-nadir 30 deg", flush=True)
    # baseline: dense 10 s scan of the same g on a sample of objects
    rng = np.random.default_rng(3)
    sub = satwatch.Catalog([cat.element_sets[i] for i in
                            rng.choice(len(cat), args.sample, replace=False)])
    times = utc_range(t0, t1, 10.0)

    def baseline():
        g = AccessG(catalog_ephemeris(sub), tg, 30.0, 0.0, None)
        n = g.n_obj
        for i in range(0, n, 200):
            obj = np.arange(i, min(n, i + 200))
            v = g.evaluate(obj, np.broadcast_to(times.ns, (len(obj), len(times))))
            np.flatnonzero(np.diff(v >= 0, axis=1))

    ours, par, base = [], [], []
    for _ in range(args.runs):
        tic = time.perf_counter()
        acc = find_access(cat, tg, t0, t1, max_off_nadir_deg=30.0)
        ours.append(time.perf_counter() - tic)
        tic = time.perf_counter()
        baseline()
        base.append((time.perf_counter() - tic) / len(sub) * len(cat))
        line = (f"  satwatch: {ours[-1]:.2f} s, {len(acc)} windows; baseline "
                f"{base[-1]:.1f} s scaled")
        if args.workers > 1:
            tic = time.perf_counter()
            acc2 = find_access(cat, tg, t0, t1, max_off_nadir_deg=30.0, workers=args.workers)
            par.append(time.perf_counter() - tic)
            line += f"; satwatch, {args.workers} processes: {par[-1]:.2f} s, {len(acc2)} windows"
        print(line, flush=True)
    ours_s = statistics.median(ours)
    base_s = statistics.median(base)
    print(f"satwatch access, whole active catalog x 100 targets x 24 h: {ours_s:.2f} s "
          f"(median of {args.runs}; target < 30 s)")
    if par:
        print(f"satwatch access, {args.workers} processes: {statistics.median(par):.2f} s "
              f"(median of {args.runs})")
    print(f"baseline dense 10 s scan (sample of {args.sample}, scaled): {base_s:.1f} s")
    print(f"ratio (baseline / satwatch): {base_s / ours_s:.1f}x")


if __name__ == "__main__":
    main()
