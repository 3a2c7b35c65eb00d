"""Keplerian ballistic arcs over a rotating Earth (pure: numpy and pyproj's
geodesics only).

A ballistic missile's free flight, from burnout to impact, is a piece of a
Keplerian ellipse with one focus at the Earth's centre (Bate, Mueller &
White, *Fundamentals of Astrodynamics*, 1971, ch. 6 "Ballistic missile
trajectories"; Regan & Anandakrishnan, *Dynamics of Atmospheric Re-Entry*,
AIAA 1993, ch. 5).  This module flies that ellipse exactly:

* :func:`fly` -- the forward problem: from the burnout point, the burnout
  speed, flight-path angle and azimuth (both relative to the rotating
  Earth), the conic in an inertial frame (Earth-relative velocity plus
  omega x r), its intersection with the WGS-84 ellipsoid (or a sphere),
  the flight time from Kepler's equation, the impact point after the Earth
  has turned under the arc, the apogee, and the ground range and bearing
  (geodesics on WGS-84 by Karney's method through pyproj).
* :func:`solve_arc` -- the inverse problem: the burnout speed, flight-path
  angle and azimuth that reproduce a reported range (and apogee, and
  bearing), by Newton iteration on :func:`fly` started from the closed
  forms of a symmetric arc on a non-rotating sphere.
* :func:`max_range_for_speed` -- the range the same burnout speed gives on
  a minimum-energy (maximum-range) trajectory along the same azimuth.

No atmosphere, no thrusting phase, no manoeuvres: the arc is the one a
report implies, not what a manoeuvring or depressed missile flew.  Every
function takes arrays and returns arrays of the broadcast shape; failures
are data (NaN plus a code in ``error``, see :data:`BALLISTIC_ERRORS`).

Units: km, km/s, s, degrees at the edges (``_deg``), radians inside.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .frames import WGS84_A_KM, WGS84_B_KM, enu_matrix, geodetic_to_itrs, itrs_to_geodetic

MU_KM3_S2 = 398600.4418            # EGM-96 / WGS-84 GM of the Earth
EARTH_ROTATION_RAD_S = 7.292115e-5  # WGS-84 (IERS) mean angular velocity
MEAN_EARTH_RADIUS_KM = 6371.0088    # IUGG mean radius (used for first guesses only)

BALLISTIC_ERRORS = {
    0: "ok",
    1: "no impact: the conic does not come back to the surface (orbit or escape)",
    2: "no solution: the report cannot be met by a Keplerian arc (check range and apogee)",
    3: "invalid input (NaN, negative range or speed, flight-path angle outside -90..90)",
}

_BISECT_STEPS = 64
_NEWTON_STEPS = 40


@dataclass(frozen=True)
class BallisticArc:
    """One or many free-flight arcs; every field has the broadcast shape."""
    launch_lat_deg: np.ndarray
    launch_lon_deg: np.ndarray
    burnout_alt_km: np.ndarray
    burnout_speed_km_s: np.ndarray          # relative to the rotating Earth
    flight_path_angle_deg: np.ndarray       # above the local (geodetic) horizontal
    azimuth_deg: np.ndarray                 # Earth-relative heading at burnout
    burnout_speed_inertial_km_s: np.ndarray
    impact_lat_deg: np.ndarray
    impact_lon_deg: np.ndarray
    range_km: np.ndarray                    # ground range, geodesic (sphere: great circle)
    bearing_deg: np.ndarray                 # initial geodesic azimuth launch -> impact
    flight_time_s: np.ndarray
    apogee_alt_km: np.ndarray
    apogee_time_s: np.ndarray
    semi_major_axis_km: np.ndarray
    eccentricity: np.ndarray
    error: np.ndarray

    def as_dicts(self) -> list[dict]:
        """One plain dict per arc (flattened), for output."""
        names = [f for f in self.__dataclass_fields__]
        flat = {n: np.ravel(getattr(self, n)) for n in names}
        return [{n: (int(flat[n][i]) if n == "error" else float(flat[n][i])) for n in names}
                for i in range(flat["error"].size)]


# --------------------------------------------------------------------------
# geometry helpers


def _launch_state(lat_deg, lon_deg, alt_km, speed, gamma, azimuth, radius_km, rotating):
    """Inertial (Earth-fixed at t=0) burnout position and velocity, shape (3, ...)."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    if radius_km is None:
        r = geodetic_to_itrs(lat_deg, lon_deg, alt_km)
    else:
        rr = radius_km + alt_km
        r = np.array([rr * np.cos(lat) * np.cos(lon), rr * np.cos(lat) * np.sin(lon),
                      rr * np.sin(lat)])
    m = enu_matrix(lat_deg, lon_deg)            # rows east, north, up, each (3, ...)
    ce, ne, ue = np.cos(gamma) * np.sin(azimuth), np.cos(gamma) * np.cos(azimuth), np.sin(gamma)
    v = speed * (ce * m[0] + ne * m[1] + ue * m[2])
    if rotating:
        v = v + np.array([-EARTH_ROTATION_RAD_S * r[1], EARTH_ROTATION_RAD_S * r[0],
                          np.zeros_like(r[2])])
    return r, v


