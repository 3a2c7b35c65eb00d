"""The interpolated Sun equals ERFA's series (the exact path) to far better
than the Sun-direction accuracy the shadow test needs (1 km at 1 AU is
7e-9 rad, i.e. under 1 ms of eclipse timing)."""
import numpy as np

import satwatch
from satwatch.sun import _sun_position_teme_exact_km, sun_position_teme_km

SPLINE_TOLERANCE_KM = 1e-3


def test_spline_matches_series_over_days_and_shapes():
    rng = np.random.default_rng(7)
    t = satwatch.utc("2023-09-13T00:00:00Z") + rng.uniform(-86400, 5 * 86400, (30, 400))
    fast = sun_position_teme_km(t)
    exact = _sun_position_teme_exact_km(t)
    assert fast.shape == exact.shape == (3, 30, 400)
    assert np.abs(fast - exact).max() < SPLINE_TOLERANCE_KM
    few = t[0, :5]
    assert np.array_equal(sun_position_teme_km(few), _sun_position_teme_exact_km(few))
