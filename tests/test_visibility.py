"""Visibility: the Sun, the Earth's shadow and eclipse times against
Skyfield (MIT).

Skyfield's ``is_sunlit`` needs a JPL ephemeris, and de421.bsp cannot be
downloaded here.  Skyfield's own test data ships ``de430-2015-03-02.bsp``
(JPL DE430 excerpt covering 2015-02-27..2015-03-07, in
skyfield/tests/data/), so the comparison runs in that span: real element
sets from the 2023-10-13 full catalog are moved to a 2015-03-02 epoch (the
orbit shape is untouched; both sides propagate the same TLE lines), and
eclipse entry/exit found by our engine is compared with the transitions of
Skyfield's ``is_sunlit`` found by Skyfield's own ``find_discrete`` (1 ms).
Early March is near the equinox, so GEO objects have eclipses too.
"""
from __future__ import annotations

import dataclasses
import os
import warnings

import numpy as np
import pytest

import satwatch
from satwatch.catalog import regime_of
from satwatch.elements import parse_elements, write_tle
from satwatch.events import scan
from satwatch.passes import SunlitG, catalog_ephemeris
from satwatch.sun import sun_elevation_deg, sun_position_teme_km
from satwatch.frames import GroundPoint
from satwatch.time import NS_PER_S, Time, utc, utc_range

skyfield = pytest.importorskip("skyfield")
from skyfield.api import EarthSatellite, load, load_file, wgs84  # noqa: E402
from skyfield.searchlib import find_discrete  # noqa: E402
from skyfield.sgp4lib import TEME  # noqa: E402

# The requirement for eclipse entry and exit.
ECLIPSE_TOL_S = 2.0
# ERFA epv00 + IAU 1980 nutation vs DE430 + Skyfield's IAU 2000A TEME: the
# series is good to a few km (0.01"), nutation models differ by ~0.1".
SUN_DIRECTION_TOL_ARCSEC = 1.0
SUN_ELEVATION_TOL_DEG = 0.01
SUN_DISTANCE_RTOL = 1e-7
BSP = os.path.join(os.path.dirname(skyfield.__file__), "tests", "data", "de430-2015-03-02.bsp")
T0 = utc("2015-03-02T00:00:00Z")
T1 = utc("2015-03-03T00:00:00Z")
PER_REGIME = {"LEO": 24, "MEO": 5, "GEO": 8, "HEO": 5, "GTO": 4}


@pytest.fixture(scope="module")
def eph():
    if not os.path.exists(BSP):
        pytest.skip(f"Skyfield's test ephemeris {BSP} is missing")
    return load_file(BSP)


@pytest.fixture(scope="module")
def shifted(full_catalog):
    """Element sets moved to epochs near 2015-03-02 (same orbit)."""
    rng = np.random.default_rng(7)
    t_ref = utc("2023-10-09T00:00:00Z").ns
    out = []
    for regime, n in PER_REGIME.items():
        pool = [es for es in full_catalog if regime_of(es) == regime and es.norad_id < 100000
                and abs(es.epoch_ns - t_ref) < 4 * 86400 * NS_PER_S and es.perigee_alt_km > 250]
        for i in sorted(rng.choice(len(pool), size=min(n, len(pool)), replace=False)):
            es = pool[i]
            moved = dataclasses.replace(es, epoch_ns=int(es.epoch_ns - (t_ref - T0.ns)))
            l1, l2 = write_tle(moved, lossy=True)
            sets, rej = parse_elements(f"0 {es.name}\n{l1}\n{l2}\n", source="shifted")
            assert not rej
            out.append(sets[0])
    return out


