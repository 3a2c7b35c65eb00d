"""Ballistic arcs against outside references.

References:
* Bate, Mueller & White, *Fundamentals of Astrodynamics* (Dover 1971), ch. 6
  sec. 6.2 "The general ballistic missile problem": with Q = v^2 r / mu,
  - free-flight range equation  cos(psi/2) = (1 - Q cos^2 phi) / sqrt(1 + Q (Q-2) cos^2 phi)
  - flight-path-angle equation  sin(2 phi + psi/2) = (2 - Q)/Q * sin(psi/2)
  - maximum range               sin(psi/2) = Q / (2 - Q),  phi = (180 deg - psi) / 4
  - time of free flight         t = 2 sqrt(a^3/mu) (pi - E1 + e sin E1),
                                cos E1 = (e - cos(psi/2)) / (1 - e cos(psi/2))
  and the conic: a = r / (2 - Q), e^2 = 1 + Q (Q - 2) cos^2 phi, apogee r_a = a (1 + e).
  (Regan & Anandakrishnan, *Dynamics of Atmospheric Re-Entry*, AIAA 1993,
  ch. 5, give the same relations.)
* Brute force: numerical integration of the two-body equations (scipy's
  DOP853) from the same burnout state, for the rotating-Earth cases.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from satwatch import ballistic as b
from satwatch.frames import itrs_to_geodetic

MU = b.MU_KM3_S2
R = 6378.137                 # sphere used for the textbook cases
# The closed forms are exact for the conic; our arc is found by bisection
# in true anomaly (64 halvings: ~1e-19 rad) and Kepler's equation in closed
# form, so agreement to 1e-9 relative is float round-off, not physics.
CLOSED_FORM_RTOL = 1e-9
# Numerical integration with rtol 1e-11 agrees with the conic to metres.
INTEGRATION_TOL_KM = 0.01
INTEGRATION_TOL_S = 0.01
# The consistency requirement: the arc solved from a report
# reproduces range and apogee within 1 %.
REPORT_RTOL = 0.01


def bmw_symmetric(v, phi_deg, r=R):
    """BMW sec. 6.2 closed forms: range (km), apogee altitude (km), time (s)."""
    q = v * v * r / MU
    phi = np.radians(phi_deg)
    c2 = np.cos(phi) ** 2
    e = np.sqrt(1 + q * (q - 2) * c2)
    cos_half_psi = (1 - q * c2) / e
    psi = 2 * np.arccos(cos_half_psi)
    a = r / (2 - q)
    apogee = a * (1 + e) - r
    e1 = np.arccos((e - np.cos(psi / 2)) / (1 - e * np.cos(psi / 2)))
    t = 2 * np.sqrt(a ** 3 / MU) * (np.pi - e1 + e * np.sin(e1))
    return psi * r, apogee, t


@pytest.mark.parametrize("v,phi", [(2.0, 45.0), (3.0, 30.0), (4.5, 60.0), (6.0, 20.0),
                                   (7.0, 35.0), (1.0, 80.0), (5.0, 5.0)])
def test_symmetric_arc_matches_bmw_closed_forms(v, phi):
    rng, apo, t = bmw_symmetric(v, phi)
    # launch from anywhere on a non-rotating sphere: the answer must not care
    arc = b.fly([0.0, 41.0, -63.0], [0.0, 125.0, -40.0], v, phi, [90.0, 17.0, 233.0],
                rotating=False, radius_km=R)
    assert np.all(arc.error == 0)
    np.testing.assert_allclose(arc.range_km, rng, rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(arc.apogee_alt_km, apo, rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(arc.flight_time_s, t, rtol=CLOSED_FORM_RTOL)
    # symmetric: apogee at half the flight time, bearing = azimuth
    np.testing.assert_allclose(arc.apogee_time_s, t / 2, rtol=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(arc.bearing_deg, [90.0, 17.0, 233.0], atol=1e-7)


@settings(max_examples=100, deadline=None)
@given(v=st.floats(0.3, 7.6), phi=st.floats(1.0, 89.0), az=st.floats(0.0, 360.0),
       lat=st.floats(-89.0, 89.0))
def test_property_any_symmetric_arc_matches_closed_forms(v, phi, az, lat):
    rng, apo, t = bmw_symmetric(v, phi)
    arc = b.fly(lat, 30.0, v, phi, az, rotating=False, radius_km=R)
    assert arc.error == 0
    # The closed forms lose digits on very short arcs: apogee = a (1 + e) - R
    # cancels (1 mm absolute), and arccos(x) with x near +-1 (psi/2 and E1)
    # keeps only half the digits (10 cm on the range, 10 microseconds on the
    # flight time).
    np.testing.assert_allclose(arc.apogee_alt_km, apo, rtol=1e-8, atol=1e-6)
    np.testing.assert_allclose(arc.range_km, rng, rtol=1e-8, atol=1e-4)
    np.testing.assert_allclose(arc.flight_time_s, t, rtol=1e-8, atol=1e-5)


@pytest.mark.parametrize("v", [1.5, 3.0, 5.0, 7.0])
def test_minimum_energy_angle_and_range(v):
    q = v * v * R / MU
    psi_max = 2 * np.arcsin(q / (2 - q))              # BMW: sin(psi/2) = Q/(2-Q)
    phi_me = np.degrees((np.pi - psi_max) / 4)         # BMW: phi = (180 - psi)/4
    rng, phi = b.max_range_for_speed(10.0, 20.0, v, 45.0, rotating=False, radius_km=R)
    np.testing.assert_allclose(rng, psi_max * R, rtol=1e-9)
    # The range is flat at its maximum, so the argmax is only as good as
    # sqrt(rtol) of the golden search: 1e-4 deg.
    assert abs(phi - phi_me) < 1e-4
    # and the closed-form inverse agrees
    v_me, g_me = b.min_energy_closed_form(psi_max * R, R)
    np.testing.assert_allclose([v_me, g_me], [v, phi_me], rtol=1e-12)


def test_flight_path_angle_equation_gives_both_trajectories():
    # BMW flight-path-angle equation: for Q < 1 a range below the maximum is
    # reached on a low and a high trajectory; both must land at that range.
    v, psi = 5.0, 2000.0 / R
    q = v * v * R / MU
    x = np.arcsin((2 - q) / q * np.sin(psi / 2))
    phis = np.degrees([(x - psi / 2) / 2, (np.pi - x - psi / 2) / 2])
    arc = b.fly(0.0, 0.0, v, phis, 0.0, rotating=False, radius_km=R)
    np.testing.assert_allclose(arc.range_km, [2000.0, 2000.0], rtol=CLOSED_FORM_RTOL)
    assert arc.apogee_alt_km[1] > arc.apogee_alt_km[0]


def test_inverse_closed_form_matches_bmw():
    rng, apo, _ = bmw_symmetric(4.0, 38.0)
    v, g = b.range_apogee_closed_form(rng, apo, R)
    np.testing.assert_allclose([v, g], [4.0, 38.0], rtol=1e-9)


def _integrate(lat, lon, v, g, az, alt_km=0.0, rotating=True):
    """Brute force: two-body integration until the geodetic height is 0."""
    r0, v0 = b._launch_state(np.float64(lat), np.float64(lon), np.float64(alt_km),
                             np.float64(v), np.radians(g), np.radians(az), None, rotating)

    def rhs(t, y):
        r = y[:3]
        return np.concatenate([y[3:], -MU * r / np.linalg.norm(r) ** 3])

    def height(t, y):
        ang = -b.EARTH_ROTATION_RAD_S * t if rotating else 0.0
        c, s = np.cos(ang), np.sin(ang)
        r = np.array([c * y[0] - s * y[1], s * y[0] + c * y[1], y[2]])
        return float(itrs_to_geodetic(r).alt_km) + (0.0 if t > 1.0 else 1.0)
    height.terminal, height.direction = True, -1
    sol = solve_ivp(rhs, (0, 20000), np.concatenate([r0, v0]), method="DOP853",
                    rtol=1e-11, atol=1e-9, events=height, dense_output=True)
    t = sol.t_events[0][0]
    y = sol.y_events[0][0]
    ang = -b.EARTH_ROTATION_RAD_S * t if rotating else 0.0
    c, s = np.cos(ang), np.sin(ang)
    r = np.array([c * y[0] - s * y[1], s * y[0] + c * y[1], y[2]])
    geo = itrs_to_geodetic(r)
    ts = np.linspace(0, t, 4001)
    heights = [float(itrs_to_geodetic(sol.sol(tt)[:3]).alt_km) for tt in ts]
    return t, float(geo.lat_deg), float(geo.lon_deg), max(heights)


@pytest.mark.parametrize("lat,lon,v,g,az", [(39.2, 125.7, 3.0, 40.0, 74.0),
                                            (28.5, -80.6, 6.5, 25.0, 270.0),
                                            (-30.0, 10.0, 4.0, 70.0, 180.0)])
def test_rotating_ellipsoid_arc_matches_integration(lat, lon, v, g, az):
    arc = b.fly(lat, lon, v, g, az)
    t, ilat, ilon, hmax = _integrate(lat, lon, v, g, az)
    assert arc.error == 0
    assert abs(arc.flight_time_s - t) < INTEGRATION_TOL_S
    d, _ = b.ground_distance(ilat, ilon, arc.impact_lat_deg, arc.impact_lon_deg)
    assert d < INTEGRATION_TOL_KM
    # the sampled maximum is below the true apogee by at most the sampling error
    assert -0.05 < arc.apogee_alt_km - hmax < INTEGRATION_TOL_KM + 0.05


@pytest.mark.parametrize("rng,apo,brg", [(650.0, 50.0, 74.0), (1000.0, 6000.0, 80.0),
                                         (3000.0, 500.0, 170.0), (350.0, 100.0, 290.0)])
def test_solved_arc_reproduces_report(rng, apo, brg):
    """The arc solved from a range and apogee (rotating Earth) reproduces both
    when flown again by brute-force integration."""
    lat, lon = 39.20299, 125.70926            # Sunan (CNS facility list)
    arc = b.solve_arc(lat, lon, rng, apo, brg)
    assert arc.error == 0
    t, ilat, ilon, hmax = _integrate(lat, lon, float(arc.burnout_speed_km_s),
                                     float(arc.flight_path_angle_deg), float(arc.azimuth_deg))
    d, bearing = b.ground_distance(lat, lon, ilat, ilon)
    assert abs(d - rng) / rng < REPORT_RTOL
    assert abs(hmax - apo) / apo < REPORT_RTOL
    assert abs(b._wrap180(bearing - brg)) < 0.1
    assert abs(t - arc.flight_time_s) < 0.1


def test_min_energy_solution_without_apogee_is_near_max_range():
    # Without an apogee the report is read as a minimum-energy shot: the
    # speed found is (to the rotation's small effect) the one whose maximum
    # range along that azimuth equals the report.
    arc = b.solve_arc(39.2, 125.7, 1500.0, None, 90.0, rotating=False, radius_km=R)
    rng, _ = b.max_range_for_speed(39.2, 125.7, arc.burnout_speed_km_s, 90.0,
                                   rotating=False, radius_km=R)
    np.testing.assert_allclose(rng, 1500.0, rtol=1e-6)


def test_rotation_helps_eastward_shots():
    # Same Earth-relative burnout: eastward flies farther than westward on the
    # rotating Earth (BMW sec. 6.4), equal on a still one.
    a = b.fly(0.0, 0.0, 5.0, 35.0, [90.0, 270.0])
    assert a.range_km[0] > a.range_km[1]
    still = b.fly(0.0, 0.0, 5.0, 35.0, [90.0, 270.0], rotating=False, radius_km=R)
    np.testing.assert_allclose(still.range_km[0], still.range_km[1], rtol=1e-12)


def test_failures_are_data():
    arc = b.fly([0.0, 0.0, np.nan], 0.0, [3.0, 11.5, 3.0], 30.0, 90.0)
    assert list(arc.error) == [0, 1, 3]
    assert np.isnan(arc.range_km[1]) and np.isnan(arc.range_km[2])
    # any positive apogee has an ellipse through it (e = H / (H + R (1 - cos psi/2)) < 1);
    # a non-positive one or a negative range is refused as input
    bad = b.solve_arc(39.0, 125.0, [1000.0, -5.0], [0.0, 50.0], 90.0)
    assert list(bad.error) == [3, 3] and np.isnan(bad.impact_lat_deg).all()


def test_array_call_equals_loop_of_scalar_calls():
    lats, rngs = np.array([39.2, 40.8, 28.5]), np.array([650.0, 1100.0, 4000.0])
    apos, brgs = np.array([50.0, 6000.0, 1200.0]), np.array([74.0, 85.0, 120.0])
    arr = b.solve_arc(lats, 125.7, rngs, apos, brgs)
    # Newton stops when every element meets the report (range to 1e-6
    # relative), so an element of a batch may take more steps than alone:
    # agreement is to the solver's tolerance, not to round-off.
    solver_rtol = 1e-5
    for i in range(3):
        one = b.solve_arc(lats[i], 125.7, rngs[i], apos[i], brgs[i])
        np.testing.assert_allclose(arr.impact_lat_deg[i], one.impact_lat_deg, atol=1e-5)
        np.testing.assert_allclose(arr.flight_time_s[i], one.flight_time_s, rtol=solver_rtol)


def test_track_starts_at_site_and_ends_at_impact():
    arc, (la, lo, h, t) = b.fly(39.2, 125.7, 3.0, 40.0, 74.0, track_points=50)
    assert la.shape == (50,)
    assert abs(la[0] - 39.2) < 1e-9 and abs(lo[0] - 125.7) < 1e-9 and abs(h[0]) < 1e-6
    assert abs(la[-1] - arc.impact_lat_deg) < 1e-9 and abs(t[-1] - arc.flight_time_s) < 1e-6
    assert abs(h.max() - arc.apogee_alt_km) < 1.0