def _surface_radius(z_over_r, radius_km):
    """Geocentric radius of the surface along a direction with sin(geocentric lat) = z/r."""
    if radius_km is not None:
        return np.full_like(z_over_r, radius_km)
    s2 = z_over_r ** 2
    return WGS84_A_KM * WGS84_B_KM / np.sqrt(WGS84_B_KM ** 2 * (1 - s2) + WGS84_A_KM ** 2 * s2)


def _to_lat_lon(r, radius_km):
    if radius_km is None:
        g = itrs_to_geodetic(r)
        return g.lat_deg, g.lon_deg, g.alt_km
    rn = np.sqrt((r ** 2).sum(axis=0))
    return (np.degrees(np.arcsin(np.clip(r[2] / rn, -1, 1))),
            np.degrees(np.arctan2(r[1], r[0])), rn - radius_km)


def _rotate_z(r, angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([c * r[0] - s * r[1], s * r[0] + c * r[1], r[2]])


@functools.lru_cache(maxsize=1)
def _geod():
    from pyproj import Geod
    return Geod(ellps="WGS84")


def ground_distance(lat1_deg, lon1_deg, lat2_deg, lon2_deg, radius_km=None):
    """Ground range (km) and initial bearing (deg): WGS-84 geodesic (Karney,
    via pyproj) or, with ``radius_km``, the great circle on that sphere."""
    lat1, lon1, lat2, lon2 = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in
                                                   (lat1_deg, lon1_deg, lat2_deg, lon2_deg)))
    if radius_km is None:
        ok = np.isfinite(lat1) & np.isfinite(lon1) & np.isfinite(lat2) & np.isfinite(lon2)
        az = np.full(lat1.shape, np.nan)
        dist = np.full(lat1.shape, np.nan)
        if ok.any():
            a, _, d = _geod().inv(lon1[ok], lat1[ok], lon2[ok], lat2[ok])
            az[ok], dist[ok] = np.asarray(a) % 360.0, np.asarray(d) / 1000.0
        return dist, az
    p1, l1, p2, l2 = (np.radians(x) for x in (lat1, lon1, lat2, lon2))
    dl = l2 - l1
    c = np.sin(p1) * np.sin(p2) + np.cos(p1) * np.cos(p2) * np.cos(dl)
    s = np.hypot(np.cos(p2) * np.sin(dl),
                 np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl))
    az = np.degrees(np.arctan2(np.cos(p2) * np.sin(dl),
                               np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)))
    return radius_km * np.arctan2(s, c), az % 360.0


def destination(lat_deg, lon_deg, bearing_deg, range_km, radius_km=None):
    """The point ``range_km`` along the geodesic leaving at ``bearing_deg``."""
    lat, lon, az, d = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in
                                            (lat_deg, lon_deg, bearing_deg, range_km)))
    if radius_km is None:
        lo, la, _ = _geod().fwd(lon.ravel(), lat.ravel(), az.ravel(),
                                            d.ravel() * 1000.0)
        return np.reshape(la, lat.shape), np.reshape(lo, lat.shape)
    p1, l1, th, dd = np.radians(lat), np.radians(lon), np.radians(az), d / radius_km
    p2 = np.arcsin(np.sin(p1) * np.cos(dd) + np.cos(p1) * np.sin(dd) * np.cos(th))
    l2 = l1 + np.arctan2(np.sin(th) * np.sin(dd) * np.cos(p1),
                         np.cos(dd) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), (np.degrees(l2) + 180.0) % 360.0 - 180.0


