"""Review round 23 (2026-11-28): fresh-eyes review of commits 4a07ec1
(review round 22's fixes: knots that fall back to the full grid, the
failure sub-steps' out-out steps, golden-section culminations) and 9cffd21
(numba error_model="numpy" on the compiled kernels), against outside
references.

References: python-sgp4 (Vallado's SGP4 on the element set's own TLE lines:
its error codes make a sample "failed") and Skyfield (EarthSatellite +
wgs84.latlon altaz) for the elevations.
Element sets: ../shared/data/catalogs/full-3le-2023-10-13.txt.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from satwatch.frames import GroundPoint
from satwatch.passes import find_passes
from satwatch.time import NS_PER_DAY, NS_PER_S, Time, utc

# Skyfield is sampled every 0.1 s over the pass: the peak's time to that and
# its elevation to well under CULM_TOL_DEG (the object moves ~0.5 deg/s near
# an 87 deg peak).
CULM_REF_STEP_S = 0.1
# Culmination within this of Skyfield's 0.1-s peak (the engine's event
# accuracy, as review round 22's CULM_TOL_S / CULM_TOL_DEG).
CULM_TOL_S = 1.0
CULM_TOL_DEG = 0.5


def _skyfield_peak(es, site, skyfield_ts, lo_ns, hi_ns):
    """(time ns, elevation deg) of the highest Skyfield sample in [lo, hi]
    where python-sgp4 reports no error."""
    from sgp4.api import Satrec
    from skyfield.api import EarthSatellite, wgs84
    l1, l2 = es.source_text.splitlines()[-2:]
    tt = np.arange(int(lo_ns), int(hi_ns) + 1, int(CULM_REF_STEP_S * NS_PER_S))
    days, rem = np.divmod(tt, NS_PER_DAY)
    err, _, _ = Satrec.twoline2rv(l1, l2).sgp4_array((days + 2440587.5).astype(float),
                                                     rem / NS_PER_DAY)
    topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
    alt = (EarthSatellite(l1, l2, es.name, skyfield_ts) - topos).at(
        skyfield_ts.from_datetimes(Time(tt).to_datetime())).altaz()[0].degrees
    alt = np.where(err == 0, alt, np.nan)
    k = int(np.nanargmax(alt))
    return int(tt[k]), float(alt[k])


@pytest.mark.xfail(strict=True, reason="review round 23: a pass partial at the window start "
                   "whose set is found at an SGP4 failure (events._failure_substeps) and "
                   "whose peak sample is skipped next to the failure gets its culmination "
                   "at a window edge: 4a07ec1's golden section covers complete passes only")
def test_culmination_of_a_partial_pass_ending_at_a_failure(full_catalog, skyfield_ts):
    """STARLINK-1033 (44738; python-sgp4 code 1 from 2023-10-08T16:57:08.9Z)
    over (52.9 S, 138.1 E), 10 deg mask: review round 22's case, with the
    window starting inside the pass (16:56:00Z + 1200 s).  Skyfield: the
    peak is 87.0 deg at 16:56:39.7Z, inside the window.  The window from
    16:46:40Z gets it (87.0 deg at 16:56:39.7Z); measured from 16:56:00Z:
    a partial pass 16:56:00.0Z-16:57:08.9Z with culmination 16:57:08.9Z (the
    set, at the failure) at 22.6 deg."""
    warnings.simplefilter("ignore")
    cat = full_catalog.filter(norad_ids=[44738])
    es = list(cat)[0]
    site = GroundPoint(-52.9, 138.1, 0.0)
    t_start = utc("2023-10-08T16:56:00Z")
    p = find_passes(cat, [site], t_start, t_start + 1200.0, 10.0)
    assert len(p) == 1 and p.rise_partial[0] and not p.set_partial[0]
    t_ref, el_ref = _skyfield_peak(es, site, skyfield_ts, p.rise_ns[0], p.set_ns[0])
    assert abs(p.max_elevation_deg[0] - el_ref) <= CULM_TOL_DEG, (p.max_elevation_deg[0], el_ref)
    assert abs(int(p.culmination_ns[0]) - t_ref) <= CULM_TOL_S * NS_PER_S, \
        (Time(int(p.culmination_ns[0])).iso(1), Time(t_ref).iso(1))
