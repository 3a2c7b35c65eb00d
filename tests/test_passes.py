"""Passes against Skyfield's ``EarthSatellite.find_events`` (Skyfield 1.5x,
MIT, Brandon Rhodes) and against a brute-force 1-second elevation scan
computed with Skyfield.

Sample: objects of every regime (LEO, MEO, GEO, HEO, GTO) from the Space-Track
full catalog of 2023-10-13 (../shared/data/catalogs), epochs within 5 days of
the window, over several sites and days.  Skyfield propagates the same TLE
lines with its builtin timescale; its find_events ignores polar motion and
refines events to half a second (``half_second`` in skyfield/sgp4lib.py),
which the tolerances below allow for.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import satwatch
from satwatch.catalog import regime_of
from satwatch.elements import write_tle
from satwatch.passes import find_passes, pass_rows
from satwatch.sites import find_site
from satwatch.time import NS_PER_S, Time, utc

skyfield_api = pytest.importorskip("skyfield.api")

# The requirement: rise, culmination and set within 1 s of Skyfield.
EVENT_TOL_S = 1.0
# Culminations of near-stationary objects are flat: a time is only defined to
# 1 s where the elevation 60 s from the peak is lower by more than this; for
# flatter peaks the peak elevation is compared instead.
SHARP_PEAK_DEG = 0.01
FLAT_PEAK_ELEVATION_TOL_DEG = 1e-3
# Events this close to a window edge are at the edge within Skyfield's 0.5 s
# resolution and are skipped.
EDGE_S = 2.0
# Against the 1 s brute-force scan: half a sample plus the 1 s requirement.
BRUTE_TOL_S = 1.5
MASK_DEG = 10.0
PER_REGIME = {"LEO": 130, "MEO": 40, "GEO": 50, "HEO": 50, "GTO": 40}
SITES = ["VOSTOCHNY", "KOUROU", "MAHIA", "SOHAE", "PLESETSK"]
DAYS = ["2023-10-10T00:00:00Z", "2023-10-11T06:00:00Z", "2023-10-12T12:00:00Z"]


@pytest.fixture(scope="module")
def sample(full_catalog):
    t_ref = utc("2023-10-11T00:00:00Z").ns
    rng = np.random.default_rng(20231013)
    chosen = []
    for regime, n in PER_REGIME.items():
        pool = [es for es in full_catalog if regime_of(es) == regime
                and abs(es.epoch_ns - t_ref) < 5 * 86400 * NS_PER_S
                and es.perigee_alt_km > 150 and es.norad_id < 100000]
        pick = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
        chosen += [pool[i] for i in sorted(pick)]
    return satwatch.Catalog.from_element_sets(chosen)


def _skyfield_events(es, site, t0, t1, ts):
    from skyfield.api import EarthSatellite, wgs84
    l1, l2 = write_tle(es) if not es.source_text else es.source_text.splitlines()[-2:]
    sat = EarthSatellite(l1, l2, es.name, ts)
    topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
    tt, ev = sat.find_events(topos, ts.from_datetime(t0.to_datetime()),
                             ts.from_datetime(t1.to_datetime()), MASK_DEG)
    secs = np.array([t.utc_datetime().timestamp() for t in tt]) if len(tt) else np.zeros(0)
    # utc_datetime() rounds to microseconds: far below the tolerance.
    return sat, topos, secs, np.asarray(ev), tt


def _skyfield_altitude_deg(sat, topos, t):
    """Skyfield's elevation along the path its find_events takes: its SGP4
    TEME state rotated by its GMST-82 (``theta_GMST1982``), seen from its
    WGS-84 site.  Equals ``(sat - topos).at(t).altaz()`` to 1e-12 deg under
    the builtin timescale (checked below) and is 50x faster, which makes
    86,400-point scans affordable."""
    from skyfield.sgp4lib import theta_GMST1982
    r, _, _ = sat._position_and_velocity_TEME_km(t)
    theta, _ = theta_GMST1982(t.whole, t.ut1_fraction)
    c, s = np.cos(theta), np.sin(theta)
    r_pef = np.array([c * r[0] + s * r[1], -s * r[0] + c * r[1], r[2]])
    lat, lon = np.radians(topos.latitude.degrees), np.radians(topos.longitude.degrees)
    up = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    d = r_pef - topos.itrs_xyz.km[:, None]
    alt = np.degrees(np.arcsin(up @ d / np.linalg.norm(d, axis=0)))
    probe = np.arange(0, len(alt), 20000)
    check = (sat - topos).at(t[probe]).altaz()[0].degrees
    np.testing.assert_allclose(alt[probe], check, atol=1e-9)
    return alt


def _brute_force(sat, topos, t0, ts, kind):
    """Event times (s since 1970) from Skyfield elevations every second:
    crossings at the middle of the second they happen in, maxima at the
    highest sample."""
    a = ts.from_datetime(t0.to_datetime())
    x = np.arange(0.0, 86401.0, 1.0)
    alt = _skyfield_altitude_deg(sat, topos, ts.tt_jd(a.tt + x / 86400.0))
    base = t0.ns / NS_PER_S
    up = alt >= MASK_DEG
    k = np.flatnonzero(up[1:] != up[:-1])
    if kind == 0:
        return base + x[k[up[k + 1]]] + 0.5
    if kind == 2:
        return base + x[k[~up[k + 1]]] + 0.5
    m = np.flatnonzero((alt[1:-1] >= alt[:-2]) & (alt[1:-1] > alt[2:]) & (alt[1:-1] >= MASK_DEG))
    return base + x[m + 1]


def test_passes_match_skyfield_find_events(sample):
    ts = skyfield_api.load.timescale(builtin=True)
    warnings.simplefilter("ignore")
    regimes_seen = set()
    compared = 0
    failures = []
    skyfield_misses = []
    for j, es in enumerate(sample):
        site = find_site(SITES[j % len(SITES)])
        t0 = utc(DAYS[j % len(DAYS)])
        t1 = t0 + 86400.0
        one = satwatch.Catalog.from_element_sets([es])
        p = find_passes(one, site, t0, t1, MASK_DEG, polar_motion=False)
        sat, topos, sky_t, sky_e, sky_tt = _skyfield_events(es, site, t0, t1, ts)
        lo, hi = t0.ns / NS_PER_S + EDGE_S, t1.ns / NS_PER_S - EDGE_S

        def inner(x):
            x = np.asarray(x, dtype=float)
            return np.sort(x[(x > lo) & (x < hi)])
        ours = {0: inner(p.rise_ns[~p.rise_partial] / NS_PER_S),
                2: inner(p.set_ns[~p.set_partial] / NS_PER_S),
                1: inner(p.maxima.time.ns / NS_PER_S)}
        for kind in (0, 1, 2):
            theirs = inner(sky_t[sky_e == kind])
            if len(theirs) != len(ours[kind]):
                # Skyfield's find_events can miss a set/rise pair between two
                # maxima, or a secondary maximum: let a brute-force 1 s scan of
                # Skyfield's own elevations decide.
                brute = _brute_force(sat, topos, t0, ts, kind)
                brute = brute[(brute > lo) & (brute < hi)]
                skyfield_misses.append((es.norad_id, kind, len(theirs), len(ours[kind]),
                                        len(brute)))
                if len(brute) != len(ours[kind]) or (
                        len(brute) and np.abs(brute - ours[kind]).max() > BRUTE_TOL_S):
                    failures.append((es.norad_id, es.name, site.code, kind, len(theirs),
                                     len(ours[kind]), len(brute)))
                continue
            if not len(theirs):
                continue
            d = np.abs(theirs - ours[kind])
            if kind != 1:
                if d.max() > EVENT_TOL_S:
                    failures.append((es.norad_id, site.code, kind, float(d.max())))
                continue
            # culminations: sharp peaks by time, flat ones by elevation
            tt_cul = sky_tt.tt[sky_e == 1]
            tt_cul = np.sort(tt_cul[(sky_t[sky_e == 1] > lo) & (sky_t[sky_e == 1] < hi)])
            for k, x in enumerate(theirs):
                near = ts.tt_jd(tt_cul[k] + np.array([-60.0, 0.0, 60.0]) / 86400.0)
                alt = (sat - topos).at(near).altaz()[0].degrees
                sharp = alt[1] - max(alt[0], alt[2]) > SHARP_PEAK_DEG
                if sharp and d[k] > EVENT_TOL_S:
                    failures.append((es.norad_id, site.code, "culmination", float(d[k])))
                if not sharp:
                    ours_el = p.maxima.value[np.argmin(np.abs(p.maxima.time.ns / 1e9 - x))]
                    ours_el = np.degrees(np.arcsin(ours_el + np.sin(np.radians(MASK_DEG))))
                    if abs(ours_el - alt[1]) > FLAT_PEAK_ELEVATION_TOL_DEG:
                        failures.append((es.norad_id, site.code, "flat peak", ours_el, alt[1]))
        compared += 1
        regimes_seen.add(regime_of(es))
    assert compared >= 300
    # Skyfield's misses are rare: a handful of HEO/GTO windows out of 300+.
    assert len(skyfield_misses) < 15, skyfield_misses
    assert regimes_seen >= {"LEO", "MEO", "GEO", "HEO", "GTO"}
    assert not failures, failures[:20]


def test_pass_rows_json_shape_and_partial_flags(full_catalog):
    # ISS over Vostochny on the day of the 2023-09-13 summit would need the
    # September elements; use the catalog's own epoch day instead.
    iss = full_catalog.select([25544])
    site = find_site("VOSTOCHNY")
    t0 = utc("2023-10-13T00:00:00Z")
    p = find_passes(iss, site, t0, t0 + 86400.0, 0.0, visibility=True)
    rows = pass_rows(p, iss, site)
    assert rows, "the ISS passes over 51.9N every day"
    for r in rows:
        for key in ("norad_id", "name", "rise_time", "culmination_time", "max_elevation_deg",
                    "culmination_azimuth_deg", "set_time", "duration_s", "rise_partial",
                    "set_partial", "sunlit", "site_dark", "visible", "eclipse_entry_times"):
            assert key in r
        assert r["max_elevation_deg"] >= 0.0
        if r["rise_time"] and r["set_time"]:
            assert r["rise_time"] < r["culmination_time"] < r["set_time"]
    # a window that starts mid-pass gives a partial pass with a null rise
    first = p.rise_ns[~p.rise_partial][0]
    mid = Time(int(first + 60 * NS_PER_S))
    q = find_passes(iss, site, mid, mid + 3600.0, 0.0)
    r0 = pass_rows(q, iss, site)[0]
    assert r0["rise_time"] is None and r0["rise_partial"] and r0["set_time"] is not None


def test_no_missed_pass_against_brute_force_scan(full_catalog):
    """Every pass a 1-second Skyfield elevation scan sees, we see (and
    nothing else), on LEO objects with passes shorter than a minute plus
    random LEO, HEO and GTO objects, all in one whole-sample call."""
    warnings.simplefilter("ignore")
    ts = skyfield_api.load.timescale(builtin=True)
    site = find_site("VOSTOCHNY")
    t0 = utc("2023-10-12T00:00:00Z")
    t1 = t0 + 86400.0
    t_ref = t0.ns
    rng = np.random.default_rng(5)

    def fresh(regime):
        return [es for es in full_catalog if regime_of(es) == regime and es.norad_id < 100000
                and abs(es.epoch_ns - t_ref) < 4 * 86400 * NS_PER_S and es.perigee_alt_km > 200]
    leo = fresh("LEO")
    pool = satwatch.Catalog.from_element_sets([leo[i] for i in rng.choice(len(leo), 300,
                                                                          replace=False)])
    # pick the objects with the shortest passes (by our finder), then verify
    # them and random others against the brute force
    p = find_passes(pool, site, t0, t1, MASK_DEG, polar_motion=False)
    full = ~p.rise_partial & ~p.set_partial
    shortest = np.unique(p.sat[full][np.argsort(p.duration_s[full])[:12]])
    chosen = [pool.element_sets[i] for i in shortest]
    chosen += [leo[i] for i in rng.choice(len(leo), 12, replace=False)]
    for regime, n in (("HEO", 8), ("GTO", 4), ("MEO", 3)):
        cands = fresh(regime)
        chosen += [cands[i] for i in rng.choice(len(cands), n, replace=False)]
    cat = satwatch.Catalog.from_element_sets(chosen)
    ours = find_passes(cat, site, t0, t1, MASK_DEG, polar_motion=False)
    short_seen = 0
    for i, es in enumerate(cat):
        l1, l2 = es.source_text.splitlines()[-2:]
        from skyfield.api import EarthSatellite, wgs84
        sat = EarthSatellite(l1, l2, es.name, ts)
        topos = wgs84.latlon(site.lat_deg, site.lon_deg)
        rises = _brute_force(sat, topos, t0, ts, 0)
        sets = _brute_force(sat, topos, t0, ts, 2)
        m = ours.sat == i
        our_r = np.sort(ours.rise_ns[m & ~ours.rise_partial] / NS_PER_S)
        our_s = np.sort(ours.set_ns[m & ~ours.set_partial] / NS_PER_S)
        assert len(our_r) == len(rises), (es.norad_id, es.name, our_r, rises)
        assert len(our_s) == len(sets), (es.norad_id, es.name, our_s, sets)
        if len(rises):
            assert np.abs(our_r - rises).max() < BRUTE_TOL_S
        if len(sets):
            assert np.abs(our_s - sets).max() < BRUTE_TOL_S
        for r in rises:
            after = sets[sets > r]
            if len(after) and after[0] - r < 60.0:
                short_seen += 1
    assert short_seen >= 1, "the sample must include a pass shorter than a minute"


# Grazing passes (peaks 0.001-0.003 deg above the mask, 5-15 s long) from the
# full 2023-10-13 catalog over Vostochny: the first four were missed (their
# interpolated peaks fell below the mask), the last three had their rise and
# set off by 0.4-1.4 s (roots placed on the interpolant), before hidden passes
# near the mask were decided and refined on exact SGP4 (events.scan,
# interpolation_tol).  Reference: Skyfield's elevations every second, each
# crossing then located to 0.01 s.
GRAZING_NORAD_IDS = [26819, 41213, 42106, 47647, 24236, 15055, 55305]
# Skyfield against satwatch at a grazing edge: both without polar motion, the
# same SGP4; their GMST and UT1 differ by microradians, which moves an edge
# of a pass that barely clears the mask by up to ~0.1 s (measured 0.11 s).
GRAZING_EDGE_TOL_S = 0.3
FINE_STEP_S = 0.01


def test_grazing_passes_against_a_fine_brute_force_scan(full_catalog):
    warnings.simplefilter("ignore")
    ts = skyfield_api.load.timescale(builtin=True)
    from skyfield.api import EarthSatellite, wgs84
    site = find_site("VOSTOCHNY")
    t0 = utc("2023-10-13T00:00:00Z")
    cat = full_catalog.select(GRAZING_NORAD_IDS)
    ours = find_passes(cat, site, t0, t0 + 86400.0, MASK_DEG, polar_motion=False)
    topos = wgs84.latlon(site.lat_deg, site.lon_deg)
    a = ts.from_datetime(t0.to_datetime())
    shortest = np.inf
    for i, es in enumerate(cat):
        sat = EarthSatellite(*es.source_text.splitlines()[-2:], es.name, ts)
        edges = {}
        for kind in (0, 2):
            coarse = _brute_force(sat, topos, t0, ts, kind) - t0.ns / NS_PER_S
            # each crossing located to FINE_STEP_S within the second it lies in
            x = (coarse[:, None] - 1.0 + np.arange(0.0, 2.0, FINE_STEP_S)[None, :]).ravel()
            alt = _skyfield_altitude_deg(sat, topos, ts.tt_jd(a.tt + x / 86400.0))
            up = (alt >= MASK_DEG).reshape(len(coarse), -1)
            first_change = np.argmax(up[:, 1:] != up[:, :-1], axis=1)
            edges[kind] = x.reshape(len(coarse), -1)[np.arange(len(coarse)), first_change] \
                + FINE_STEP_S / 2
        m = ours.sat == i
        our_r = np.sort((ours.rise_ns[m & ~ours.rise_partial] - t0.ns) / NS_PER_S)
        our_s = np.sort((ours.set_ns[m & ~ours.set_partial] - t0.ns) / NS_PER_S)
        assert len(our_r) == len(edges[0]), (es.norad_id, our_r, edges[0])
        assert len(our_s) == len(edges[2]), (es.norad_id, our_s, edges[2])
        assert np.abs(our_r - edges[0]).max() < GRAZING_EDGE_TOL_S, (es.norad_id, our_r - edges[0])
        assert np.abs(our_s - edges[2]).max() < GRAZING_EDGE_TOL_S, (es.norad_id, our_s - edges[2])
        full = m & ~ours.rise_partial & ~ours.set_partial
        if full.any():
            shortest = min(shortest, ours.duration_s[full].min())
    # the sample holds the passes it is about: some last under 15 s
    assert shortest < 15.0


# -- look angles from the polish's exact states -------------------------------
#
# find_passes takes the look angles at rise, culmination and set from the
# exact SGP4 states the polish computed last (passes._states_from_log): a
# root's state carried over the last polish step by its velocity and two-body
# gravity, the culmination between the pair of states 1 s either side of the
# extremum polish's last point.  Reference: SGP4 at the same times
# (Ephemeris.exact_states).  Bounds: a carried state is off by SGP4's velocity
# error times the step: VELOCITY_ERROR_KM_S covers the catalog's worst (GSLV
# R/B 57321, 137 m/s off its position's derivative, review round 22), plus
# 1 cm for gravity's J2 part; the chord, positions only, by under
# CHORD_TOL_KM (its terms are mm; the worst of the catalog 9 cm).
VELOCITY_ERROR_KM_S = 0.15
CARRY_TOL_KM = 1e-5
CHORD_TOL_KM = 1e-3


def test_look_angles_from_the_polish_states_match_sgp4(full_catalog):
    from satwatch import passes as P
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(5)
    ids = {es.norad_id: i for i, es in enumerate(full_catalog.element_sets)}
    pick = np.unique(np.r_[rng.choice(len(full_catalog), 2500, replace=False),
                           [ids[57321], ids[45848]]])
    cat = satwatch.Catalog([full_catalog.element_sets[i] for i in pick])
    site = find_site("VOSTOCHNY")
    t0 = utc("2023-10-13T00:00:00Z")
    seen = {}
    look = P._look_angles

    def spy(g, obj, t_ns, log=None, refs=None, expect=None):
        seen.update(g=g, obj=obj, t_ns=t_ns, log=log, refs=refs)
        return look(g, obj, t_ns, log, refs, expect)

    P._look_angles = spy
    try:
        p = find_passes(cat, site, t0, t0 + 86400.0, 10.0)
    finally:
        P._look_angles = look
    g, obj, t_ns, log, refs = (seen[k] for k in ("g", "obj", "t_ns", "log", "refs"))
    r_log, have = P._states_from_log(log, refs, t_ns)
    # nearly every rise, culmination and set reads a logged state
    assert have.mean(axis=0).min() > 0.95
    r_ref = g.eph.exact_states(obj // g.n_sites, t_ns, velocity=False)[0]
    err = np.sqrt(((r_log - r_ref) ** 2).sum(axis=0))
    t_log = log[0]                                          # the rows' times
    for col in (0, 2):
        rows = np.flatnonzero(have[:, col])
        dt_s = np.abs(t_ns[rows, col] - t_log[refs[rows, col]]) / NS_PER_S
        assert (dt_s <= P.LOOK_CARRY_MAX_S).all()
        assert (err[rows, col] <= CARRY_TOL_KM + VELOCITY_ERROR_KM_S * dt_s).all()
    assert (err[have[:, 1], 1] <= CHORD_TOL_KM).all()
    # the reported angles: those of the logged states, SGP4's elsewhere
    el, az = look(g, obj, t_ns)
    at = p.culmination_ns == t_ns[:, 1]            # (not moved to a higher window edge)
    assert at.mean() > 0.95
    assert np.allclose(p.max_elevation_deg[at], el[at, 1], rtol=0, atol=1e-4)
    miss = ~have
    el_r, az_r = look(g, obj, t_ns, log, refs)
    assert np.array_equal(el_r[miss], el[miss]) and np.array_equal(az_r[miss], az[miss])


def test_carried_states_over_half_a_second_match_sgp4(full_catalog):
    """kernels.carry_logged_states on states logged by hand: 500 LEO objects,
    each state carried 0.5 s (the longest carry, LOOK_CARRY_MAX_S) and a
    culmination 0.3 s past the middle of a pair 2 s apart, against SGP4 at
    those times.  Over 0.5 s two-body gravity moves a LEO state by ~1 m and
    SGP4's velocity error (~1 cm/s for most sets, up to ~1 m/s) by
    millimetres to decimetres: the median within 5 cm, every one within 1 m;
    the chord (positions only) within 2 cm."""
    from satwatch.kernels import carry_logged_states
    from satwatch.passes import LOOK_CARRY_MAX_S, catalog_ephemeris
    from satwatch.propagation import MU_KM3_S2
    warnings.simplefilter("ignore")
    leo = [i for i, es in enumerate(full_catalog.element_sets) if regime_of(es) == "LEO"]
    rng = np.random.default_rng(3)
    pick = np.sort(rng.choice(leo, 500, replace=False))
    eph = catalog_ephemeris(full_catalog)
    t = utc("2023-10-13T00:00:00Z").ns + rng.integers(0, 86400, len(pick)) * NS_PER_S
    half = int(LOOK_CARRY_MAX_S * NS_PER_S)
    t_log = np.stack([t - half, t - NS_PER_S, t + NS_PER_S], axis=1)
    r_log, v_log = eph.exact_states(pick, t_log)
    n = len(pick)
    refs = np.stack([3 * np.arange(n), 3 * np.arange(n) + 1, 3 * np.arange(n)], axis=1)
    t_q = np.stack([t, t + 3 * NS_PER_S // 10, t], axis=1)
    out, have = carry_logged_states(t_log.reshape(-1), np.ascontiguousarray(r_log.reshape(3, -1)),
                                    np.ascontiguousarray(v_log.reshape(3, -1)), refs, t_q,
                                    float(MU_KM3_S2), half)
    r_ref = eph.exact_states(pick, t_q, velocity=False)[0]
    err_m = np.sqrt(((out - r_ref) ** 2).sum(axis=0)) * 1e3
    ok = np.isfinite(r_ref).all(axis=0)
    assert ok.mean() > 0.9 and np.array_equal(have, ok)
    assert np.median(err_m[ok[:, 0], 0]) < 0.05 and err_m[ok[:, 0], 0].max() < 1.0
    assert err_m[ok[:, 1], 1].max() < 0.02
