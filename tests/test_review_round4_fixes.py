"""Review round 4, the fixes of five findings in the core (tracks, decay
status, event import's sites, access polygons, zones given as geometry
collections): more cases than the review's own tests in
tests/test_review_round4_cli.py, each against an outside reference named
beside it (closed forms, Skyfield, RFC 7946, the reference data).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from satwatch.cli import app

# the review's user (conftest.user_dirs): its own data folder, no SATWATCH_DB

ISS = 25544


def _invoke(args, **kw):
    return CliRunner().invoke(app, [str(a) for a in args], **kw)


def _iss_tle(reference_data, tmp_path):
    """The ISS's three lines of the 2023-10-13 catalog (epoch 2023-10-09), as a file."""
    lines = (reference_data / "catalogs" / "full-3le-2023-10-13.txt").read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith(f"1 {ISS}"))
    path = tmp_path / "iss.tle"
    path.write_text("\n".join(lines[k - 1:k + 2]) + "\n")
    return path


# -- 1. ground tracks meet at the antimeridian -----------------------------------------
def test_antimeridian_split_keeps_every_sample_and_adds_the_crossings():
    """Every finite sample is kept, in order; each jump over +-180 adds the
    crossing to both parts (RFC 7946 sec. 3.1.9), with the latitude of the
    straight line between the samples (closed form: 2 + 0.5/1.5 * 1)."""
    from satwatch.tracks import split_antimeridian
    lon = np.array([170.0, 175.0, 179.5, -179.0, -170.0, np.nan, -160.0, -150.0])
    lat = np.arange(8.0)
    segs = split_antimeridian(lon, lat)
    assert [len(s) for s in segs] == [4, 3, 2]
    samples = [p for s in segs for p in s if abs(p[0]) != 180.0]
    assert samples == [[x, y] for x, y in zip(lon, lat) if np.isfinite(x)]
    assert segs[0][-1] == [180.0, pytest.approx(2.0 + 0.5 / 1.5, abs=1e-6)]
    assert segs[1][0] == [-180.0, segs[0][-1][1]]
    for s in segs:
        assert np.all(np.abs(np.diff([p[0] for p in s])) <= 180.0)


def test_antimeridian_split_westward_and_on_the_meridian():
    """Going west the first part ends at -180 and the next starts at +180;
    a sample lying on the meridian is itself the crossing (not doubled)."""
    from satwatch.tracks import split_antimeridian
    west = split_antimeridian([-170.0, -178.0, 176.0], [0.0, 1.0, 4.0])
    # closed form: 1 + (2 / 6) * 3 at the meridian
    assert west == [[[-170.0, 0.0], [-178.0, 1.0], [-180.0, 2.0]],
                    [[180.0, 2.0], [176.0, 4.0]]]
    on = split_antimeridian([179.0, 180.0, -175.0], [0.0, 1.0, 2.0])
    assert on == [[[179.0, 0.0], [180.0, 1.0]], [[-180.0, 1.0], [-175.0, 2.0]]]


# Skyfield's subpoints agree with ours to 30 m (tests/test_tracks.py), 3e-4
# deg; the chord over one 10-s step (0.65 deg of orbit) departs from the
# track by at most i * (omega * dt)^2 / 8 = 51.6 deg * (2 pi 10 / 5560)^2 / 8
# = 8e-4 deg: 0.003 deg leaves room for longitude not being linear in time.
CROSSING_LAT_TOL_DEG = 0.003


def test_iss_ground_track_parts_meet_where_skyfield_crosses(reference_data, tmp_path):
    """Reference: Skyfield's wgs84.subpoint_of for the same TLE; the time of
    each crossing of +-180 deg found by bisection on its longitude."""
    import satwatch
    from satwatch.time import utc, utc_range
    from satwatch.tracks import tracks_geojson
    sf = pytest.importorskip("skyfield.api")
    path = _iss_tle(reference_data, tmp_path)
    t0 = utc("2023-10-13T00:00:00Z")
    times = utc_range(t0, t0 + 3 * 5560.0, 10.0)
    parts = tracks_geojson(satwatch.load_catalog(path), times)["features"][0][
        "geometry"]["coordinates"]
    assert sum(map(len, parts)) == len(times) + 2 * (len(parts) - 1)
    ts = sf.load.timescale(builtin=True)
    _, l1, l2 = path.read_text().splitlines()
    sat = sf.EarthSatellite(l1, l2, "ISS", ts)
    jd = ts.from_datetimes(times.to_datetime()).tt
    lon = sf.wgs84.subpoint_of(sat.at(ts.tt_jd(jd))).longitude.degrees
    jumps = np.flatnonzero(np.abs(np.diff(lon)) > 180.0)
    assert len(jumps) == len(parts) - 1 >= 2
    for j, first, second in zip(jumps, parts[:-1], parts[1:]):
        lo, hi = jd[j], jd[j + 1]
        for _ in range(40):                      # 10 s / 2^40: far below a metre
            mid = (lo + hi) / 2
            east = sf.wgs84.subpoint_of(sat.at(ts.tt_jd(mid))).longitude.degrees > 0
            lo, hi = (mid, hi) if east else (lo, mid)
        want = sf.wgs84.subpoint_of(sat.at(ts.tt_jd(lo))).latitude.degrees
        assert first[-1][0] == 180.0 and second[0][0] == -180.0      # eastward orbit
        assert first[-1][1] == second[0][1]
        assert first[-1][1] == pytest.approx(want, abs=CROSSING_LAT_TOL_DEG)


