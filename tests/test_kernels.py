"""The compiled kernels (satwatch/kernels.py) against the numpy expressions
they replaced, and against finite differences for the derivative.

The references below are the numpy code of satwatch.events and
satwatch.passes before the kernels (git history: events._sign_brackets,
events._sampled_extrema, events._may_reach, passes._PairG._screened,
passes._hermite + frames.teme_to_itrs), kept here as the specification.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from satwatch import kernels
from satwatch.events import OVERSHOOT
from satwatch.frames import GroundPoint, gmst82_rad, teme_to_itrs
from satwatch.passes import ElevationG, _hermite, catalog_ephemeris
from satwatch.time import NS_PER_S, Time, utc


# -- references (numpy) ---------------------------------------------------------

def _ref_brackets(v):
    s = v >= 0
    return np.nonzero(s[:, 1:] != s[:, :-1])


def _ref_extrema(v):
    left, mid, right = v[:, :-2], v[:, 1:-1], v[:, 2:]
    finite = np.isfinite(left) & np.isfinite(mid) & np.isfinite(right)
    r1, c1 = np.nonzero(finite & (mid >= left) & (mid > right))
    r2, c2 = np.nonzero(finite & (mid <= left) & (mid < right))
    return (r1, c1 + 1), (r2, c2 + 1)


def _ref_may_reach(v, rows, cols, level, kind):
    a, b, c = v[rows, cols - 1], v[rows, cols], v[rows, cols + 1]
    var = np.abs(b - a) + np.abs(b - c)
    return b + OVERSHOOT * var >= level if kind == "max" else b - OVERSHOOT * var <= level


def _sorted_pairs(r, c):
    return sorted(zip(np.asarray(r).tolist(), np.asarray(c).tolist()))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sample_features_equal_the_numpy_expressions(seed):
    rng = np.random.default_rng(seed)
    # smooth curves near zero with plateaus, NaN and -inf (failed samples)
    t = np.linspace(0, 20, 400)
    v = np.sin(t[None, :] * rng.uniform(0.3, 3.0, (60, 1)) + rng.uniform(0, 6, (60, 1))) \
        + rng.uniform(-1.2, 1.2, (60, 1))
    v[:, 50:54] = np.round(v[:, 50:54], 1)
    v[rng.random(v.shape) < 0.02] = np.nan
    v[rng.random(v.shape) < 0.01] = -np.inf
    ref_br = _sorted_pairs(*_ref_brackets(v))
    (mr, mc), (nr, nc) = _ref_extrema(v)
    cases = {
        # (max_mode, max_level, min_mode): expected maxima, minima
        "hidden": (kernels.EXTREMA_HIDDEN, 0.0, kernels.EXTREMA_HIDDEN,
                   (v[mr, mc] < 0) & _ref_may_reach(v, mr, mc, 0.0, "max"),
                   (v[nr, nc] >= 0) & _ref_may_reach(v, nr, nc, 0.0, "min")),
        "reach": (kernels.EXTREMA_REACH, 0.3, kernels.EXTREMA_ALL,
                  _ref_may_reach(v, mr, mc, 0.3, "max"), np.ones(len(nr), bool)),
        "all": (kernels.EXTREMA_ALL, -np.inf, kernels.EXTREMA_NONE,
                np.ones(len(mr), bool), np.zeros(len(nr), bool)),
    }
    for name, (max_mode, level, min_mode, want_max, want_min) in cases.items():
        br_r, br_c, mx_r, mx_c, mn_r, mn_c = kernels.sample_features(
            v, max_mode, level, min_mode, 0.0, OVERSHOOT)
        assert _sorted_pairs(br_r, br_c) == ref_br, name
        assert _sorted_pairs(mx_r, mx_c) == _sorted_pairs(mr[want_max], mc[want_max]), name
        assert _sorted_pairs(mn_r, mn_c) == _sorted_pairs(nr[want_min], nc[want_min]), name


@pytest.fixture(scope="module")
def leo_sample(full_catalog):
    sets = [es for es in full_catalog if es.perigee_alt_km > 300 and es.period_min < 120
            and es.norad_id < 100000][::400]
    import satwatch
    return satwatch.Catalog.from_element_sets(sets)


LINEAR_GMST_SIN_TOL = 1e-6
SITES = [GroundPoint(51.884, 128.334, 250.0, "Vostochny"), GroundPoint(-45.0, 170.0, 0.0, "S"),
         GroundPoint(5.2, -52.8, 10.0, "Kourou")]


def test_screen_pairs_equals_the_numpy_screen(leo_sample):
    eph = catalog_ephemeris(leo_sample)
    t0 = utc("2023-10-13T00:00:00Z")
    grid = (t0.ns + np.arange(0, 86400, 240) * NS_PER_S).astype(np.int64)
    usat = np.arange(len(eph))
    r, _ = eph.grid_states(usat, grid)
    theta, _ = gmst82_rad(Time(grid))
    c, s = np.cos(theta), np.sin(theta)
    unit = np.stack([p.r_itrs_km / np.linalg.norm(p.r_itrs_km) for p in SITES], axis=1)
    sx = c[None, :] * unit[0][:, None] - s[None, :] * unit[1][:, None]
    sy = s[None, :] * unit[0][:, None] + c[None, :] * unit[1][:, None]
    rn = np.sqrt((r * r).sum(axis=0))
    thr = np.cos(np.radians(30.0) + 0.0 * rn)
    sat = np.repeat(usat, len(SITES))
    site = np.tile(np.arange(len(SITES)), len(usat))
    g, ii, jj = kernels.screen_pairs(eph._cache[2], len(grid), rn, thr, sx, sy, unit[2].copy(),
                                     sat.astype(np.int64), site.astype(np.int64))
    cos_theta = (r[0][sat] * sx[site] + r[1][sat] * sy[site] + r[2][sat] * unit[2][site][:, None]
                 ) / rn[sat]
    ref = cos_theta - thr[sat] - 2.0
    np.testing.assert_allclose(g, ref, rtol=0, atol=1e-12)
    ri, rj = np.nonzero(ref >= -2.0)
    assert _sorted_pairs(ii, jj) == _sorted_pairs(ri, rj)
    assert len(ii) > 0


@pytest.mark.parametrize("mask_deg, polar_motion", [(10.0, True), (0.0, False)])
def test_screen_elevation_equals_the_numpy_screen_and_exact_values(full_catalog, mask_deg,
                                                                   polar_motion):
    """ElevationG's fused screen (kernels.screen_elevation) against the
    numpy path it replaces for that g-function (screen_cos, screen_pairs,
    rotate_teme_to_itrs + _exact_at; still the path of access's g-functions):
    every 40th object of the full catalog (every regime, and decayed objects
    whose failed samples are NaN), three sites, on the pass search's sparse
    grids.  The same samples inside the screen, their exact values bit for
    bit; the screen values outside to two units in the last place (numpy's
    vectorised arccos differs from libm's acos, which numba calls, by one
    ulp for ~9% of arguments, and two roundings follow; review round 25
    measured up to 8.9e-16 on values in [-4, -2))."""
    import satwatch
    warnings.simplefilter("ignore")
    cat = satwatch.Catalog.from_element_sets(list(full_catalog)[::40])
    eph = catalog_ephemeris(cat)
    g = ElevationG(eph, SITES, mask_deg, polar_motion=polar_motion)
    t0 = utc("2023-10-13T00:00:00Z")
    grid = (t0.ns + np.arange(0, 86400, 120) * NS_PER_S).astype(np.int64)
    obj = np.arange(g.n_obj)
    fused = g._screened(obj, grid, g.screen_cos, g._exact_at, polar_motion, elevation=True)
    numpy_path = g._screened(obj, grid, g.screen_cos, g._exact_at, polar_motion)
    np.testing.assert_array_equal(np.isnan(fused), np.isnan(numpy_path))
    np.testing.assert_array_equal(fused >= -2.0, numpy_path >= -2.0)
    exact = numpy_path >= -2.0
    np.testing.assert_array_equal(fused[exact], numpy_path[exact])
    np.testing.assert_allclose(fused, numpy_path, rtol=0, atol=4 * np.spacing(4.0))
    inside = fused > -1.5
    assert inside.sum() > 1000 and (fused >= 0).sum() > 100 and np.isnan(fused).sum() > 0
    assert (fused < -2).sum() > 1000                     # screened out


def _cached_elevation(leo_sample):
    """Elevation g-function of the sample over SITES, SGP4 cached on a 240 s
    grid over 2023-10-13 (the Hermite kernels' input)."""
    warnings.simplefilter("ignore")
    eph = catalog_ephemeris(leo_sample)
    g = ElevationG(eph, SITES, 10.0)
    t0 = utc("2023-10-13T00:00:00Z")
    grid = (t0.ns + np.arange(-240, 86400 + 480, 240) * NS_PER_S).astype(np.int64)
    eph.grid_states(np.arange(len(eph)), grid)
    return eph, g, t0


def test_hermite_kernels_equal_numpy_interpolation_and_rotation(leo_sample):
    eph, g, t0 = _cached_elevation(leo_sample)
    rng = np.random.default_rng(4)
    obj = rng.integers(0, g.n_obj, 500)
    t = (t0.ns + rng.uniform(0, 86400, (500, 2)) * NS_PER_S).astype(np.int64)
    sin_el, cos_nadir = g._fast_look(obj, t)
    # numpy: Hermite states, full TEME -> ITRS rotation with IERS polar motion
    cs, cgrid, cr, cv, m = eph._cache
    r_teme, _ = _hermite(obj // g.n_sites, t, cgrid, cr, cv, m, velocity=False)
    r_itrs, _ = teme_to_itrs(r_teme, None, Time(t))
    site = obj % g.n_sites
    d = r_itrs - g._r_site[:, site][:, :, None]
    rng_km = np.sqrt((d * d).sum(axis=0))
    ref_el = (d * g._up[:, site][:, :, None]).sum(axis=0) / rng_km
    ref_nadir = (d * r_itrs).sum(axis=0) / (rng_km * np.sqrt((r_itrs ** 2).sum(axis=0)))
    # The kernel's GMST is linear over the cached grid, good to
    # FAST_GMST_TOL_RAD (1e-7 rad: under a metre at LEO radii, so ~1e-6 in
    # sin(elevation) at the closest ranges, 0.2"); the values are only used
    # between samples and every event is polished with the full rotation.
    np.testing.assert_allclose(sin_el, ref_el, rtol=0, atol=LINEAR_GMST_SIN_TOL)
    np.testing.assert_allclose(cos_nadir, ref_nadir, rtol=0, atol=LINEAR_GMST_SIN_TOL)
    # the derivative against a central difference of the values (+-0.5 s)
    val, rate = g.value_and_rate(obj, t[:, 0])
    np.testing.assert_allclose(val + g.sin_mask, sin_el[:, 0], rtol=0, atol=1e-12)
    h = NS_PER_S // 2
    up, _ = g.value_and_rate(obj, t[:, 0] + h)
    down, _ = g.value_and_rate(obj, t[:, 0] - h)
    np.testing.assert_allclose(rate, (up - down) / 1.0, rtol=1e-4, atol=1e-9)


def test_compiled_illinois_takes_the_engines_steps(leo_sample):
    """kernels.hermite_elevation_illinois (via ElevationG.illinois) against
    the engine's numpy Illinois (events._illinois) on the same Hermite
    values: the same iteration, so the same final brackets, bit for bit,
    for roots of the elevation and for maxima and minima of it."""
    from satwatch.events import _illinois
    eph, g, t0 = _cached_elevation(leo_sample)
    obj = np.arange(g.n_obj)
    t = np.broadcast_to(t0.ns + np.arange(0, 86400, 60) * NS_PER_S, (g.n_obj, 1440))
    val = g._fast_look(obj, t)[0] - g.sin_mask
    rate = np.stack([g.value_and_rate(obj, t[:, j])[1] for j in range(t.shape[1])], axis=1)
    for mode, f in ((0, val), (1, rate), (-1, -rate)):
        r, c = np.nonzero((f[:, :-1] >= 0) != (f[:, 1:] >= 0))
        if mode:
            keep = f[r, c] > 0                       # + to -: an extremum of this kind
            r, c = r[keep], c[keep]
        assert len(r) > 50
        o = obj[r]
        a, b = t[r, c].astype(float), t[r, c + 1].astype(float)
        fa, fb = f[r, c], f[r, c + 1]
        if mode == 0:
            def values(ia, x):
                return g._fast_look(o[ia], x[:, None])[0][:, 0] - g.sin_mask
        else:
            def values(ia, x, s=mode):
                return s * g.value_and_rate(o[ia], x)[1]
        tol = 1e-3 * NS_PER_S if mode == 0 else 1e-2 * NS_PER_S
        ref_a, ref_b, ref_ga, ref_gb = _illinois(values, a, b, fa, fb, tol)
        got_a, got_b, got_ga, got_gb, mid = g.illinois(mode, o, a, b, fa, fb, tol)
        np.testing.assert_array_equal(got_a, ref_a)
        np.testing.assert_array_equal(got_b, ref_b)
        assert np.all(ref_b - ref_a <= tol)
        # the function's own values at the final ends (NaN: an end never moved)
        np.testing.assert_array_equal(got_ga, ref_ga)
        np.testing.assert_array_equal(got_gb, ref_gb)
        moved = np.isfinite(ref_ga)
        assert moved.mean() > 0.9
        np.testing.assert_array_equal(ref_ga[moved], values(np.flatnonzero(moved),
                                                            np.rint(ref_a[moved]).astype(np.int64)))
        # modes +-1: the value at the bracket's middle, as value_and_rate gives it
        if mode:
            tm = np.rint(0.5 * (ref_a + ref_b)).astype(np.int64)
            np.testing.assert_array_equal(mid, g.value_and_rate(o, tm)[0])
        else:
            assert np.isnan(mid).all()


def test_accept_states_equals_physical_state(full_catalog):
    """kernels.accept_states against propagation.physical_state with the
    ephemeris' radius bounds and SGP4's codes, on states of real and
    decayed element sets of the 2023-10-13 catalog propagated from -30 to
    +90 days (where sgp4 returns states at 3e7 km/s, a few m/s and millions
    of km without an error code), plus hand-made edge states, scattered
    into rows of a larger array as the pass search stores them."""
    from satwatch.passes import Ephemeris
    from satwatch.propagation import (EARTH_RADIUS_WGS72_KM, MIN_PERIGEE_RADIUS_KM, MU_KM3_S2,
                                      physical_state)
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(3)
    pick = np.sort(rng.choice(len(full_catalog), 1500, replace=False))
    satrecs = [full_catalog.satrecs[i] for i in pick]
    eph = Ephemeris(satrecs, np.full(len(satrecs), 60.0))
    sat = np.repeat(np.arange(len(satrecs)), 8)
    t_ns = (eph._epoch_ns[sat] + rng.uniform(-30, 90, len(sat)) * 86400e9).astype(np.int64)
    # raw python-sgp4 states (the pass search NaNs the rejected ones), then edge cases
    from satwatch.sgp4_kernel import JD_UNIX_EPOCH
    days, rem = np.divmod(t_ns, 86400 * 10**9)
    err = np.zeros(len(sat), np.uint8)
    r = np.empty((len(sat), 3))
    v = np.empty((len(sat), 3))
    for i, s in enumerate(sat):
        e, rr, vv = satrecs[s].sgp4(days[i] + JD_UNIX_EPOCH, rem[i] / 86400e9)
        err[i], r[i], v[i] = e, rr, vv
    edge_r = np.array([[EARTH_RADIUS_WGS72_KM, 0, 0], [7000.0, 0, 0], [7000.0, 0, 0],
                       [7000.0, 0, 0], [np.inf, 0, 0], [0.0, 0.0, 0.0], [42164.0, 0, 0]])
    edge_v = np.array([[0, 7.9, 0], [0, np.sqrt(2 * MU_KM3_S2 / 7000.0), 0], [0, 0.01, 0],
                       [0, 7.5, 0], [0, 7.5, 0], [0, 7.5, 0], [0, 3.07, 0]])
    sat = np.r_[sat, np.zeros(len(edge_r), np.int64)]
    t_ns = np.r_[t_ns, np.full(len(edge_r), int(eph._epoch_ns[0]))]
    r, v = np.r_[r, edge_r], np.r_[v, edge_v]
    err = np.r_[err, np.zeros(len(edge_r), np.uint8)]
    want = (err == 0) & physical_state(r, v, eph.radius_limit_km(sat, t_ns))
    assert 50 < (~want).sum() < len(want) // 2         # both kinds well represented
    # scattered into rows of a larger store, as sparse grids are
    rows = rng.permutation(3 * len(sat))[:len(sat)]
    big_r = np.full((3 * len(sat), 3), 5.0)
    big_v = np.full((3 * len(sat), 3), 5.0)
    big_e = np.full(3 * len(sat), 9, np.uint8)
    big_r[rows], big_v[rows], big_e[rows] = r, v, err
    got = kernels.accept_states(sat, t_ns, rows, big_e, big_r, big_v, eph._epoch_ns, eph._r_fwd,
                                eph._r_bwd, MU_KM3_S2, MIN_PERIGEE_RADIUS_KM,
                                EARTH_RADIUS_WGS72_KM)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(big_r[rows[~want]]).all() and np.array_equal(big_r[rows[want]], r[want])
    untouched = np.setdiff1d(np.arange(len(big_r)), rows)
    assert (big_r[untouched] == 5.0).all()


def test_bracket_slopes_give_the_rate_path_polish(leo_sample):
    """The engine's root polish and extremum polish take their first step's
    slope / curvature from the converged compiled bracket (the function's
    values at its ends: events._end_slopes) instead of interpolated rates at
    the point: the same Newton iteration fed a derivative equal to ~1e-7,
    so the polished roots and extrema agree with the rate path's within the
    root tolerance (1 ms), and the secants agree with the interpolated
    rates themselves."""
    from satwatch.events import (ROOT_TOL_S, _end_slopes, _extremum, _polish,
                                 _polish_extremum, _solve)
    eph, g, t0 = _cached_elevation(leo_sample)
    obj = np.arange(g.n_obj)
    t = np.broadcast_to(t0.ns + np.arange(0, 86400, 240) * NS_PER_S, (g.n_obj, 360))
    val = g._fast_look(obj, t)[0] - g.sin_mask
    r, c = np.nonzero((val[:, :-1] >= 0) != (val[:, 1:] >= 0))
    assert len(r) > 100
    o, lo, hi = obj[r], t[r, c], t[r, c + 1]
    a, b, ga, gb, _ = _solve(g, 0, o, lo.astype(float), hi.astype(float), val[r, c],
                             val[r, c + 1], ROOT_TOL_S * NS_PER_S, None)
    slope = _end_slopes(a, b, ga, gb)
    root = 0.5 * (a + b)
    rate = g.value_and_rate(o, np.rint(root).astype(np.int64))[1] / NS_PER_S
    have = np.isfinite(slope)
    assert have.mean() > 0.9
    np.testing.assert_allclose(slope[have], rate[have], rtol=1e-5)
    span = 10 * NS_PER_S
    with_hint = _polish(g, o, root, lo - span, hi + span, slope=slope)
    without = _polish(g, o, root, lo - span, hi + span)
    assert np.abs(with_hint - without).max() <= ROOT_TOL_S * NS_PER_S
    # maxima: sampled peaks, their Illinois brackets' curvature
    mr, mc = np.nonzero((val[:, 1:-1] >= val[:, :-2]) & (val[:, 1:-1] > val[:, 2:])
                        & (val[:, 1:-1] > -0.05))
    mc = mc + 1
    assert len(mr) > 50
    te, ve, ce = _extremum(g, obj[mr], t[mr, mc - 1], t[mr, mc + 1], "max")
    assert np.isfinite(ce).mean() > 0.9 and (ce[np.isfinite(ce)] < 0).all()
    tc, vc = _polish_extremum(g, obj[mr], te, ve, "max", curv=ce)
    tn, vn = _polish_extremum(g, obj[mr], te, ve, "max")
    assert np.abs(tc - tn).max() <= ROOT_TOL_S * NS_PER_S
    # the vertex value takes half the curvature (the middle of values 1 s
    # either side): the two interpolated curvatures differ by up to 5e-4 of
    # themselves (the cubic's second derivative jumps at grid samples), a
    # few 1e-8 of sin(elevation)
    np.testing.assert_allclose(vc, vn, rtol=0, atol=1e-6)


def test_fused_extremum_bracket_equals_rates_then_illinois(leo_sample):
    """kernels.hermite_extremum_illinois (ElevationG.extremum_illinois: the
    rates at both ends of each sampled-extremum bracket, the sign check and
    the Illinois iteration in one pass) against value_and_rate at both ends,
    the same check, then hermite_elevation_illinois: the same brackets,
    values and middle values, bit for bit, and the same brackets refused."""
    from satwatch.events import EXTREMUM_RATE_TOL_S
    eph, g, t0 = _cached_elevation(leo_sample)
    obj = np.arange(g.n_obj)
    t = np.broadcast_to(t0.ns + np.arange(0, 86400, 240) * NS_PER_S, (g.n_obj, 360))
    val = g._fast_look(obj, t)[0]
    r, c = np.nonzero((val[:, 1:-1] >= val[:, :-2]) & (val[:, 1:-1] > val[:, 2:]))
    c = c + 1
    # maxima, and the same brackets asked for minima (refused: rate + then -)
    tol = EXTREMUM_RATE_TOL_S * NS_PER_S
    for mode in (1, -1):
        o, lo, hi = obj[r], t[r, c - 1], t[r, c + 1]
        ok, a, b, ga, gb, mid = g.extremum_illinois(mode, o, lo, hi, tol)
        fa, fb = mode * g.value_and_rate(o, lo)[1], mode * g.value_and_rate(o, hi)[1]
        want = np.isfinite(fa) & np.isfinite(fb) & (fa > 0) & (fb < 0)
        np.testing.assert_array_equal(ok, want)
        if mode == 1:
            assert want.mean() > 0.9
        else:
            assert not want.any()
        if want.any():
            ref = g.illinois(mode, o[want], lo[want].astype(float), hi[want].astype(float),
                             fa[want], fb[want], tol)
            for got, exp in zip((a, b, ga, gb, mid), ref):
                np.testing.assert_array_equal(got[want], exp)
        assert np.isnan(a[~want]).all()


def test_table_cos_sin_is_libm_to_a_few_ulp():
    """sgp4_kernel.cos_sin_table (GMST's cosine and sine in every Hermite and
    exact rotation) against libm's cos and sin (glibc: within 1 ulp of the
    true values): within 1e-15 over GMST's angles and up to TABLE_MAX_RAD,
    at table angles and half-way between them (the series' widest
    remainder), negative angles included; libm's own values beyond the
    table's range and for non-finite angles."""
    import numba as nb
    from satwatch.sgp4_kernel import _STEP, TABLE_MAX_RAD, cos_sin_table

    @nb.njit
    def table(x):
        c = np.empty_like(x)
        s = np.empty_like(x)
        for i in range(x.shape[0]):
            c[i], s[i] = cos_sin_table(x[i])
        return c, s

    rng = np.random.default_rng(11)
    k = rng.integers(-1_600_000, 1_600_000, 20_000)
    x = np.concatenate([rng.uniform(-50, 50, 100_000), rng.uniform(-1, 1, 50_000) * TABLE_MAX_RAD,
                        k * _STEP, (k + 0.5) * _STEP, np.linspace(-1e-3, 1e-3, 2001)])
    x = x[np.abs(x) < TABLE_MAX_RAD]
    c, s = table(x)
    assert np.abs(c - np.cos(x)).max() <= 1e-15
    assert np.abs(s - np.sin(x)).max() <= 1e-15
    far = np.array([TABLE_MAX_RAD, -2 * TABLE_MAX_RAD, 1e12, np.inf, np.nan])
    cf, sf = table(far)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(cf, np.cos(far))
        np.testing.assert_array_equal(sf, np.sin(far))
