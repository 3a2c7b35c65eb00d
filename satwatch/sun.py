"""The Sun: position (low-precision analytic theory) and the Earth's shadow.

Solar position: ERFA's ``epv00`` Earth ephemeris (the SOFA/IAU series,
a few km, i.e. ~0.01 arcsec of direction) rotated to TEME.  A first version
used Meeus's low-accuracy theory (0.01 deg); its ~15 arcsec error moved
grazing eclipse times by several seconds, so it is kept only as
:func:`sun_position_low_precision_km`.  We return the **geometric**
direction (no aberration, no light time), as Skyfield's
``(sun - earth).at(t)`` is.

Shadow: exactly Skyfield's ``ICRF.is_sunlit`` geometry (skyfield/
positionlib.py, skyfield/geometry.py ``intersect_line_and_sphere``): the
satellite is in shadow when the line from it toward the (point) Sun meets a
sphere of radius ERAD = 6378.1366 km centred on the Earth *ahead* of it.  No
penumbra, no atmosphere, no oblateness: the same choices as Skyfield, so
that the comparison isolates our solar ephemeris and our root finding.
"""
from __future__ import annotations

import numpy as np

from .frames import teme_to_itrs, topocentric
from .time import Time

AU_KM = 149_597_870.7
# Skyfield's Earth radius for is_sunlit (skyfield.constants.ERAD, IERS 2010).
SHADOW_EARTH_RADIUS_KM = 6378.1366
_J2000 = 2451545.0


# Above this many instants, the Sun is computed exactly on an hourly grid and
# interpolated by cubic spline: the Sun's TEME vector is smooth (annual
# motion; nutation terms of half a month and longer), so the spline's error,
# (5/384) h^4 times the fourth derivative, is ~1e-6 km, while ERFA's series
# costs ~30 us per instant, which dominated pass visibility on whole catalogs.
_INTERPOLATE_ABOVE = 16
_NODE_STEP_NS = 3600 * 10**9
_NODE_CACHE: dict[int, np.ndarray] = {}     # hour index -> exact TEME Sun (memo only)


def _sun_nodes(first_hour: int, n_nodes: int) -> np.ndarray:
    hours = np.arange(first_hour, first_hour + n_nodes, dtype=np.int64)
    missing = [h for h in hours.tolist() if h not in _NODE_CACHE]
    if missing:
        if len(_NODE_CACHE) > 100_000:
            _NODE_CACHE.clear()
        exact = _sun_position_teme_exact_km(Time(np.array(missing) * _NODE_STEP_NS))
        for k, h in enumerate(missing):
            _NODE_CACHE[h] = exact[:, k]
    return np.stack([_NODE_CACHE[h] for h in hours.tolist()], axis=1)


def sun_position_teme_km(times: Time) -> np.ndarray:
    """Geometric geocentric Sun position, km, in TEME, shape ``(3,) +
    times.shape`` (exact series for few instants, spline of it for many)."""
    ns = np.asarray(times.ns)
    if ns.size <= _INTERPOLATE_ABOVE:
        return _sun_position_teme_exact_km(times)
    from scipy.interpolate import CubicSpline
    first_hour = int(ns.min()) // _NODE_STEP_NS - 2
    n_nodes = int(ns.max()) // _NODE_STEP_NS + 3 - first_hour
    node_ns = (first_hour + np.arange(n_nodes, dtype=np.int64)) * _NODE_STEP_NS
    spline = CubicSpline((node_ns - node_ns[0]) / 1e9, _sun_nodes(first_hour, n_nodes), axis=1)
    return spline((ns - node_ns[0]) / 1e9)


