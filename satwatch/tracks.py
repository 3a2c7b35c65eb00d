"""Ground tracks and sensor footprints as GeoJSON.

Ground track: the sub-satellite point (WGS-84 geodetic latitude and
longitude of the satellite, :func:`satwatch.frames.itrs_to_geodetic`) at
regular times, as a MultiLineString split where it crosses the
antimeridian.  Footprint: the ground circle from which the satellite is seen
above ``min_elevation_deg`` (or within ``max_off_nadir_deg`` of nadir),
computed on a sphere of the local Earth radius (central angle
``acos(R cos(e) / r) - e``) and drawn as a geodesic circle with
``pyproj.Geod`` on WGS-84.
"""
from __future__ import annotations

import numpy as np

from .errors import SatwatchError
from .frames import WGS84_A_KM, itrs_to_geodetic, teme_to_itrs
from .time import Time

EARTH_MEAN_RADIUS_KM = 6371.0088


class TrackError(SatwatchError, ValueError):
    """A footprint asked for with an angle outside its range (names the option)."""


def _check_footprint_angles(min_elevation_deg, max_off_nadir_deg) -> None:
    """An elevation mask in [-90, 90) deg, an off-nadir limit in (0, 90] deg:
    outside them the central angle comes out negative (drawn as a circle all
    the same) or zero (a Point, not a footprint)."""
    if min_elevation_deg is not None and not -90.0 <= min_elevation_deg < 90.0:
        raise TrackError(f"footprint min elevation {min_elevation_deg:g} deg: an elevation "
                         "mask lies in [-90, 90) deg")
    if max_off_nadir_deg is not None and not 0.0 < max_off_nadir_deg <= 90.0:
        raise TrackError(f"footprint max off nadir {max_off_nadir_deg:g} deg: an off-nadir "
                         "limit lies in (0, 90] deg")


def ground_track(catalog, times: Time):
    """Geodetic sub-satellite points ``(lat_deg, lon_deg, alt_km)``, each
    ``(n_sat, n_time)``; NaN where SGP4 failed."""
    states = catalog.propagate(times)
    r, _ = teme_to_itrs(states.r_teme_km, None, states.times)
    geo = itrs_to_geodetic(r)
    bad = states.error != 0
    return (np.where(bad, np.nan, geo.lat_deg), np.where(bad, np.nan, geo.lon_deg),
            np.where(bad, np.nan, geo.alt_km))


def split_antimeridian(lon_deg, lat_deg, third=None):
    """Lists of [lon, lat] segments (RFC 7946 sec. 3.1.9), split at NaN and
    where consecutive longitudes jump by more than 180 deg.  At such a jump
    both parts get the crossing point, at +180 and -180 deg, so that they
    meet there: its latitude is interpolated linearly in (unwrapped)
    longitude between the two samples, which puts it on the straight line
    in lon/lat that a GeoJSON map draws between them (RFC 7946 sec. 3.1.1)
    and that the track would have without the cut.  The great circle
    through the samples would cross 0.04 deg further poleward for a 6-deg
    step at 51 deg N; neither is the true track between samples (a smaller
    step is), and only the linear point lies on the drawn line.  With
    ``third`` (one value per sample, e.g. a height in metres), [lon, lat,
    third] positions (third rounded to 3 decimals, the crossing's
    interpolated as its latitude is)."""
    lon = np.asarray(lon_deg, float).ravel()
    lat = np.asarray(lat_deg, float).ravel()
    alt = None if third is None else np.asarray(third, float).ravel()
    ok = np.isfinite(lon) & np.isfinite(lat)
    if alt is not None:
        ok &= np.isfinite(alt)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return []
    d = np.diff(lon[idx])
    # a new segment after a NaN gap (consecutive finite samples not adjacent) or a jump
    gap = np.diff(idx) > 1
    # a crossing point only between adjacent samples: across a gap (failed
    # propagation) the track is unknown, and the part just ends
    jump = np.flatnonzero((np.abs(d) > 180.0) & ~gap)     # between idx[k] and idx[k + 1]
    seg = np.concatenate([[0], np.cumsum(gap | (np.abs(d) > 180.0))])
    k0, k1 = idx[jump], idx[jump + 1]
    east = d[jump] < 0                                     # +179 -> -179: across +180 going east
    edge = np.where(east, 180.0, -180.0)
    span = lon[k1] + np.where(east, 360.0, -360.0) - lon[k0]   # the step, unwrapped
    frac = np.divide(edge - lon[k0], span, out=np.zeros(jump.size), where=span != 0)
    lat_c = np.round(lat[k0] + frac * (lat[k1] - lat[k0]), 6)
    lon_r, lat_r = np.round(lon, 6), np.round(lat, 6)
    # keys order the points: the crossing that ends a part right after its
    # sample (3 i + 2), the one that starts the next part right before its (3 i)
    key = np.concatenate([3 * idx + 1, 3 * k0 + 2, 3 * k1])
    seg_all = np.concatenate([seg, seg[jump], seg[jump + 1]])
    cols = [np.concatenate([lon_r[idx], edge, -edge]),
            np.concatenate([lat_r[idx], lat_c, lat_c])]
    if alt is not None:
        alt_c = np.round(alt[k0] + frac * (alt[k1] - alt[k0]), 3)
        cols.append(np.concatenate([np.round(alt, 3)[idx], alt_c, alt_c]))
    pts = np.column_stack(cols)
    # a sample on the meridian itself already is the crossing point
    dup = np.concatenate([np.zeros(idx.size, bool),
                          (lon_r[k0] == edge) & (lat_r[k0] == lat_c),
                          (lon_r[k1] == -edge) & (lat_r[k1] == lat_c)])
    order = np.argsort(key[~dup], kind="stable")
    seg_all, pts = seg_all[~dup][order], pts[~dup][order]
    cuts = np.flatnonzero(np.diff(seg_all)) + 1
    return [part.tolist() for part in np.split(pts, cuts) if len(part) > 1]


