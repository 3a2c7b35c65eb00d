"""CCSDS Conjunction Data Messages (CDM, CCSDS 508.0-B-1, KVN), one per event.

Pure: text in memory; the CLI writes the files.  Keywords, order and units
follow the Blue Book's tables 3-1 (header), 3-2 (relative metadata/data),
3-3 (object metadata) and 3-4 (object data).  What a TLE lacks is said in
COMMENT lines: the covariance is *assumed* (see
:mod:`satwatch.collision_probability`), states come from SGP4, and positions
are given in ITRF (CDM 1.0 allows EME2000, GCRF or ITRF, not TEME).
"""
from __future__ import annotations

import numpy as np

from .collision_probability import PcAssumptions, PcResult
from .conjunctions import Conjunctions, to_rtn
from .frames import teme_to_itrs
from .time import Time

CDM_VERSION = "1.0"
# Assumed 1-sigma velocity uncertainty per km of position uncertainty (1/s):
# roughly the mean motion of a LEO orbit (an in-track error of 1 km is a
# timing error, which maps to ~1 m/s of velocity).
VELOCITY_SIGMA_PER_KM = 1e-3


def _ccsds_time(t: Time) -> str:
    return t.iso(3).rstrip("Z")


def _line(key: str, value, unit: str | None = None) -> str:
    text = f"{key:<36} = {value}"
    return text + (f" [{unit}]" if unit else "")


def _num(x: float, digits: int = 6) -> str:
    return f"{x:.{digits}f}"


def _sci(x: float) -> str:
    return f"{x:.6E}"


