"""Imaging access against a brute-force 1-second scan built from Skyfield
positions (ITRS via Skyfield's own frames, WGS-84 target via
``skyfield.api.wgs84``), and the interval bookkeeping against boolean
timelines."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import satwatch
from satwatch.access import (AccessError, find_access, merge_intervals, point_target,
                             revisit_stats, targets_from_geojson)
from satwatch.catalog import regime_of
from satwatch.sites import Site
from satwatch.sun import sun_elevation_deg
from conftest import skyfield_pef_km
from satwatch.time import NS_PER_S, Time, utc

skyfield_api = pytest.importorskip("skyfield.api")

# Brute force samples every second: a window edge is known to half a second,
# plus the 1 s event accuracy the engine is held to elsewhere.
BRUTE_TOL_S = 1.5
MAX_OFF_NADIR_DEG = 30.0
T0 = utc("2023-10-12T00:00:00Z")
T1 = T0 + 86400.0


@pytest.fixture(scope="module")
def leo(full_catalog):
    rng = np.random.default_rng(11)
    pool = [es for es in full_catalog if regime_of(es) == "LEO" and es.norad_id < 100000
            and abs(es.epoch_ns - T0.ns) < 3 * 86400 * NS_PER_S and es.perigee_alt_km > 300]
    return satwatch.Catalog.from_element_sets([pool[i] for i in rng.choice(len(pool), 20,
                                                                            replace=False)])




def _brute(r_sat, lat, lon, min_sun=None):
    """1 s scan: off-nadir <= max and target elevation >= 0."""
    from skyfield.api import wgs84
    x = np.arange(0.0, 86401.0, 1.0)
    site = wgs84.latlon(lat, lon)
    to_target = site.itrs_xyz.km[:, None] - r_sat
    la, lo = np.radians(lat), np.radians(lon)
    up = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    el_ok = up @ (-to_target) >= 0
    cos_nadir = ((-r_sat) * to_target).sum(0) / (np.linalg.norm(to_target, axis=0)
                                                 * np.linalg.norm(r_sat, axis=0))
    ok = el_ok & (cos_nadir >= np.cos(np.radians(MAX_OFF_NADIR_DEG)))
    if min_sun is not None:
        times = Time(T0.ns + (x * NS_PER_S).astype(np.int64))
        ok &= sun_elevation_deg(times, Site("t", lat, lon).ground_point) >= min_sun
    k = np.flatnonzero(ok[1:] != ok[:-1])
    base = T0.ns / NS_PER_S
    return base + x[k[ok[k + 1]]] + 0.5, base + x[k[~ok[k + 1]]] + 0.5


def _times():
    ts = skyfield_api.load.timescale(builtin=True)
    a = ts.from_datetime(T0.to_datetime())
    return ts.tt_jd(a.tt + np.arange(0.0, 86401.0, 1.0) / 86400.0)


def test_access_windows_match_brute_force(leo):
    warnings.simplefilter("ignore")
    targets = [Site("Tumangang", 42.42, 130.60), Site("Sohae", 39.66, 124.705),
               Site("Equator", 0.5, 30.0)]
    acc = find_access(leo, targets, T0, T1, max_off_nadir_deg=MAX_OFF_NADIR_DEG)
    windows = 0
    tt = _times()
    for i, es in enumerate(leo):
        r_sat = skyfield_pef_km(es, tt)
        for j, t in enumerate(targets):
            starts, ends = _brute(r_sat, t.lat_deg, t.lon_deg)
            m = (acc.sat == i) & (acc.target == j)
            s = np.sort(acc.start_ns[m & ~acc.start_partial] / NS_PER_S)
            e = np.sort(acc.end_ns[m & ~acc.end_partial] / NS_PER_S)
            assert len(s) == len(starts) and len(e) == len(ends), (es.norad_id, t.name)
            if len(s):
                assert np.abs(s - starts).max() < BRUTE_TOL_S
                assert np.abs(e - ends).max() < BRUTE_TOL_S
            windows += len(s)
    assert windows >= 10


def test_sun_constraint_matches_brute_force(leo):
    warnings.simplefilter("ignore")
    t = Site("Tumangang", 42.42, 130.60)
    acc = find_access(leo, [t], T0, T1, max_off_nadir_deg=MAX_OFF_NADIR_DEG,
                      min_sun_elevation_deg=10.0)
    tt = _times()
    seen = 0
    for i, es in enumerate(list(leo)[:10]):
        starts, ends = _brute(skyfield_pef_km(es, tt), t.lat_deg, t.lon_deg, min_sun=10.0)
        m = acc.sat == i
        s = np.sort(acc.start_ns[m & ~acc.start_partial] / NS_PER_S)
        assert len(s) == len(starts), es.norad_id
        if len(s):
            assert np.abs(s - starts).max() < BRUTE_TOL_S
        seen += len(s)
    assert seen >= 1


def test_polygon_area_is_union_of_its_points(leo, tmp_path):
    poly = {"type": "Feature", "properties": {"name": "box"}, "geometry": {
        "type": "Polygon", "coordinates": [[[130.0, 42.0], [130.8, 42.0], [130.8, 42.6],
                                            [130.0, 42.6], [130.0, 42.0]]]}}
    area, = targets_from_geojson(json.dumps(poly), "box.geojson", spacing_km=20.0)
    assert len(area.points) > 8
    acc_area = find_access(leo, [area], T0, T1, max_off_nadir_deg=MAX_OFF_NADIR_DEG)
    corners = [Site(f"c{k}", lat, lon) for k, (lon, lat) in
               enumerate([(130.0, 42.0), (130.8, 42.6)])]
    acc_pts = find_access(leo, corners, T0, T1, max_off_nadir_deg=MAX_OFF_NADIR_DEG)
    # every corner window lies inside one area window of the same satellite
    for k in range(len(acc_pts)):
        inside = ((acc_area.sat == acc_pts.sat[k]) & (acc_area.start_ns <= acc_pts.start_ns[k])
                  & (acc_area.end_ns >= acc_pts.end_ns[k]))
        assert inside.any()
    assert acc_area.revisit[0]["coverage_fraction"] >= max(
        r["coverage_fraction"] for r in acc_pts.revisit) - 1e-12


def test_merge_intervals_matches_boolean_timeline():
    rng = np.random.default_rng(3)
    n = 300
    key = rng.integers(0, 5, n)
    s = rng.integers(0, 10_000, n)
    e = s + rng.integers(1, 400, n)
    k2, s2, e2, _, _ = merge_intervals(key, s, e)
    for j in range(5):
        line = np.zeros(10_500, bool)
        for a, b in zip(s[key == j], e[key == j]):
            line[a:b] = True
        merged = np.zeros(10_500, bool)
        for a, b in zip(s2[k2 == j], e2[k2 == j]):
            assert not merged[a:b].any()          # merged intervals are disjoint
            merged[a:b] = True
        np.testing.assert_array_equal(line, merged)


def test_revisit_stats_closed_form():
    # windows [10,20] and [50,60] s in a 100 s span: coverage 0.2, gaps 10, 30, 40
    ns = NS_PER_S
    st = revisit_stats(np.array([0, 0]), np.array([10, 50]) * ns, np.array([20, 60]) * ns,
                       2, 0, 100 * ns)
    assert st[0]["coverage_fraction"] == pytest.approx(0.2)
    assert st[0]["max_gap_s"] == pytest.approx(40.0)
    assert st[0]["mean_gap_s"] == pytest.approx((10 + 30 + 40) / 3)
    assert st[1]["coverage_fraction"] == 0.0 and st[1]["max_gap_s"] == 100.0


def test_bad_requests_raise():
    with pytest.raises(AccessError):
        find_access(None, [point_target(Site("x", 1, 2))], T0, T1)
    with pytest.raises(AccessError, match="LineString"):
        targets_from_geojson(json.dumps({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
                             "l.geojson")


def test_workers_give_the_one_process_windows(full_catalog):
    """Satellites shared between forked processes, windows joined in
    satellite order: the arrays and the revisit statistics are the
    one-process ones."""
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(8)
    cat = satwatch.Catalog.from_element_sets(
        [full_catalog.element_sets[i] for i in sorted(rng.choice(len(full_catalog), 600,
                                                                 replace=False))])
    targets = [point_target(satwatch.GroundPoint(lat, lon, 0.0, f"t{lat}"))
               for lat, lon in ((40.0, 127.0), (-33.9, 18.4), (64.1, -21.9))]
    one = find_access(cat, targets, T0, T0 + 43200.0, max_off_nadir_deg=MAX_OFF_NADIR_DEG)
    two = find_access(cat, targets, T0, T0 + 43200.0, max_off_nadir_deg=MAX_OFF_NADIR_DEG,
                      workers=2)
    assert len(one) > 20
    for name in ("sat", "target", "start_ns", "end_ns", "start_partial", "end_partial"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name), name)
    assert one.revisit == two.revisit