def footprint_central_angle_rad(alt_km, min_elevation_deg=0.0, max_off_nadir_deg=None,
                                earth_radius_km=EARTH_MEAN_RADIUS_KM):
    """Earth central angle from the sub-satellite point to the footprint edge."""
    r = earth_radius_km + np.asarray(alt_km, dtype=float)
    e = np.radians(min_elevation_deg)
    lam = np.arccos(np.clip(earth_radius_km * np.cos(e) / r, -1, 1)) - e
    if max_off_nadir_deg is not None:
        eta = np.radians(max_off_nadir_deg)
        s = r / earth_radius_km * np.sin(eta)
        # off-nadir beyond the horizon: the horizon circle limits it
        lam_eta = np.where(s < 1, np.arcsin(np.clip(s, -1, 1)) - eta, lam)
        lam = np.minimum(lam, lam_eta)
    return lam


def footprint_ring(lat_deg, lon_deg, alt_km, min_elevation_deg=0.0, max_off_nadir_deg=None,
                   n_points=72):
    """A closed ring of ``[lon, lat]`` around a sub-satellite point."""
    from pyproj import Geod
    geod = Geod(ellps="WGS84")
    lam = float(footprint_central_angle_rad(alt_km, min_elevation_deg, max_off_nadir_deg))
    dist_m = lam * EARTH_MEAN_RADIUS_KM * 1000.0
    az = np.linspace(0.0, 360.0, n_points, endpoint=False)
    lon, lat, _ = geod.fwd(np.full(n_points, lon_deg), np.full(n_points, lat_deg), az,
                           np.full(n_points, dist_m))
    lon = np.asarray(lon)
    # keep the ring continuous around the centre (may pass beyond +-180)
    lon = lon_deg + (lon - lon_deg + 180.0) % 360.0 - 180.0
    ring = [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat)]
    return ring + [ring[0]]


def footprint_geometry(lat_deg, lon_deg, alt_km, min_elevation_deg=0.0,
                       max_off_nadir_deg=None, n_points=72) -> dict:
    """The footprint as a GeoJSON geometry (RFC 7946): the ring of
    :func:`footprint_ring`, closed along a pole it covers and cut at +-180
    deg (a Polygon, or a MultiPolygon across the antimeridian)."""
    import shapely.geometry

    from .zones import ring_geometry
    geom = ring_geometry(footprint_ring(lat_deg, lon_deg, alt_km, min_elevation_deg,
                                        max_off_nadir_deg, n_points))
    return shapely.geometry.mapping(geom)


def tracks_geojson(catalog, times: Time, *, footprint_min_elevation_deg=None,
                   footprint_max_off_nadir_deg=None, footprint_times: Time | None = None):
    """A FeatureCollection: one MultiLineString ground track per satellite
    and, when a footprint constraint is given, one Polygon footprint per
    satellite and footprint time (default: the first time)."""
    _check_footprint_angles(footprint_min_elevation_deg, footprint_max_off_nadir_deg)
    lat, lon, alt = ground_track(catalog, times)
    iso = times.iso(0)
    features = []
    sets = list(catalog)
    for i, es in enumerate(sets):
        features.append({"type": "Feature",
                         "geometry": {"type": "MultiLineString",
                                      "coordinates": split_antimeridian(lon[i], lat[i])},
                         "properties": {"kind": "ground track", "norad_id": es.norad_id,
                                        "name": es.name, "start": iso[0], "end": iso[-1],
                                        "step_s": float((times.ns[1] - times.ns[0]) / 1e9)
                                        if len(times) > 1 else None,
                                        "epoch": es.epoch.iso(3)}})
    if footprint_min_elevation_deg is not None or footprint_max_off_nadir_deg is not None:
        ft = footprint_times if footprint_times is not None else times[:1]
        flat, flon, falt = ground_track(catalog, ft)
        ft_iso = ft.iso(0)
        for i, es in enumerate(sets):
            for k in range(len(ft)):
                if not np.isfinite(flat[i, k]):
                    continue
                geometry = footprint_geometry(flat[i, k], flon[i, k], falt[i, k],
                                              footprint_min_elevation_deg or 0.0,
                                              footprint_max_off_nadir_deg)
                features.append({"type": "Feature", "geometry": geometry,
                                 "properties": {"kind": "footprint", "norad_id": es.norad_id,
                                                "name": es.name, "time": ft_iso[k],
                                                "min_elevation_deg": footprint_min_elevation_deg,
                                                "max_off_nadir_deg": footprint_max_off_nadir_deg,
                                                "sub_lat_deg": float(flat[i, k]),
                                                "sub_lon_deg": float(flon[i, k]),
                                                "alt_km": float(falt[i, k])}})
    return {"type": "FeatureCollection", "features": features}


del WGS84_A_KM
