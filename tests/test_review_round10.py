"""Review round 10: launch analysis (reported events, the launch and event
commands) and imaging access (access, the access/track commands, footprints).

Each test was a real failure on the reviewed code (2c590a2), first committed
as xfail(strict=True) (fcbc3e5); the reference of each is named in its
docstring.
"""
from __future__ import annotations

import datetime
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from satwatch.time import NS_PER_S

ISS = 25544
WINDOW_START = "2023-10-13T00:00:00Z"
# A time read to the minute is the middle of that minute, +- 30 s
# (docs/launches.md, "Reported launches and missile flights").
MINUTE_MIDDLE_S = 30
MINUTE_UNCERTAINTY_S = 30.0


def _invoke(args):
    from satwatch.cli import app
    return CliRunner().invoke(app, [str(a) for a in args])


def _one_error_line(result, *words):
    """A refusal: exit code 2, no traceback, one line naming ``words``."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    text = result.output.strip()
    assert text.startswith("error:") and len(text.splitlines()) == 1, text
    for w in words:
        assert w in text, (w, text)


@pytest.fixture
def iss_tle(reference_data, user_dirs):
    """The ISS's element set of the 2023-10-13 catalog as a file."""
    from conftest import catalog_records
    path = user_dirs / "iss.tle"
    path.write_text("\n".join(catalog_records(
        reference_data / "catalogs" / "full-3le-2023-10-13.txt", [ISS])) + "\n")
    return path


@pytest.fixture
def box_geojson(user_dirs):
    """A 0.5 x 0.5 deg box at the Tumangang crossing (docs/access.md)."""
    path = user_dirs / "box.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [[
        [130.3, 42.2], [130.8, 42.2], [130.8, 42.7], [130.3, 42.7], [130.3, 42.2]]]}))
    return path


# -- 1. "HH:MM (UTC)" in our own CSV/JSON --------------------------------------------
@pytest.mark.parametrize("time_text", ["12:29 (UTC)", "12:29 UTC"])
def test_own_schema_reads_hhmm_utc_as_the_cns_file_does(time_text):
    """A time column "12:29 (UTC)" is the form the refusal itself asks for
    ("time ... is not HH:MM (UTC) or 'unknown'") and the CNS file's own; the
    CSV and JSON importers refused it ("is not UTC ISO-8601") because the
    capital T of "UTC" was taken for ISO-8601's date/time separator.
    Expected: 2016-02-07 12:29 UTC read to the minute, i.e. 12:29:30 +- 30 s
    (docs/launches.md), as the plain "12:29" and the CNS importer give."""
    from satwatch.reported_events import parse_events_csv, parse_events_json
    expected_ns = int(datetime.datetime(2016, 2, 7, 12, 29, MINUTE_MIDDLE_S,
                                        tzinfo=datetime.timezone.utc).timestamp()) * NS_PER_S
    csv_text = ("event_id,date,time,site_lat_deg,site_lon_deg,range_km\n"
                f"kms4,2016-02-07,{time_text},39.66,124.705,500\n")
    json_text = json.dumps([{"event_id": "kms4", "date": "2016-02-07", "time": time_text,
                             "site_lat_deg": 39.66, "site_lon_deg": 124.705,
                             "range_km": 500}])
    for ev in (parse_events_csv(csv_text)[0], parse_events_json(json_text)[0]):
        assert ev.time_utc_ns == expected_ns
        assert ev.time_uncertainty_s == MINUTE_UNCERTAINTY_S
        assert "time_unknown" not in ev.flags


