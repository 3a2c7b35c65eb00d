"""Benchmark: analysing every CNS report that has a site, a range and an
apogee (216 of 339) in one batch through the ballistic solver, against the
baseline of one :func:`satwatch.reported_events.analyze` call per report
(the same physics, scalar arrays), both without zones.  Also times the
identification of one launch against the full 2023-10-13 catalog (26,140
objects) for scale.

Prints medians over ``--runs`` runs; the LAST line is the ratio
baseline / batch.

    python benchmarks/launches.py [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SATWATCH_REFERENCE_DATA", ROOT.parent / "shared" / "data"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    import satwatch
    from satwatch.launches import identify
    from satwatch.reported_events import analyze, analyze_events, parse_cns
    from satwatch.sites import find_site
    ev = DATA / "events"
    events = parse_cns((ev / "test.en.json").read_text(), (ev / "facility.en.json").read_text(),
                       (ev / "missile.en.json").read_text())
    full = [e for e in events if e.analyzable and e.apogee_km is not None]

    def batch():
        return analyze_events(full, None, track_points=0)

    def loop():
        return [analyze(e.site_lat_deg, e.site_lon_deg, e.range_km, e.apogee_km, e.bearing_deg,
                        track_points=0) for e in full]

    def timed(fn):
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    batch()
    tb = [timed(batch) for _ in range(args.runs)]
    tl = [timed(loop) for _ in range(args.runs)]
    cat = satwatch.load_catalog(DATA / "catalogs" / "full-3le-2023-10-13.txt")
    site = find_site("5.2358,-52.7747")
    t0 = satwatch.utc("2023-10-09T01:36:00Z")
    ti = [timed(lambda: identify(cat, site, t0, top=20)) for _ in range(args.runs)]
    mb, ml = statistics.median(tb), statistics.median(tl)
    print(f"reports analysed: {len(full)}")
    print(f"batch (one solver call)      median {mb:.3f} s  ({1e3 * mb / len(full):.2f} ms/report)")
    print(f"baseline (one call/report)   median {ml:.3f} s  ({1e3 * ml / len(full):.2f} ms/report)")
    print(f"identify, {len(cat)} objects   median {statistics.median(ti):.3f} s")
    print(f"ratio baseline/batch: {ml / mb:.1f}")


if __name__ == "__main__":
    main()
