"""Review round 25: the fused elevation screen (kernels.screen_elevation,
commits 596c2ed and c13aa75), which the pass search's ElevationG now runs in
place of the numpy path (screen_cos, kernels.screen_pairs, then
rotate_teme_to_itrs + ElevationG._exact_at inside the screen), the numpy
path staying access's.

The reviewer found no bug.  Checked outside this file (the reviewer's
scripts, not kept): during real find_passes runs on a 1,518-object sample of
the 2023-10-13 catalog (every 40th object, a third of those with e >= 0.25,
GEO, perigees below 200 km) both paths at every grid evaluation, for 3, 4
and 15 sites (poles, antimeridian, 5 km altitude), masks -1, 0, 10, 60 and
89 deg, polar motion on and off, windows of 10 min to 14 days from
2023-09-13 to 2023-11-10: never a NaN, an inside-the-screen sample or an
exact value different, screen values within 2 ulp; and find_passes on the
whole catalog (VOSTOCHNY, KOUROU, SOHAE; 13 Sep, 13 Oct, 10 Nov; masks -1,
0, 10, 60; workers 1 and 2; and 15 sites for 12 h) bit-identical to the code
before 596c2ed, as are 1,000 objects x 100 sites (3.96/4.19 s new against
4.05/4.58 s old, medians of 3 in the same locked run).

Kept here: the riskiest cases, on samples.  Outside references: the numpy
path (unchanged code, still access's), Skyfield's own SGP4 and GMST-82
(conftest.skyfield_pef_km) with Skyfield's WGS-84 site, and a brute force
over every grid sample.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import satwatch
from satwatch.frames import GroundPoint
from satwatch.passes import ElevationG, catalog_ephemeris
from satwatch.time import NS_PER_S, Time, utc

from conftest import skyfield_pef_km

# Screen values (cos theta - bound - 2, in [-4, -2)) differ between the two
# paths only through numpy's vectorised arccos/cos against libm's acos/cos
# (numba), one ulp each in the bound: a few ulp of a number in [-4, -2).
SCREEN_VALUE_TOL = 4 * np.spacing(4.0)
# sin(elevation) from satwatch's SGP4 kernels (the trig_by_series path, the
# C++ to ~1e-15 relative) against Skyfield's SGP4 (the C++) and Skyfield's
# GMST-82 rotation and WGS-84 site: metres at most, far under 1e-7 in
# sin(elevation) at LEO ranges (1e-7 of 500 km = 5 cm).
SIN_ELEVATION_TOL = 1e-7
# Eccentric deep-space orbits (e >= passes.KNOT_MIN_ECCENTRICITY) get their
# grid states by Hermite between SGP4 knots, by design (before and after
# these commits alike): off SGP4 by up to 7.2 km measured
# (tests/test_eccentric_knots.py), so sin(elevation) by up to that over the
# range (its gradient in position is at most 1/range).
KNOT_POSITION_TOL_KM = 10.0

# More than passes.SAMPLE_SCREEN_MAX_SITES (8) sites, so every sample is
# propagated (dense grid), with sites at the poles, on the antimeridian
# (both sides) and at altitude.
ODD_SITES = [GroundPoint(89.99, 0.0, 0.0, "north pole"),
             GroundPoint(-89.5, 179.9, 2800.0, "south pole, 2.8 km"),
             GroundPoint(0.0, 180.0, 0.0, "antimeridian"),
             GroundPoint(10.0, -179.999, 5000.0, "antimeridian west, 5 km")]
MANY_SITES = ODD_SITES + [GroundPoint(la, lo, 100.0, f"{la},{lo}")
                          for la in (-60, -20, 20, 60) for lo in (-150, 30)]


def _sample(full_catalog, every=150):
    """Every ``every``-th object plus eccentric knotted orbits (GTO,
    Molniya, e >= 0.25), GEO and decaying objects (perigee < 150 km, whose
    SGP4 fails: NaN samples), from the 2023-10-13 catalog."""
    sets = full_catalog.element_sets
    ecc = [i for i, s in enumerate(sets) if 0.25 <= s.eccentricity < 0.9][::40]
    geo = [i for i, s in enumerate(sets) if abs(s.mean_motion_rev_day - 1.0027) < 0.005][::60]
    low = [i for i, s in enumerate(sets) if s.perigee_alt_km < 150][::8]
    idx = sorted(set(range(0, len(sets), every)) | set(ecc) | set(geo) | set(low))
    return satwatch.Catalog.from_element_sets([sets[i] for i in idx])


def _assert_same(fused, numpy_path):
    np.testing.assert_array_equal(np.isnan(fused), np.isnan(numpy_path))
    inside = numpy_path >= -2.0
    np.testing.assert_array_equal(fused >= -2.0, inside)
    np.testing.assert_array_equal(fused[inside], numpy_path[inside])
    np.testing.assert_allclose(fused, numpy_path, rtol=0, atol=SCREEN_VALUE_TOL)


@pytest.mark.parametrize("mask_deg, polar_motion, start", [
    (-1.0, True, "2023-11-10T00:00:00Z"),       # a month after the epochs
    (89.0, False, "2023-09-13T00:00:00Z"),      # a month before: SGP4 run backwards
])
def test_fused_screen_on_dense_grids_unsorted_duplicated_pairs(full_catalog, mask_deg,
                                                               polar_motion, start):
    """12 sites (> SAMPLE_SCREEN_MAX_SITES: every sample propagated), pairs
    given out of order, with duplicates, not starting at 0 and skipping
    satellites (the ``inv``/``usat`` mapping): the fused values equal the
    numpy path's (NaN, screen membership, exact values bit for bit), and
    each row equals the same pair's row of the sorted, complete call."""
    warnings.simplefilter("ignore")
    cat = _sample(full_catalog)
    eph = catalog_ephemeris(cat)
    g = ElevationG(eph, MANY_SITES, mask_deg, polar_motion=polar_motion)
    t0 = utc(start)
    grid = (t0.ns + np.arange(0, 6 * 3600, 60) * NS_PER_S).astype(np.int64)
    rng = np.random.default_rng(25)
    obj = rng.choice(np.arange(g.n_sites * 3, g.n_obj), size=g.n_obj // 2, replace=False)
    obj = np.concatenate([obj, obj[::7]])            # duplicates
    rng.shuffle(obj)
    fused = g._screened(obj, grid, g.screen_cos, g._exact_at, polar_motion, elevation=True)
    numpy_path = g._screened(obj, grid, g.screen_cos, g._exact_at, polar_motion)
    _assert_same(fused, numpy_path)
    every = np.arange(g.n_obj)
    whole = g._screened(every, grid, g.screen_cos, g._exact_at, polar_motion, elevation=True)
    np.testing.assert_array_equal(fused, whole[obj])
    # the case is not vacuous: failed (NaN), inside and screened-out samples
    assert np.isnan(fused).any() and (fused >= -2).sum() > 100 and (fused < -2).sum() > 1000


@pytest.mark.parametrize("mask_deg, start", [(0.0, "2023-10-13T00:00:00Z"),
                                             (60.0, "2023-11-10T00:00:00Z")])
def test_fused_screen_against_skyfield_brute_force(full_catalog, skyfield_ts, mask_deg, start):
    """Brute force on every grid sample against Skyfield (its SGP4 and
    GMST-82, polar motion off as here, its WGS-84 site): inside the screen
    the fused value is Skyfield's sin(elevation) - sin(mask); a sample
    screened out (< -2) is below the mask in Skyfield; every sample above
    the mask in Skyfield was propagated and is inside the screen.  Sites at
    the poles, on the antimeridian, at altitude (<= 8: the sample screen's
    sparse grids)."""
    from skyfield.api import wgs84
    warnings.simplefilter("ignore")
    sets = full_catalog.element_sets
    pick = [i for i, s in enumerate(sets) if s.perigee_alt_km > 200][::900]
    pick += [i for i, s in enumerate(sets) if 0.25 <= s.eccentricity < 0.9][::300]
    cat = satwatch.Catalog.from_element_sets([sets[i] for i in pick])
    eph = catalog_ephemeris(cat)
    g = ElevationG(eph, ODD_SITES, mask_deg, polar_motion=False)
    t0 = utc(start)
    grid = (t0.ns + np.arange(0, 86400, 120) * NS_PER_S).astype(np.int64)
    obj = np.arange(g.n_obj)
    fused = g._screened(obj, grid, g.screen_cos, g._exact_at, False, elevation=True)
    t = skyfield_ts.from_datetimes(Time(grid).to_datetime())
    sin_mask = np.sin(np.radians(mask_deg))
    n_inside = n_above = 0
    for k, es in enumerate(cat):
        r = skyfield_pef_km(es, t)                                    # (3, m) km
        for j, site in enumerate(ODD_SITES):
            top = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
            la, lo = np.radians(site.lat_deg), np.radians(site.lon_deg)
            up = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
            d = r - top.itrs_xyz.km[:, None]
            sin_el = (d * up[:, None]).sum(axis=0) / np.sqrt((d * d).sum(axis=0))
            row = fused[k * len(ODD_SITES) + j]
            ok = np.isfinite(sin_el)
            inside = ok & (row >= -2.0)
            tol = (KNOT_POSITION_TOL_KM / np.sqrt((d * d).sum(axis=0))
                   if es.eccentricity >= 0.25 else np.full(len(grid), SIN_ELEVATION_TOL))
            off = np.abs(row - (sin_el - sin_mask))
            assert (off[inside] <= tol[inside]).all(), (es.norad_id, site.name,
                                                        (off - tol)[inside].max())
            out = ok & (row < -2.0)
            assert (sin_el[out] < sin_mask).all(), (es.norad_id, site.name)
            above = ok & (sin_el > sin_mask + tol)
            assert (row[above] >= -2.0).all(), (es.norad_id, site.name)   # not NaN, not out
            n_inside += inside.sum()
            n_above += above.sum()
    assert n_inside > 200 and n_above > 20