# -- 2. --spacing-km 0 or below ------------------------------------------------------
@pytest.mark.parametrize("spacing_km", [0.0, -10.0, float("nan")])
def test_polygon_spacing_that_is_not_positive_is_refused_by_name(spacing_km):
    """polygon_points(geom, 0) raised ZeroDivisionError (a traceback from
    `satwatch access --polygon F --spacing-km 0`); -10 km gave an empty
    interior grid and edges sampled only at the vertices, so the area was
    its four corners without a word; NaN raised a numpy ValueError.  A
    spacing is a positive length (docs/access.md: "edges every --spacing-km
    (10 km) and an interior grid")."""
    from satwatch.access import AccessError, polygon_points
    box = {"type": "Polygon", "coordinates": [[[130.3, 42.2], [130.8, 42.2], [130.8, 42.7],
                                               [130.3, 42.7], [130.3, 42.2]]]}
    with pytest.raises(AccessError, match="spacing_km"):
        polygon_points(box, spacing_km)


def test_cli_access_spacing_zero_is_one_error_line(iss_tle, box_geojson):
    """`satwatch access --polygon F --spacing-km 0` ended in a
    ZeroDivisionError traceback instead of one line naming the option."""
    result = _invoke(["access", "--polygon", box_geojson, "--spacing-km", "0",
                      "--catalog", iss_tle, "--start", WINDOW_START, "--hours", "2",
                      "--max-off-nadir", "30", "--workers", "1"])
    _one_error_line(result, "spacing")


# -- 3. elevation masks and sensor angles outside their ranges ------------------------
@pytest.mark.parametrize("option, value", [("min_elevation_deg", 120.0),
                                           ("min_elevation_deg", -100.0),
                                           ("min_sun_elevation_deg", 100.0),
                                           ("min_elevation_deg", float("nan"))])
def test_access_mask_outside_minus_90_to_90_is_refused(full_catalog, option, value):
    """An elevation is an angle above the horizon, in [-90, 90] deg (the
    passes command refuses --min-elevation outside it, and so does the API's
    access route).  find_access took sin() of the mask, so 120 deg was read
    as 60 deg (sin 120 = sin 60) and --min-sun-elevation 100 as 80: windows
    for another mask, without a word."""
    from satwatch.access import AccessError, find_access
    from satwatch.sites import find_site
    from satwatch.time import utc
    t0 = utc(WINDOW_START)
    kw = {"min_elevation_deg": 10.0} if option != "min_elevation_deg" else {}
    with pytest.raises(AccessError, match=option.replace("_deg", "").replace("_", " ")):
        find_access(full_catalog.select([ISS]), [find_site("SOHAE")], t0, t0 + 3600.0,
                    **kw, **{option: value})


def test_cli_access_min_elevation_120_is_one_error_line(iss_tle):
    result = _invoke(["access", "SOHAE", "--catalog", iss_tle, "--start", WINDOW_START,
                      "--hours", "2", "--min-elevation", "120", "--workers", "1"])
    _one_error_line(result, "elevation", "120")


@pytest.mark.parametrize("kw", [{"footprint_max_off_nadir_deg": 120.0},
                                {"footprint_max_off_nadir_deg": -10.0},
                                {"footprint_max_off_nadir_deg": 0.0},
                                {"footprint_min_elevation_deg": 95.0}])
def test_footprint_angles_outside_their_ranges_are_refused(full_catalog, kw):
    """The footprint's central angle lies in [0, acos(R/r)] (the horizon
    circle; SMAD sec. 5.2, lambda = 90 deg - eta - elevation with
    sin(eta) = R cos(elevation)/r).  For an off-nadir limit of 120 deg
    footprint_central_angle_rad gave arcsin(r/R sin 120 deg) - 120 deg =
    -52.6 deg for the ISS, and tracks_geojson drew a 52.6-deg circle; -10
    deg and an elevation mask of 95 deg gave negative angles too, and 0 deg
    a Point where docs/access.md promises Polygons.  They are refused,
    naming the option."""
    from satwatch.errors import SatwatchError
    from satwatch.time import utc_range, utc
    from satwatch.tracks import tracks_geojson
    t0 = utc(WINDOW_START)
    name = next(iter(kw)).replace("_deg", "").replace("_", " ")
    with pytest.raises(SatwatchError, match=name):
        tracks_geojson(full_catalog.select([ISS]), utc_range(t0, t0 + 600.0, 60.0), **kw)


