"""The compiled SGP4 and SDP4 kernels' ``trig_by_series`` path (what the pass
engine propagates with) against python-sgp4's compiled C++ (Vallado's
SGP4.cpp behind Brandon Rhodes' wrapper.cpp) and Vallado's verification set
(``sgp4/SGP4-VER.TLE`` as shipped in python-sgp4 2.27).

The path takes some sines and cosines by rotating known ones through a small
angle whose cosine and sine come from their series
(sgp4_kernel.rotate_by_small), so it is not the C++ bit for bit.  The
contract: identical error codes and NaN pattern everywhere; wherever SGP4's
state is an orbit, positions within 1e-9 km + 1e-11 of |r| and velocities
within 1e-12 km/s + 1e-11 of |v|.  Why relative: the C++'s Kepler loop stops
with up to 1e-12 rad of eccentric anomaly left unapplied (it keeps the sine
and cosine of the iterate before its last step), and a last-bit difference in
those sines can make this path take, or skip, that last step: ~1e-12 of the
orbit's size (review round 24 found 0.6-2.7e-8 km, 1.1e-11 km/s over 12.9
million catalog samples; tests/test_review_round24.py).  SGP4's runaway
states past a decay (28742 reaches 5e5 km at 5.7e6 km/s with error code 0,
others 1e10 km and more) amplify any difference without bound (review round
24: 1.1e-4 relative); they are not compared, and the pass engine rejects them
as unphysical (propagation.physical_state, code 7), which is checked here.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sgp4.api import WGS72, WGS84, Satrec
from test_sdp4_kernel import catalog_samples
from test_sgp4_kernel import (
    R_TOL_KM,
    V_TOL_KM_S,
    assert_codes_and_nans,
    catalog_sample,
    reference_sgp4,
    split_minutes,
    verification_sets,
)

from satwatch.propagation import max_radius_km, physical_state
from satwatch.sdp4_kernel import pack_deep_space, sdp4_ns_scatter
from satwatch.sgp4_kernel import (
    SERIES_MAX_RAD,
    pack_near_earth,
    rotate_by_small,
    sgp4_near_ns_scatter,
)
from satwatch.time import NS_PER_DAY

# Beyond these SGP4's output is no orbit (a runaway after decay).
ORBIT_MAX_RADIUS_KM = 1e6
ORBIT_MAX_SPEED_KM_S = 20.0
# The C++'s Kepler stop (see above): 1e-12 rad of eccentric anomaly, times
# the orbit's size, with a factor of 10 for the velocity's and the periodics'
# share.  Still 1e8 times tighter than SGP4's own accuracy (~1 km).
KEPLER_STOP_RTOL = 1e-11


def scatter_states(kernel, params, idx, t_ns, series=True):
    """``(err, r, v)`` of a scatter kernel (sgp4_near_ns_scatter or
    sdp4_ns_scatter) at int64 UTC ns ``t_ns``, its series path or not."""
    k = len(t_ns)
    err = np.full(k, 99, dtype=np.uint8)
    r = np.full((k, 3), -7.0)
    v = np.full((k, 3), -7.0)
    kernel(params, np.asarray(idx, dtype=np.int64), np.asarray(t_ns, dtype=np.int64),
           np.arange(k, dtype=np.int64), err, r, v, series)
    return err, r, v


def split_ns(t_ns):
    """jd, fr of int64 UTC ns, as satwatch.passes splits them for python-sgp4."""
    days, rem = np.divmod(np.asarray(t_ns, dtype=np.int64), NS_PER_DAY)
    return days + 2440587.5, rem / NS_PER_DAY


def series_states(kernel, params, idx, jd, fr):
    """The kernel's series path at the samples' ns times, and the jd, fr
    split of those times."""
    t_ns = np.rint(((np.asarray(jd) - 2440587.5) + np.asarray(fr)) * NS_PER_DAY).astype(np.int64)
    return (scatter_states(kernel, params, idx, t_ns), *split_ns(t_ns))


def radius_limit_km(satrecs, idx, jd, fr):
    """The pass engine's radius bound per sample (Ephemeris: propagation.
    max_radius_km forward of the epoch, its backward bound before)."""
    after = (jd - np.array([s.jdsatepoch for s in satrecs])[idx]) \
        + (fr - np.array([s.jdsatepochF for s in satrecs])[idx]) >= 0
    return np.where(after, max_radius_km(satrecs)[idx], max_radius_km(satrecs, backward=True)[idx])


def assert_close_to_cpp(got, want, label, radius_limit):
    assert_codes_and_nans(got, want, label)
    _, r, v = got
    e0, r0, v0 = want
    fin = np.isfinite(r0[:, 0])
    size_r = np.linalg.norm(np.where(fin[:, None], r0, 0.0), axis=1)
    size_v = np.linalg.norm(np.where(fin[:, None], v0, 0.0), axis=1)
    orbit = fin & (size_r < ORBIT_MAX_RADIUS_KM) & (size_v < ORBIT_MAX_SPEED_KM_S)
    dr = np.abs(r[orbit] - r0[orbit]).max(axis=1, initial=0.0)
    dv = np.abs(v[orbit] - v0[orbit]).max(axis=1, initial=0.0)
    worst_r = np.argmax(dr - KEPLER_STOP_RTOL * size_r[orbit]) if orbit.any() else 0
    assert (dr <= R_TOL_KM + KEPLER_STOP_RTOL * size_r[orbit]).all(), \
        f"{label}: |dr| {dr[worst_r]:.3g} km at |r| {size_r[orbit][worst_r]:.6g} km"
    assert (dv <= V_TOL_KM_S + KEPLER_STOP_RTOL * size_v[orbit]).all(), label
    # runaway states: not compared; the pass engine never takes them
    away = fin & ~orbit & (e0 == 0)
    assert not physical_state(r0[away], v0[away], radius_limit[away]).any(), label
    return orbit


def test_rotate_by_small_is_cos_and_sin():
    """The series against libm's cos and sin of the summed angle, over the
    whole range the kernels use it on: within 4 units in the last place."""
    rng = np.random.default_rng(1)
    a = rng.uniform(-np.pi, np.pi, 20000)
    d = np.concatenate([rng.uniform(-SERIES_MAX_RAD, SERIES_MAX_RAD, 19996),
                        [SERIES_MAX_RAD, -SERIES_MAX_RAD, 1e-300, 0.0]])
    got = np.array([rotate_by_small(np.cos(x), np.sin(x), y) for x, y in zip(a, d)])
    want_c, want_s = np.cos(a + d), np.sin(a + d)
    assert np.abs(got[:, 0] - want_c).max() <= 4 * np.spacing(1.0)
    assert np.abs(got[:, 1] - want_s).max() <= 4 * np.spacing(1.0)


@pytest.mark.parametrize("method", ["n", "d"])
def test_verification_set_against_cpp(method):
    sets = [(s, ts) for s, ts in verification_sets() if s.method == method]
    satrecs = [s for s, _ in sets]
    kernel, pack = ((sgp4_near_ns_scatter, pack_near_earth) if method == "n"
                    else (sdp4_ns_scatter, pack_deep_space))
    idx = np.concatenate([np.full(len(ts), i) for i, (_, ts) in enumerate(sets)])
    jd, fr = (np.concatenate(a) for a in zip(*(split_minutes(s, ts) for s, ts in sets)))
    got, jd2, fr2 = series_states(kernel, pack(satrecs), idx, jd, fr)
    assert_close_to_cpp(got, reference_sgp4(satrecs, idx, jd2, fr2), f"SGP4-VER {method}",
                        radius_limit_km(satrecs, idx, jd2, fr2))
    assert {0, 1, 6} <= set(np.unique(got[0]).tolist())


@pytest.mark.parametrize("seed", [20231013, 7])
def test_catalog_near_earth_against_cpp(full_catalog, seed):
    """Random objects plus the odd ones (decaying, most eccentric, retrograde,
    negative B*), +-10 days from epoch: seed 7 holds 28742 past its decay."""
    near = [s for s in full_catalog.satrecs if s.method == "n"]
    idx, jd, fr = catalog_sample(near, np.random.default_rng(seed))
    got, jd2, fr2 = series_states(sgp4_near_ns_scatter, pack_near_earth(near), idx, jd, fr)
    want = reference_sgp4(near, idx, jd2, fr2)
    orbit = assert_close_to_cpp(got, want, f"catalog near-Earth {seed}",
                                radius_limit_km(near, idx, jd2, fr2))
    assert orbit.mean() > 0.9
    # the series path ran: not the C++ to the last bit everywhere
    assert (got[1][orbit] != want[1][orbit]).any()


def test_catalog_deep_space_against_cpp(full_catalog):
    """Every deep-space object (GEO, GTO, Molniya, GNSS, lunar-distance
    orbits), 8 times each from -3 to +10 days of epoch."""
    deep = [s for s in full_catalog.satrecs if s.method == "d"]
    idx, jd, fr = catalog_samples(deep, np.random.default_rng(11))
    got, jd2, fr2 = series_states(sdp4_ns_scatter, pack_deep_space(deep), idx, jd, fr)
    want = reference_sgp4(deep, idx, jd2, fr2)
    orbit = assert_close_to_cpp(got, want, "catalog deep space",
                                radius_limit_km(deep, idx, jd2, fr2))
    assert orbit.mean() > 0.99
    assert (got[1][orbit] != want[1][orbit]).any()


ANGLE_RAD = st.floats(0.0, 2 * np.pi)


@settings(max_examples=150, deadline=None)
@given(
    model=st.tuples(st.sampled_from([WGS72, WGS84]), st.sampled_from(["a", "i"])),
    # near-Earth and deep space (the kernel chosen by sgp4init's method)
    mean_motion_rev_day=st.floats(0.5, 17.0),
    ecco=st.floats(0.0, 0.95),
    angles_rad=st.tuples(st.floats(0.0, np.pi), ANGLE_RAD, ANGLE_RAD, ANGLE_RAD),
    bstar=st.floats(-1e-3, 5e-2),
    tsince_min=st.lists(st.floats(-20 * 1440.0, 20 * 1440.0), min_size=1, max_size=8),
)
def test_random_elements_against_cpp(model, mean_motion_rev_day, ecco, angles_rad, bstar,
                                     tsince_min):
    inclo_rad, argpo_rad, mo_rad, nodeo_rad = angles_rad
    sat = Satrec()
    epoch = 25000.25
    sat.sgp4init(*model, 99999, epoch, bstar, 0.0, 0.0, ecco, argpo_rad,
                 inclo_rad, mo_rad, mean_motion_rev_day * 2 * np.pi / 1440.0, nodeo_rad)
    if sat.method == "n":
        kernel, params = sgp4_near_ns_scatter, pack_near_earth([sat])
    else:
        kernel, params = sdp4_ns_scatter, pack_deep_space([sat], epochs_days_1949=[epoch])
    jd, fr = split_minutes(sat, tsince_min)
    idx = np.zeros(len(jd), dtype=np.int64)
    got, jd2, fr2 = series_states(kernel, params, idx, jd, fr)
    assert_close_to_cpp(got, reference_sgp4([sat], idx, jd2, fr2),
                        f"{sat.method} n={mean_motion_rev_day} e={ecco} i={inclo_rad}",
                        radius_limit_km([sat], idx, jd2, fr2))
