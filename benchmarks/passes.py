"""Benchmark: passes of the whole full catalog (26,140 objects of
../shared/data/catalogs/full-3le-2023-10-13.txt) over one site for 24 h at a
10 deg mask, against Skyfield's EarthSatellite.find_events looped over a
random sample of the same objects (scaled by count), in the same run.  Also
100 sites at once on a sample of the catalog.

The Skyfield sample is drawn from the objects satwatch can propagate over
the day (its ``Passes.failed`` excluded: ~290 decayed or escaped orbits,
e.g. FENGYUN 1C DEB 29925 at 3e10 km, on which find_events spends up to 2.5 s
returning tens of thousands of meaningless events: 10% of its whole-catalog
time from 1% of the objects) and scaled by the count of those objects.  With
them in, a sample of 150 put the estimate anywhere from -16% to +74% of the
whole-catalog figure over 20 seeds; without them, a sample of 500 stays
within about +-4% (measured by timing find_events on every object once).

    python benchmarks/passes.py [--runs 3] [--sample 500]

Prints medians; the last line is the speed ratio (Skyfield / satwatch).
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
from satwatch.passes import find_passes  # noqa: E402
from satwatch.sites import builtin_sites, find_site  # noqa: E402
from satwatch.time import utc  # noqa: E402

CATALOG = ROOT.parent / "shared" / "data" / "catalogs" / "full-3le-2023-10-13.txt"
START = "2023-10-13T00:00:00Z"
MASK_DEG = 10.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sample", type=int, default=500, help="Skyfield sample size")
    ap.add_argument("--workers", type=int, default=2,
                    help="processes for the separately reported multi-core timing (1: skip)")
    ap.add_argument("--multi-sample", type=int, default=2000,
                    help="objects for the 100-site timing")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    cat = satwatch.load_catalog(CATALOG)
    site = find_site("VOSTOCHNY")
    t0 = utc(START)
    t1 = t0 + 86400.0
    print(f"catalog: {CATALOG.name}, {len(cat)} objects; site {site.code}; "
          f"{START} + 24 h; mask {MASK_DEG} deg", flush=True)

    from skyfield.api import EarthSatellite, load, wgs84
    ts = load.timescale(builtin=True)
    topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
    # untimed: numba's compiled kernels load (both sides then start warm),
    # and the objects SGP4 cannot propagate over the day are known
    failed = find_passes(cat, site, t0, t1, MASK_DEG).failed
    valid = np.setdiff1d(np.arange(len(cat)), np.fromiter(failed, int, len(failed)))
    rng = np.random.default_rng(1)
    pick = rng.choice(valid, args.sample, replace=False)
    sats = []
    for i in pick:
        es = cat.element_sets[i]
        l1, l2 = es.source_text.splitlines()[-2:]
        sats.append(EarthSatellite(l1, l2, es.name, ts))
    a, b = ts.from_datetime(t0.to_datetime()), ts.from_datetime(t1.to_datetime())
    sats[0].find_events(topos, a, b, MASK_DEG)          # untimed warm-up, as satwatch's

    # Rounds interleave satwatch and Skyfield, so that both see the same
    # machine (it is shared: a load change between separate blocks of runs
    # would skew the ratio).
    ours, par, sky = [], [], []
    for k in range(args.runs):
        tic = time.perf_counter()
        p = find_passes(cat, site, t0, t1, MASK_DEG)
        ours.append(time.perf_counter() - tic)
        tic = time.perf_counter()
        for s in sats:
            s.find_events(topos, a, b, MASK_DEG)
        sky.append((time.perf_counter() - tic) / len(sats))
        line = (f"  round {k + 1}: satwatch {ours[-1]:.2f} s ({len(p)} passes); Skyfield "
                f"{sky[-1] * 1e3:.2f} ms per object-day")
        if args.workers > 1:
            tic = time.perf_counter()
            pp = find_passes(cat, site, t0, t1, MASK_DEG, workers=args.workers)
            par.append(time.perf_counter() - tic)
            line += f"; satwatch, {args.workers} processes: {par[-1]:.2f} s ({len(pp)} passes)"
        print(line, flush=True)
    ours_s = statistics.median(ours)
    sky_per_obj = statistics.median(sky)
    sky_s = sky_per_obj * len(valid)
    print(f"skyfield find_events: {sky_per_obj * 1e3:.2f} ms per object-day (median of "
          f"{args.runs} runs over {args.sample} objects) -> {sky_s:.1f} s for the "
          f"{len(valid)} objects SGP4 propagates over the day ({len(failed)} failed: not "
          "sampled, not counted)")
    print(f"satwatch: {ours_s:.2f} s for {len(cat)} objects (median of {args.runs}), "
          f"{ours_s / len(cat) * 1e3:.3f} ms per object-day")

    if par:
        par_s = statistics.median(par)
        print(f"satwatch, {args.workers} processes: {par_s:.2f} s (median of {args.runs}); "
              f"ratio {sky_s / par_s:.1f}x (the machine is shared: other users' load "
              "limits what a second process gains)")
    # 100 sites at once, on a sample of the catalog
    sites = builtin_sites()
    lat = np.linspace(-60, 70, 10)
    lon = np.linspace(-170, 170, 10)
    grid = [satwatch.GroundPoint(la, lo, 0.0, f"{la:.0f},{lo:.0f}") for la in lat for lo in lon]
    hundred = [s.ground_point for s in sites] + grid[:100 - len(sites)]
    sub = satwatch.Catalog([cat.element_sets[i] for i in
                            rng.choice(len(cat), args.multi_sample, replace=False)])
    multi = []
    for _ in range(max(1, args.runs - 1)):
        tic = time.perf_counter()
        pm = find_passes(sub, hundred, t0, t1, MASK_DEG)
        multi.append(time.perf_counter() - tic)
    m_s = statistics.median(multi)
    per_pair = m_s / (len(sub) * len(hundred))
    print(f"100 sites at once: {m_s:.2f} s for {len(sub)} objects x {len(hundred)} sites "
          f"({len(pm)} passes), {per_pair * 1e6:.1f} us per object-site-day; whole catalog "
          f"x 100 sites would take ~{per_pair * len(cat) * 100:.0f} s vs Skyfield "
          f"~{sky_s * 100:.0f} s ({sky_per_obj / per_pair:.0f}x)")
    print(f"ratio (Skyfield / satwatch, whole catalog, one site): {sky_s / ours_s:.1f}x")


if __name__ == "__main__":
    main()