def write_cdm(conj: Conjunctions, k: int, *, creation: Time, originator: str = "SATWATCH",
              objects: dict | None = None, pc: PcResult | None = None,
              assumptions: PcAssumptions | None = None, message_id: str | None = None,
              catalog_source: str | None = None) -> str:
    """The KVN text of event ``k`` of ``conj``.

    ``objects``: NORAD id -> ``{"name": ..., "intl_designator": ...}``.
    ``creation``: the message's creation time (passed in: the core reads no clock).
    """
    objects = objects or {}
    assumptions = assumptions or PcAssumptions()
    n1, n2 = int(conj.norad_id_1[k]), int(conj.norad_id_2[k])
    tca = Time(conj.tca.ns[k])
    r1, v1 = conj.r1_teme_km[:, k], conj.v1_teme_km_s[:, k]
    r2, v2 = conj.r2_teme_km[:, k], conj.v2_teme_km_s[:, k]
    rel_r = to_rtn(r1[None], v1[None], (r2 - r1)[None])[0] * 1000.0
    rel_v = to_rtn(r1[None], v1[None], (v2 - v1)[None])[0] * 1000.0
    # Object2 crosses the screening sphere (radius = the threshold) at TCA -+
    # sqrt(R^2 - miss^2) / relative speed: straight-line relative motion,
    # good over the seconds such a crossing takes in LEO.
    miss_km = float(conj.miss_km[k])
    speed = float(conj.relative_speed_km_s[k])
    half_s = float(np.sqrt(max(conj.threshold_km ** 2 - miss_km ** 2, 0.0)) / speed) \
        if speed > 0 else 0.0
    mid = message_id or f"SATWATCH-{n1}-{n2}-{tca.iso(3)}"
    out = [
        _line("CCSDS_CDM_VERS", CDM_VERSION),
        _line("CREATION_DATE", _ccsds_time(creation)),
        _line("ORIGINATOR", originator),
        _line("MESSAGE_ID", mid),
        "COMMENT Screening by satwatch on SGP4 propagation of two-line element sets"
        + (f" from {catalog_source}" if catalog_source else ""),
        "COMMENT TLEs carry no covariance: the covariance below is ASSUMED "
        f"(1-sigma RTN at epoch {assumptions.sigma_radial_km:g}/"
        f"{assumptions.sigma_in_track_km:g}/{assumptions.sigma_cross_track_km:g} km, "
        f"growing {assumptions.growth_radial_km_day:g}/{assumptions.growth_in_track_km_day:g}/"
        f"{assumptions.growth_cross_track_km_day:g} km per day of element-set age)",
        f"COMMENT Assumed combined hard-body radius {assumptions.hard_body_radius_km * 1000:g} m",
        _line("TCA", _ccsds_time(tca)),
        _line("MISS_DISTANCE", _num(float(conj.miss_km[k]) * 1000, 3), "m"),
        _line("RELATIVE_SPEED", _num(float(conj.relative_speed_km_s[k]) * 1000, 3), "m/s"),
        _line("RELATIVE_POSITION_R", _num(rel_r[0], 3), "m"),
        _line("RELATIVE_POSITION_T", _num(rel_r[1], 3), "m"),
        _line("RELATIVE_POSITION_N", _num(rel_r[2], 3), "m"),
        _line("RELATIVE_VELOCITY_R", _num(rel_v[0], 3), "m/s"),
        _line("RELATIVE_VELOCITY_T", _num(rel_v[1], 3), "m/s"),
        _line("RELATIVE_VELOCITY_N", _num(rel_v[2], 3), "m/s"),
        _line("START_SCREEN_PERIOD", _ccsds_time(conj.start)),
        _line("STOP_SCREEN_PERIOD", _ccsds_time(conj.end)),
        _line("SCREEN_VOLUME_FRAME", "RTN"),
        _line("SCREEN_VOLUME_SHAPE", "ELLIPSOID"),
        _line("SCREEN_VOLUME_X", _num(conj.threshold_km * 1000, 1), "m"),
        _line("SCREEN_VOLUME_Y", _num(conj.threshold_km * 1000, 1), "m"),
        _line("SCREEN_VOLUME_Z", _num(conj.threshold_km * 1000, 1), "m"),
        _line("SCREEN_ENTRY_TIME", _ccsds_time(tca + (-half_s))),
        _line("SCREEN_EXIT_TIME", _ccsds_time(tca + half_s)),
    ]
    if pc is not None:
        out += [_line("COLLISION_PROBABILITY", _sci(float(pc.pc[k]))),
                _line("COLLISION_PROBABILITY_METHOD", pc.method)]
    r_itrs, v_itrs = teme_to_itrs(np.stack([r1, r2], axis=1), np.stack([v1, v2], axis=1),
                                  Time(np.array([tca.ns, tca.ns])))
    ages = (float(conj.age_1_days[k]), float(conj.age_2_days[k]))
    for which, nid, age in ((0, n1, ages[0]), (1, n2, ages[1])):
        info = objects.get(nid, {})
        sig = assumptions.sigmas_rtn_km([age])[0] * 1000.0       # m
        sig_v = sig * VELOCITY_SIGMA_PER_KM                      # m/s
        cov = np.diag(np.r_[sig ** 2, sig_v ** 2])
        out += [
            _line("OBJECT", f"OBJECT{which + 1}"),
            _line("OBJECT_DESIGNATOR", f"{nid:05d}"),
            _line("CATALOG_NAME", "SATCAT"),
            _line("OBJECT_NAME", info.get("name") or "UNKNOWN"),
            _line("INTERNATIONAL_DESIGNATOR", info.get("intl_designator") or "UNKNOWN"),
            _line("EPHEMERIS_NAME", "NONE"),
            _line("COVARIANCE_METHOD", "DEFAULT"),
            _line("MANEUVERABLE", "N/A"),
            _line("REF_FRAME", "ITRF"),
            f"COMMENT SGP4 state from the element set of epoch age {age:+.3f} days at TCA",
            _line("X", _num(r_itrs[0, which]), "km"),
            _line("Y", _num(r_itrs[1, which]), "km"),
            _line("Z", _num(r_itrs[2, which]), "km"),
            _line("X_DOT", _num(v_itrs[0, which], 9), "km/s"),
            _line("Y_DOT", _num(v_itrs[1, which], 9), "km/s"),
            _line("Z_DOT", _num(v_itrs[2, which], 9), "km/s"),
            "COMMENT Covariance ASSUMED (diagonal RTN), not derived from observations",
        ]
        names = ["R", "T", "N", "RDOT", "TDOT", "NDOT"]
        for a in range(6):
            for b in range(a + 1):
                unit = "m**2" if a < 3 else ("m**2/s" if b < 3 else "m**2/s**2")
                out.append(_line(f"C{names[a]}_{names[b]}", _sci(cov[a, b]), unit))
    return "\n".join(out) + "\n"


def read_kvn(text: str) -> dict:
    """Minimal KVN reader (keyword -> list of values, units stripped), for
    checking messages; object sections keep their order in the lists."""
    out: dict = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("COMMENT"):
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if value.endswith("]"):
            value = value[:value.rindex("[")].strip()
        out.setdefault(key.strip(), []).append(value)
    return out


def cdm_filename(conj: Conjunctions, k: int) -> str:
    tca = conj.tca.iso(3)
    tca = tca[k] if isinstance(tca, list) else tca
    stamp = tca.replace("-", "").replace(":", "").replace(".", "")
    return f"cdm_{int(conj.norad_id_1[k])}_{int(conj.norad_id_2[k])}_{stamp}.kvn"