# --------------------------------------------------------------------------
# the forward problem


def _conic(r, v):
    """Perifocal frame, p, e, a and the true anomaly of ``r``."""
    h = np.cross(r, v, axis=0)
    hn = np.sqrt((h ** 2).sum(axis=0))
    rn = np.sqrt((r ** 2).sum(axis=0))
    vv = (v ** 2).sum(axis=0)
    rv = (r * v).sum(axis=0)
    evec = ((vv - MU_KM3_S2 / rn) * r - rv * v) / MU_KM3_S2
    e = np.sqrt((evec ** 2).sum(axis=0))
    p = hn ** 2 / MU_KM3_S2
    energy = vv / 2 - MU_KM3_S2 / rn
    with np.errstate(divide="ignore", invalid="ignore"):
        a = -MU_KM3_S2 / (2 * energy)
        pvec = np.where(e > 1e-12, evec / np.where(e > 1e-12, e, 1.0), r / rn)
    w = h / hn
    qvec = np.cross(w, pvec, axis=0)
    nu0 = np.arctan2((r * qvec).sum(axis=0), (r * pvec).sum(axis=0))
    return pvec, qvec, p, e, a, nu0


def _ecc_anomaly(nu, e):
    return 2.0 * np.arctan2(np.sqrt(1 - e) * np.sin(nu / 2), np.sqrt(1 + e) * np.cos(nu / 2))


def _time_from(nu0, nu, e, a):
    e0, e1 = _ecc_anomaly(nu0, e), _ecc_anomaly(nu, e)
    n = np.sqrt(MU_KM3_S2 / np.abs(a) ** 3)
    return ((e1 - e * np.sin(e1)) - (e0 - e * np.sin(e0))) / n


