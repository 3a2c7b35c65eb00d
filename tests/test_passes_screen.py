"""The pass search propagates only grid samples where a satellite can be near
a site (passes._PairG._needed_samples, predicted from mean elements and checked
at SGP4 anchors).  Checked here against SGP4 itself (sgp4, Vallado's code):
no sample near a site is ever left out, nor either end of an interval with
a moment near a site, and the passes are exactly those of the search that
propagates every sample.  Also the unphysical-state bound
(propagation.physical_state) on real and decayed element sets of the
2023-10-13 Space-Track catalog (../shared/data/catalogs).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from sgp4.api import SatrecArray

import satwatch
import satwatch.passes as P
from satwatch.catalog import regime_of
from satwatch.frames import gmst82_rad
from satwatch.propagation import max_radius_km, physical_state
from satwatch.sites import find_site
from satwatch.time import NS_PER_DAY, NS_PER_S, Time, utc

SITES = ["VOSTOCHNY", "SOHAE", "KOUROU"]


@pytest.fixture(scope="module")
def near_earth(full_catalog):
    """Every 12th near-Earth object (SGP4's 'n' branch): circular and
    eccentric LEO, debris, decaying objects."""
    idx = [i for i, s in enumerate(full_catalog.satrecs) if s.method == "n"][::12]
    return satwatch.Catalog.from_element_sets([full_catalog.element_sets[i] for i in idx])


@pytest.mark.parametrize("start", ["2023-10-13T00:00:00Z", "2023-10-16T12:00:00Z",
                                   # a month before the epochs: SGP4 run backwards
                                   "2023-09-13T00:00:00Z"])
def test_every_sample_near_a_site_is_propagated(near_earth, start):
    warnings.simplefilter("ignore")
    sites = [find_site(s).ground_point for s in SITES]
    eph = P.catalog_ephemeris(near_earth)
    g = P.ElevationG(eph, sites, 10.0)
    step_s = 240.0
    t0 = utc(start)
    grid = (t0.ns + np.arange(-1, 86400 / step_s + 2) * step_s * NS_PER_S).astype(np.int64)
    usat = np.arange(len(eph))
    theta, theta_rate = gmst82_rad(Time(grid))
    c, s = np.cos(theta), np.sin(theta)
    ux, uy, uz = g._site_unit
    sx = c[None, :] * ux[:, None] - s[None, :] * uy[:, None]
    sy = s[None, :] * ux[:, None] + c[None, :] * uy[:, None]
    need = g._needed_samples(usat, grid, g.screen_cos, sx, sy, uz, float(theta_rate.max()))
    # the truth: SGP4 at every sample, angle to each site against the
    # screening angle at the satellite's actual radius
    days, rem = np.divmod(grid, NS_PER_DAY)
    err, r, v = SatrecArray(list(eph.satrecs)).sgp4((days + 2440587.5).astype(float),
                                                    rem / NS_PER_DAY)
    ok = (err == 0) & physical_state(r, v, eph.radius_limit_km(usat[:, None], grid[None, :]))
    rn = np.sqrt((r * r).sum(axis=-1))
    near_any = np.zeros(ok.shape, dtype=bool)
    for k in range(len(sites)):
        cos_t = (r[..., 0] * sx[k] + r[..., 1] * sy[k] + r[..., 2] * uz[k]) / rn
        near_any |= cos_t >= g.screen_cos(rn)
    missed = near_any & ok & ~need
    assert not missed.any(), [(near_earth.element_sets[i].norad_id, j)
                              for i, j in zip(*np.nonzero(missed))][:10]
    assert (near_any & ok).sum() > 1000
    # between samples too: a satellite near a site half-way through an
    # interval needs both ends (the bracket and the Hermite states)
    mid = grid[:-1] + (grid[1:] - grid[:-1]) // 2
    days, rem = np.divmod(mid, NS_PER_DAY)
    err_m, r_m, v_m = SatrecArray(list(eph.satrecs)).sgp4((days + 2440587.5).astype(float),
                                                          rem / NS_PER_DAY)
    ok_m = (err_m == 0) & physical_state(r_m, v_m, eph.radius_limit_km(usat[:, None],
                                                                        mid[None, :]))
    rn_m = np.sqrt((r_m * r_m).sum(axis=-1))
    theta_m, _ = gmst82_rad(Time(mid))
    cm, sm = np.cos(theta_m), np.sin(theta_m)
    near_mid = np.zeros(ok_m.shape, dtype=bool)
    for k in range(len(sites)):
        cos_t = (r_m[..., 0] * (cm * ux[k] - sm * uy[k]) + r_m[..., 1] * (sm * ux[k] + cm * uy[k])
                 + r_m[..., 2] * uz[k]) / rn_m
        near_mid |= cos_t >= g.screen_cos(rn_m)
    near_mid &= ok_m & ok[:, :-1] & ok[:, 1:]
    missed_mid = near_mid & ~(need[:, :-1] & need[:, 1:])
    assert not missed_mid.any(), [(near_earth.element_sets[i].norad_id, j)
                                  for i, j in zip(*np.nonzero(missed_mid))][:10]
    assert near_mid.sum() > 1000
    # and the screen does its job: most samples are skipped
    assert need.mean() < 0.6


def test_sparse_search_gives_the_passes_of_the_full_search(full_catalog, monkeypatch):
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(11)
    pick = sorted(rng.choice(len(full_catalog), 2500, replace=False))
    cat = satwatch.Catalog.from_element_sets([full_catalog.element_sets[i] for i in pick])
    sites = [find_site(s) for s in SITES]
    t0 = utc("2023-10-12T06:00:00Z")
    sparse = P.find_passes(cat, sites, t0, t0 + 86400.0, 10.0)
    monkeypatch.setattr(P, "SAMPLE_SCREEN_MAX_SITES", 0)           # every sample propagated
    dense = P.find_passes(cat, sites, t0, t0 + 86400.0, 10.0)
    assert len(sparse) == len(dense) > 3000
    for name in ("sat", "site", "rise_ns", "set_ns", "rise_partial", "set_partial"):
        np.testing.assert_array_equal(getattr(sparse, name), getattr(dense, name), name)
    np.testing.assert_allclose(sparse.max_elevation_deg, dense.max_elevation_deg, atol=1e-9)


def test_unphysical_states_are_flagged_and_real_orbits_are_not(full_catalog):
    """Decayed sets the catalog still carries, propagated to 2023-10-13, give
    states 4.5 million km out (27353 PSLV DEB) or climbing far above their
    orbit (42277 DMSP 5D-2 F13 DEB); live objects of every regime within a
    few days of their epochs (the catalog's median epoch is 2023-10-09) never
    trip the bound."""
    warnings.simplefilter("ignore")
    t = utc("2023-10-10T00:00:00Z").ns + np.arange(0, 86400, 300) * NS_PER_S
    days, rem = np.divmod(t, NS_PER_DAY)
    jd, fr = (days + 2440587.5).astype(float), rem / NS_PER_DAY
    by_id = {es.norad_id: i for i, es in enumerate(full_catalog.element_sets)}
    for norad in (27353, 42277):
        s = full_catalog.satrecs[by_id[norad]]
        err, r, v = SatrecArray([s]).sgp4(jd, fr + 3.0)          # 2023-10-13
        assert not (physical_state(r[0], v[0], max_radius_km([s])[0]) & (err[0] == 0)).any()
    live = [i for i, es in enumerate(full_catalog.element_sets)
            if abs(es.epoch_ns - t[0]) < 3 * NS_PER_DAY and es.perigee_alt_km > 300][::3]
    regimes = {regime_of(full_catalog.element_sets[i]) for i in live}
    assert {"LEO", "MEO", "GEO", "HEO", "GTO"} <= regimes
    sats = [full_catalog.satrecs[i] for i in live]
    err, r, v = SatrecArray(sats).sgp4(jd, fr)
    ok = physical_state(r, v, max_radius_km(sats)[:, None])
    assert ok[err == 0].all()


def test_failed_objects_are_reported(full_catalog):
    """Failures are data: every object SGP4 cannot propagate over the window
    (an error code, or an unphysical state) is in ``Passes.failed`` with its
    code, and no other -- checked against sgp4 itself on a 5-minute grid."""
    warnings.simplefilter("ignore")
    t0 = utc("2023-10-13T00:00:00Z")
    t = t0.ns + np.arange(0, 86400 + 300, 300) * NS_PER_S
    days, rem = np.divmod(t, NS_PER_DAY)
    err, r, v = SatrecArray(list(full_catalog.satrecs)).sgp4(
        (days + 2440587.5).astype(float), rem / NS_PER_DAY)
    eph = P.catalog_ephemeris(full_catalog)
    ok = (err == 0) & physical_state(r, v, eph.radius_limit_km(
        np.arange(len(full_catalog))[:, None], t[None, :]))
    bad = np.flatnonzero(~ok.all(axis=1))
    rng = np.random.default_rng(3)
    good = rng.choice(np.flatnonzero(ok.all(axis=1)), 800, replace=False)
    pick = np.sort(np.concatenate([bad, good]))
    cat = satwatch.Catalog.from_element_sets([full_catalog.element_sets[i] for i in pick])
    p = P.find_passes(cat, find_site("VOSTOCHNY"), t0, t0 + 86400.0, 10.0)
    reported = {cat.element_sets[i].norad_id for i in p.failed}
    expected = {full_catalog.element_sets[i].norad_id for i in bad}
    assert reported == expected
    codes = set(p.failed.values())
    assert 6 in codes and 7 in codes                   # decayed, and unphysical
    assert len(expected) > 250


def test_repeated_calls_on_one_catalog_match_fresh_catalogs(full_catalog):
    """The ephemeris constants kept on a catalog (passes.catalog_ephemeris)
    change nothing: two windows asked of one catalog give the passes and
    the failed objects that fresh catalogs give, window by window."""
    warnings.simplefilter("ignore")
    sets = full_catalog.element_sets[::40]
    cat = satwatch.Catalog.from_element_sets(sets)
    sites = [find_site(s) for s in SITES]
    windows = [utc("2023-10-13T00:00:00Z"), utc("2023-10-27T00:00:00Z")]
    reused = [P.find_passes(cat, sites, t, t + 86400.0, 10.0) for t in windows]
    assert "ephemeris" in cat._derived
    for t, got in zip(windows, reused):
        fresh = P.find_passes(satwatch.Catalog.from_element_sets(sets), sites, t,
                              t + 86400.0, 10.0)
        assert len(got) == len(fresh) > 100
        for name in ("sat", "site", "rise_ns", "set_ns", "culmination_ns",
                     "max_elevation_deg"):
            np.testing.assert_array_equal(getattr(got, name), getattr(fresh, name), name)
        assert got.failed == fresh.failed
    # a week further on, more element sets have decayed: failures are per call
    assert set(reused[0].failed) < set(reused[1].failed)
