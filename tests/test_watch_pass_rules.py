"""Pass rules (satwatch.watch.pass_alerts, on the event engine) against a
brute-force scan every second.

Reference: Skyfield's EarthSatellite (python-sgp4) and wgs84.subpoint_of --
its own TEME -> ITRS -> WGS-84 chain, independent of satwatch.frames --
sampled every BF_STEP_S over the window; inside/outside tested with plain
arithmetic written here (haversine on the mean sphere, lon/lat bounds),
independent of shapely and of satwatch.watch.  Targets are circles and
polygons a few tens of km across, placed on the objects' own tracks between
the watch's 30 s samples (the case a 30 s sample test misses), over four
orbits: the ISS, NOAA 20 (sun-synchronous), STARLINK-1007 and an Ariane 5
rocket body in GTO (e = 0.75: the fastest ground speed, at perigee), from
../shared/data/catalogs/full-3le-2023-10-13.txt.
"""
from __future__ import annotations

import datetime

import numpy as np
import pytest

import satwatch

from satwatch.time import NS_PER_S, Time, utc

OBJECTS = (25544, 43013, 44713, 43176)
GTO = 43176
WINDOW_START = "2023-10-13T06:00:00Z"
WINDOW_S = 13 * 3600          # more than the GTO's 12.3 h period: one perigee at least
BF_STEP_S = 1
WATCH_STEP_S = 30.0
MEAN_EARTH_RADIUS_KM = 6371.0088       # IUGG mean radius (the rule's sphere)
# Skyfield's and satwatch's sub-satellite points of these four objects agree
# to 13 m over the window (measured); the targets are crossed at 1 km/s or
# more towards their boundary, so the crossing times agree to ~0.013 s:
# 0.1 s leaves a margin.  Beyond it, a brute-force run's edges are known to
# its step: the entry lies in (first inside sample - 1 s, first inside sample].
EDGE_SLACK_S = 0.1


def _haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (np.sin((p2 - p1) / 2) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.asarray(lon2) - lon1) / 2) ** 2)
    return 2 * MEAN_EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def _in_lon(lon, lo, width):
    return (np.asarray(lon) - lo) % 360.0 < width


@pytest.fixture(scope="module")
def tracks(full_catalog):
    """The objects and their Skyfield sub-satellite points every second."""
    from skyfield.api import EarthSatellite, load, wgs84
    sub = full_catalog.select(list(OBJECTS))
    assert sorted(sub.norad_ids.tolist()) == sorted(OBJECTS)
    t0 = int(utc(WINDOW_START).ns)
    times = Time(t0 + np.arange(0, WINDOW_S + 1, BF_STEP_S, dtype=np.int64) * NS_PER_S)
    ts = load.timescale(builtin=True)
    sky_t = ts.from_datetimes([x.replace(tzinfo=datetime.timezone.utc)
                               for x in times.to_datetime()])
    lat, lon, alt = {}, {}, {}
    for es in sub:
        line1, line2 = es.source_text.strip().splitlines()[-2:]
        sat = EarthSatellite(line1, line2, ts=ts)
        pos = sat.at(sky_t)
        sp = wgs84.subpoint_of(pos)
        lat[es.norad_id], lon[es.norad_id] = sp.latitude.degrees, sp.longitude.degrees
        alt[es.norad_id] = wgs84.height_of(pos).km
    return {"catalog": sub, "t0": t0, "times": times, "lat": lat, "lon": lon, "alt": alt}