def fly(lat_deg, lon_deg, burnout_speed_km_s, flight_path_angle_deg, azimuth_deg,
        burnout_alt_km=0.0, *, rotating: bool = True, radius_km: float | None = None,
        track_points: int = 0):
    """Fly the Keplerian arc from a burnout state (Earth-relative speed,
    flight-path angle above the local horizontal, azimuth from north through
    east) to the surface.

    ``radius_km=None``: WGS-84 ellipsoid, geodetic coordinates, WGS-84
    geodesic ranges.  ``radius_km=R``: a sphere of radius R (the textbook
    case).  ``rotating=False`` holds the Earth still.  With
    ``track_points=n`` also returns the ground track ``(lat_deg, lon_deg,
    alt_km, t_s)``, each of shape ``(..., n)``, as a second value.
    """
    args = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (
        lat_deg, lon_deg, burnout_speed_km_s, flight_path_angle_deg, azimuth_deg,
        burnout_alt_km)))
    lat, lon, speed, gamma_deg, az_deg, alt = args
    shape = lat.shape
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & np.isfinite(speed) & np.isfinite(gamma_deg)
            & np.isfinite(az_deg) & np.isfinite(alt)) | (speed <= 0) | (np.abs(gamma_deg) >= 90)
    speed_ = np.where(bad, 1.0, speed)
    gamma = np.radians(np.where(bad, 45.0, gamma_deg))
    az = np.radians(np.where(bad, 0.0, az_deg))
    lat_, lon_, alt_ = (np.where(bad, 0.0, x) for x in (lat, lon, alt))
    r0, v0 = _launch_state(lat_, lon_, alt_, speed_, gamma, az, radius_km, rotating)
    pvec, qvec, p, e, a, nu0 = _conic(r0, v0)
    elliptic = (e < 1.0) & (a > 0)
    e_ = np.where(elliptic, e, 0.5)

    def radius_excess(nu):
        rn = p / (1 + e_ * np.cos(nu))
        z = (np.cos(nu) * pvec[2] + np.sin(nu) * qvec[2])
        return rn - _surface_radius(z, radius_km)

    # The impact is the first downward crossing after burnout: bracket it
    # between apogee (nu = pi) -- or burnout if already descending -- and
    # perigee (nu = 2 pi), where the conic is deepest.
    desc = nu0 < 0
    lo = np.where(desc, nu0, np.pi)
    hi = np.where(desc, 0.0, 2 * np.pi)
    no_impact = ~elliptic | (radius_excess(hi) > 0) | (radius_excess(lo) < -1e-9)
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        above = radius_excess(mid) > 0
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    nu_i = 0.5 * (lo + hi)
    t_imp = _time_from(nu0, nu_i, e_, a)
    rn_i = p / (1 + e_ * np.cos(nu_i))
    r_i = rn_i * (np.cos(nu_i) * pvec + np.sin(nu_i) * qvec)
    spin = EARTH_ROTATION_RAD_S * t_imp if rotating else np.zeros(shape)
    r_i_fixed = _rotate_z(r_i, -spin)
    ilat, ilon, _ = _to_lat_lon(r_i_fixed, radius_km)

    # apogee: nu = pi if it lies on the flown part, else burnout
    has_apo = (nu0 < np.pi) & (nu_i > np.pi) & ~desc
    # a (1 + e), not p / (1 - e): near-vertical shots have p and 1 - e both tiny
    r_apo = np.where(elliptic, a, 1.0) * (1 + e_) * -(pvec)
    _, _, apo_alt = _to_lat_lon(np.where(has_apo, r_apo, r0), radius_km)
    apo_t = np.where(has_apo, _time_from(nu0, np.full(shape, np.pi), e_, a), 0.0)
    rng, brg = ground_distance(lat_, lon_, ilat, ilon, radius_km)

    err = np.zeros(shape, dtype=np.int8)
    err = np.where(no_impact, 1, err)
    err = np.where(bad, 3, err).astype(np.int8)
    nan = err != 0

    def out(x):
        return np.where(nan, np.nan, x)

    v_in = np.sqrt((v0 ** 2).sum(axis=0))
    arc = BallisticArc(
        launch_lat_deg=lat, launch_lon_deg=lon, burnout_alt_km=alt,
        burnout_speed_km_s=speed, flight_path_angle_deg=gamma_deg, azimuth_deg=az_deg % 360.0,
        burnout_speed_inertial_km_s=np.where(bad, np.nan, v_in),
        impact_lat_deg=out(ilat), impact_lon_deg=out(ilon), range_km=out(rng),
        bearing_deg=out(brg), flight_time_s=out(t_imp), apogee_alt_km=out(apo_alt),
        apogee_time_s=out(apo_t), semi_major_axis_km=np.where(bad, np.nan, a),
        eccentricity=np.where(bad, np.nan, e), error=err)
    if not track_points:
        return arc
    frac = np.linspace(0.0, 1.0, track_points)
    nu_t = nu0[..., None] + (nu_i - nu0)[..., None] * frac
    e_t, p_t = e_[..., None], p[..., None]
    rn_t = p_t / (1 + e_t * np.cos(nu_t))
    r_t = rn_t * (np.cos(nu_t) * pvec[..., None] + np.sin(nu_t) * qvec[..., None])
    t_t = _time_from(nu0[..., None], nu_t, e_t, a[..., None])
    r_tf = _rotate_z(r_t, -EARTH_ROTATION_RAD_S * t_t if rotating else 0.0 * t_t)
    tlat, tlon, talt = _to_lat_lon(r_tf, radius_km)
    mask = nan[..., None]
    track = tuple(np.where(mask, np.nan, x) for x in (tlat, tlon, talt, t_t))
    return arc, track


# --------------------------------------------------------------------------
# closed forms on a non-rotating sphere (first guesses and textbook checks)


def min_energy_closed_form(range_km, radius_km=MEAN_EARTH_RADIUS_KM, burnout_alt_km=0.0):
    """Minimum-energy burnout speed (km/s) and flight-path angle (deg) for a
    symmetric free-flight range on a non-rotating sphere (burnout and
    re-entry at the same radius): BMW sec. 6.2, sin(psi/2) = Q/(2-Q) and
    phi = (180 deg - psi)/4, with Q = v^2 r / mu."""
    r = radius_km + burnout_alt_km
    psi = np.asarray(range_km, dtype=float) / radius_km
    s = np.sin(psi / 2)
    q = 2 * s / (1 + s)
    return np.sqrt(q * MU_KM3_S2 / r), np.degrees((np.pi - psi) / 4)


