"""Sparse deep-space SGP4 samples: the compiled SDP4 kernel vs python-sgp4.

The deep-space part of the full 2023-10-13 catalog (GEO, GTO, Molniya/HEO,
GNSS; ~4,100 objects), N scattered times per satellite within one day
(sorted by satellite, then time: what the pass search makes), evaluated by:
  (a) one ``Satrec._sgp4`` call per satellite over its contiguous run of
      samples, writing into slices of the outputs (what
      ``satwatch.passes.Ephemeris._sgp4_deep_runs`` does);
  (b) ``sdp4_kernel.sdp4_ns_scatter`` in one call from int64 ns times (the
      jd/fr split included, outputs preallocated: what the pass search
      would call), and ``sdp4`` (jd/fr in, allocating outputs), and the same
      samples shuffled (integrator restarted from epoch at every sample).
All single-threaded (python-sgp4's wheel has no OpenMP).  Median CPU times
of several interleaved runs; (b) is checked bit-identical to (a).  The
catalog's epochs lie up to weeks before the day sampled, as in the pass
search.  Last line: speed of (b) over (a).

    flock /tmp/satwatch-bench.lock python benchmarks/sdp4_kernel.py [--repeats 5] [--per-sat 200]
"""
from __future__ import annotations

import argparse
import warnings
from itertools import pairwise
from pathlib import Path

import numpy as np

import satwatch
from satwatch.sdp4_kernel import pack_deep_space, sdp4, sdp4_ns_scatter
# the near-Earth kernel's benchmark, beside this file: the same interleaved
# CPU-time medians
from sgp4_kernel import timed_interleaved

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NS_PER_DAY = 86_400 * 10**9
JD_UNIX = 2440587.5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--per-sat", type=int, default=200)
    ap.add_argument("--catalog", default=str(DATA / "catalogs" / "full-3le-2023-10-13.txt"))
    args = ap.parse_args()
    warnings.simplefilter("ignore", satwatch.StaleElementsWarning)

    catalog = satwatch.load_catalog(args.catalog)
    deep = [s for s in catalog.satrecs if s.method == "d"]
    n, m = len(deep), args.per_sat
    pack_deep_space(deep[:1])                                  # compile / load the cache
    params = pack_deep_space(deep)
    irez = np.bincount(params[:, 3].astype(int), minlength=3)

    rng = np.random.default_rng(0)
    t0_ns = satwatch.utc("2023-10-13T00:00:00Z").ns
    offs = np.sort(rng.integers(0, NS_PER_DAY, (n, m)), axis=1)      # scattered, sorted per sat
    t_ns = np.ascontiguousarray((t0_ns + offs).ravel(), dtype=np.int64)
    sat = np.repeat(np.arange(n, dtype=np.int64), m)
    days, rem = np.divmod(t_ns, NS_PER_DAY)
    jd = np.ascontiguousarray(days + JD_UNIX, dtype=np.float64)
    fr = np.ascontiguousarray(rem / NS_PER_DAY, dtype=np.float64)
    k = len(sat)
    rows = np.arange(k, dtype=np.int64)
    age_days = (jd + fr) - np.array([s.jdsatepoch + s.jdsatepochF for s in deep])[sat]

    err_a = np.zeros(k, np.uint8)
    r_a = np.empty((k, 3))
    v_a = np.empty((k, 3))
    bounds = list(pairwise(np.flatnonzero(np.r_[True, sat[1:] != sat[:-1], True]).tolist()))

    def per_satellite():
        for a, b in bounds:
            deep[sat[a]]._sgp4(jd[a:b], fr[a:b], err_a[a:b], r_a[a:b], v_a[a:b])

    err_b = np.zeros(k, np.uint8)
    r_b = np.empty((k, 3))
    v_b = np.empty((k, 3))
    sdp4_ns_scatter(params, sat[:10], t_ns[:10], rows[:10], err_b, r_b, v_b)   # compile
    sdp4(params, sat[:10], jd[:10], fr[:10])
    perm = rng.permutation(k)
    sat_p, t_p, rows_p = sat[perm], t_ns[perm], rows[perm]
    err_c = np.zeros(k, np.uint8)
    r_c = np.empty((k, 3))
    v_c = np.empty((k, 3))

    t = timed_interleaved({
        "pack": lambda: pack_deep_space(deep),
        "a": per_satellite,
        "b": lambda: sdp4_ns_scatter(params, sat, t_ns, rows, err_b, r_b, v_b),
        "b_jd": lambda: sdp4(params, sat, jd, fr),
        "b_shuffled": lambda: sdp4_ns_scatter(params, sat_p, t_p, rows_p, err_c, r_c, v_c),
    }, args.repeats)
    pack_s, a_s, b_s, b2_s, b3_s = t["pack"], t["a"], t["b"], t["b_jd"], t["b_shuffled"]

    per_satellite()
    sdp4_ns_scatter(params, sat, t_ns, rows, err_b, r_b, v_b)
    sdp4_ns_scatter(params, sat_p, t_p, rows_p, err_c, r_c, v_c)
    same = (np.array_equal(err_a, err_b) and np.array_equal(r_a, r_b, equal_nan=True)
            and np.array_equal(v_a, v_b, equal_nan=True))
    same_shuffled = (np.array_equal(err_a, err_c) and np.array_equal(r_a, r_c, equal_nan=True)
                     and np.array_equal(v_a, v_c, equal_nan=True))
    ns = 1e9 / k
    print(f"{n} deep-space satellites (resonance none/24 h/12 h: {irez.tolist()}) x {m} "
          f"scattered times in one day = {k:,} states, {np.median(age_days):.1f} days from "
          f"epoch (median); median CPU times of {args.repeats} interleaved runs")
    print(f"pack_deep_space (sgp4init coefficients): {pack_s * 1e3:.1f} ms "
          f"({pack_s / n * 1e9:.0f} ns per satellite)")
    print(f"(a) Satrec._sgp4 per satellite:        {a_s:.3f} s  {a_s * ns:6.1f} ns/state")
    print(f"(b) sdp4_ns_scatter, one call:         {b_s:.3f} s  {b_s * ns:6.1f} ns/state")
    print(f"    sdp4 (jd/fr in, allocating):       {b2_s:.3f} s  {b2_s * ns:6.1f} ns/state")
    print(f"    sdp4_ns_scatter, shuffled samples: {b3_s:.3f} s  {b3_s * ns:6.1f} ns/state")
    print(f"(b) bit-identical to (a): {same} (shuffled: {same_shuffled}); "
          f"error codes {np.bincount(err_b).tolist()}")
    print(f"kernel vs per-satellite Satrec._sgp4 loop: {a_s / b_s:.2f}x faster")


if __name__ == "__main__":
    main()
