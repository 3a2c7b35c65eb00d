"""Review edge cases of the pass search (satwatch.passes.find_passes).

Failures are data: ``Passes.failed`` must list every object that SGP4 cannot
propagate over (part of) the window, whatever the number of sites.  The
reference is python-sgp4 itself (Brandon Rhodes' wrapper of Vallado's C++
SGP4), run on a 10-second grid over the window.

Object: COSMOS 2251 DEB (NORAD 34445) from the Space-Track full catalog of
2023-10-13 (../shared/data/catalogs/full-3le-2023-10-13.txt): epoch
2023-10-09T17:32Z, perigee 302 km, B* 0.0085.  On 2023-10-16 its SGP4 radius
dips below one Earth radius (error 6, "decayed") from about 23:08 to 23:37
UTC and is normal before and after, so the failure is transient and far
from most sites.  With up to SAMPLE_SCREEN_MAX_SITES sites the sample screen
(_PairG._needed_samples) propagates only anchors and samples near the sites,
which never fall in the failing stretch; so it propagates orbits whose
osculating perigee comes below LOW_PERIGEE_RADIUS_KM in full, and the object
is reported as with more sites (screen off, every grid sample propagated).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import satwatch
from satwatch.frames import GroundPoint
from satwatch.passes import find_passes
from satwatch.sites import find_site
from satwatch.time import NS_PER_DAY, NS_PER_S, utc

NORAD = 34445
WINDOW = ("2023-10-16T00:00:00Z", 86400.0)
# 10 s: far finer than the object's 4.5-minute sampling step, so the
# reference sees every failure the pass search could see on its grid.
REF_STEP_S = 10


@pytest.fixture(scope="module")
def debris(reference_data):
    cat = satwatch.load_catalog(reference_data / "catalogs" / "full-3le-2023-10-13.txt")
    return cat.filter(norad_ids=[NORAD])


def _sgp4_first_error(cat, t0, t1):
    """python-sgp4's first non-zero error code on a 10 s grid, or 0."""
    t = np.arange(t0.ns, t1.ns + 1, REF_STEP_S * NS_PER_S)
    days, rem = np.divmod(t, NS_PER_DAY)
    err, _, _ = cat.satrecs[0].sgp4_array((days + 2440587.5).astype(float), rem / NS_PER_DAY)
    bad = np.flatnonzero(err)
    return int(err[bad[0]]) if len(bad) else 0


@pytest.mark.parametrize("site_names", [
    ["VOSTOCHNY"],                       # one site: sample screen on
    ["KOUROU", "MAHIA"],                 # two sites: sample screen on
])
def test_transient_failure_is_reported_with_the_sample_screen(debris, site_names):
    warnings.simplefilter("ignore")
    t0 = utc(WINDOW[0])
    t1 = t0 + WINDOW[1]
    code = _sgp4_first_error(debris, t0, t1)
    assert code == 6                     # the reference: SGP4 fails inside the window
    p = find_passes(debris, [find_site(s) for s in site_names], t0, t1, 10.0)
    assert p.failed == {0: code}


def test_transient_failure_is_reported_without_the_sample_screen(debris):
    """Control: the same object over 9 sites (more than
    SAMPLE_SCREEN_MAX_SITES, every grid sample propagated) is reported."""
    warnings.simplefilter("ignore")
    t0 = utc(WINDOW[0])
    t1 = t0 + WINDOW[1]
    code = _sgp4_first_error(debris, t0, t1)
    sites = [GroundPoint(lat, lon, 0.0, f"P{i}")
             for i, (lat, lon) in enumerate([(60, 0), (40, 40), (20, 80), (0, 120), (-20, 160),
                                             (-40, -160), (-60, -120), (10, -80), (30, -40)])]
    p = find_passes(debris, sites, t0, t1, 10.0)
    assert p.failed == {0: code}


