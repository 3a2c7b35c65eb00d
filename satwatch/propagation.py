"""Whole-catalog SGP4: satellites x times in one call on sgp4's C++ SatrecArray.

States are arrays shaped ``(3, n_sat, n_time)`` (xyz first), a view on
sgp4's ``(n_sat, n_time, 3)`` output so that no copy is made.  SGP4 failures
(decayed orbit, eccentricity out of range, ...) are data: NaN in the
positions and sgp4's error code in ``error`` (0 = good), never an exception.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray

from .elements import ElementSet
from .errors import StaleElementsWarning
from .time import NS_PER_DAY, Time

if TYPE_CHECKING:                     # frames imports this module: annotations only
    from .frames import Geodetic, Topocentric

# sgp4's error codes (Vallado's sgp4unit), as data users can read.
SGP4_ERRORS = {
    0: "ok",
    1: "mean elements: eccentricity >= 1 or < -0.001, or semi-major axis < 0.95 er",
    2: "mean motion below zero",
    3: "perturbed elements: eccentricity < 0 or > 1",
    4: "semi-latus rectum below zero",
    5: "epoch elements are sub-orbital (unused)",
    6: "satellite has decayed",
}
# States SGP4 returns *without* an error code that no Earth orbiter can have
# (decayed element sets propagated far past their epoch): code 7.
UNPHYSICAL_STATE = 7


def error_text(code: int) -> str | None:
    """An error code of States.error (sgp4's, or UNPHYSICAL_STATE) in words;
    None for a good state."""
    if code == 0:
        return None
    if code == UNPHYSICAL_STATE:
        return "no Earth orbiter can have this state (a decayed element set far from its epoch)"
    return SGP4_ERRORS.get(code, f"sgp4 error {code}")
MU_KM3_S2 = 398600.8              # WGS-72, as SGP4
# Lowest perigee radius allowed when bounding the speed from below (km): well
# under the Earth's surface, so every real orbit passes.
MIN_PERIGEE_RADIUS_KM = 6000.0
# No state may lie below this radius (km): WGS-72's equatorial radius, SGP4's.
EARTH_RADIUS_WGS72_KM = 6378.135
# Beyond this age, TLE accuracy has fallen to many km (a TLE is good to about
# a kilometre at epoch and drifts by kilometres a day in LEO).
STALE_AFTER_DAYS = 30.0
_JD_1949 = 2433281.5


def satrec(es: ElementSet) -> Satrec:
    """An sgp4 Satrec from an element set (WGS-72 constants, 'i' mode, as
    ``Satrec.twoline2rv`` and CelesTrak's OMM initialisation do)."""
    sat = Satrec()
    days, rem = divmod(es.epoch_ns, NS_PER_DAY)
    deg = np.pi / 180.0
    xpdotp = 1440.0 / (2.0 * np.pi)          # rev/day per rad/min
    sat.sgp4init(WGS72, "i", es.norad_id if es.norad_id <= 339_999 else 0,
                 # the same float Satrec.twoline2rv passes: (jd + fraction) - 1949
                 (days + 2440587.5 + rem / NS_PER_DAY) - _JD_1949,
                 es.bstar_per_earth_radius,
                 es.ndot_rev_day2 / (xpdotp * 1440.0),
                 es.nddot_rev_day3 / (xpdotp * 1440.0 * 1440.0),
                 es.eccentricity, es.arg_perigee_deg * deg, es.inclination_deg * deg,
                 es.mean_anomaly_deg * deg, es.mean_motion_rev_day / xpdotp,
                 es.raan_deg * deg)
    # sgp4init keeps the epoch as one float of days since 1949 (0.3 us
    # resolution, ~2 mm in LEO); put back the exact split Julian date, as
    # Satrec.twoline2rv has it, so that tsince is exact.
    sat.jdsatepoch = days + 2440587.5
    sat.jdsatepochF = rem / NS_PER_DAY
    return sat


def satrec_array(element_sets) -> SatrecArray:
    return SatrecArray([satrec(es) for es in element_sets])


@dataclass(frozen=True)
class States:
    """Positions and velocities of n_sat satellites at n_time times (TEME).

    ``r_teme_km`` and ``v_teme_km_s`` are ``(3, n_sat, n_time)``; ``error``
    is ``(n_sat, n_time)`` with sgp4's codes (0 = good; see SGP4_ERRORS).
    """

    times: Time
    norad_ids: np.ndarray
    r_teme_km: np.ndarray
    v_teme_km_s: np.ndarray
    error: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        return self.error == 0

    def itrs(self):
        """``(r_itrs_km, v_itrs_km_s)`` Earth-fixed, each ``(3, n_sat, n_time)``."""
        from .frames import teme_to_itrs
        return teme_to_itrs(self.r_teme_km, self.v_teme_km_s, self.times)

    def geodetic(self) -> "Geodetic":
        """WGS-84 latitude, longitude and altitude, each ``(n_sat, n_time)``."""
        from .frames import itrs_to_geodetic, teme_to_itrs
        r_itrs_km, _ = teme_to_itrs(self.r_teme_km, None, self.times)
        return itrs_to_geodetic(r_itrs_km)

    def topocentric(self, observer) -> "Topocentric":
        """Azimuth, elevation, range and range-rate seen from ``observer``
        (a :class:`satwatch.frames.GroundPoint`), each ``(n_sat, n_time)``."""
        from .frames import topocentric
        r_itrs_km, v_itrs_km_s = self.itrs()
        return topocentric(r_itrs_km, v_itrs_km_s, observer)


def warn_if_stale(epochs_ns, lo_ns, hi_ns, stacklevel=3) -> None:
    """Warn (:class:`StaleElementsWarning`) when any time in ``[lo_ns,
    hi_ns]`` (ns, or arrays of them: their earliest and latest) lies more
    than STALE_AFTER_DAYS from an element set's epoch (``epochs_ns``): every
    function that propagates a catalog over a span says so, whichever
    propagator it uses."""
    epochs_ns = np.asarray(epochs_ns, dtype=np.int64)
    if not len(epochs_ns):
        return
    lo, hi = int(np.min(lo_ns)), int(np.max(hi_ns))
    worst_days = max(float((hi - epochs_ns.min()) / NS_PER_DAY),
                     float((epochs_ns.max() - lo) / NS_PER_DAY))
    if worst_days > STALE_AFTER_DAYS:
        age = np.maximum(hi - epochs_ns, epochs_ns - lo) / NS_PER_DAY
        warnings.warn(StaleElementsWarning(
            f"{int((age > STALE_AFTER_DAYS).sum())} element set(s) are used more than "
            f"{STALE_AFTER_DAYS:g} days from their epoch (worst {age.max():.0f} days): "
            "positions may be off by tens to thousands of km; load element sets "
            "nearer the times asked for"), stacklevel=stacklevel)


def propagate(sats: SatrecArray, times: Time, norad_ids=None, epochs_ns=None) -> States:
    """SGP4 for every satellite of ``sats`` at every time of ``times``.

    ``epochs_ns``, when given, lets this warn (:class:`StaleElementsWarning`)
    when a time lies more than STALE_AFTER_DAYS from an element set's epoch.
    """
    times = Time(np.atleast_1d(times.ns))
    jd, fr = times.jd_utc()
    e, r, v = sats.sgp4(np.ascontiguousarray(jd), np.ascontiguousarray(fr))
    if e.any():
        # sgp4 still writes a position with some codes (6, decayed): make
        # every failure NaN so that no caller can use one by mistake.
        bad = e != 0
        r[bad] = np.nan
        v[bad] = np.nan
    if epochs_ns is not None and len(times):
        warn_if_stale(epochs_ns, times.ns, times.ns, stacklevel=4)
    return States(times=times,
                  norad_ids=np.asarray(norad_ids if norad_ids is not None else [], dtype=np.int64),
                  r_teme_km=np.moveaxis(r, -1, 0), v_teme_km_s=np.moveaxis(v, -1, 0), error=e)


def physical_state(r_km, v_km_s, max_radius_km=None) -> np.ndarray:
    """False where an SGP4 state ``(..., 3)`` cannot be an Earth orbiter's:
    below the Earth's mean radius, at or above the escape speed, or slower
    than any bound orbit through that radius with perigee above 6,000 km
    (``v^2 >= 2 mu R / (r (r + R))``, the apogee speed of such an orbit).
    sgp4 returns such states without an error code for element sets
    propagated long after decay: speeds of 3e7 km/s and of a few m/s were
    seen in the 2023-10-13 catalog.  ``max_radius_km`` (broadcast against
    the states' leading shape) also rejects states farther out than the
    element set allows (see :func:`max_radius_km`): decayed sets were seen
    4.5 million km out at a few hundred m/s.  Use :data:`UNPHYSICAL_STATE`
    as their error code."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        rr = np.einsum("...k,...k->...", r_km, r_km)
        vv = np.einsum("...k,...k->...", v_km_s, v_km_s)
        rn = np.sqrt(rr)
        low = 2 * MU_KM3_S2 * MIN_PERIGEE_RADIUS_KM / (rn * (rn + MIN_PERIGEE_RADIUS_KM))
        ok = (np.isfinite(rr) & (rr > EARTH_RADIUS_WGS72_KM ** 2) & (vv * rn < 2 * MU_KM3_S2)
              & (vv >= low))
        if max_radius_km is not None:
            ok &= rn <= max_radius_km
        return ok


def max_radius_km(satrecs, backward=False) -> np.ndarray:
    """Farthest an SGP4 state of each satellite may be.  Forward in time,
    near-Earth orbits (SGP4's 'n' branch): the mean apogee radius plus 5 %
    plus 200 km (the short-period terms move a state by tens of km, drag
    lowers the orbit, a negative B* raises it slowly).  Backward in time
    (drag undone: a re-entering object was higher before its epoch) and for
    deep-space orbits (lunar-solar terms change the eccentricity): 1.5 times
    the mean apogee radius plus 1,000 km.  A decayed set propagated 54 days
    forward was seen climbing from 8,300 to 10,800 km with a 6,814 km mean
    apogee."""
    wide = np.array([1.5 * s.a * (1 + s.ecco) * s.radiusearthkm + 1000.0 for s in satrecs])
    if backward:
        return wide
    tight = np.array([1.05 * s.a * (1 + s.ecco) * s.radiusearthkm + 200.0 for s in satrecs])
    return np.where([s.method == "n" for s in satrecs], tight, wide)
