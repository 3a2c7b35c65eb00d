"""Frames: TEME -> ITRS (Earth-fixed, with polar motion) -> WGS-84 geodetic,
and topocentric azimuth / elevation / range / range-rate.

TEME -> PEF is the rotation by Greenwich mean sidereal time (IAU-82, as
SGP4's TEME is defined: Vallado et al. 2006, "Revisiting Spacetrack Report
#3", AIAA 2006-6753, sec. III), with UT1 from IERS data; PEF -> ITRS applies
polar motion (xp, yp).  Arrays are ``(3, ...)`` with the time axis last.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .time import DAY_S, Time

WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
WGS84_B_KM = WGS84_A_KM * (1.0 - WGS84_F)
_JD_J2000 = 2451545.0


def gmst82_rad(times: Time):
    """GMST (IAU-82) in radians and its rate in rad/s, from UT1."""
    whole, frac = times.jd_ut1()
    t = (whole - _JD_J2000 + frac) / 36525.0
    g = 67310.54841 + (8640184.812866 + (0.093104 + (-6.2e-6) * t) * t) * t
    dg = 8640184.812866 + (0.093104 * 2.0 + (-6.2e-6 * 3.0) * t) * t
    theta = (whole % 1.0 + frac % 1.0 + g / DAY_S) % 1.0 * (2 * np.pi)
    theta_dot = (1.0 + dg / (DAY_S * 36525.0)) * (2 * np.pi) / DAY_S
    return theta, theta_dot


def teme_to_itrs(r_teme_km, v_teme_km_s, times: Time, polar_motion: bool = True):
    """Rotate TEME states (shape ``(3, ..., n_time)``) to ITRS.  ``v`` may be
    None.  Velocities are Earth-fixed (include the Earth-rotation term)."""
    theta, theta_dot = gmst82_rad(times)
    c, s = np.cos(theta), np.sin(theta)
    px, py = times.polar_motion_rad() if polar_motion else (None, None)
    r = rotate_teme_to_itrs(r_teme_km, c, s, px, py)
    v = None
    if v_teme_km_s is not None:
        x, y = r_teme_km[0], r_teme_km[1]
        xp, yp = c * x + s * y, c * y - s * x
        vx, vy, vz = v_teme_km_s[0], v_teme_km_s[1], v_teme_km_s[2]
        v = [c * vx + s * vy + theta_dot * yp, c * vy - s * vx - theta_dot * xp, vz]
        v = np.stack(v if px is None else _polar(v, px, py))
    return r, v


def rotate_teme_to_itrs(r_teme_km, cos_theta, sin_theta, xp_rad=None, yp_rad=None,
                        polar_cos_sin=None):
    """Positions ``(3, ...)`` from TEME to ITRS given cos and sin of GMST and
    (optionally) the polar motion angles, each broadcast against ``r[0]``:
    the rotation of :func:`teme_to_itrs`, for callers that already hold
    those angles per time (one GMST per grid column, not per sample).
    ``polar_cos_sin``: instead of the angles, their ``(cos xp, sin xp, cos
    yp, sin yp)`` (:func:`polar_cos_sin`), computed once per time."""
    x, y, z = r_teme_km[0], r_teme_km[1], r_teme_km[2]
    r = [cos_theta * x + sin_theta * y, cos_theta * y - sin_theta * x, z]
    if polar_cos_sin is not None:
        return np.stack(_polar_cs(r, *polar_cos_sin))
    return np.stack(r if xp_rad is None else _polar(r, xp_rad, yp_rad))


def polar_cos_sin(xp, yp):
    """``(cos xp, sin xp, cos yp, sin yp)`` for :func:`rotate_teme_to_itrs`."""
    return np.cos(xp), np.sin(xp), np.cos(yp), np.sin(yp)


def _polar(vec, xp, yp):
    return _polar_cs(vec, *polar_cos_sin(xp, yp))


def _polar_cs(vec, cx, sx, cy, sy):
    # IERS Conventions 2010 eq. 5.3: [TIRS] = W [ITRS] with W = R3(-s') R2(xp)
    # R1(yp) (passive rotations), so [ITRS] = R1(-yp) R2(-xp) [TIRS]: the
    # rotation pole lands at (+xp, -yp) in ITRS.  s' (< 0.1 mas) is neglected.
    x, y, z = vec
    x1 = cx * x + sx * z
    z1 = cx * z - sx * x
    return [x1, cy * y - sy * z1, sy * y + cy * z1]


@dataclass(frozen=True)
class Geodetic:
    """WGS-84 geodetic coordinates, arrays of one shape."""
    lat_deg: np.ndarray
    lon_deg: np.ndarray
    alt_km: np.ndarray


def itrs_to_geodetic(r_itrs_km) -> Geodetic:
    """WGS-84 latitude, longitude and height from ITRS positions ``(3, ...)``.

    Bowring's method with two refinements: below a millimetre from the
    Earth's surface to beyond GEO (checked against Skyfield's iterative
    solution in the tests).
    """
    x, y, z = r_itrs_km[0], r_itrs_km[1], r_itrs_km[2]
    p = np.hypot(x, y)
    lon = np.arctan2(y, x)
    lat = np.arctan2(z, p * (1.0 - WGS84_E2))
    for _ in range(3):
        s = np.sin(lat)
        n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * s * s)
        lat = np.arctan2(z + WGS84_E2 * n * s, p)
    s, c = np.sin(lat), np.cos(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * s * s)
    alt = p * c + z * s - WGS84_A_KM * WGS84_A_KM / n
    return Geodetic(np.degrees(lat), np.degrees(lon), alt)


@dataclass(frozen=True)
class GroundPoint:
    """A fixed point on the WGS-84 ellipsoid (a site, a target, an observer)."""
    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0
    name: str = ""

    @property
    def r_itrs_km(self) -> np.ndarray:
        return geodetic_to_itrs(self.lat_deg, self.lon_deg, self.alt_m / 1000.0)

    def enu_matrix(self) -> np.ndarray:
        """Rows: east, north, up unit vectors in ITRS."""
        return enu_matrix(self.lat_deg, self.lon_deg)


def geodetic_to_itrs(lat_deg, lon_deg, alt_km=0.0) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    s, c = np.sin(lat), np.cos(lat)
    n = WGS84_A_KM / np.sqrt(1.0 - WGS84_E2 * s * s)
    return np.array([(n + alt_km) * c * np.cos(lon), (n + alt_km) * c * np.sin(lon),
                     (n * (1.0 - WGS84_E2) + alt_km) * s])


def enu_matrix(lat_deg, lon_deg) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    sl, cl, so, co = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    return np.array([[-so, co, np.zeros_like(so)],
                     [-sl * co, -sl * so, cl],
                     [cl * co, cl * so, sl]])


@dataclass(frozen=True)
class Topocentric:
    """Seen from a ground point: arrays of one shape."""
    azimuth_deg: np.ndarray
    elevation_deg: np.ndarray
    range_km: np.ndarray
    range_rate_km_s: np.ndarray


def topocentric(r_itrs_km, v_itrs_km_s, observer: GroundPoint) -> Topocentric:
    """Azimuth (from north, through east), elevation, range and range-rate of
    ITRS states ``(3, ...)`` seen from a fixed observer."""
    o = observer.r_itrs_km
    m = observer.enu_matrix()
    dx, dy, dz = r_itrs_km[0] - o[0], r_itrs_km[1] - o[1], r_itrs_km[2] - o[2]
    e = m[0, 0] * dx + m[0, 1] * dy
    n = m[1, 0] * dx + m[1, 1] * dy + m[1, 2] * dz
    u = m[2, 0] * dx + m[2, 1] * dy + m[2, 2] * dz
    rng = np.sqrt(e * e + n * n + u * u)
    az = np.degrees(np.arctan2(e, n)) % 360.0
    el = np.degrees(np.arcsin(u / rng))
    if v_itrs_km_s is None:
        rr = np.full_like(rng, np.nan)
    else:
        rr = (dx * v_itrs_km_s[0] + dy * v_itrs_km_s[1] + dz * v_itrs_km_s[2]) / rng
    return Topocentric(az, el, rng, rr)