# -- maxima polished out of the window -------------------------------------
#
# events.find_maxima / Scan.maxima / Passes.maxima: local maxima *inside*
# the window (Extrema: "extrema at the window edges are not reported").
# FENGYUN 4A (NORAD 41882, GEO, same 2023-10-13 catalog) seen from a site at
# 1.61 S, 168.412 E, 1740 m: Skyfield (EarthSatellite on the same TLE lines,
# builtin timescale, (sat - topos).at(t).altaz()) puts its elevation peak at
# about 2023-10-10T23:58:37Z, some 83 s before a window opening at
# 2023-10-11T00:00Z.  The Hermite-interpolated maximum lands just inside the
# window; the extremum polish (events._newton_extremum: up to
# NEWTON_EXTREMUM_STEPS steps of 20 s) then walks it to the exact peak outside the window, which scan() must
# then drop (it checks the window again after the polish).
GEO_NORAD = 41882
GEO_SITE = (-1.61, 168.412, 1740.0)
# Skyfield's peak must be clearly outside the window for the case to hold:
# more than this before the start (polar motion and its 1 s scan move it by
# far less).
OUTSIDE_MARGIN_S = 30.0


def test_maxima_are_inside_the_window(reference_data):
    skyfield_api = pytest.importorskip("skyfield.api")
    from satwatch.elements import write_tle
    warnings.simplefilter("ignore")
    cat = satwatch.load_catalog(reference_data / "catalogs" / "full-3le-2023-10-13.txt")
    cat = cat.filter(norad_ids=[GEO_NORAD])
    es = cat.element_sets[0]
    lat, lon, alt = GEO_SITE
    t0 = utc("2023-10-11T00:00:00Z")
    t1 = t0 + 86400.0
    # reference: Skyfield's elevation every second from 10 min before the
    # window to 10 min into it peaks before the window opens
    ts = skyfield_api.load.timescale(builtin=True)
    l1, l2 = es.source_text.splitlines()[-2:] if es.source_text else write_tle(es)
    sat = skyfield_api.EarthSatellite(l1, l2, es.name, ts)
    topos = skyfield_api.wgs84.latlon(lat, lon, elevation_m=alt)
    secs = np.arange(-600, 601)
    t = ts.utc(2023, 10, 11, 0, 0, secs)
    alt_deg = (sat - topos).at(t).altaz()[0].degrees
    peak_s = secs[np.argmax(alt_deg)]
    assert peak_s < -OUTSIDE_MARGIN_S
    p = find_passes(cat, GroundPoint(lat, lon, alt, "site"), t0, t1, 10.0)
    mx = p.maxima.time.ns
    assert len(mx)
    assert np.all((mx >= t0.ns) & (mx <= t1.ns)), \
        [satwatch.time.Time(int(x)).iso() for x in mx]


# -- culmination of partial passes -------------------------------------------
#
# Passes: "Culmination: the highest point inside the window".  GEO objects
# seen from Vostochny are up all day; where such a pass is partial and its
# elevation at a window edge is higher than at any interior maximum, the
# culmination is that edge.  Reference: Skyfield's elevation (EarthSatellite
# on the same TLE lines, no polar motion, as find_passes(polar_motion=False))
# every 60 s inside each pass: the reported maximum may not be below it.
GEO_SAMPLE = 120
PEAK_BELOW_TOL_DEG = 1e-3      # exact look angles vs Skyfield's: ~1e-5 deg


def test_partial_pass_culmination_is_the_highest_point_in_the_window(reference_data):
    skyfield_api = pytest.importorskip("skyfield.api")
    from satwatch.catalog import regime_of
    warnings.simplefilter("ignore")
    full = satwatch.load_catalog(reference_data / "catalogs" / "full-3le-2023-10-13.txt")
    geo = satwatch.Catalog.from_element_sets(
        [es for es in full if regime_of(es) == "GEO" and es.norad_id < 100000][:GEO_SAMPLE])
    site = find_site("VOSTOCHNY")
    t0 = utc("2023-10-13T00:00:00Z")
    t1 = t0 + 86400.0
    p = find_passes(geo, site, t0, t1, 10.0, polar_motion=False)
    assert (p.rise_partial | p.set_partial).sum() > 20
    ts = skyfield_api.load.timescale(builtin=True)
    topos = skyfield_api.wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
    secs = np.arange(0, 86401, 60)
    tt = ts.utc(2023, 10, 13, 0, 0, secs)
    t_ns = t0.ns + secs.astype(np.int64) * NS_PER_S
    below = []
    for k in range(len(p)):
        es = geo.element_sets[p.sat[k]]
        l1, l2 = es.source_text.splitlines()[-2:]
        sat = skyfield_api.EarthSatellite(l1, l2, es.name, ts)
        alt = (sat - topos).at(tt).altaz()[0].degrees
        inside = (t_ns >= p.rise_ns[k]) & (t_ns <= p.set_ns[k])
        if inside.any() and alt[inside].max() > p.max_elevation_deg[k] + PEAK_BELOW_TOL_DEG:
            below.append((es.norad_id, float(alt[inside].max()), float(p.max_elevation_deg[k])))
        assert p.rise_ns[k] <= p.culmination_ns[k] <= p.set_ns[k]
    assert not below, below[:5]


