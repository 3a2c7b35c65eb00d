"""Review of watch rules (satwatch.watch): a pass that straddles the edge of
two consecutive evaluation windows must raise ONE alert, not two.

docs/service.md promises "a stable key (rule, object, and the happening's own
time) ... a happening seen twice, by an overlapping window or after a restart,
is stored once".  The pass key is built from the sample closest to the site
*inside the current window* (watch.pass_alerts): a pass cut by the window edge
gets a key at the edge in the first window and a key at the true closest
approach in the next window, so the store keeps both and the pass is alerted
twice.

Reference: Skyfield's sub-satellite points (independent SGP4 + frame chain)
of the ISS over Wallops on the same 30 s grid give the number of distinct
passes over the whole span; the union of both windows' alert keys must have
exactly that many entries.
"""
from __future__ import annotations

import datetime

import numpy as np

from satwatch.catalog import Catalog
from satwatch.elements import parse_elements
from satwatch.time import NS_PER_S, Time, utc

SITE = ("Wallops", 37.9402, -75.4664)
RADIUS_KM = 1500.0
STEP_S = 30


def _iss(full_catalog_path):
    text = full_catalog_path.read_text().splitlines()
    for i, line in enumerate(text):
        if line.startswith("1 25544U"):
            sets, _ = parse_elements("\n".join(text[i - 1:i + 2]) + "\n", source="iss")
            return Catalog.from_element_sets(sets)
    raise AssertionError("ISS not in the reference catalog")


def _skyfield_inside(es, times):
    from skyfield.api import EarthSatellite, load, wgs84

    from satwatch.watch import ground_distance_km
    ts = load.timescale(builtin=True)
    line1, line2 = es.source_text.strip().splitlines()[-2:]
    sat = EarthSatellite(line1, line2, ts=ts)
    sky_t = ts.from_datetimes([x.replace(tzinfo=datetime.timezone.utc)
                               for x in times.to_datetime()])
    sub = wgs84.subpoint_of(sat.at(sky_t))
    dist = ground_distance_km(sub.latitude.degrees, sub.longitude.degrees, SITE[1], SITE[2])
    return dist <= RADIUS_KM, dist


def test_pass_straddling_window_edge_alerts_once(full_catalog_path):
    from satwatch.watch import Rule, Update, evaluate
    iss = _iss(full_catalog_path)
    es = iss.element_sets[0]
    rule = Rule(id=3, kind="pass", norad_ids=(25544,), site_name=SITE[0],
                site_lat_deg=SITE[1], site_lon_deg=SITE[2], radius_km=RADIUS_KM)
    t0 = utc("2023-10-13T00:00:00Z").ns
    n = 86_400 // STEP_S + 1
    times = Time(t0 + np.arange(n, dtype=np.int64) * STEP_S * NS_PER_S)
    inside, dist = _skyfield_inside(es, times)
    starts = np.flatnonzero(np.diff(np.r_[0, inside.astype(int)]) == 1)
    ends = np.flatnonzero(np.diff(np.r_[inside.astype(int), 0]) == -1)
    assert len(starts) >= 2                      # the ISS passes Wallops several times a day
    # Cut the day inside the first pass that lasts long enough, before its
    # closest approach (so the first window sees only its entry).
    k = next(i for i in range(len(starts)) if ends[i] - starts[i] >= 6)
    closest = starts[k] + int(np.argmin(dist[starts[k]:ends[k] + 1]))
    cut = max(starts[k] + 1, closest - 2)
    assert starts[k] < cut < closest
    cut_ns = int(times.ns[cut])
    keys = set()
    for lo, hi in ((t0, cut_ns), (cut_ns, int(times.ns[-1]))):   # consecutive windows
        upd = Update(catalog=iss, window_start_ns=lo, window_end_ns=hi, step_s=STEP_S)
        keys |= {a.key for a in evaluate([rule], upd)}
    assert len(keys) == len(starts), (
        f"{len(starts)} passes (Skyfield) but {len(keys)} distinct alert keys over two "
        f"windows meeting at {Time(cut_ns).iso(0)}: {sorted(keys)}")


def test_polygon_pass_seen_by_overlapping_windows_alerts_once(full_catalog_path):
    """Polygon rule: the key is the first inside sample of the window; a later,
    overlapping window that starts mid-pass gives the same pass a new key."""
    from satwatch.watch import Rule, Update, evaluate
    iss = _iss(full_catalog_path)
    es = iss.element_sets[0]
    # A box around Wallops, well inside the ISS's +-51.6 deg band.
    box = ((-90.0, 30.0), (-60.0, 30.0), (-60.0, 45.0), (-90.0, 45.0), (-90.0, 30.0))
    rule = Rule(id=4, kind="pass", norad_ids=(25544,), polygon_lon_lat_deg=box)
    t0 = utc("2023-10-13T00:00:00Z").ns
    n = 86_400 // STEP_S + 1
    times = Time(t0 + np.arange(n, dtype=np.int64) * STEP_S * NS_PER_S)
    from skyfield.api import EarthSatellite, load, wgs84
    ts = load.timescale(builtin=True)
    line1, line2 = es.source_text.strip().splitlines()[-2:]
    sat = EarthSatellite(line1, line2, ts=ts)
    sub = wgs84.subpoint_of(sat.at(ts.from_datetimes(
        [x.replace(tzinfo=datetime.timezone.utc) for x in times.to_datetime()])))
    lat, lon = sub.latitude.degrees, sub.longitude.degrees
    inside = (lon > -90) & (lon < -60) & (lat > 30) & (lat < 45)
    starts = np.flatnonzero(np.diff(np.r_[0, inside.astype(int)]) == 1)
    ends = np.flatnonzero(np.diff(np.r_[inside.astype(int), 0]) == -1)
    k = next(i for i in range(len(starts)) if ends[i] - starts[i] >= 3)
    assert len(starts) >= 1
    # Window 2 starts one sample after the pass entered and overlaps window 1.
    w2_start = int(times.ns[starts[k] + 1])
    keys = set()
    for lo, hi in ((t0, int(times.ns[-1])), (w2_start, int(times.ns[-1]))):
        upd = Update(catalog=iss, window_start_ns=lo, window_end_ns=hi, step_s=STEP_S)
        keys |= {a.key for a in evaluate([rule], upd)}
    assert len(keys) == len(starts), (
        f"{len(starts)} polygon passes (Skyfield) but {len(keys)} distinct alert keys "
        f"from two overlapping windows: {sorted(keys)}")