def _index_between_samples(tracks, norad_id, frac):
    """A second of the window between two 30 s samples, ``frac`` of the way."""
    k = int(frac * (WINDOW_S // 30 - 2)) + 1
    return 30 * k + 13


def _targets(tracks):
    """(name, rule kwargs, inside(lat, lon) -> bool array) for each target."""
    out = []
    lat, lon = tracks["lat"], tracks["lon"]
    for n, nid in enumerate(OBJECTS):
        if nid == GTO:
            # the perigee passage: the fastest ground speed of the four
            i_per = int(np.argmin(tracks["alt"][nid]))
            picks = [i_per - 17, i_per + 43]
        else:
            picks = [_index_between_samples(tracks, nid, f) for f in (0.2 + 0.1 * n, 0.7)]
        for j, i in enumerate(picks):
            c_lat, c_lon = float(lat[nid][i]), float(lon[nid][i])
            if j == 0:
                # circle of 20 km whose centre is 11 km (0.1 deg of latitude)
                # off the track: a chord of ~30 km, 4 s in LEO
                s_lat = c_lat + 0.1
                out.append((f"circle {nid}", dict(site_lat_deg=s_lat, site_lon_deg=c_lon,
                                                  radius_km=20.0),
                            lambda la, lo, s_lat=s_lat, s_lon=c_lon:
                            _haversine_km(la, lo, s_lat, s_lon) <= 20.0))
                # a grazing circle: 12 km, centre ~10.5 km off the track
                g_lat = c_lat - 0.095
                out.append((f"grazing circle {nid}", dict(site_lat_deg=g_lat, site_lon_deg=c_lon,
                                                          radius_km=12.0),
                            lambda la, lo, g_lat=g_lat, g_lon=c_lon:
                            _haversine_km(la, lo, g_lat, g_lon) <= 12.0))
            else:
                h = 0.15          # box of 0.3 deg (~33 km of latitude)
                lo0 = c_lon - h + 0.05
                ring = ((lo0, c_lat - h), (lo0 + 2 * h, c_lat - h), (lo0 + 2 * h, c_lat + h),
                        (lo0, c_lat + h), (lo0, c_lat - h))
                out.append((f"box {nid}", dict(polygon_lon_lat_deg=ring),
                            lambda la, lo, lo0=lo0, la0=c_lat - h, h=h:
                            _in_lon(lo, lo0, 2 * h) & (la > la0) & (la < la0 + 2 * h)))
                # an L: the box without its north-east quarter (not convex)
                ring_l = ((lo0, c_lat - h), (lo0 + 2 * h, c_lat - h), (lo0 + 2 * h, c_lat),
                          (lo0 + h, c_lat), (lo0 + h, c_lat + h), (lo0, c_lat + h),
                          (lo0, c_lat - h))
                out.append((f"L {nid}", dict(polygon_lon_lat_deg=ring_l),
                            lambda la, lo, lo0=lo0, la0=c_lat - h, h=h:
                            (_in_lon(lo, lo0, 2 * h) & (la > la0) & (la < la0 + h))
                            | (_in_lon(lo, lo0, h) & (la > la0) & (la < la0 + 2 * h))))
    # a U whose two arms the ISS crosses 8 s apart, between two 30 s samples:
    # g has two peaks within one 30 s step (one of them is lost unless the
    # step fits the arms' width, see watch.MIN_PASS_STEP_S)
    for nid in (25544, 43013):
        i = _index_between_samples(tracks, nid, 0.45)
        p0 = np.array([lon[nid][i - 4], lat[nid][i - 4]])
        p1 = np.array([lon[nid][i + 4], lat[nid][i + 4]])
        mid, e_u = (p0 + p1) / 2, (p1 - p0) / np.hypot(*(p1 - p0))
        e_w = np.array([-e_u[1], e_u[0]])
        a, d, h, top, t = np.hypot(*(p1 - p0)) / 2, 0.06, 0.1, 0.5, 0.08
        uw = [(-a - d, -h), (-a + d, -h), (-a + d, top - t), (a - d, top - t), (a - d, -h),
              (a + d, -h), (a + d, top), (-a - d, top), (-a - d, -h)]
        ring = tuple(tuple(float(x) for x in mid + u * e_u + w * e_w) for u, w in uw)

        def in_u(la, lo, mid=mid, e_u=e_u, e_w=e_w, a=a, d=d, h=h, top=top, t=t):
            dx = np.stack([(np.asarray(lo) - mid[0] + 180.0) % 360.0 - 180.0,
                           np.asarray(la) - mid[1]])
            u, w = e_u @ dx, e_w @ dx
            arms = (np.abs(np.abs(u) - a) < d) & (w > -h) & (w < top)
            base = (np.abs(u) < a + d) & (w > top - t) & (w < top)
            return arms | base
        out.append((f"U {nid}", dict(polygon_lon_lat_deg=ring), in_u))
    # a box across the antimeridian where the ISS crosses it
    iss_lon = lon[25544]
    i_am = int(np.flatnonzero(np.abs(np.diff(iss_lon)) > 180.0)[0])
    a_lat = float(tracks["lat"][25544][i_am])
    ring = ((179.85, a_lat - 0.1), (180.15, a_lat - 0.1), (180.15, a_lat + 0.1),
            (179.85, a_lat + 0.1), (179.85, a_lat - 0.1))
    out.append(("antimeridian box", dict(polygon_lon_lat_deg=ring),
                lambda la, lo, a_lat=a_lat: _in_lon(lo, 179.85, 0.3)
                & (la > a_lat - 0.1) & (la < a_lat + 0.1)))
    return out


def _runs(inside):
    """(first, last) inside sample of each run."""
    padded = np.r_[False, inside, False].astype(np.int8)
    d = np.diff(padded)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1))


