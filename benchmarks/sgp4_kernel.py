"""Sparse SGP4 samples: the compiled near-Earth kernel vs python-sgp4.

The near-Earth part of the full 2023-10-13 catalog, N scattered times per
satellite within one day (sorted by satellite, then time), evaluated by:
  (a) one ``Satrec._sgp4`` call per satellite over its contiguous run of
      samples, writing into slices of the outputs (what
      ``satwatch.passes.Ephemeris._sgp4_runs`` does);
  (b) ``SatrecArray._sgp4`` on a dense satellites x N-times grid (the same
      number of states; the best python-sgp4 can do, but only for a grid);
  (c) ``sgp4_kernel.sgp4_near_into`` in one call (outputs preallocated), and
      ``sgp4_near`` (allocating), ``sgp4_near_ns_into`` (int64 ns in, the
      jd/fr split included), and the same samples shuffled;
  (d) ``sgp4_near_ns_scatter(..., trig_by_series=True)``, what the pass
      engine runs: some sines and cosines by rotation through a small angle
      (series), the C++ to ~1e-12 relative on orbits (printed) instead of
      bit for bit.
All single-threaded (python-sgp4's wheel has no OpenMP).  Median CPU times
of several interleaved runs; (c) is checked bit-identical to (a).  Last line: speed of (c) over (a).

    flock /tmp/satwatch-bench.lock python benchmarks/sgp4_kernel.py [--repeats 5] [--per-sat 100]
"""
from __future__ import annotations

import argparse
import gc
import statistics
import time
import warnings
from itertools import pairwise
from pathlib import Path

import numpy as np
from sgp4.api import SatrecArray

