"""Zones: Natural Earth TopoJSON and GFW EEZ GeoJSON from ../shared/data/geo.

References:
* Country areas: CIA World Factbook "Area - total" (Japan 377,915 km2,
  Australia 7,741,220, Russia 17,098,242, Fiji 18,274).  Natural Earth at
  1:50m drops small islands and smooths coasts: 3 % is what that costs.
  Russia and Fiji straddle the antimeridian, so their areas test the cut.
* Places: capitals and interior points whose country is not in doubt.
* Boundary distance: brute force -- the boundary densified to 0.001 deg
  (about 100 m) and the WGS-84 geodesic (pyproj.Geod) to every vertex.
"""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from satwatch.sources.files import read_zones
from satwatch.zones import ZoneError, ZoneSet, parse_zones, track_geometry

AREA_RTOL = 0.03
# brute-force densification of 0.001 deg leaves at most ~50 m between the
# true nearest point and the nearest vertex
DISTANCE_TOL_KM = 0.1
FACTBOOK_AREA_KM2 = {"Japan": 377_915, "Australia": 7_741_220, "Russia": 17_098_242,
                     "Fiji": 18_274}


@pytest.fixture(scope="module")
def countries(reference_data):
    return read_zones(reference_data / "geo" / "countries-50m.json")


@pytest.fixture(scope="module")
def eez(reference_data):
    return read_zones(reference_data / "geo" / "gfw_ocean_areas_eezs_simplified.json")


def test_topojson_country_areas_match_factbook(countries):
    geod = Geod(ellps="WGS84")
    by_name = {z.name: z for z in countries}
    assert len(countries) == 241 and all(z.kind == "country" for z in countries)
    for name, area in FACTBOOK_AREA_KM2.items():
        a, _ = geod.geometry_area_perimeter(by_name[name].geometry)
        assert abs(abs(a) / 1e6 - area) / area < AREA_RTOL, name


@pytest.mark.parametrize("lat,lon,country", [
    (35.68, 139.69, "Japan"), (-35.28, 149.13, "Australia"), (39.02, 125.75, "North Korea"),
    (55.76, 37.62, "Russia"), (65.8, -173.5, "Russia"),      # Chukotka, east of 180 deg
    (66.0, 172.0, "Russia"), (-17.8, 178.0, "Fiji"), (-16.8, -179.9, "Fiji"),
    (-89.5, 0.0, "Antarctica"), (-80.0, 100.0, "Antarctica"), (61.2, -149.9,
                                                                "United States of America")])
def test_points_fall_in_their_country(countries, lat, lon, country):
    zs = ZoneSet(countries)
    assert [zs.zones[i].name for i in zs.containing(lat, lon)[0]] == [country]


def test_open_sea_is_in_no_country(countries):
    zs = ZoneSet(countries)
    assert zs.containing([0.0, 40.0], [-140.0, 134.0]) == [[], []]


def test_geojson_list_and_collection(reference_data, eez):
    names = {z.name for z in eez}
    assert {"Japan", "North Korea", "South Korea", "Russia"} <= names
    assert all(z.kind == "eez" for z in eez)
    nk = read_zones(reference_data / "geo" / "gfw_nk_eez_prk.json")
    assert len(nk) == 1
    zs = ZoneSet(nk)
    # Wonsan bay and the open sea east of it lie in North Korea's claim
    assert zs.containing([39.3, 40.0], [128.0, 131.0]) == [[0], [0]]
    assert zs.containing(37.5, 131.0) == [[]]          # Ulleungdo, South Korea's side


def test_boundary_distance_matches_brute_force(eez):
    zs = ZoneSet(eez)
    geod = Geod(ellps="WGS84")
    japan = zs.names.index("Japan")
    for lat, lon in [(40.58, 133.10), (38.0, 136.5), (35.0, 130.0)]:
        d, _ = zs.boundary_distance_km(lat, lon, japan)
        dense = shapely.get_coordinates(shapely.segmentize(zs.zones[japan].geometry.boundary,
                                                           0.001))
        _, _, dd = geod.inv(np.full(len(dense), lon), np.full(len(dense), lat),
                            dense[:, 0], dense[:, 1])
        assert abs(d - dd.min() / 1000.0) < DISTANCE_TOL_KM


def test_describe_point_reports_inside_and_nearest(eez):
    zs = ZoneSet(eez)
    inside = zs.describe_point(38.0, 136.5)          # Sea of Japan off Noto: Japan's EEZ
    assert "Japan" in inside["zones"]
    row = next(r for r in inside["boundaries"] if r["name"] == "Japan")
    assert row["inside"] and row["distance_to_boundary_km"] > 0
    assert inside["distance_to_boundary_km"] <= row["distance_to_boundary_km"]


def test_track_crossing_order(countries):
    zs = ZoneSet(countries)
    # Tokyo -> Seoul, straight in degrees: Japan, then (sea), then South Korea
    lat = np.linspace(35.68, 37.57, 200)
    lon = np.linspace(139.69, 126.98, 200)
    assert [zs.zones[i].name for i in zs.crossed_by(lat, lon)] == ["Japan", "South Korea"]


def test_track_is_cut_at_antimeridian():
    g = track_geometry([10.0, 10.0, 10.0], [179.0, -179.5, -178.0])
    assert g.geom_type == "MultiLineString"
    assert max(abs(x) for line in g.geoms for x, _ in line.coords) <= 180.0


def test_track_is_not_drawn_across_a_failed_stretch(reference_data):
    """Positions missing (NaN: SGP4 failed there) break the track: a line
    drawn across the gap would claim zones the object was never seen over.
    Tokyo -> (gap over the Sea of Japan) -> Seoul: the track over Japan and
    the one over Korea stay apart, so the sea between is not crossed."""
    lat = np.r_[np.linspace(35.68, 35.9, 20), [np.nan] * 160, np.linspace(37.3, 37.57, 20)]
    lon = np.r_[np.linspace(139.69, 138.5, 20), [np.nan] * 160, np.linspace(128.5, 126.98, 20)]
    g = track_geometry(lat, lon)
    assert g.geom_type == "MultiLineString" and len(g.geoms) == 2
    # no segment spans the gap: every step is as short as the sampled ones
    for line in g.geoms:
        xy = np.asarray(line.coords)
        assert np.abs(np.diff(xy, axis=0)).max() < 0.1


def test_bad_files_name_themselves(tmp_path):
    with pytest.raises(ZoneError, match="bad.json"):
        p = tmp_path / "bad.json"
        p.write_text("{not json")
        read_zones(p)
    with pytest.raises(ZoneError, match="feature 0"):
        parse_zones('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                    '"geometry": {"type": "Point", "coordinates": [0, 0]}}]}', "pts.json")
    with pytest.raises(ZoneError, match="missing.json"):
        read_zones(tmp_path / "missing.json")