def _evaluate(tracks, kwargs, window_start_ns=None, window_end_ns=None):
    from satwatch.watch import Rule, Update, evaluate
    rule = Rule(id=5, kind="pass", norad_ids=OBJECTS, **kwargs)
    t0 = tracks["t0"]
    upd = Update(catalog=tracks["catalog"],
                 window_start_ns=t0 if window_start_ns is None else window_start_ns,
                 window_end_ns=t0 + WINDOW_S * NS_PER_S if window_end_ns is None
                 else window_end_ns, step_s=WATCH_STEP_S)
    return evaluate([rule], upd)


def _s(iso_or_ns, t0):
    ns = utc(iso_or_ns).ns if isinstance(iso_or_ns, str) else iso_or_ns
    return (int(ns) - t0) / NS_PER_S


def test_every_brute_force_entry_is_alerted_with_its_times(tracks):
    """Each run of inside seconds (Skyfield, every second) is one alert of
    its object, entry and exit within a second (the scan's step) of the
    run's edges; every alert is such a run (or a graze shorter than the
    scan's step); and most of these passes hold no 30 s sample (the case the
    watch's 30 s grid missed)."""
    t0 = tracks["t0"]
    n_runs = n_between = 0
    for name, kwargs, inside_fn in _targets(tracks):
        alerts = _evaluate(tracks, kwargs)
        for nid in OBJECTS:
            inside = inside_fn(tracks["lat"][nid], tracks["lon"][nid])
            mine = [a for a in alerts if a.norad_id == nid]
            matched = set()
            for i0, i1 in _runs(inside):
                n_runs += 1
                aligned = np.arange(i0, i1 + 1) % int(WATCH_STEP_S) == 0
                n_between += not aligned.any()
                hit = [k for k, a in enumerate(mine)
                       if _s(a.details["enter"], t0) <= i1 + EDGE_SLACK_S
                       and _s(a.details["leave"], t0) >= i0 - EDGE_SLACK_S]
                assert len(hit) == 1, (name, nid, i0, i1, [a.details for a in mine])
                a = mine[hit[0]]
                matched.add(hit[0])
                enter, leave = _s(a.details["enter"], t0), _s(a.details["leave"], t0)
                if i0 > 0:
                    assert i0 - BF_STEP_S - EDGE_SLACK_S <= enter <= i0 + EDGE_SLACK_S, \
                        (name, nid, i0, enter)
                if i1 < len(inside) - 1:
                    assert i1 - EDGE_SLACK_S <= leave <= i1 + BF_STEP_S + EDGE_SLACK_S, \
                        (name, nid, i1, leave)
                else:
                    assert a.details["partial"]
                # the closest approach / deepest point lies inside the target
                assert inside_fn(np.array([a.details["lat_deg"]]),
                                 np.array([a.details["lon_deg"]]))[0] or \
                    leave - enter < 2 * BF_STEP_S, (name, a.details)
                assert enter - EDGE_SLACK_S <= _s(a.time_ns, t0) <= leave + EDGE_SLACK_S
            for k, a in enumerate(mine):
                if k not in matched:      # only a graze between two brute-force samples
                    span = _s(a.details["leave"], t0) - _s(a.details["enter"], t0)
                    assert span < BF_STEP_S + EDGE_SLACK_S, (name, nid, a.details)
    assert n_runs >= 16, n_runs
    assert n_between >= n_runs // 2, (n_between, n_runs)