def test_cli_track_footprint_off_nadir_120_is_one_error_line(iss_tle):
    result = _invoke(["track", str(ISS), "--catalog", iss_tle, "--start", WINDOW_START,
                      "--hours", "0.2", "--footprint-max-off-nadir", "120"])
    _one_error_line(result, "off-nadir", "120")


def test_footprint_inside_the_ranges_is_still_drawn(full_catalog):
    """Control for the refusals above: a 30 deg off-nadir footprint of the ISS
    is a Polygon whose ring lies at the closed-form central angle
    arcsin(r/R sin 30 deg) - 30 deg from the sub-satellite point (mean Earth
    radius, as tracks.footprint_ring; distances by pyproj's WGS-84 geodesic,
    which the ring is drawn with)."""
    from pyproj import Geod

    from satwatch.time import utc_range, utc
    from satwatch.tracks import EARTH_MEAN_RADIUS_KM, tracks_geojson
    ring_tolerance_km = 0.05          # the ring's 6-decimal rounding: < 0.1 m ... 0.05 km
    t0 = utc(WINDOW_START)
    doc = tracks_geojson(full_catalog.select([ISS]), utc_range(t0, t0 + 600.0, 60.0),
                         footprint_max_off_nadir_deg=30.0)
    fp = [f for f in doc["features"] if f["properties"]["kind"] == "footprint"][0]
    assert fp["geometry"]["type"] == "Polygon"
    p = fp["properties"]
    r_km = EARTH_MEAN_RADIUS_KM + p["alt_km"]
    lam = np.arcsin(r_km / EARTH_MEAN_RADIUS_KM * np.sin(np.radians(30.0))) - np.radians(30.0)
    ring = np.array(fp["geometry"]["coordinates"][0])
    _, _, d_m = Geod(ellps="WGS84").inv(np.full(len(ring), p["sub_lon_deg"]),
                                        np.full(len(ring), p["sub_lat_deg"]),
                                        ring[:, 0], ring[:, 1])
    assert np.allclose(np.asarray(d_m) / 1000.0, lam * EARTH_MEAN_RADIUS_KM,
                       atol=ring_tolerance_km)


# -- 4. event analyze / launch reach: bad numbers -------------------------------------
@pytest.mark.parametrize("args, option", [
    (["--range-km", "-650"], "--range-km"),
    (["--range-km", "0", "--bearing-deg", "74"], "--range-km"),
    (["--range-km", "650", "--apogee-km", "-5", "--bearing-deg", "74"], "--apogee-km"),
    (["--range-km", "650", "--bearing-deg", "nan"], "--bearing-deg"),
])
def test_event_analyze_bad_report_numbers_are_refused_by_name(user_dirs, args, option):
    """A reported range is a positive distance and an apogee a positive
    height (docs/launches.md; the importers refuse negative ones naming the
    field).  `event analyze --site SUNAN --range-km -650` printed a row of
    dashes and '72 bearings without a solution' (exit 0), --apogee-km -5
    'invalid input', and --bearing-deg nan was silently read as 'bearing
    unknown' (a ring of 72 bearings)."""
    result = _invoke(["event", "analyze", "--site", "SUNAN", *args])
    _one_error_line(result, option)


@pytest.mark.parametrize("option", ["--azimuth-min", "--azimuth-max"])
def test_launch_reach_nan_azimuth_is_one_error_line(user_dirs, option):
    result = _invoke(["launch", "reach", "SOHAE", option, "nan"])
    _one_error_line(result, option)