def test_sun_direction_matches_de430(eph):
    ts = load.timescale(builtin=True)
    times = utc_range("2015-02-28T00:00:00Z", "2015-03-06T00:00:00Z", 1800)
    ref = (eph["sun"] - eph["earth"]).at(ts.from_datetimes(times.to_datetime())).frame_xyz(TEME).km
    mine = sun_position_teme_km(times)
    cos = (ref * mine).sum(0) / np.linalg.norm(ref, axis=0) / np.linalg.norm(mine, axis=0)
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() * 3600 < SUN_DIRECTION_TOL_ARCSEC
    # distance: epv00 is good to a few km (3e-8 AU relative).
    np.testing.assert_allclose(np.linalg.norm(mine, axis=0), np.linalg.norm(ref, axis=0),
                               rtol=SUN_DISTANCE_RTOL)


def test_sun_elevation_matches_skyfield(eph):
    ts = load.timescale(builtin=True)
    site = GroundPoint(51.8769, 128.3322, 0.0)
    times = utc_range("2015-03-02T00:00:00Z", "2015-03-03T00:00:00Z", 600)
    obs = eph["earth"] + wgs84.latlon(site.lat_deg, site.lon_deg)
    alt = obs.at(ts.from_datetimes(times.to_datetime())).observe(eph["sun"]).apparent() \
        .altaz()[0].degrees
    # Skyfield's apparent altitude includes aberration (20") and light time;
    # ours is geometric: both well inside the tolerance.
    np.testing.assert_allclose(sun_elevation_deg(times, site), alt, atol=SUN_ELEVATION_TOL_DEG)


def test_eclipse_entry_exit_match_skyfield_is_sunlit(eph, shifted):
    warnings.simplefilter("ignore")
    ts = load.timescale(builtin=True)
    cat = satwatch.Catalog.from_element_sets(shifted)
    g = SunlitG(catalog_ephemeris(cat))
    ours = scan(g, T0, T1).crossings
    a, b = ts.from_datetime(T0.to_datetime()), ts.from_datetime(T1.to_datetime())
    compared = 0
    regimes = set()
    for i, es in enumerate(cat):
        l1, l2 = es.source_text.splitlines()[-2:]
        sat = EarthSatellite(l1, l2, es.name, ts)

        def lit(t):
            return sat.at(t).is_sunlit(eph)
        # Fine sampling (<= 20 s) so that the reference itself does not miss
        # the short grazing eclipses at the end of an eclipse season.
        lit.step_days = min(es.period_min / 200.0, 20.0 / 60.0) / 1440.0
        tt, val = find_discrete(a, b, lit)
        theirs = np.array([(t.utc_datetime().timestamp()) for t in tt])
        mine = ours.time.ns[ours.obj == i] / NS_PER_S
        mine_dir = ours.direction[ours.obj == i]
        assert len(mine) == len(theirs), (es.norad_id, es.name, len(mine), len(theirs))
        if len(theirs):
            assert np.all((mine_dir > 0) == np.asarray(val, dtype=bool)), es.norad_id
            assert np.abs(mine - theirs).max() < ECLIPSE_TOL_S, (es.norad_id, es.name,
                                                                 np.abs(mine - theirs).max())
            compared += len(theirs)
            regimes.add(regime_of(es))
    assert compared > 100
    assert {"LEO", "GEO"} <= regimes


# Visible stretches are cut where the Sun at the site crosses -6 deg; the
# Sun's elevation agrees with Skyfield's to SUN_ELEVATION_TOL_DEG (0.01 deg),
# and near -6 deg at these latitudes it moves by ~0.15 deg a minute: 4 s.
VISIBLE_TOL_S = 5.0


def _spans(t0, t1, state0, transitions):
    """Intervals of [t0, t1] where a two-state function is True, from its
    state at t0 and its ``(time, new_state)`` transitions."""
    out, start, state = [], t0, state0
    for t, new in transitions:
        if state and not new:
            out.append((start, t))
        if new and not state:
            start = t
        state = new
    if state:
        out.append((start, t1))
    return out