def test_circle_alert_distance_is_the_closest_approach(tracks):
    """distance_km is the smallest brute-force distance of the pass (to the
    distance the track covers in half a brute-force step, plus the 13 m of
    Skyfield vs satwatch)."""
    t0 = tracks["t0"]
    for name, kwargs, _ in _targets(tracks):
        if "radius_km" not in kwargs:
            continue
        for a in _evaluate(tracks, kwargs):
            nid = a.norad_id
            d = _haversine_km(tracks["lat"][nid], tracks["lon"][nid], kwargs["site_lat_deg"],
                              kwargs["site_lon_deg"])
            i = int(round(_s(a.time_ns, t0)))
            lo, hi = max(i - 60, 0), i + 61
            best = float(np.min(d[lo:hi]))
            # ground speed under 10 km/s: half a 1 s step moves the point
            # 5 km at most, changing the distance by (5 km)^2 / (2 d) near
            # the minimum, or 5 km at worst
            assert a.details["distance_km"] <= best + 0.02, (name, a.details, best)
            assert a.details["distance_km"] >= best - 5.0, (name, a.details, best)
            assert abs(a.details["alt_km"] - tracks["alt"][nid][i]) < 10.0


def test_overlapping_windows_give_the_same_keys(tracks):
    """The key is the entry's whole second, whatever window sees the pass:
    windows starting 3 h 7 s apart (different search grids) agree on every
    pass both see.  Reference: the brute-force runs (each seen pass has one
    key), docs/service.md's promise of one stored alert per happening."""
    t0 = tracks["t0"]
    name, kwargs, inside_fn = _targets(tracks)[0]
    kwargs = dict(kwargs, radius_km=800.0)      # several passes of each object
    late = t0 + (3 * 3600 + 7) * NS_PER_S
    a1 = _evaluate(tracks, kwargs)
    a2 = _evaluate(tracks, kwargs, window_start_ns=late)
    k1 = {a.key for a in a1 if a.time_ns >= late or
          utc(a.details["leave"]).ns >= late}
    k2 = {a.key for a in a2}
    assert k2 and k1 == k2, (sorted(k1 ^ k2))
    # one key per brute-force run in the later window
    n = 0
    for nid in OBJECTS:
        d = _haversine_km(tracks["lat"][nid], tracks["lon"][nid], kwargs["site_lat_deg"],
                          kwargs["site_lon_deg"])
        first = (late - t0) // NS_PER_S
        n += len([r for r in _runs(d <= 800.0) if r[1] >= first])
    assert len(k2) == n, (len(k2), n)


def test_failed_propagation_is_data_not_an_exception(full_catalog):
    """COSMOS 2251 DEB 34445 decays in SGP4 (error 6) in stretches from
    16 Oct 2023 23:08 UTC (passes.py's note of a transient failure, from the
    full-catalog measurement): a pass rule over it still answers; no alert
    spans a time python-sgp4 fails at, every stretch python-sgp4 propagates
    is alerted, and each alert cut by a failure ends (or starts) within one
    scan step of python-sgp4's failure edge."""
    from sgp4.api import SatrecArray

    from satwatch.watch import Rule, Update, evaluate
    cat = full_catalog.select([34445])
    es = cat.element_sets[0]
    t0 = int(utc("2023-10-15T00:00:00Z").ns)
    t1 = t0 + 3 * 86_400 * NS_PER_S
    step_s = 10
    times = Time(t0 + np.arange(0, 3 * 86_400 + 1, step_s, dtype=np.int64) * NS_PER_S)
    days, rem = np.divmod(times.ns, 86_400 * NS_PER_S)
    err, _, _ = SatrecArray([cat.satrecs[0]]).sgp4(days + 2440587.5, rem / (86_400 * NS_PER_S))
    ok = err[0] == 0
    assert not ok.all(), "34445 propagates through the span: pick another decaying object"
    # a circle of 20,000 km around (0, 0) holds everything but a 15 km cap at
    # (0, 180): the object is "inside" wherever it propagates (or nearly)
    rule = Rule(id=2, kind="pass", norad_ids=(es.norad_id,), site_lat_deg=0.0,
                site_lon_deg=0.0, radius_km=20_000.0)
    alerts = evaluate([rule], Update(catalog=cat, window_start_ns=t0, window_end_ns=t1))
    spans = [(int(utc(a.details["enter"]).ns), int(utc(a.details["leave"]).ns))
             for a in alerts]
    failed_ns = times.ns[~ok]
    for lo, hi in spans:
        assert not np.any((failed_ns > lo) & (failed_ns < hi)), (Time(lo).iso(), Time(hi).iso())
    edges = times.ns[np.flatnonzero(np.diff(ok.astype(int))) + 1]
    for i0, i1 in _runs(ok):
        assert any(lo <= times.ns[i1] and hi >= times.ns[i0] for lo, hi in spans), \
            (Time(times.ns[i0]).iso(), Time(times.ns[i1]).iso())
    cut = [t for lo, hi in spans for t in (lo, hi) if t0 < t < t1 and t != t0]
    cut = [t for t in cut if np.min(np.abs(edges - t)) < 3600 * NS_PER_S]
    assert cut
    for t in cut:
        assert np.min(np.abs(edges - t)) <= step_s * NS_PER_S, Time(t).iso()