# -- 2. a decay rate needs two epochs -------------------------------------------------
T_NS = 1_697_155_200 * 10**9                         # 2023-10-13T00:00:00Z
DAY_NS = 86_400 * 10**9


def test_decay_status_without_two_epochs_is_no_trend():
    """One set, or two of the same epoch: rate and time left unknown (NaN),
    status 'no trend' for a high orbit; a low perigee alone (180 km, apogee
    under 1,000 km: maneuvers.REENTRY_*) still says re-entering."""
    from satwatch.maneuvers import decay_status
    high = decay_status([T_NS], [15.5], [0.0005], at_ns=T_NS)
    assert np.isnan(high.decay_rate_km_day) and np.isnan(high.days_to_reentry)
    assert high.status == "no trend"
    same = decay_status([T_NS, T_NS], [15.5, 15.6], [0.0005, 0.0005], at_ns=T_NS)
    assert np.isnan(same.decay_rate_km_day) and same.status == "no trend"
    # n = 16.35 rev/day: a = 6,558 km (Kepler's third law), perigee 177 km
    low = decay_status([T_NS], [16.35], [0.0005], at_ns=T_NS)
    assert low.perigee_alt_km < 180 and low.status == "reentering"


def test_decay_status_of_two_epochs_is_their_slope():
    """Closed form: two sets a day apart, a from n by Kepler's third law
    (WGS-72 mu, as maneuvers.semi_major_axis_km): the rate is the difference."""
    from satwatch.maneuvers import MU_KM3_S2, decay_status
    n = np.array([15.50, 15.51])
    a = (MU_KM3_S2 / (n * 2 * np.pi / 86_400.0) ** 2) ** (1 / 3)
    st = decay_status([T_NS - DAY_NS, T_NS], n, [0.0005, 0.0005], at_ns=T_NS)
    assert st.decay_rate_km_day == pytest.approx(a[1] - a[0], rel=1e-9)
    assert st.status != "no trend"


