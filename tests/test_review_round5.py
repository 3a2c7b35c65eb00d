"""Review round 5: failing tests (xfail strict) for bugs found in the code
changed on the afternoon of 2026-11-27 (tracks, access, maneuvers, zones,
reported events, store, CLI output).  Each test states its reference: an
outside library (shapely) or a plain behavioural statement from the code's
own docstring or the house rules (/work/notes/preamble.md)."""
from __future__ import annotations

import math

import numpy as np
import pytest


# -- tracks.split_antimeridian -------------------------------------------------

def test_split_antimeridian_invents_no_crossing_across_a_nan_gap():
    # Behavioural statement (tracks.split_antimeridian's docstring, RFC 7946
    # sec. 3.1.9): parts are split at NaN, and the crossing point sits between
    # the two *consecutive* samples of a jump.  House rule: per-element
    # failures are data (NaN), nothing is made up for them.  Across a NaN the
    # track is unknown, so no part may hold a point at +-180 deg that lies
    # between a sample before the gap and one after it.
    from satwatch.tracks import split_antimeridian
    nan = np.nan
    lon = [178.0, 179.0, nan, nan, nan, -179.0, -178.0]
    lat = [0.0, 1.0, nan, nan, nan, 40.0, 41.0]
    parts = split_antimeridian(lon, lat)
    points = [tuple(p) for part in parts for p in part]
    # every point is one of the finite samples (no sample lies on +-180)
    samples = {(lo, la) for lo, la in zip(lon, lat) if math.isfinite(lo)}
    assert set(points) <= samples, f"invented points: {set(points) - samples}"


# -- access.polygon_points ---------------------------------------------------

def test_polygon_points_accepts_shapely_mapping():
    # Outside reference: shapely.geometry.mapping() is the GeoJSON-like
    # geometry dict (the __geo_interface__ protocol) that shapely.shape(),
    # which polygon_points feeds, reads back; a valid 0.5 x 0.5 deg box.
    # polygon_points' docstring: 'Sample points of a GeoJSON
    # Polygon/MultiPolygon'; only rings that are too short, open or flat
    # are refused.
    import shapely.geometry as sg
    from satwatch.access import polygon_points
    box = sg.box(10.0, 20.0, 10.5, 20.5)
    pts = polygon_points(sg.mapping(box), spacing_km=20.0)
    # every vertex of the box is among the sample points
    got = {(round(p.lon_deg, 6), round(p.lat_deg, 6)) for p in pts}
    assert {(10.0, 20.0), (10.5, 20.0), (10.0, 20.5), (10.5, 20.5)} <= got


def test_polygon_points_accepts_satwatch_footprint_geometry():
    # Behavioural statement: tracks.footprint_geometry's docstring promises
    # 'the footprint as a GeoJSON geometry (RFC 7946)', and polygon_points
    # samples 'a GeoJSON Polygon/MultiPolygon'; one satwatch function's
    # GeoJSON must be accepted by the other (an imaging footprint as an
    # access target).  Reference for the points: shapely's own containment
    # of the same geometry (every sample lies in or on the footprint).
    import shapely.geometry as sg
    from satwatch.access import polygon_points
    from satwatch.tracks import footprint_geometry
    geom = footprint_geometry(10.0, 20.0, 500.0, min_elevation_deg=10.0)
    pts = polygon_points(geom, spacing_km=50.0)
    assert len(pts) > 72                       # 72 ring vertices plus the interior grid
    ON_EDGE_DEG = 1e-6                         # points are rounded to 1e-6 deg
    area = sg.shape(geom).buffer(ON_EDGE_DEG)
    assert all(area.contains(sg.Point(p.lon_deg, p.lat_deg)) for p in pts)


def test_polygon_with_a_huge_integer_coordinate_is_an_access_error():
    # Behavioural statement: access._check_rings' docstring promises 'a clear
    # AccessError naming the ring ... instead of shapely's ValueError', and
    # the house rules: bad input gets a clear error naming the field.  JSON
    # (RFC 8259 sec. 6) allows integers of any size; Python's json reads
    # 1000000000000000000000000000000 as an int that numpy cannot take.
    import json

    from satwatch.access import AccessError, targets_from_geojson
    big = 10 ** 30
    doc = {"type": "Polygon", "coordinates": [[[0, 0], [big, 0], [1, 1], [0, 0]]]}
    with pytest.raises(AccessError, match=r"coordinates\[0\]\[1\]"):
        targets_from_geojson(json.dumps(doc), "big.geojson")
