"""Ground tracks and footprints against Skyfield's ``wgs84.subpoint_of``
and closed-form footprint geometry; the passes/access/sites/track commands
through Typer's CliRunner."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

import satwatch
from satwatch.cli import app
from satwatch.time import utc, utc_range
from satwatch.tracks import (EARTH_MEAN_RADIUS_KM, footprint_central_angle_rad, footprint_ring,
                             ground_track, split_antimeridian, tracks_geojson)

skyfield_api = pytest.importorskip("skyfield.api")

# Our TEME->ITRS applies IERS polar motion, Skyfield's builtin timescale does
# not: ~10 m at the ground.  30 m leaves room for UT1 tables and the
# satellite-height scaling of the polar-motion shift.
SUBPOINT_TOL_M = 30.0
# Footprint ring points are placed with pyproj's WGS-84 geodesic at the
# spherical distance lambda * R: measured back on the same geodesic.
FOOTPRINT_TOL_M = 1.0
T0 = utc("2023-10-13T00:00:00Z")


def test_ground_track_matches_skyfield_subpoint(full_catalog):
    warnings.simplefilter("ignore")
    cat = full_catalog.select([25544, 43013, 28884])
    times = utc_range(T0, T0 + 6000.0, 120.0)
    lat, lon, alt = ground_track(cat, times)
    ts = skyfield_api.load.timescale(builtin=True)
    t = ts.from_datetimes(times.to_datetime())
    for i, es in enumerate(cat):
        l1, l2 = es.source_text.splitlines()[-2:]
        sat = skyfield_api.EarthSatellite(l1, l2, es.name, ts)
        sp = skyfield_api.wgs84.subpoint_of(sat.at(t))
        from pyproj import Geod
        _, _, dist_m = Geod(ellps="WGS84").inv(lon[i], lat[i], sp.longitude.degrees,
                                               sp.latitude.degrees)
        assert np.abs(dist_m).max() < SUBPOINT_TOL_M, es.name
        height = skyfield_api.wgs84.height_of(sat.at(t)).km
        np.testing.assert_allclose(alt[i], height, atol=0.05)


def test_antimeridian_split_keeps_every_point():
    lon = np.array([170.0, 175.0, 179.5, -179.0, -170.0, np.nan, -160.0, -150.0])
    lat = np.arange(8.0)
    segs = split_antimeridian(lon, lat)
    assert [len(s) for s in segs] == [4, 3, 2]        # + the crossing at +-180 on both parts
    for s in segs:
        d = np.diff([p[0] for p in s])
        assert np.all(np.abs(d) < 180)


def test_footprint_closed_form_and_ring_distances():
    from pyproj import Geod
    h = 550.0
    lam0 = footprint_central_angle_rad(h, 0.0)
    assert lam0 == pytest.approx(np.arccos(EARTH_MEAN_RADIUS_KM / (EARTH_MEAN_RADIUS_KM + h)))
    # off-nadir eta and elevation e are tied by cos(e) = (r/R) sin(eta) on a
    # sphere; both constraints give the same circle.
    eta = 30.0
    e = np.degrees(np.arccos((EARTH_MEAN_RADIUS_KM + h) / EARTH_MEAN_RADIUS_KM
                             * np.sin(np.radians(eta))))
    assert footprint_central_angle_rad(h, 0.0, eta) == pytest.approx(
        footprint_central_angle_rad(h, e), rel=1e-9)
    ring = footprint_ring(42.0, 179.0, h, 10.0)
    assert ring[0] == ring[-1]
    geod = Geod(ellps="WGS84")
    lon, lat = np.array(ring[:-1]).T
    _, _, dist = geod.inv(np.full(len(lon), 179.0), np.full(len(lon), 42.0), lon, lat)
    want = footprint_central_angle_rad(h, 10.0) * EARTH_MEAN_RADIUS_KM * 1000
    assert np.abs(dist - want).max() < FOOTPRINT_TOL_M
    assert lon.max() > 180.0          # continuous across the antimeridian


def test_tracks_geojson_features(full_catalog):
    cat = full_catalog.select([25544])
    doc = tracks_geojson(cat, utc_range(T0, T0 + 5400.0, 60.0), footprint_min_elevation_deg=10)
    kinds = [f["properties"]["kind"] for f in doc["features"]]
    assert kinds == ["ground track", "footprint"]
    parts = doc["features"][0]["geometry"]["coordinates"]
    assert sum(len(s) for s in parts) == 91 + 2 * (len(parts) - 1)   # + crossings, both sides


# -- the commands ---------------------------------------------------------------

runner = CliRunner()


def _run(args):
    result = runner.invoke(app, args)
    return result


def test_cli_passes_json_and_ics(full_catalog_path):
    r = _run(["passes", "VOSTOCHNY", "--start", "2023-10-13T00:00:00Z", "--hours", "12",
              "--sat", "25544", "--catalog", str(full_catalog_path), "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert rows and {"norad_id", "name", "rise_time", "culmination_time", "max_elevation_deg",
                     "set_time", "visible", "eclipse_entry_times"} <= set(rows[0])
    cat = satwatch.load_catalog(full_catalog_path).select([25544])
    from satwatch.passes import find_passes
    from satwatch.sites import find_site
    p = find_passes(cat, find_site("VOSTOCHNY"), T0, T0 + 12 * 3600.0, 10.0)
    assert len(rows) == len(p)
    r = _run(["passes", "51.88,128.33", "--start", "2023-10-13T00:00:00Z", "--hours", "12",
              "--sat", "25544", "--catalog", str(full_catalog_path), "--format", "ics"])
    assert r.exit_code == 0 and r.output.count("BEGIN:VEVENT") == len(rows)


def test_cli_passes_workers_give_the_same_answer(full_catalog_path):
    """Satellites shared between forked processes (passes and visibility in
    each), rows joined in satellite order: the JSON is the one-process JSON."""
    outs = []
    for workers in ("1", "2"):
        r = _run(["passes", "SOHAE", "--start", "2023-10-13T00:00:00Z", "--hours", "24",
                  "--sat", "STARLINK-11*", "--catalog", str(full_catalog_path),
                  "--format", "json", "--workers", workers])
        assert r.exit_code == 0, r.output
        outs.append(json.loads(r.stdout))
    assert len(outs[0]) > 100
    assert outs[0] == outs[1]
    assert any(row["eclipse_entry_times"] or row["eclipse_exit_times"] for row in outs[0])


def test_cli_errors_are_one_line(full_catalog_path):
    r = _run(["passes", "ATLANTIS", "--catalog", str(full_catalog_path)])
    assert r.exit_code == 2
    assert "no site 'ATLANTIS'" in r.output


def test_cli_sites_access_track(full_catalog_path, tmp_path):
    r = _run(["sites", "--format", "json"])
    assert r.exit_code == 0
    codes = {s["code"] for s in json.loads(r.stdout)}
    assert {"VOSTOCHNY", "SOHAE", "SUNAN"} <= codes
    poly = tmp_path / "area.geojson"
    poly.write_text(json.dumps({"type": "Feature", "properties": {"name": "Tumangang"},
                                "geometry": {"type": "Polygon", "coordinates": [[
                                    [130.5, 42.3], [130.8, 42.3], [130.8, 42.5],
                                    [130.5, 42.5], [130.5, 42.3]]]}}))
    r = _run(["access", "--polygon", str(poly), "--max-off-nadir", "30", "--start",
              "2023-10-13T00:00:00Z", "--hours", "24", "--sat", "NOAA*", "--catalog",
              str(full_catalog_path), "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["revisit"][0]["target"] == "Tumangang" and "max_gap_s" in doc["revisit"][0]
    out = tmp_path / "t.geojson"
    r = _run(["track", "25544", "--start", "2023-10-13T00:00:00Z", "--hours", "1",
              "--footprint-max-off-nadir", "30", "--catalog", str(full_catalog_path),
              "--output", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["type"] == "FeatureCollection"