def _sun_position_teme_exact_km(times: Time) -> np.ndarray:
    """Geometric geocentric Sun position, km, in TEME, shape ``(3,) +
    times.shape``.

    ERFA's ``epv00`` (Earth heliocentric position, VSOP2000-based series,
    a few km over 1900-2100) gives the Sun in GCRS axes; the IAU 1976/1980
    precession-nutation matrix (``pnm80``) and the equation of the equinoxes
    (``eqeq94``) take it to TEME (true equator, mean equinox).
    """
    import erfa
    whole, frac = times.jd_tt()
    whole = np.asarray(whole, dtype=float)
    frac = np.asarray(frac, dtype=float)
    shape = whole.shape
    w, f = whole.ravel(), frac.ravel()
    pvh, _ = erfa.epv00(w, f)
    r_gcrs = -pvh["p"] * AU_KM                          # (n, 3)
    npb = erfa.pnm80(w, f)                              # (n, 3, 3) GCRS -> true of date
    r_tod = np.einsum("nij,nj->ni", npb, r_gcrs)
    ee = erfa.eqeq94(w, f)
    c, s = np.cos(ee), np.sin(ee)
    # TEME = R3(eqeq) TOD: the x-axis moves from the true to the mean equinox.
    x = c * r_tod[:, 0] + s * r_tod[:, 1]
    y = -s * r_tod[:, 0] + c * r_tod[:, 1]
    return np.stack([x, y, r_tod[:, 2]]).reshape((3,) + shape)


def sun_position_low_precision_km(times: Time) -> np.ndarray:
    """Meeus (1998) ch. 25 low-accuracy Sun (0.01 deg), mean equator and
    equinox of date: kept as a dependency-free cross-check."""
    whole, frac = times.jd_tt()
    t = ((whole - _J2000) + frac) / 36525.0
    l0 = np.radians(280.46646 + (36000.76983 + 0.0003032 * t) * t)
    m = np.radians(357.52911 + (35999.05029 - 0.0001537 * t) * t)
    e = 0.016708634 - (0.000042037 + 0.0000001267 * t) * t
    c = np.radians((1.914602 - (0.004817 + 0.000014 * t) * t) * np.sin(m)
                   + (0.019993 - 0.000101 * t) * np.sin(2 * m) + 0.000289 * np.sin(3 * m))
    lon = l0 + c
    nu = m + c
    r_km = 1.000001018 * (1 - e * e) / (1 + e * np.cos(nu)) * AU_KM
    eps = np.radians(23.439291111 - (0.013004167 + (1.6389e-7 - 5.0361e-7 * t) * t) * t)
    return np.stack([r_km * np.cos(lon), r_km * np.sin(lon) * np.cos(eps),
                     r_km * np.sin(lon) * np.sin(eps)])


def sun_position_itrs_km(times: Time) -> np.ndarray:
    r, _ = teme_to_itrs(sun_position_teme_km(times), None, times)
    return r


def sun_elevation_deg(times: Time, ground_point) -> np.ndarray:
    """Geometric elevation of the Sun's centre seen from a ground point (no
    refraction), degrees, shape of ``times``."""
    return topocentric(sun_position_itrs_km(times), None, ground_point).elevation_deg


def shadow_margin_km(r_sat_km, r_sun_km) -> np.ndarray:
    """A continuous function, >= 0 where the satellite is sunlit and < 0 in
    the Earth's shadow (Skyfield's geometry, see module doc).  In shadow it is
    minus the depth of the line toward the Sun inside the Earth sphere (km);
    on the sunward side it grows with the distance from the sphere."""
    to_sun = r_sun_km - r_sat_km
    u = to_sun / np.sqrt((to_sun * to_sun).sum(axis=0))
    p = (r_sat_km * u).sum(axis=0)                      # >0: sat on the sunward side
    r2 = (r_sat_km * r_sat_km).sum(axis=0)
    d = np.sqrt(np.maximum(r2 - p * p, 0.0))            # distance of the line from centre
    behind = d - SHADOW_EARTH_RADIUS_KM
    ahead = np.sqrt(r2) - SHADOW_EARTH_RADIUS_KM + p
    return np.where(p < 0, behind, ahead)


def is_sunlit(r_sat_teme_km, times: Time) -> np.ndarray:
    """Whether satellites (TEME km, ``(3, ...)`` with time last) are sunlit."""
    r = np.asarray(r_sat_teme_km, dtype=float)
    sun = np.asarray(sun_position_teme_km(times), dtype=float)
    # the Sun (3, *times.shape) against satellites (3, ..., *times.shape)
    sun = sun.reshape((3,) + (1,) * (r.ndim - sun.ndim) + sun.shape[1:])
    return shadow_margin_km(r, sun) >= 0