def test_decays_lists_no_trend_objects_only_with_all(reference_data, user_dirs):
    """`satwatch decays` without --all hides stable and no-trend objects
    (fresh, not low): one set of the ISS (perigee ~415 km) is neither listed
    nor a crash; with --all it is, with no rate."""
    path = _iss_tle(reference_data, user_dirs)
    db = f"sqlite:///{user_dirs / 'd.db'}"
    assert _invoke(["ingest", path, "--db", db]).exit_code == 0
    at = ["--at", "2023-10-10T00:00:00Z"]
    out = _invoke(["decays", "--db", db, *at, "-f", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == []
    out = _invoke(["decays", "--db", db, *at, "--all", "-f", "json"])
    assert out.exit_code == 0, out.output
    row, = json.loads(out.stdout)
    assert row["status"] == "no trend" and row["decay_rate_km_day"] is None


# -- 3. event import finds your own sites ---------------------------------------------
EVENT_CSV = ("event_id,date,time,site,range_km,apogee_km,bearing_deg,outcome\n"
             "e1,2023-07-12,00:59,PAD2,1001,6648,62,success\n")


def test_event_import_and_analyze_read_a_sites_file(user_dirs):
    """`--sites FILE` for `event import` and `event analyze --events FILE`;
    the coordinates are those of the file, not of any built-in site."""
    sites = user_dirs / "mine.csv"
    sites.write_text("code,name,lat_deg,lon_deg,alt_m\nPAD2,Pad two,39.66,124.705,0\n")
    events = user_dirs / "events.csv"
    events.write_text(EVENT_CSV)
    db = f"sqlite:///{user_dirs / 'e.db'}"
    out = _invoke(["event", "import", events, "--sites", sites, "--db", db, "-f", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["analyzable"] == 1
    out = _invoke(["event", "list", "--db", db, "-f", "json"])
    assert out.exit_code == 0, out.output
    out = _invoke(["event", "analyze", "e1", "--db", db, "-f", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["site_lat_deg"] == 39.66         # one event: one object
    out = _invoke(["event", "analyze", "e1", "--events", events, "--sites", sites, "-f", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["site_lon_deg"] == 124.705


def test_event_import_of_an_unknown_site_names_the_file_and_line(user_dirs):
    events = user_dirs / "events.csv"
    events.write_text(EVENT_CSV)
    out = _invoke(["event", "import", events, "--db", f"sqlite:///{user_dirs / 'e.db'}"])
    assert out.exit_code != 0
    assert "events.csv, record 2, field site" in out.stderr and "PAD2" in out.stderr


# -- 4. access polygons that break RFC 7946 sec. 3.1.6 ------------------------------------
@pytest.mark.parametrize("coords, words", [
    ([[[130.5, 42.35], [130.7, 42.35]]], "2 position"),                       # too few
    ([[[130.5, 42.35], [130.7, 42.35], [130.7, 42.5], [130.5, 42.5]]], "not closed"),
    ([[[130.5, 42.35], [130.6, 42.35], [130.7, 42.35], [130.5, 42.35]]], "no area"),
    ([[[130.5, 42.35], [130.7, 42.35], [130.7, 95.0], [130.5, 42.35]]], "latitude"),
])
def test_access_polygon_rings_against_rfc7946(coords, words):
    from satwatch.access import AccessError, targets_from_geojson
    with pytest.raises(AccessError) as err:
        targets_from_geojson(json.dumps({"type": "Polygon", "coordinates": coords}),
                             "bad.geojson")
    assert str(err.value).startswith("bad.geojson: features[0].geometry: coordinates")
    assert words in str(err.value)


def test_access_multipolygon_names_the_bad_polygon():
    from satwatch.access import AccessError, targets_from_geojson
    good = [[[130.5, 42.35], [130.7, 42.35], [130.7, 42.5], [130.5, 42.35]]]
    doc = {"type": "Feature", "properties": {"name": "two"},
           "geometry": {"type": "MultiPolygon",
                        "coordinates": [good, [[[131.0, 42.0], [131.1, 42.0]]]]}}
    with pytest.raises(AccessError, match=r"features\[0\].geometry: coordinates\[1\]\[0\]"):
        targets_from_geojson(json.dumps({"type": "FeatureCollection", "features": [doc]}),
                             "two.geojson")
    (t,) = targets_from_geojson(json.dumps({"type": "MultiPolygon", "coordinates": [good]}),
                                "one.geojson")
    assert len(t.points) >= 3


# -- 5. zones given as geometry collections ---------------------------------------------
def test_zone_collection_boundary_is_that_of_its_polygons():
    """A GeometryCollection of a polygon and a stray line (what shapely's
    make_valid gives for Natural Earth's countries): the boundary is the
    polygon's; reference: pyproj's geodesic to the 130 E edge, 1e-4 deg
    samples (the line at 131.5 E is nearer, and must not count)."""
    from pyproj import Geod
    from shapely.geometry import GeometryCollection, LineString, box

    from satwatch.zones import Zone, ZoneSet
    lat = np.linspace(40.0, 42.0, 20001)
    _, _, d_m = Geod(ellps="WGS84").inv(np.full(lat.size, 130.6), np.full(lat.size, 41.0),
                                        np.full(lat.size, 130.0), lat)
    geom = GeometryCollection([box(130.0, 40.0, 132.0, 42.0),
                               LineString([(130.7, 40.5), (130.7, 41.5)])])
    got = ZoneSet([Zone("Square", "country", geom)]).describe_point(41.0, 130.6)
    assert got["zones"] == ["Square"]
    assert got["distance_to_boundary_km"] == pytest.approx(d_m.min() / 1e3, abs=0.1)


def test_event_analyze_with_natural_earth_10m_countries(reference_data):
    """countries-10m.json (../shared/data/geo) reads Indonesia, India, China
    ... as geometry collections: an impact 500 km due west of Sohae (39.66 N
    124.71 E) falls near 39.5 N 118.9 E, in China's Hebei, which must be
    named with its distance to the border, not a traceback."""
    out = _invoke(["event", "analyze", "--site", "SOHAE", "--range-km", "500",
                   "--bearing-deg", "270", "--zones",
                   reference_data / "geo" / "countries-10m.json", "-f", "json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["zones"] == ["China"] and doc["distance_to_boundary_km"] > 0
