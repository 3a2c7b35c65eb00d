"""Whole-catalog propagation benchmark.

The full 2023-10-13 catalog (26,140 objects) x 1,440 one-minute steps:
  * parsing the catalog text (target < 1 s),
  * satwatch's propagation to TEME vs calling sgp4's SatrecArray directly on
    the same inputs in the same run (target >= 0.9x its throughput),
  * TEME -> ITRS -> WGS-84 geodetic as a ratio to propagation (target <= 1.5x),
    with pyproj's ECEF->geodetic transform timed on the same ITRS positions as
    the library alternative to satwatch's numpy inversion.
Medians of several runs.  Last line: the ratios.

    python benchmarks/propagation.py [--repeats 3] [--steps 1440]
"""
from __future__ import annotations

import argparse
import gc
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
from sgp4.api import SatrecArray

import satwatch
from satwatch.elements import parse_elements
from satwatch.frames import itrs_to_geodetic, teme_to_itrs

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def timed(fn, repeats):
    out, times = None, []
    for _ in range(repeats):
        out = None
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=1440)
    ap.add_argument("--catalog", default=str(DATA / "catalogs" / "full-3le-2023-10-13.txt"))
    args = ap.parse_args()
    warnings.simplefilter("ignore", satwatch.StaleElementsWarning)

    text = Path(args.catalog).read_text()
    parse_s, (sets, rejected) = timed(lambda: parse_elements(text), args.repeats)
    catalog = satwatch.Catalog.from_element_sets(sets)
    satrec_s, _ = timed(lambda: [satwatch.satrec(es) for es in sets], 1)
    print(f"parse: {len(sets)} element sets, {len(rejected)} rejected, "
          f"median {parse_s:.3f} s (target < 1 s); Satrec creation {satrec_s:.3f} s")

    times = satwatch.utc_range("2023-10-13T00:00:00Z", "2023-10-13T00:00:00Z", 60) + \
        np.arange(args.steps) * 60.0
    jd, fr = times.jd_utc()
    raw = SatrecArray(catalog.satrecs)
    n = len(catalog) * args.steps
    print(f"propagation: {len(catalog)} objects x {args.steps} steps = {n / 1e6:.1f} M states")

    # Alternate the two so that machine noise falls on both alike.
    raw_runs, ours_runs = [], []
    for _ in range(args.repeats):
        raw_runs.append(timed(lambda: raw.sgp4(jd, fr), 1)[0])
        t, states = timed(lambda: catalog.propagate(times), 1)
        ours_runs.append(t)
    raw_s, ours_s = statistics.median(raw_runs), statistics.median(ours_runs)
    print(f"  raw SatrecArray.sgp4   median {raw_s:.2f} s  ({n / raw_s / 1e6:.2f} M states/s)")
    print(f"  satwatch propagate     median {ours_s:.2f} s  ({n / ours_s / 1e6:.2f} M states/s)")

    def geodetic():
        r_itrs, _ = teme_to_itrs(states.r_teme_km, None, states.times)
        return itrs_to_geodetic(r_itrs)
    geo_s, _ = timed(geodetic, args.repeats)
    print(f"  TEME->geodetic         median {geo_s:.2f} s  ({geo_s / ours_s:.2f}x propagation)")

    try:
        import pyproj
        r_itrs, _ = teme_to_itrs(states.r_teme_km, None, states.times)
        tr = pyproj.Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)
        x, y, z = (np.ascontiguousarray(r_itrs[i]).ravel() * 1000.0 for i in range(3))
        # medians of interleaved runs, as above (one run each, before, was
        # at the mercy of the shared machine's load)
        proj_runs, ours_geo_runs = [], []
        for _ in range(args.repeats):
            proj_runs.append(timed(lambda: tr.transform(x, y, z), 1)[0])
            ours_geo_runs.append(timed(lambda: itrs_to_geodetic(r_itrs), 1)[0])
        proj_s, ours_geo_s = statistics.median(proj_runs), statistics.median(ours_geo_runs)
        print(f"  ITRS->geodetic only: satwatch numpy median {ours_geo_s:.2f} s, pyproj median "
              f"{proj_s:.2f} s ({ours_geo_s / proj_s:.2f}x)")
    except ImportError:
        pass

    print(f"ratios: throughput vs raw SatrecArray {raw_s / ours_s:.2f}x (target >= 0.9), "
          f"geodetic/propagation {geo_s / ours_s:.2f} (target <= 1.5), parse {parse_s:.2f} s")


if __name__ == "__main__":
    main()