def test_small_circle_over_many_objects_is_evaluated(full_catalog):
    """A circle's g is concave along the track, so its step needs no bound
    from the radius (watch.g_is_concave): a 5 km circle over 400 LEO
    objects for a day is searched at the update's step (it was refused,
    needing ~1 s steps and over MAX_PASS_SAMPLES samples).  Its alerts are
    checked against the brute force above on 20 and 12 km circles; here:
    every alert's closest approach is inside the circle."""
    from satwatch.catalog import regime_of
    from satwatch.watch import (MAX_PASS_SAMPLES, MIN_PASS_STEP_S, PASS_LOOKBACK_S, Rule,
                                Update, evaluate, ground_speed_bound_km_s)
    leo = [es for es in full_catalog if regime_of(es) == "LEO"][:400]
    cat = satwatch.Catalog.from_element_sets(leo)
    radius_km = 5.0
    old_steps = np.maximum(MIN_PASS_STEP_S, radius_km / ground_speed_bound_km_s(leo))
    assert np.sum((86_400 + PASS_LOOKBACK_S) / old_steps) > MAX_PASS_SAMPLES
    rule = Rule(id=9, kind="pass", norad_ids=tuple(es.norad_id for es in leo),
                site_lat_deg=40.85, site_lon_deg=129.67, radius_km=radius_km)   # Sohae
    t0 = int(utc(WINDOW_START).ns)
    alerts = evaluate([rule], Update(catalog=cat, window_start_ns=t0,
                                     window_end_ns=t0 + 86_400 * NS_PER_S, step_s=WATCH_STEP_S))
    # a 10 km swath x 16 orbits a day covers ~1.3 % of the Earth: a few of
    # 400 objects pass; each alert's closest approach, by Skyfield, is inside
    assert len(alerts) >= 1
    from skyfield.api import EarthSatellite, load, wgs84
    ts = load.timescale(builtin=True)
    by_id = {es.norad_id: es for es in leo}
    for a in alerts:
        es = by_id[a.norad_id]
        sat = EarthSatellite(*es.source_text.splitlines()[-2:], ts=ts)
        when = ts.from_datetime(Time(a.time_ns).to_datetime().replace(
            tzinfo=datetime.timezone.utc))
        sp = wgs84.subpoint_of(sat.at(when))
        d = _haversine_km(sp.latitude.degrees, sp.longitude.degrees, 40.85, 129.67)
        assert d <= radius_km + 0.05, (a.norad_id, d)     # 13 m agreement (above) + margin