# -- 5. the flags column of our own CSV ----------------------------------------------
def test_cns_log_written_to_csv_and_read_back_keeps_its_flags(reference_data):
    """events_to_csv writes a `flags` column ("re-readable by
    parse_events_csv"), and the reader takes the column -- and dropped it.
    The CNS log written out and read back lost `manoeuvring_vehicle` on
    every pull-up/glide missile (missile.en.json's "maneuver" entries, the
    outside reference here), so their analyses no longer said that the
    Keplerian arc is not what such a vehicle flies."""
    from satwatch.reported_events import events_to_csv, parse_cns, parse_events_csv
    ev = reference_data / "events"
    missiles = json.loads((ev / "missile.en.json").read_text())
    records = [r for b in json.loads((ev / "test.en.json").read_text())["timeBins"]
               for r in b["data"]]
    events = parse_cns((ev / "test.en.json").read_text(), (ev / "facility.en.json").read_text(),
                       (ev / "missile.en.json").read_text())

    def no_lookup(code):
        raise AssertionError(f"every CNS row carries its coordinates; looked up {code}")
    back = parse_events_csv(events_to_csv(events), "log.csv", no_lookup)
    manoeuvring = [bool(missiles.get(r["missile"], {}).get("maneuver") or r.get("glide"))
                   for r in records]
    assert sum(manoeuvring) > 50                      # the file's pull-up and glide flights
    for rec_manoeuvres, before, after in zip(manoeuvring, events, back):
        assert ("manoeuvring_vehicle" in after.flags) == rec_manoeuvres, after.event_id
        assert set(before.flags) <= set(after.flags), after.event_id


def test_missile_arc_across_the_antimeridian_is_split_there():
    """An arc crossing +-180 deg is a MultiLineString cut there (RFC 7946
    sec. 3.1.9), as the impact ring and ground tracks are; one LineString
    made flat maps draw it across the whole world.  Reference: the
    geodesic from the site on the reported bearing (pyproj.Geod, WGS-84)
    ends east of 180 deg, so the path crosses the antimeridian once; the
    two parts meet there (same latitude and altitude at +180 and -180)."""
    import pyproj
    from satwatch.reported_events import analysis_geojson, analyze
    lat, lon, range_km, bearing = 40.6, 126.0, 8000.0, 60.0
    end_lon, _, _ = pyproj.Geod(ellps="WGS84").fwd(lon, lat, bearing, range_km * 1e3)
    assert end_lon < 0                      # the reference path does cross +-180 deg
    gj = analysis_geojson(analyze(lat, lon, range_km, 1500.0, bearing))
    arc = next(f["geometry"] for f in gj["features"] if f["properties"]["role"] == "arc")
    assert arc["type"] == "MultiLineString" and len(arc["coordinates"]) == 2
    west, east = arc["coordinates"]
    for part in (west, east):
        step = np.abs(np.diff([c[0] for c in part]))
        assert step.max() < 180.0
    assert west[0][:2] == pytest.approx([lon, lat], abs=1e-6)
    assert west[-1][0] == 180.0 and east[0][0] == -180.0
    assert west[-1][1:] == east[0][1:]          # the parts meet: latitude and altitude
    assert east[-1][0] == pytest.approx(end_lon, abs=0.5)


def test_area_written_across_the_antimeridian_is_the_small_area():
    """A box written 179.5 E -> 179.5 W (not cut at +-180 deg as RFC 7946
    sec. 3.1.9 recommends, as many writers leave it) is the 1-deg box
    across the antimeridian, not a band 359 deg wide round the other way
    (which the service refused as too many points).  Reference: the same
    box cut as RFC 7946 sec. 3.1.9 asks, a MultiPolygon of 179.5..180 E and
    180..179.5 W: the same sample points."""
    from satwatch.access import polygon_points
    written = {"type": "Polygon", "coordinates": [[[179.5, 50], [-179.5, 50], [-179.5, 51],
                                                   [179.5, 51], [179.5, 50]]]}
    cut = {"type": "MultiPolygon", "coordinates": [
        [[[179.5, 50], [180, 50], [180, 51], [179.5, 51], [179.5, 50]]],
        [[[-180, 50], [-179.5, 50], [-179.5, 51], [-180, 51], [-180, 50]]]]}

    def points(geometry):
        return {(round(p.lat_deg, 6), round(p.lon_deg, 6)) for p in polygon_points(geometry, 10.0)}
    assert points(written) == points(cut)
    assert all(abs(lon) >= 179.5 for _, lon in points(written))
