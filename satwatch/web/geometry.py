"""Small closed forms the page needs that no core module provides."""
from __future__ import annotations

import numpy as np

from ..frames import WGS84_A_KM

# A spherical Earth of the equatorial radius: the footprint edge is then within
# a few tenths of a degree of the WGS-84 answer, which is below a map pixel.
EARTH_RADIUS_KM = WGS84_A_KM


def footprint_radius_deg(alt_km, min_elevation_deg: float = 0.0):
    """Earth-central angle from the sub-satellite point to where the object is
    seen at ``min_elevation_deg``: lambda = acos(Re/(Re+h) cos(eps)) - eps
    (satwatch.tracks' closed form where installed)."""
    try:
        from ..tracks import footprint_central_angle_rad
    except ImportError:
        footprint_central_angle_rad = None
    if footprint_central_angle_rad is not None:
        alt = np.asarray(alt_km, dtype=float)
        with np.errstate(invalid="ignore"):
            lam = footprint_central_angle_rad(alt, min_elevation_deg)
        return np.degrees(np.where(alt > 0, lam, np.nan))
    alt_km = np.asarray(alt_km, dtype=float)
    eps = np.radians(min_elevation_deg)
    with np.errstate(invalid="ignore"):
        lam = np.arccos(EARTH_RADIUS_KM / (EARTH_RADIUS_KM + alt_km) * np.cos(eps)) - eps
    return np.degrees(np.where(alt_km > 0, lam, np.nan))