def range_apogee_closed_form(range_km, apogee_alt_km, radius_km=MEAN_EARTH_RADIUS_KM):
    """Burnout speed (km/s) and flight-path angle (deg) of the symmetric
    arc with a given range and apogee on a non-rotating sphere, burnout at
    the surface: the conic r = p/(1 + e cos nu) through r = R at
    nu = pi -/+ psi/2 and r = R + H at nu = pi.  NaN where no ellipse fits."""
    psi = np.asarray(range_km, dtype=float) / radius_km
    ra = radius_km + np.asarray(apogee_alt_km, dtype=float)
    c = np.cos(psi / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = (ra - radius_km) / (ra - radius_km * c)
        p = ra * (1 - e)
        a = p / (1 - e * e)
        v = np.sqrt(MU_KM3_S2 * (2 / radius_km - 1 / a))
        cosg = np.sqrt(MU_KM3_S2 * p) / (radius_km * v)
        g = np.degrees(np.arccos(np.clip(cosg, -1, 1)))
    ok = (e >= 0) & (e < 1) & (ra > radius_km) & (psi > 0) & (psi < 2 * np.pi)
    return np.where(ok, v, np.nan), np.where(ok, g, np.nan)


# --------------------------------------------------------------------------
# the inverse problem


def _wrap180(x):
    return (x + 180.0) % 360.0 - 180.0


def solve_arc(lat_deg, lon_deg, range_km, apogee_alt_km=None, bearing_deg=None,
              burnout_alt_km=0.0, *, rotating: bool = True, radius_km: float | None = None):
    """The arc consistent with a report: ground range (km), optionally the
    apogee (km above the surface) and the bearing of the impact point from
    the launch site (deg; due east when not given -- pass each bearing of a
    ring to map the unknown-bearing case).

    Unknowns: burnout speed, flight-path angle and launch azimuth (Earth
    relative).  Without an apogee the flight-path angle is held at the
    minimum-energy angle of the non-rotating closed form for that range
    (BMW sec. 6.2), i.e. the report is read as a minimum-energy shot.
    Returns a :class:`BallisticArc`; ``error == 2`` where Newton's method
    did not meet the report (range 1e-6 relative, apogee 1 m, bearing 1e-6 deg).
    """
    args = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (
        lat_deg, lon_deg, range_km,
        np.nan if apogee_alt_km is None else apogee_alt_km,
        90.0 if bearing_deg is None else bearing_deg, burnout_alt_km)))
    lat, lon, rng, apo, brg, alt = (np.array(x, dtype=float) for x in args)
    has_apo = np.isfinite(apo)
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & np.isfinite(rng) & np.isfinite(brg)) | \
        (rng <= 0) | (has_apo & (apo <= alt))
    rr = MEAN_EARTH_RADIUS_KM if radius_km is None else radius_km
    rng_ = np.where(bad, 1000.0, rng)
    v_me, g_me = min_energy_closed_form(rng_, rr)
    v_ra, g_ra = range_apogee_closed_form(rng_, np.where(has_apo, apo, 100.0), rr)
    fit_apo = has_apo & np.isfinite(v_ra)
    v = np.where(fit_apo, v_ra, v_me)
    g = np.where(fit_apo, g_ra, g_me)
    az = np.where(bad, 90.0, brg).copy()
    lat_, lon_ = np.where(bad, 0.0, lat), np.where(bad, 0.0, lon)
    infeasible = has_apo & ~np.isfinite(v_ra)

    def residual(v, g, az):
        arc = fly(lat_, lon_, v, g, az, alt, rotating=rotating, radius_km=radius_km)
        res = np.stack([(arc.range_km - rng_) / rng_,
                        np.where(fit_apo, (arc.apogee_alt_km - np.where(has_apo, apo, 0))
                                 / np.maximum(np.where(has_apo, apo, 1.0), 1.0), 0.0),
                        np.radians(_wrap180(arc.bearing_deg - az_target))])
        return res, arc

    az_target = np.where(bad, 90.0, brg)
    steps = np.array([1e-6, 1e-5, 1e-5])

    def met(res, arc):
        return (np.abs(res[0]) < 1e-6) & (np.abs(np.where(
            fit_apo, arc.apogee_alt_km - np.where(has_apo, apo, 0.0), 0.0)) < 1e-3) & \
            (np.abs(res[2]) < np.radians(1e-6))

    for _ in range(_NEWTON_STEPS):
        res, arc = residual(v, g, az)
        if np.all(met(res, arc) | bad | infeasible | (arc.error != 0)):
            break
        jac = np.empty(res.shape[1:] + (3, 3))
        x = [v, g, az]
        for k in range(3):
            xk = list(x)
            h = steps[k] * (np.abs(x[k]) + 1.0)
            xk[k] = x[k] + h
            rk, _ = residual(*xk)
            jac[..., :, k] = np.moveaxis((rk - res) / h, 0, -1)
        # Without an apogee the angle is held: make that row/column trivial.
        hold = ~fit_apo
        jac[..., 1, :] = np.where(hold[..., None], 0.0, jac[..., 1, :])
        jac[..., :, 1] = np.where(hold[..., None], 0.0, jac[..., :, 1])
        jac[..., 1, 1] = np.where(hold, 1.0, jac[..., 1, 1])
        rhs = np.moveaxis(np.nan_to_num(res, nan=0.0), 0, -1)
        ok = np.all(np.isfinite(jac), axis=(-1, -2)) & (np.abs(np.linalg.det(
            np.where(np.isfinite(jac), jac, 0.0))) > 1e-30)
        safe = np.where(ok[..., None, None], jac, np.eye(3))
        dx = np.linalg.solve(safe, rhs[..., None])[..., 0]
        dx = np.where(ok[..., None], dx, 0.0)
        # damp: at most 10 % of the speed, 5 deg of angle, 5 deg of azimuth
        dv = np.clip(dx[..., 0], -0.1 * v, 0.1 * v)
        dg = np.clip(dx[..., 1], -5.0, 5.0)
        da = np.clip(dx[..., 2], -5.0, 5.0)
        v, g, az = v - dv, np.clip(g - dg, -89.0, 89.0), (az - da) % 360.0
    res, arc = residual(v, g, az)
    converged = met(res, arc)
    err = np.where(arc.error != 0, arc.error, np.where(converged, 0, 2))
    err = np.where(infeasible, 2, err)
    err = np.where(bad, 3, err).astype(np.int8)
    return _with_error(arc, err, lat, lon)


