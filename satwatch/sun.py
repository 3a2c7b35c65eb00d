"""The Sun: position (low-precision analytic theory) and the Earth's shadow.

Solar position: Meeus, *Astronomical Algorithms* (2nd ed., 1998), ch. 25
"low accuracy" theory (mean longitude, mean anomaly and equation of centre
in Julian centuries of TT; good to about 0.01 deg, i.e. ~36 arcsec, over
1950-2050).  We return the **geometric** direction (no aberration, no
light time), as Skyfield's ``(sun - earth).at(t)`` is, referred to the mean
equator and equinox of date (the axes of SGP4's TEME to within the
equation of the equinoxes, ~1 arcsec of time, < 20 arcsec of angle).

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


def sun_position_teme_km(times: Time) -> np.ndarray:
    """Geometric geocentric Sun position, km, mean equator and equinox of
    date (~TEME), shape ``(3,) + times.shape``."""
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
    x = r_km * np.cos(lon)
    y = r_km * np.sin(lon) * np.cos(eps)
    z = r_km * np.sin(lon) * np.sin(eps)
    return np.stack([x, y, z])


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
    return shadow_margin_km(r_sat_teme_km, sun_position_teme_km(times)) >= 0
