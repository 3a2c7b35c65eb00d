"""Review tests for satwatch.maneuvers.decay_status (re-entry classification).

References: closed forms (Kepler's third law with WGS-72 mu for a(n);
linear extrapolation of the semi-major-axis decay that decay_status itself
reports), and the real catalog ../shared/data/catalogs/full-3le-2023-10-13.txt
(objects with perigee < 180 km but apogee > 5000 km that have been in orbit
for decades, so a 2-day gap in their sets cannot mean a re-entry).
"""
import numpy as np

from satwatch.maneuvers import MU_KM3_S2, EARTH_RADIUS_KM, NS_PER_DAY, decay_status

DAY_S = 86400.0


def _n_rev_day(a_km):
    """Closed form inverse of Kepler's third law: n = sqrt(mu / a^3)."""
    return np.sqrt(MU_KM3_S2 / np.asarray(a_km, float) ** 3) * DAY_S / (2 * np.pi)


def test_eccentric_low_perigee_object_with_steady_orbit_is_not_reentered(full_catalog_path):
    # COSMOS 1783 (NORAD 16993, 1986-075A) in the 2023-10-13 full catalog:
    # perigee ~170 km, apogee ~6170 km, launched 1986 and still catalogued.
    # Three sets one day apart with an unchanged orbit (decay rate 0, so
    # days_to_reentry is inf) and a 2-day gap -- well inside the 14-day HEO
    # staleness limit -- must not be called re-entered.
    import satwatch
    es = satwatch.load_catalog(full_catalog_path).find("16993")
    es = es[0] if isinstance(es, (list, tuple)) else es
    assert es.perigee_alt_km < 180 and es.apogee_alt_km > 5000
    ep = es.epoch_ns + np.array([-2, -1, 0], np.int64) * NS_PER_DAY
    st = decay_status(ep, [es.mean_motion_rev_day] * 3, [es.eccentricity] * 3,
                      norad_id=16993, at_ns=int(ep[-1] + 2 * NS_PER_DAY))
    assert st.days_to_reentry == np.inf
    assert st.status != "reentered?", st


def test_predicted_reentry_before_at_with_no_sets_since_is_reentered():
    # Circular LEO decaying linearly at 2 km/day, last perigee 200 km:
    # extrapolated perigee reaches 120 km 40 days after the last set.
    # Judged 50 days after the last set (no sets since), the object's own
    # predicted re-entry is 10 days in the past -> "reentered?", not "decaying".
    rate = -2.0
    t_days = np.arange(10.0) - 9.0
    a = EARTH_RADIUS_KM + 200.0 + rate * t_days
    ep = (np.int64(1_700_000_000) * 10**9 + (t_days * NS_PER_DAY).astype(np.int64))
    st = decay_status(ep, _n_rev_day(a), np.zeros(10), at_ns=int(ep[-1] + 50 * NS_PER_DAY))
    assert abs(st.decay_rate_km_day - rate) < 1e-6
    assert abs(st.days_to_reentry - 40.0) < 1e-3
    assert st.status == "reentered?", st
