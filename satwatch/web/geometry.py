"""The footprint size the page draws, from satwatch.tracks' closed form."""
from __future__ import annotations

import numpy as np

from ..tracks import footprint_central_angle_rad


def footprint_radius_deg(alt_km, min_elevation_deg: float = 0.0):
    """Earth-central angle from the sub-satellite point to where the object is
    seen at ``min_elevation_deg``: lambda = acos(Re/(Re+h) cos(eps)) - eps;
    NaN where the altitude is not positive."""
    alt = np.asarray(alt_km, dtype=float)
    with np.errstate(invalid="ignore"):
        lam = footprint_central_angle_rad(alt, min_elevation_deg)
    return np.degrees(np.where(alt > 0, lam, np.nan))