import satwatch
from satwatch.sgp4_kernel import (
    pack_near_earth,
    sgp4_near,
    sgp4_near_into,
    sgp4_near_ns_into,
    sgp4_near_ns_scatter,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NS_PER_DAY = 86_400 * 10**9
JD_UNIX = 2440587.5


def timed_interleaved(fns, repeats):
    """Median CPU seconds of each of ``fns`` (all single-threaded), run in
    turn within each repeat so that a load change on the shared machine
    hits every candidate alike; CPU time (``process_time``) rather than wall
    time so that other processes' work is not counted."""
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()
            t0 = time.process_time()
            fn()
            times[name].append(time.process_time() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--per-sat", type=int, default=100)
    ap.add_argument("--catalog", default=str(DATA / "catalogs" / "full-3le-2023-10-13.txt"))
    args = ap.parse_args()
    warnings.simplefilter("ignore", satwatch.StaleElementsWarning)

    catalog = satwatch.load_catalog(args.catalog)
    near = [s for s in catalog.satrecs if s.method == "n"]
    n, m = len(near), args.per_sat
    pack_near_earth(near[:1])                                  # compile / load the cache
    params = pack_near_earth(near)

    rng = np.random.default_rng(0)
    t0_ns = satwatch.utc("2023-10-13T00:00:00Z").ns
    offs = np.sort(rng.integers(0, NS_PER_DAY, (n, m)), axis=1)      # scattered, sorted per sat
    t_ns = (t0_ns + offs).ravel()
    sat = np.repeat(np.arange(n), m)
    days, rem = np.divmod(t_ns, NS_PER_DAY)
    jd = np.ascontiguousarray(days + JD_UNIX, dtype=np.float64)
    fr = np.ascontiguousarray(rem / NS_PER_DAY, dtype=np.float64)
    k = len(sat)

    err_a = np.zeros(k, np.uint8)
    r_a = np.empty((k, 3))
    v_a = np.empty((k, 3))
    bounds = list(pairwise(np.flatnonzero(np.r_[True, sat[1:] != sat[:-1], True]).tolist()))

    def per_satellite():
        for a, b in bounds:
            near[sat[a]]._sgp4(jd[a:b], fr[a:b], err_a[a:b], r_a[a:b], v_a[a:b])

    arr = SatrecArray(near)
    jd_grid = jd[:m].copy()                      # satellite 0's times as the common grid
    fr_grid = fr[:m].copy()
    err_b = np.zeros((n, m), np.uint8)
    r_b = np.empty((n, m, 3))
    v_b = np.empty((n, m, 3))

    def dense_grid():
        arr._sgp4(jd_grid, fr_grid, err_b, r_b, v_b)

    err_c = np.zeros(k, np.uint8)
    r_c = np.empty((k, 3))
    v_c = np.empty((k, 3))
    sgp4_near_into(params, sat[:10], jd[:10], fr[:10], err_c[:10], r_c[:10], v_c[:10])
    sgp4_near_ns_into(params, sat[:10], t_ns[:10], err_c[:10], r_c[:10], v_c[:10])
    rows = np.arange(k, dtype=np.int64)
    err_d = np.zeros(k, np.uint8)
    r_d = np.empty((k, 3))
    v_d = np.empty((k, 3))
    sgp4_near_ns_scatter(params, sat[:10], t_ns[:10], rows[:10], err_d, r_d, v_d, True)
    perm = rng.permutation(k)
    sat_p, jd_p, fr_p = sat[perm], jd[perm], fr[perm]

    t = timed_interleaved({
        "pack": lambda: pack_near_earth(near),
        "a": per_satellite,
        "b": dense_grid,
        "c": lambda: sgp4_near_into(params, sat, jd, fr, err_c, r_c, v_c),
        "c_alloc": lambda: sgp4_near(params, sat, jd, fr),
        "c_ns": lambda: sgp4_near_ns_into(params, sat, t_ns, err_c, r_c, v_c),
        "c_shuffled": lambda: sgp4_near_into(params, sat_p, jd_p, fr_p, err_c, r_c, v_c),
        "d": lambda: sgp4_near_ns_scatter(params, sat, t_ns, rows, err_d, r_d, v_d, True),
    }, args.repeats)
    pack_s, a_s, b_s, c_s = t["pack"], t["a"], t["b"], t["c"]
    c2_s, c4_s, c3_s = t["c_alloc"], t["c_ns"], t["c_shuffled"]

    sgp4_near_into(params, sat, jd, fr, err_c, r_c, v_c)
    same = (np.array_equal(err_a, err_c) and np.array_equal(r_a, r_c, equal_nan=True)
            and np.array_equal(v_a, v_c, equal_nan=True))
    ns = 1e9 / k
    print(f"{n} near-Earth satellites x {m} scattered times = {k:,} states; "
          f"median CPU times of {args.repeats} interleaved runs")
    print(f"pack_near_earth (sgp4init coefficients): {pack_s * 1e3:.1f} ms "
          f"({pack_s / n * 1e9:.0f} ns per satellite)")
    print(f"(a) Satrec._sgp4 per satellite:      {a_s:.3f} s  {a_s * ns:6.1f} ns/state")
    print(f"(b) SatrecArray._sgp4 dense grid:    {b_s:.3f} s  {b_s * ns:6.1f} ns/state")
    print(f"(c) sgp4_near_into, one call:        {c_s:.3f} s  {c_s * ns:6.1f} ns/state")
    print(f"    sgp4_near (allocating outputs):  {c2_s:.3f} s  {c2_s * ns:6.1f} ns/state")
    print(f"    sgp4_near_ns_into (int64 ns in):  {c4_s:.3f} s  {c4_s * ns:6.1f} ns/state")
    print(f"    sgp4_near_into, shuffled order:  {c3_s:.3f} s  {c3_s * ns:6.1f} ns/state")
    print(f"(c) bit-identical to (a): {same}; error codes {np.bincount(err_c).tolist()}")
    sgp4_near_ns_into(params, sat, t_ns, err_c, r_c, v_c)
    sgp4_near_ns_scatter(params, sat, t_ns, rows, err_d, r_d, v_d, True)
    ok = err_c == 0
    rel = (np.abs(r_d[ok] - r_c[ok]).max(axis=1)
           / np.linalg.norm(r_c[ok], axis=1)).max(initial=0.0)
    print(f"(d) sgp4_near_ns_scatter, series:    {t['d']:.3f} s  {t['d'] * ns:6.1f} ns/state "
          f"({t['c_ns'] / t['d']:.2f}x (c) ns; same codes: {np.array_equal(err_c, err_d)}, "
          f"largest |dr|/|r| {rel:.1e})")
    print(f"kernel vs dense SatrecArray: {b_s / c_s:.2f}x")
    print(f"kernel vs per-satellite Satrec._sgp4 loop: {a_s / c_s:.2f}x faster")


if __name__ == "__main__":
    main()