def _with_error(arc: BallisticArc, err, lat, lon) -> BallisticArc:
    fields = {}
    nan = err != 0
    for name in arc.__dataclass_fields__:
        value = getattr(arc, name)
        if name == "error":
            fields[name] = err
        elif name in ("launch_lat_deg", "launch_lon_deg"):
            fields[name] = lat if name == "launch_lat_deg" else lon
        else:
            fields[name] = np.where(nan, np.nan, value)
    return BallisticArc(**fields)


def max_range_for_speed(lat_deg, lon_deg, burnout_speed_km_s, azimuth_deg,
                        burnout_alt_km=0.0, *, rotating: bool = True,
                        radius_km: float | None = None):
    """The longest ground range (km) a burnout speed reaches along an azimuth,
    and the flight-path angle (deg) that gives it: the minimum-energy
    trajectory for that range.  Golden-section search over the angle."""
    args = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (
        lat_deg, lon_deg, burnout_speed_km_s, azimuth_deg, burnout_alt_km)))
    lat, lon, v, az, alt = args
    lo = np.full(lat.shape, 0.01)
    hi = np.full(lat.shape, 89.99)
    ratio = (np.sqrt(5) - 1) / 2

    def f(g):
        arc = fly(lat, lon, v, g, az, alt, rotating=rotating, radius_km=radius_km)
        return np.where(np.isfinite(arc.range_km), arc.range_km, -1.0)

    for _ in range(48):            # 0.618^48 * 90 deg ~ 1e-8 deg
        x1 = hi - ratio * (hi - lo)
        x2 = lo + ratio * (hi - lo)
        left = f(x1) > f(x2)
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
    g = 0.5 * (lo + hi)
    rng = f(g)
    return np.where(rng > 0, rng, np.nan), np.where(rng > 0, g, np.nan)
