"""Launch analysis (pure): what orbits a site reaches, when to launch into a
given plane, and which catalogued objects came from a launch.

* :func:`reach` -- inclinations reachable by direct ascent for allowed
  launch azimuths.  A direct ascent puts the site in the orbital plane, so
  ``cos i = cos(lat) sin(az)`` with the geocentric latitude and the inertial
  azimuth (Vallado, *Fundamentals of Astrodynamics and Applications*, 4th
  ed., sec. 6.4.1 "launch windows", eq. 6-23; BMW sec. 3.5): the minimum is
  the site's latitude (launch due east), lower inclinations need a dogleg
  or a plane change, and :func:`launch_azimuth` refuses them with
  :class:`ReachError`.  Earth-relative azimuths are turned into inertial
  ones with the site's rotation speed.
* :func:`sso_inclination_deg` -- the sun-synchronous inclination at an
  altitude (J2 nodal regression equal to the Sun's mean motion, Vallado
  eq. 9-42), and whether a site reaches it.
* :func:`ascent_tracks` -- the ground track of the orbit that leaves the
  site along each azimuth, for its first minutes: the track a direct
  ascent follows downrange (the real ascent is lower and slower at first,
  so this is where the vehicle and its debris head, not a trajectory).
* :func:`plane_g` / :func:`launch_windows` -- the signed angle of the site
  from a target orbital plane (RAAN drifting with J2), as a g-function of
  :mod:`satwatch.events`; its zero crossings are the launch windows:
  ascending (north-going launch) or descending.
* :func:`identify` -- rank the objects of a catalog whose element sets are
  consistent with a launch from a site at a time: the plane through the
  site at launch time, the object near the site along that plane, an epoch
  after launch, a designator of that year.  Each gets a score in [0, 1]
  and its reasons.

Angles are degrees at the edges, radians inside; times are
:class:`satwatch.time.Time`; the frame of planes is TEME (that of the
element sets), with the site rotated into it by GMST (IAU-82).
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from .errors import SatwatchError
from .frames import WGS84_A_KM, WGS84_E2, geodetic_to_itrs, gmst82_rad
from .time import NS_PER_S, Time

MU_KM3_S2 = 398600.4418
EARTH_RADIUS_KM = WGS84_A_KM
J2 = 1.08262668e-3                       # EGM-96 / WGS-84 (as SGP4's WGS-72 uses 1.082616e-3)
EARTH_ROTATION_RAD_S = 7.292115e-5
SUN_MEAN_MOTION_RAD_S = 2 * np.pi / (365.2421897 * 86400.0)   # tropical year
DEFAULT_ALTITUDE_KM = 500.0


class ReachError(SatwatchError, ValueError):
    """An orbit a site cannot reach by direct ascent (or a bad request)."""


# --------------------------------------------------------------------------
# geometry of the site


def geocentric_latitude_deg(lat_deg):
    """Geocentric latitude of a point on the WGS-84 ellipsoid:
    tan(lat_c) = (1 - e^2) tan(lat)."""
    return np.degrees(np.arctan((1 - WGS84_E2) * np.tan(np.radians(lat_deg))))


def _site_radius_km(lat_deg, lon_deg, alt_km=0.0):
    r = geodetic_to_itrs(lat_deg, lon_deg, alt_km)
    return float(np.sqrt((r ** 2).sum()))


def circular_speed_km_s(altitude_km):
    return np.sqrt(MU_KM3_S2 / (EARTH_RADIUS_KM + np.asarray(altitude_km, dtype=float)))


def inertial_azimuth_deg(relative_azimuth_deg, lat_deg, altitude_km=DEFAULT_ALTITUDE_KM):
    """The inertial heading of an orbit (circular at ``altitude_km``) whose
    velocity relative to the rotating Earth heads ``relative_azimuth_deg``."""
    br = np.radians(relative_azimuth_deg)
    u = EARTH_ROTATION_RAD_S * EARTH_RADIUS_KM * np.cos(np.radians(
        geocentric_latitude_deg(lat_deg)))
    v = circular_speed_km_s(altitude_km)
    vr = -u * np.sin(br) + np.sqrt(u * u * np.sin(br) ** 2 - u * u + v * v)
    return np.degrees(np.arctan2(vr * np.sin(br) + u, vr * np.cos(br))) % 360.0


def relative_azimuth_deg(inertial_azimuth_deg, lat_deg, altitude_km=DEFAULT_ALTITUDE_KM):
    """The Earth-relative heading that gives an inertial heading (Vallado
    eq. 6-25: subtract the site's rotation velocity)."""
    bi = np.radians(inertial_azimuth_deg)
    u = EARTH_ROTATION_RAD_S * EARTH_RADIUS_KM * np.cos(np.radians(
        geocentric_latitude_deg(lat_deg)))
    v = circular_speed_km_s(altitude_km)
    return np.degrees(np.arctan2(v * np.sin(bi) - u, v * np.cos(bi))) % 360.0


def inclination_for_azimuth_deg(lat_deg, inertial_azimuth_deg):
    """cos i = cos(lat_c) sin(az_inertial)."""
    c = np.cos(np.radians(geocentric_latitude_deg(lat_deg)))
    return np.degrees(np.arccos(np.clip(c * np.sin(np.radians(inertial_azimuth_deg)), -1, 1)))


@dataclass(frozen=True)
class LaunchAzimuths:
    inclination_deg: float
    ascending_inertial_deg: float       # north-going launch
    descending_inertial_deg: float      # south-going launch
    ascending_relative_deg: float
    descending_relative_deg: float


def launch_azimuth(lat_deg, inclination_deg, altitude_km=DEFAULT_ALTITUDE_KM,
                   site_name: str = "the site") -> LaunchAzimuths:
    """Azimuths that put a direct ascent into ``inclination_deg``; refuses
    inclinations below the site's latitude (or above 180 deg minus it)."""
    lat_c = float(geocentric_latitude_deg(lat_deg))
    i = float(inclination_deg)
    if not 0.0 <= i <= 180.0:
        raise ReachError(f"inclination {i:g} deg is outside 0..180 deg")
    lo, hi = abs(lat_c), 180.0 - abs(lat_c)
    if i < lo - 1e-9 or i > hi + 1e-9:
        raise ReachError(
            f"inclination {i:.2f} deg cannot be reached by direct ascent from {site_name} "
            f"(latitude {lat_deg:.2f} deg, geocentric {lat_c:.2f} deg): direct ascent reaches "
            f"{lo:.2f}..{hi:.2f} deg; a lower inclination needs a dogleg or a plane change "
            "after orbit insertion")
    s = np.clip(np.cos(np.radians(i)) / np.cos(np.radians(lat_c)), -1.0, 1.0)
    asc = float(np.degrees(np.arcsin(s))) % 360.0     # the same north or south of the equator
    desc = (180.0 - asc) % 360.0
    return LaunchAzimuths(i, asc, desc, float(relative_azimuth_deg(asc, lat_deg, altitude_km)),
                          float(relative_azimuth_deg(desc, lat_deg, altitude_km)))


def sso_inclination_deg(altitude_km, eccentricity=0.0):
    """Sun-synchronous inclination: -3/2 J2 n (R/p)^2 cos i = the Sun's mean
    motion (Vallado eq. 9-42).  NaN where no inclination makes it (above
    about 5,970 km)."""
    a = EARTH_RADIUS_KM + np.asarray(altitude_km, dtype=float)
    p = a * (1 - np.asarray(eccentricity) ** 2)
    n = np.sqrt(MU_KM3_S2 / a ** 3)
    c = -SUN_MEAN_MOTION_RAD_S / (1.5 * J2 * n * (EARTH_RADIUS_KM / p) ** 2)
    return np.where(np.abs(c) <= 1, np.degrees(np.arccos(np.clip(c, -1, 1))), np.nan)


def nodal_rate_rad_s(semi_major_axis_km, eccentricity, inclination_deg):
    """J2 secular regression of the node (Vallado eq. 9-41)."""
    a = np.asarray(semi_major_axis_km, dtype=float)
    p = a * (1 - np.asarray(eccentricity, dtype=float) ** 2)
    n = np.sqrt(MU_KM3_S2 / a ** 3)
    return -1.5 * J2 * n * (EARTH_RADIUS_KM / p) ** 2 * np.cos(np.radians(inclination_deg))


# --------------------------------------------------------------------------
# reach


def _az_in_range(az, lo, hi):
    """Is ``az`` inside the clockwise sector lo -> hi (degrees)?"""
    span = (hi - lo) % 360.0
    if hi - lo >= 360.0 - 1e-12:
        return np.ones_like(np.asarray(az), dtype=bool)
    return ((np.asarray(az) - lo) % 360.0) <= span + 1e-12


def reach(lat_deg, lon_deg=0.0, azimuth_min_deg=0.0, azimuth_max_deg=360.0, *,
          altitude_km=DEFAULT_ALTITUDE_KM, site_name: str = "site") -> dict:
    """What a site reaches by direct ascent for Earth-relative launch
    azimuths in the clockwise sector ``azimuth_min_deg -> azimuth_max_deg``.

    Returns ``inclination_min_deg``, ``inclination_max_deg`` (over the
    sector, to 0.01 deg), the geocentric latitude, the sun-synchronous
    inclination at ``altitude_km`` and whether the sector reaches it (with
    the azimuths that would).
    """
    lat_c = float(geocentric_latitude_deg(lat_deg))
    full = (azimuth_max_deg - azimuth_min_deg) >= 360.0
    if full:
        rel = np.linspace(0.0, 360.0, 36001)
    else:
        span = (azimuth_max_deg - azimuth_min_deg) % 360.0
        rel = (azimuth_min_deg + np.linspace(0.0, span, max(2, int(span * 100) + 1))) % 360.0
    inc = inclination_for_azimuth_deg(lat_deg, inertial_azimuth_deg(rel, lat_deg, altitude_km))
    # the extremes sit at inertial east / west: add them exactly when inside
    extra = []
    for az_i in (90.0, 270.0):
        az_r = float(relative_azimuth_deg(az_i, lat_deg, altitude_km))
        if full or _az_in_range(az_r, azimuth_min_deg % 360.0,
                                azimuth_min_deg % 360.0 + (azimuth_max_deg - azimuth_min_deg)):
            extra.append(float(inclination_for_azimuth_deg(lat_deg, az_i)))
    imin = float(min(inc.min(), *extra)) if extra else float(inc.min())
    imax = float(max(inc.max(), *extra)) if extra else float(inc.max())
    sso = float(sso_inclination_deg(altitude_km))
    sso_ok = bool(np.isfinite(sso) and imin - 1e-9 <= sso <= imax + 1e-9)
    sso_az = None
    if np.isfinite(sso) and abs(lat_c) <= sso <= 180 - abs(lat_c):
        az = launch_azimuth(lat_deg, sso, altitude_km, site_name)
        sso_az = [az.ascending_relative_deg, az.descending_relative_deg]
    return {"site": site_name, "lat_deg": float(lat_deg), "lon_deg": float(lon_deg),
            "geocentric_lat_deg": lat_c, "azimuth_min_deg": float(azimuth_min_deg),
            "azimuth_max_deg": float(azimuth_max_deg), "altitude_km": float(altitude_km),
            "inclination_min_deg": imin, "inclination_max_deg": imax,
            "direct_ascent_limits_deg": [abs(lat_c), 180.0 - abs(lat_c)],
            "sso_inclination_deg": sso, "sso_reachable": sso_ok,
            "sso_azimuths_relative_deg": sso_az}


def ascent_tracks(lat_deg, lon_deg, azimuths_deg, minutes=10.0, *,
                  altitude_km=DEFAULT_ALTITUDE_KM, step_s=10.0, alt_m=0.0):
    """Ground tracks (geocentric-to-geodetic latitude, longitude; arrays
    ``(n_azimuth, n_time)``) of the circular orbit at ``altitude_km`` that
    leaves the site along each Earth-relative azimuth, for ``minutes``."""
    az_r = np.atleast_1d(np.asarray(azimuths_deg, dtype=float))
    az_i = np.radians(inertial_azimuth_deg(az_r, lat_deg, altitude_km))
    t = np.arange(0.0, minutes * 60.0 + 1e-9, step_s)
    r0 = geodetic_to_itrs(lat_deg, lon_deg, alt_m / 1000.0)
    u = r0 / np.sqrt((r0 ** 2).sum())
    lat_c, lon = np.radians(geocentric_latitude_deg(lat_deg)), np.radians(lon_deg)
    east = np.array([-np.sin(lon), np.cos(lon), 0.0])
    north = np.array([-np.sin(lat_c) * np.cos(lon), -np.sin(lat_c) * np.sin(lon),
                      np.cos(lat_c)])
    w = np.sin(az_i)[:, None] * east + np.cos(az_i)[:, None] * north       # (n_az, 3)
    n = np.sqrt(MU_KM3_S2 / (EARTH_RADIUS_KM + altitude_km) ** 3)
    th = n * t
    d = (np.cos(th)[None, :, None] * u[None, None, :]
         + np.sin(th)[None, :, None] * w[:, None, :])                      # (n_az, n_t, 3)
    spin = -EARTH_ROTATION_RAD_S * t
    x = np.cos(spin) * d[..., 0] - np.sin(spin) * d[..., 1]
    y = np.sin(spin) * d[..., 0] + np.cos(spin) * d[..., 1]
    z = d[..., 2]
    lat_gc = np.arctan2(z, np.hypot(x, y))
    lat_gd = np.degrees(np.arctan(np.tan(lat_gc) / (1 - WGS84_E2)))
    return lat_gd, np.degrees(np.arctan2(y, x)), t


# --------------------------------------------------------------------------
# planes and windows


@dataclass(frozen=True)
class Plane:
    """Target orbital planes (TEME): RAAN at ``epoch``, inclination, and the
    J2 nodal rate; arrays ``(n,)``."""
    raan_deg: np.ndarray
    inclination_deg: np.ndarray
    epoch_ns: np.ndarray
    raan_rate_rad_s: np.ndarray
    semi_major_axis_km: np.ndarray
    name: tuple = field(default=())

    @classmethod
    def from_elements(cls, element_sets) -> Plane:
        es = list(element_sets)
        a = np.array([e.semi_major_axis_km for e in es])
        ecc = np.array([e.eccentricity for e in es])
        inc = np.array([e.inclination_deg for e in es])
        return cls(np.array([e.raan_deg for e in es]), inc,
                   np.array([e.epoch_ns for e in es], dtype=np.int64),
                   nodal_rate_rad_s(a, ecc, inc), a,
                   tuple(f"{e.norad_id} {e.name}".strip() for e in es))

    @classmethod
    def from_angles(cls, raan_deg, inclination_deg, epoch: Time,
                    altitude_km=DEFAULT_ALTITUDE_KM, eccentricity=0.0) -> Plane:
        raan = np.atleast_1d(np.asarray(raan_deg, dtype=float))
        inc = np.broadcast_to(np.asarray(inclination_deg, dtype=float), raan.shape).copy()
        a = np.broadcast_to(EARTH_RADIUS_KM + np.asarray(altitude_km, dtype=float),
                            raan.shape).copy()
        return cls(raan, inc, np.broadcast_to(np.int64(epoch.ns), raan.shape).copy(),
                   nodal_rate_rad_s(a, eccentricity, inc), a,
                   tuple(f"RAAN {r:g} i {i:g}" for r, i in zip(raan, inc)))

    def __len__(self):
        return len(self.raan_deg)

    def normal(self, obj, t_ns):
        """Unit normals ``(3, *t_ns.shape)`` of planes ``obj`` at ``t_ns``."""
        obj = np.asarray(obj)
        dt = (np.asarray(t_ns) - self.epoch_ns[obj][..., None]) / NS_PER_S
        raan = np.radians(self.raan_deg[obj])[..., None] + self.raan_rate_rad_s[obj][..., None] * dt
        inc = np.radians(self.inclination_deg[obj])[..., None] + 0 * dt
        return np.array([np.sin(inc) * np.sin(raan), -np.sin(inc) * np.cos(raan), np.cos(inc)])


def site_teme_unit(lat_deg, lon_deg, t_ns, alt_m=0.0):
    """Unit vector of the site in TEME at ``t_ns`` (any shape): the ITRS
    position rotated by GMST (polar motion, ~10 m, neglected)."""
    r = geodetic_to_itrs(lat_deg, lon_deg, alt_m / 1000.0)
    r = r / np.sqrt((r ** 2).sum())
    theta, _ = gmst82_rad(Time(np.asarray(t_ns, dtype=np.int64)))
    c, s = np.cos(theta), np.sin(theta)
    return np.array([c * r[0] - s * r[1], s * r[0] + c * r[1], np.full_like(theta, r[2])])


def plane_g(site, plane: Plane):
    """The g-function (radians) of the site's signed angle from each target
    plane: positive on the side of the orbit normal.  Step: 30 min (the
    function is a sinusoid of one sidereal day)."""
    from .events import FunctionG

    def fn(obj, t_ns):
        u = site_teme_unit(site.lat_deg, site.lon_deg, t_ns, getattr(site, "alt_m", 0.0))
        nrm = plane.normal(obj, t_ns)
        return np.arcsin(np.clip((u * nrm).sum(axis=0), -1.0, 1.0))
    return FunctionG(fn, len(plane), step_s=1800.0)


def _enu_teme(lat_deg, lon_deg, t_ns):
    """East and north unit vectors (TEME) of the site at ``t_ns``."""
    lat_c = np.radians(geocentric_latitude_deg(lat_deg))
    theta, _ = gmst82_rad(Time(np.asarray(t_ns, dtype=np.int64)))
    lam = theta + np.radians(lon_deg)
    east = np.array([-np.sin(lam), np.cos(lam), np.zeros_like(lam)])
    north = np.array([-np.sin(lat_c) * np.cos(lam), -np.sin(lat_c) * np.sin(lam),
                      np.cos(lat_c) + 0 * lam])
    return east, north


def launch_windows(site, plane: Plane, start: Time, end: Time) -> list[dict]:
    """Times in ``[start, end]`` when the site passes through each target
    plane, with the launch azimuths (inertial and Earth-relative, for a
    circular orbit at the plane's semi-major axis) that put a direct ascent
    into it.  ``kind``: "ascending" (north-going launch) or "descending"."""
    from .events import find_crossings
    g = plane_g(site, plane)
    cr = find_crossings(g, start, end)
    out = []
    if len(cr) == 0:
        return out
    t_ns = np.asarray(cr.time.ns, dtype=np.int64)
    nrm = plane.normal(cr.obj, t_ns[:, None])[..., 0]              # (3, n)
    u = site_teme_unit(site.lat_deg, site.lon_deg, t_ns)             # (3, n)
    v = np.cross(nrm, u, axis=0)                                     # direction of motion
    east, north = _enu_teme(site.lat_deg, site.lon_deg, t_ns)
    az_i = np.degrees(np.arctan2((v * east).sum(axis=0), (v * north).sum(axis=0))) % 360.0
    alt = plane.semi_major_axis_km[cr.obj] - EARTH_RADIUS_KM
    az_r = relative_azimuth_deg(az_i, site.lat_deg, alt)
    dt = (t_ns - plane.epoch_ns[cr.obj]) / NS_PER_S
    raan = (plane.raan_deg[cr.obj] + np.degrees(plane.raan_rate_rad_s[cr.obj] * dt)) % 360.0
    for k in range(len(cr)):
        j = int(cr.obj[k])
        out.append({"target": plane.name[j] if plane.name else str(j), "target_index": j,
                    "time": Time(t_ns[k]).iso(3), "time_ns": int(t_ns[k]),
                    "kind": "ascending" if (v[:, k] * north[:, k]).sum() > 0 else "descending",
                    "azimuth_inertial_deg": float(az_i[k]),
                    "azimuth_relative_deg": float(az_r[k]),
                    "raan_deg": float(raan[k]),
                    "inclination_deg": float(plane.inclination_deg[j])})
    out.sort(key=lambda w: (w["time_ns"], w["target_index"]))
    return out


# --------------------------------------------------------------------------
# identification

_DESIG = re.compile(r"^\s*(\d{4})-(\d{3})([A-Z]*)\s*$")


@dataclass(frozen=True)
class Candidate:
    norad_id: int
    name: str
    intl_designator: str
    score: float
    plane_angle_deg: float          # site from the object's plane at launch time
    plane_time_offset_s: float      # nearest passage of the site through the plane
    phase_deg: float                # object ahead (+) of the site along the orbit
    epoch_age_days: float           # first element set epoch minus launch time
    inclination_deg: float
    reasons: tuple

    def as_dict(self) -> dict:
        return {"norad_id": self.norad_id, "name": self.name,
                "intl_designator": self.intl_designator, "score": self.score,
                "plane_angle_deg": self.plane_angle_deg,
                "plane_time_offset_s": self.plane_time_offset_s, "phase_deg": self.phase_deg,
                "epoch_age_days": self.epoch_age_days, "inclination_deg": self.inclination_deg,
                "reasons": list(self.reasons)}


PLANE_SIGMA_S = 600.0        # ascent steering, yaw and multi-burn upper stages: ~2 deg of plane
PHASE_MEAN_DEG = -20.0       # propagated back to lift-off an object lags its insertion
PHASE_SIGMA_DEG = 60.0
MAX_AGE_DAYS = 7.0


def identify(catalog, site, launch_time: Time, *, time_uncertainty_s: float = 60.0,
             max_age_days: float = MAX_AGE_DAYS, top: int | None = 20) -> list[Candidate]:
    """Rank the catalog's objects by how well their element sets fit a launch
    from ``site`` at ``launch_time`` (see the module notes).  Each element
    set is propagated back to the launch time with SGP4 (in one batch)."""
    sets = list(catalog)
    if not sets:
        return []
    t0 = int(np.asarray(launch_time.ns).reshape(-1)[0])
    unc = max(float(time_uncertainty_s), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = catalog.propagate(Time(np.array([t0])))
    r = st.r_teme_km[:, :, 0]
    v = st.v_teme_km_s[:, :, 0]
    bad = (st.error[:, 0] != 0) | ~np.all(np.isfinite(r), axis=0)
    h = np.cross(r, v, axis=0)
    hn = h / np.where(np.linalg.norm(h, axis=0) == 0, 1, np.linalg.norm(h, axis=0))
    u = site_teme_unit(site.lat_deg, site.lon_deg, np.array(t0))
    sin_d = np.clip((hn * u[:, None]).sum(axis=0), -1, 1)
    plane_angle = np.degrees(np.arcsin(sin_d))
    # nearest passage of the site through the plane (plane fixed over hours
    # but for the J2 drift): sin(alpha - Omega) = tan(lat_c) / tan(i)
    inc = np.degrees(np.arccos(np.clip(hn[2], -1, 1)))
    raan = np.arctan2(hn[0], -hn[1])
    lat_c = np.radians(geocentric_latitude_deg(site.lat_deg))
    alpha0 = np.arctan2(u[1], u[0])
    x = np.tan(lat_c) / np.tan(np.radians(np.where(np.abs(inc - 90) < 1e-9, 90 + 1e-9, inc)))
    reachable = np.abs(x) <= 1
    xs = np.arcsin(np.clip(x, -1, 1))
    a_km = np.array([es.semi_major_axis_km for es in sets])
    ecc = np.array([es.eccentricity for es in sets])
    rate = EARTH_ROTATION_RAD_S - nodal_rate_rad_s(a_km, ecc, inc)
    offs = []
    for root in (xs, np.pi - xs):
        d = (raan + root - alpha0 + np.pi) % (2 * np.pi) - np.pi
        offs.append(d / rate)
    offs = np.stack(offs)
    k = np.argmin(np.abs(offs), axis=0)
    dt_plane = np.where(reachable, offs[k, np.arange(len(sets))], np.inf)
    # phase: the object's position relative to the site's projection on the plane
    up = u[:, None] - sin_d * hn
    up = up / np.linalg.norm(up, axis=0)
    rn = r / np.linalg.norm(r, axis=0)
    phase = np.degrees(np.arctan2((np.cross(up, rn, axis=0) * hn).sum(axis=0),
                                  (up * rn).sum(axis=0)))
    age = (np.array([es.epoch_ns for es in sets]) - t0) / (86400.0 * NS_PER_S)
    year = int(Time(t0).iso(0)[:4])
    desig = [es.intl_designator or "" for es in sets]
    parsed = [_DESIG.match(d) for d in desig]
    numbers_this_year = [int(m.group(2)) for m in parsed if m and int(m.group(1)) == year]
    top_num = max(numbers_this_year) if numbers_this_year else None

    sigma_t = np.hypot(PLANE_SIGMA_S, unc)
    s_plane = np.where(np.isfinite(dt_plane), np.exp(-0.5 * (dt_plane / sigma_t) ** 2), 0.0)
    rel_rate_deg_s = np.degrees(np.sqrt(MU_KM3_S2 / a_km ** 3))
    sigma_phase = np.hypot(PHASE_SIGMA_DEG, rel_rate_deg_s * unc)
    s_phase = np.exp(-0.5 * (((phase - PHASE_MEAN_DEG + 180) % 360 - 180) / sigma_phase) ** 2)
    s_epoch = np.where(age < -unc / 86400.0, 0.0,
                       np.where(age <= max_age_days, 1.0,
                                np.exp(-(age - max_age_days) / max_age_days)))
    s_desig = np.empty(len(sets))
    for j, m in enumerate(parsed):
        if not m:
            s_desig[j] = 0.5
        elif int(m.group(1)) != year:
            s_desig[j] = 0.02
        else:
            s_desig[j] = np.exp(-(top_num - int(m.group(2))) / 8.0) if top_num else 1.0
    score = np.where(bad, 0.0, s_plane * s_phase * s_epoch * s_desig)
    order = np.argsort(-score, kind="stable")
    if top is not None:
        order = order[:top]
    out = []
    for j in order:
        es = sets[j]
        why = []
        if bad[j]:
            why.append(f"SGP4 failed at the launch time (code {int(st.error[j, 0])})")
        if np.isfinite(dt_plane[j]):
            why.append(f"site {abs(plane_angle[j]):.3f} deg from the orbital plane at the "
                       f"launch time; the site crosses the plane {dt_plane[j]:+.0f} s from it")
        else:
            lo = abs(float(np.degrees(lat_c)))
            why.append(f"inclination {inc[j]:.2f} deg: the site never lies in the plane "
                       f"(direct ascent reaches {lo:.2f}..{180.0 - lo:.2f} deg): "
                       "not a direct ascent (dogleg or plane change)")
        over = -phase[j] / rel_rate_deg_s[j]
        why.append(f"object {phase[j]:+.1f} deg along the orbit from the site at the launch "
                   f"time: its ground track passes over the site {abs(over):.0f} s "
                   f"{'after' if over >= 0 else 'before'} it")
        if age[j] < -unc / 86400.0:
            why.append(f"element set epoch {-age[j]:.2f} days BEFORE the launch")
        else:
            why.append(f"element set epoch {age[j]:.2f} days after the launch")
        m = parsed[j]
        if not m:
            why.append("no international designator")
        elif int(m.group(1)) != year:
            why.append(f"designator {desig[j]} is from {m.group(1)}, not {year}")
        else:
            why.append(f"designator {desig[j]}: launch {int(m.group(2))} of {year} "
                       f"(latest in the catalog: {top_num})")
        out.append(Candidate(int(es.norad_id), es.name or "", desig[j], float(score[j]),
                             float(plane_angle[j]), float(dt_plane[j]), float(phase[j]),
                             float(age[j]), float(inc[j]), tuple(why)))
    return out