def test_detailed_polygon_rule_against_brute_force(full_catalog, reference_data):
    """North Korea's EEZ (Global Fishing Watch, ../shared/data/geo; 3,044
    vertices, edges down to metres: not convex) over 40 LEO objects for a
    day.  Sampled at its shortest edge everywhere this needed ~1 s steps over
    the whole span and was refused (over MAX_PASS_SAMPLES); the fine search
    now runs only where the object passes through the polygon's convex hull
    (found at the update's step: a concave g).  Reference: python-sgp4 every
    second (satwatch.propagate) inside the same polygon by shapely."""
    import json

    import shapely

    from satwatch.catalog import regime_of
    from satwatch.watch import (MAX_PASS_SAMPLES, MIN_PASS_STEP_S, PASS_LOOKBACK_S, Rule,
                                Update, evaluate, ground_speed_bound_km_s, target_size_km)
    from satwatch.zones import ring_geometry
    doc = json.loads((reference_data / "geo" / "gfw_nk_eez_prk.json").read_text())
    ring = tuple(map(tuple, doc["features"][0]["geometry"]["coordinates"][0]))
    leo = [es for es in full_catalog if regime_of(es) == "LEO"][:40]
    rule = Rule(id=11, kind="pass", norad_ids=tuple(es.norad_id for es in leo),
                polygon_lon_lat_deg=ring)
    old_steps = np.minimum(WATCH_STEP_S, np.maximum(
        MIN_PASS_STEP_S, target_size_km(rule) / ground_speed_bound_km_s(leo)))
    assert np.sum((86_400 + PASS_LOOKBACK_S) / old_steps) > MAX_PASS_SAMPLES
    cat = satwatch.Catalog.from_element_sets(leo)
    t0 = int(utc("2023-10-13T00:00:00Z").ns)
    alerts = evaluate([rule], Update(catalog=cat, window_start_ns=t0,
                                     window_end_ns=t0 + 86_400 * NS_PER_S, step_s=WATCH_STEP_S))
    times = Time(t0 + np.arange(0, 86_401, dtype=np.int64) * NS_PER_S)
    geo = cat.propagate(times).geodetic()
    inside = shapely.contains_xy(ring_geometry(ring), geo.lon_deg, geo.lat_deg)
    runs = 0
    for i, es in enumerate(leo):
        mine = [((utc(a.details["enter"]).ns - t0) / NS_PER_S,
                 (utc(a.details["leave"]).ns - t0) / NS_PER_S)
                for a in alerts if a.norad_id == es.norad_id]
        found = _runs(inside[i])
        runs += len(found)
        # each run of inside seconds is an alert, its leave within the second
        # after the run's last sample (entries before the window are looked
        # back for, so only the leave is compared for a run cut at t0)
        assert len(mine) == len(found), (es.norad_id, mine, found)
        for (enter, leave), (a, b) in zip(sorted(mine), found):
            assert b - EDGE_SLACK_S <= leave <= b + BF_STEP_S + EDGE_SLACK_S
            if a > 0:
                assert a - BF_STEP_S - EDGE_SLACK_S <= enter <= a + EDGE_SLACK_S
    assert runs >= 5


def test_non_convex_polygon_across_the_antimeridian_against_brute_force(full_catalog):
    """An L of 20 x 20 deg astride +-180 deg (not convex: searched through
    its convex hull, built in unwrapped longitudes) over 8 objects for a
    day.  Reference: python-sgp4 every second inside the same polygon by
    shapely (satwatch.zones.ring_geometry cuts it at +-180 deg)."""
    import shapely

    from satwatch.watch import Rule, Update, evaluate
    from satwatch.zones import ring_geometry
    ids = [25544, 48274, 43013, 20580, 37849, 44713, 44714, 44715]
    cat = full_catalog.select(ids)
    ring = ((170.0, 20.0), (-170.0, 20.0), (-170.0, 30.0), (180.0, 30.0), (180.0, 40.0),
            (170.0, 40.0), (170.0, 20.0))
    rule = Rule(id=12, kind="pass", norad_ids=tuple(ids), polygon_lon_lat_deg=ring)
    t0 = int(utc("2023-10-13T00:00:00Z").ns)
    alerts = evaluate([rule], Update(catalog=cat, window_start_ns=t0,
                                     window_end_ns=t0 + 86_400 * NS_PER_S, step_s=WATCH_STEP_S))
    geo = cat.propagate(Time(t0 + np.arange(0, 86_401, dtype=np.int64) * NS_PER_S)).geodetic()
    inside = shapely.contains_xy(ring_geometry(ring), geo.lon_deg, geo.lat_deg)
    runs = 0
    for i, es in enumerate(cat):
        leaves = sorted((utc(a.details["leave"]).ns - t0) / NS_PER_S
                        for a in alerts if a.norad_id == es.norad_id)
        found = _runs(inside[i])
        runs += len(found)
        assert len(leaves) == len(found), (es.norad_id, leaves, found)
        for leave, (_, b) in zip(leaves, found):
            assert b - EDGE_SLACK_S <= leave <= b + BF_STEP_S + EDGE_SLACK_S
    assert runs >= 10