def test_a_catalog_grown_after_a_search_is_searched_whole(reference_data):
    """A catalog that has run a pass search, then had a set appended: the
    next search covers the new object too (as a fresh catalog does)."""
    warnings.simplefilter("ignore")
    full = satwatch.load_catalog(reference_data / "catalogs" / "full-3le-2023-10-13.txt")
    iss, noaa = full.filter(norad_ids=[25544]), full.filter(norad_ids=[43013])    # NOAA 20, polar
    cat = satwatch.Catalog.from_element_sets(iss.element_sets)
    site = find_site("VOSTOCHNY")
    t0 = utc("2023-10-13T00:00:00Z")
    find_passes(cat, site, t0, t0 + 86400.0, 10.0)
    cat.element_sets.append(noaa.element_sets[0])
    grown = find_passes(cat, site, t0, t0 + 86400.0, 10.0)
    fresh = find_passes(satwatch.Catalog.from_element_sets(cat.element_sets), site, t0,
                        t0 + 86400.0, 10.0)
    assert set(grown.sat.tolist()) == {0, 1}
    np.testing.assert_array_equal(grown.rise_ns, fresh.rise_ns)


def test_no_sites_is_a_clear_error(reference_data):
    from satwatch.passes import PassError
    full = satwatch.load_catalog(reference_data / "catalogs" / "full-3le-2023-10-13.txt")
    t0 = utc("2023-10-13T00:00:00Z")
    with pytest.raises(PassError, match="no sites"):
        find_passes(full.filter(norad_ids=[25544]), [], t0, t0 + 3600.0, 10.0)


@pytest.mark.parametrize("mask_deg", [90.5, 95.0, -91.0])
def test_a_mask_beyond_the_zenith_or_nadir_is_a_clear_error(reference_data, mask_deg):
    """An elevation lies in [-90, 90] deg: a 95 deg mask used to act as an
    85 deg one (sin 95 = sin 85) and reported passes below it."""
    import satwatch
    from satwatch.errors import SatwatchError
    from satwatch.passes import find_passes
    from satwatch.sites import find_site
    from satwatch.time import utc
    cat = satwatch.load_catalog(reference_data / "catalogs" / "full-3le-2023-10-13.txt")
    with pytest.raises(SatwatchError, match="min_elevation_deg"):
        find_passes(cat.filter(norad_ids=[25544]), find_site("VOSTOCHNY"),
                    utc("2023-10-13T00:00:00Z"), utc("2023-10-14T00:00:00Z"), mask_deg)


@pytest.mark.parametrize("start, warned", [("2023-10-13T00:00:00Z", False),
                                           ("2023-06-13T00:00:00Z", True)])
def test_access_warns_of_element_sets_far_from_their_epochs(reference_data, start, warned):
    """README: satwatch warns (StaleElementsWarning) when it propagates an
    element set more than 30 days from its epoch; the ISS set of the
    2023-10-13 catalog (epoch 2023-10-12) in June 2023 is 4 months off."""
    import warnings

    import satwatch
    from satwatch.access import find_access, point_target
    from satwatch.errors import StaleElementsWarning
    from satwatch.sites import find_site
    from satwatch.time import utc
    cat = satwatch.load_catalog(reference_data / "catalogs" / "full-3le-2023-10-13.txt")
    iss = cat.filter(norad_ids=[25544])
    t0 = utc(start)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        find_access(iss, [point_target(find_site("VOSTOCHNY"))], t0, t0 + 86400.0,
                    max_off_nadir_deg=30.0)
    stale = [w for w in seen if issubclass(w.category, StaleElementsWarning)]
    assert bool(stale) == warned
