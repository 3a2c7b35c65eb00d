"""Review findings for satwatch/cdm.py and satwatch/sun.py (outside references:
the CCSDS 508.0-B-1 CDM Blue Book's keyword definitions and closed-form geometry).
"""
from __future__ import annotations

import numpy as np
import pytest
from test_cdm import TLES   # ISS and STARLINK-1007 of the 2023-10-13 catalog

from satwatch.cdm import read_kvn, write_cdm
from satwatch.conjunctions import Conjunctions, to_rtn
from satwatch.elements import parse_elements
from satwatch.propagation import satrec
from satwatch.sun import is_sunlit, sun_position_teme_km
from satwatch.time import utc

# Straight-line relative motion over the few seconds inside a 5 km sphere at
# ~10 km/s: curvature moves the entry time by far less than this.
ENTRY_TIME_TOLERANCE_S = 1.0



def _event(threshold_km: float):
    """A synthetic event: STARLINK-1007's real SGP4 state, and a second object
    placed 1 km radially from it with a 10 km/s cross-track relative velocity,
    so the geometry of entry into the screening sphere is a closed form."""
    sets, rejections = parse_elements(TLES, source="test")
    assert not rejections
    t = utc("2023-10-13T12:00:00Z")
    jd, fr = t.jd_utc()
    e, r1, v1 = satrec(sets[1]).sgp4(float(jd), float(fr))
    assert e == 0
    r1, v1 = np.array(r1), np.array(v1)
    rhat = r1 / np.linalg.norm(r1)
    nhat = np.cross(r1, v1)
    nhat /= np.linalg.norm(nhat)
    r2 = r1 + 1.0 * rhat
    v2 = v1 + 10.0 * nhat
    col = lambda a: a[:, None]  # noqa: E731
    conj = Conjunctions(
        norad_id_1=np.array([44713]), norad_id_2=np.array([25544]), index_1=np.array([0]),
        index_2=np.array([1]), tca=t + np.array([0.0]),
        miss_km=np.array([np.linalg.norm(r2 - r1)]),
        relative_speed_km_s=np.array([np.linalg.norm(v2 - v1)]),
        miss_rtn_km=col(to_rtn(r1[None], v1[None], (r2 - r1)[None])[0]),
        r1_teme_km=col(r1), v1_teme_km_s=col(v1), r2_teme_km=col(r2), v2_teme_km_s=col(v2),
        age_1_days=np.array([0.5]), age_2_days=np.array([0.3]),
        threshold_km=threshold_km, start=utc("2023-10-13T00:00:00Z"),
        end=utc("2023-10-14T00:00:00Z"), stats={}, failed={})
    return conj, t


def test_cdm_screen_entry_and_exit_are_object2s_crossings_of_the_volume():
    """CCSDS 508.0-B-1 table 3-2: SCREEN_ENTRY_TIME / SCREEN_EXIT_TIME are "the
    time in UTC when Object2 enters / exits the screening volume", not the
    screening period's bounds (those are START/STOP_SCREEN_PERIOD).  Closed
    form for straight-line relative motion through the sphere of radius
    THRESH declared in the file (SCREEN_VOLUME_X = Y = Z): entry = TCA -
    sqrt(THRESH^2 - miss^2) / v_rel, exit = TCA + the same."""
    threshold_km = 5.0
    conj, tca = _event(threshold_km)
    kv = read_kvn(write_cdm(conj, 0, creation=utc("2023-10-13T06:00:00Z")))
    half_s = np.sqrt(threshold_km ** 2 - 1.0 ** 2) / 10.0
    entry = utc(kv["SCREEN_ENTRY_TIME"][0] + "Z").seconds_since(tca)
    exit_ = utc(kv["SCREEN_EXIT_TIME"][0] + "Z").seconds_since(tca)
    assert entry == pytest.approx(-half_s, abs=ENTRY_TIME_TOLERANCE_S)
    assert exit_ == pytest.approx(half_s, abs=ENTRY_TIME_TOLERANCE_S)


def test_is_sunlit_takes_the_house_array_shape():
    """is_sunlit's docstring: satellites ``(3, ...)`` with time last, i.e. the
    house layout (3, n_sat, n_time) with times of shape (n_time,).  Closed form:
    a satellite 7000 km from the Earth's centre toward the Sun is lit; one
    7000 km from the centre directly away from the Sun is in the shadow
    cylinder (6378 km radius)."""
    times = utc("2023-10-13T00:00:00Z") + np.array([0.0, 3600.0, 7200.0])
    sun = sun_position_teme_km(times)                        # (3, n_time)
    u = sun / np.linalg.norm(sun, axis=0)
    r = np.stack([7000.0 * u, -7000.0 * u], axis=1)          # (3, 2, 3)
    lit = is_sunlit(r, times)
    assert lit.shape == (2, 3)
    assert lit[0].all() and not lit[1].any()