def _sky_times(ts, t_ns):
    """Skyfield times for UTC ns (through TT: Unix time has no leap seconds)."""
    whole, frac = Time(np.asarray(t_ns, dtype=np.int64)).jd_tt()
    return ts.tt_jd(whole, frac)


def test_pass_visibility_matches_skyfield(eph, shifted):
    """Per pass: eclipse entry/exit inside the pass (Skyfield's is_sunlit
    transitions, found with find_discrete) and the visible stretch (sunlit
    satellite under a Sun below -6 deg at the site, Skyfield's apparent
    Sun altitude sampled every second)."""
    warnings.simplefilter("ignore")
    from satwatch.passes import find_passes
    from satwatch.sites import find_site
    ts = load.timescale(builtin=True)
    cat = satwatch.Catalog.from_element_sets(shifted)
    checked_eclipses = checked_visible = 0
    for code in ("VOSTOCHNY", "KOUROU"):
        site = find_site(code)
        p = find_passes(cat, site, T0, T1, 10.0, visibility=True)
        vis = p.visibility
        topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
        observer = eph["earth"] + topos
        for k in range(len(p)):
            es = cat.element_sets[p.sat[k]]
            l1, l2 = es.source_text.splitlines()[-2:]
            sat = EarthSatellite(l1, l2, es.name, ts)
            rise, set_ = p.rise_ns[k] / NS_PER_S, p.set_ns[k] / NS_PER_S
            a, b = _sky_times(ts, np.array([p.rise_ns[k], p.set_ns[k]]))

            def lit(t):
                return sat.at(t).is_sunlit(eph)
            lit.step_days = min(es.period_min / 200.0, 20.0 / 60.0) / 1440.0
            tt, val = find_discrete(a, b, lit)
            theirs = [(t.utc_datetime().timestamp(), bool(v)) for t, v in zip(tt, val)]
            if any(min(abs(t - rise), abs(t - set_)) < ECLIPSE_TOL_S for t, _ in theirs):
                continue                     # a transition at the pass edge: ambiguous
            ours = sorted([(t / NS_PER_S, False) for t in vis["eclipse_entry_ns"][k]]
                          + [(t / NS_PER_S, True) for t in vis["eclipse_exit_ns"][k]])
            assert len(ours) == len(theirs), (es.norad_id, code, ours, theirs)
            for (t1, d1), (t2, d2) in zip(ours, theirs):
                assert d1 == d2 and abs(t1 - t2) < ECLIPSE_TOL_S, (es.norad_id, t1, t2)
            checked_eclipses += len(theirs)
            # the visible stretch: Skyfield's sunlit and dark spells inside
            # the pass (find_discrete), intersected
            def dark(t):
                return observer.at(t).observe(eph["sun"]).apparent().altaz()[0].degrees < -6.0
            dark.step_days = 600.0 / 86400.0
            lit_spans = _spans(rise, set_, bool(lit(a)), theirs)
            td, vd = find_discrete(a, b, dark)
            dark_spans = _spans(rise, set_, bool(dark(a)),
                                [(t.utc_datetime().timestamp(), bool(v)) for t, v in zip(td, vd)])
            both = [(max(p0, q0), min(p1, q1)) for p0, p1 in lit_spans for q0, q1 in dark_spans
                    if max(p0, q0) < min(p1, q1)]
            vs, ve = vis["visible_start_ns"][k], vis["visible_end_ns"][k]
            if not both:
                assert vs < 0 or (ve - vs) / NS_PER_S < 2 * VISIBLE_TOL_S, (es.norad_id, code)
                continue
            assert vs >= 0, (es.norad_id, code, both)
            assert abs(vs / NS_PER_S - both[0][0]) < VISIBLE_TOL_S, (es.norad_id, code, both)
            assert abs(ve / NS_PER_S - both[-1][1]) < VISIBLE_TOL_S, (es.norad_id, code, both)
            checked_visible += 1
    assert checked_eclipses > 20 and checked_visible > 10, (checked_eclipses, checked_visible)
