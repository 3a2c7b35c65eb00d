"""The REST API, in-process (FastAPI's TestClient) and against the real
server (``satwatch serve`` under uvicorn on loopback, in a subprocess).

References: Skyfield (an independent SGP4 + TEME->ITRS->WGS-84 chain) for
positions, tracks and footprint edges; the catalog file itself (counted
directly) for listing and paging.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

import satwatch
from satwatch.web import Settings, create_app

from conftest import catalog_records, start_satwatch_serve

TOKEN = "api-test-token"
AT = "2023-10-13T00:00:00Z"
IDS = [25544, 48274, 20580]          # ISS, Tianhe, HST
# Skyfield and satwatch share SGP4 but not the frame chain; they agree to a few
# metres; 1e-3 deg (~100 m) is far above that and far below any use here.
LATLON_TOL_DEG = 1e-3
ALT_TOL_KM = 0.1
# The footprint uses a sphere of the equatorial radius: the edge elevation is
# within a few tenths of a degree of the asked-for one on the WGS-84 ellipsoid.
FOOTPRINT_ELEVATION_TOL_DEG = 0.6


@pytest.fixture(scope="module")
def sample_path(full_catalog_path, tmp_path_factory) -> Path:
    """The first 400 objects of the 2023-10-13 catalog plus the three above."""
    keep = catalog_records(full_catalog_path, IDS, first=400)
    path = tmp_path_factory.mktemp("api") / "sample.tle"
    path.write_text("\n".join(keep) + "\n")
    return path


@pytest.fixture(scope="module")
def sample(sample_path):
    return satwatch.load_catalog(sample_path)


@pytest.fixture(scope="module")
def client(sample, tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "api.sqlite"
    app = create_app(Settings(catalog=sample, db_url=f"sqlite:///{db}", api_tokens=[TOKEN]))
    with TestClient(app) as c:
        yield c


def skyfield_subpoints(catalog, ids, times_iso):
    from skyfield.api import EarthSatellite, load, wgs84
    ts = load.timescale(builtin=True)
    t = ts.from_datetimes([dt.datetime.fromisoformat(x.replace("Z", "+00:00"))
                           for x in times_iso])
    out = {}
    for n in ids:
        es = catalog[n]
        l1, l2 = es.source_text.strip().splitlines()[-2:]
        sat = EarthSatellite(l1, l2, ts=ts)
        sub = wgs84.geographic_position_of(sat.at(t))
        out[n] = (sub.latitude.degrees, sub.longitude.degrees, sub.elevation.km, sat, ts)
    return out


def lon_diff(a, b):
    return (np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0


# -- in-process --------------------------------------------------------------------------
def test_positions_match_skyfield(client, sample):
    r = client.get("/api/v1/positions", params={"ids": ",".join(map(str, IDS)), "at": AT})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["norad_id"] == IDS and body["at"].startswith("2023-10-13T00:00:00")
    ref = skyfield_subpoints(sample, IDS, [AT])
    for i, n in enumerate(IDS):
        lat, lon, alt = ref[n][0][0], ref[n][1][0], ref[n][2][0]
        assert abs(body["lat_deg"][i] - lat) < LATLON_TOL_DEG
        assert abs(lon_diff(body["lon_deg"][i], lon)) < LATLON_TOL_DEG
        assert abs(body["alt_km"][i] - alt) < ALT_TOL_KM
        assert body["error"][i] == 0


def test_many_positions_match_skyfield(client, sample):
    """250 objects, asked twice (the second answer comes from the cache)."""
    ids = [int(n) for n in sample.norad_ids[:247]] + IDS
    r = client.get("/api/v1/positions", params={"ids": ",".join(map(str, ids)), "at": AT})
    body = r.json()
    assert r.status_code == 200 and body["norad_id"] == ids
    again = client.get("/api/v1/positions", params={"ids": ",".join(map(str, ids)), "at": AT})
    assert again.json() == body
    check = ids[::25] + IDS
    ref = skyfield_subpoints(sample, check, [AT])
    for n in check:
        i = ids.index(n)
        if body["error"][i]:
            assert body["lat_deg"][i] is None
            continue
        assert abs(body["lat_deg"][i] - ref[n][0][0]) < LATLON_TOL_DEG
        assert abs(lon_diff(body["lon_deg"][i], ref[n][1][0])) < LATLON_TOL_DEG


def test_tracks_match_skyfield(client, sample):
    r = client.get("/api/v1/tracks", params={"ids": "25544", "start": AT,
                                             "duration_s": 3600, "step_s": 600})
    body = r.json()
    assert r.status_code == 200 and len(body["times"]) == 7
    ref = skyfield_subpoints(sample, [25544], body["times"])[25544]
    track = body["tracks"][0]
    assert np.max(np.abs(np.array(track["lat_deg"]) - ref[0])) < LATLON_TOL_DEG
    assert np.max(np.abs(lon_diff(track["lon_deg"], ref[1]))) < LATLON_TOL_DEG


@pytest.mark.parametrize("min_elevation_deg", [0.0, 10.0])
def test_footprint_edge_is_at_min_elevation(client, sample, min_elevation_deg):
    """A ground point at the footprint's radius from the sub-satellite point
    sees the object at min_elevation_deg (Skyfield's alt-az)."""
    from skyfield.api import wgs84
    body = client.get("/api/v1/footprints", params={
        "ids": "25544", "at": AT, "min_elevation_deg": min_elevation_deg}).json()
    fp = body["footprints"][0]
    assert 5 < fp["radius_deg"] < 25
    lat0, lon0, radius = map(np.radians, (fp["lat_deg"], fp["lon_deg"], fp["radius_deg"]))
    _, _, _, sat, ts = skyfield_subpoints(sample, [25544], [AT])[25544]
    t = ts.from_datetime(dt.datetime(2023, 10, 13, tzinfo=dt.timezone.utc))
    for bearing in np.radians([0.0, 90.0, 200.0]):
        lat = np.arcsin(np.sin(lat0) * np.cos(radius)
                        + np.cos(lat0) * np.sin(radius) * np.cos(bearing))
        lon = lon0 + np.arctan2(np.sin(bearing) * np.sin(radius) * np.cos(lat0),
                                np.cos(radius) - np.sin(lat0) * np.sin(lat))
        observer = wgs84.latlon(np.degrees(lat), np.degrees(lon))
        alt, _, _ = (sat - observer).at(t).altaz()
        assert abs(alt.degrees - min_elevation_deg) < FOOTPRINT_ELEVATION_TOL_DEG


def test_objects_paging_walks_whole_list(client, sample_path):
    # Brute force: names in the file that contain "DEB".
    lines = sample_path.read_text().splitlines()
    names = [lines[i][2:].strip() for i in range(0, len(lines), 3)]
    expected = sorted({int(lines[i + 1][2:7]) for i in range(0, len(lines), 3)
                       if "DEB" in names[i // 3].upper()})
    seen, url, pages = [], "/api/v1/objects?name=DEB&limit=25", 0
    while url:
        body = client.get(url).json()
        seen += [o["norad_id"] for o in body["items"]]
        assert body["total"] == len(expected)
        url = body["next"]
        pages += 1
    assert sorted(seen) == expected and pages == -(-len(expected) // 25)


def test_object_and_tle(client, sample):
    body = client.get("/api/v1/objects/25544").json()
    assert body["name"] == "ISS (ZARYA)" and body["intl_designator"] == "1998-067A"
    tle = client.get("/api/v1/objects/25544/tle").text.splitlines()
    assert tle[-2].startswith("1 25544U") and tle[-1].startswith("2 25544")


def test_errors_use_one_envelope(client):
    for url, status, code in [("/api/v1/objects/999999", 404, "not_found"),
                              ("/api/v1/nowhere", 404, "not_found"),
                              ("/api/v1/objects/abc", 422, "validation_error"),
                              ("/api/v1/positions?ids=25544&at=yesterday", 422,
                               "validation_error"),
                              ("/api/v1/positions?ids=25544,1", 404, "not_found"),
                              ("/api/v1/objects?limit=0", 422, "validation_error")]:
        r = client.get(url)
        assert r.status_code == status, (url, r.text)
        err = r.json()["error"]
        assert err["code"] == code and err["message"] and "details" in err
    r = client.put("/api/v1/catalog")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"


def test_rules_crud(client):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    rule = {"kind": "pass", "name": "ISS over Baikonur", "norad_ids": [25544],
            "site": "BAIKONUR", "radius_km": 800}
    created = client.post("/api/v1/rules", json=rule, headers=headers)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    # The site came from the registry (GCAT coordinates of Baikonur, ~45.9 N 63.3 E).
    assert abs(created.json()["site_lat_deg"] - 45.9) < 0.3
    assert client.get(f"/api/v1/rules/{rid}", headers=headers).json()["name"] == rule["name"]
    assert client.delete(f"/api/v1/rules/{rid}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/rules/{rid}", headers=headers).status_code == 404


def test_openapi_lists_every_capability(client):
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for p in ["/api/v1/positions", "/api/v1/tracks", "/api/v1/footprints", "/api/v1/objects",
              "/api/v1/rules", "/api/v1/alerts", "/api/v1/feed", "/api/v1/ingest",
              "/api/v1/sites"]:
        assert p in paths


# -- the real server ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(sample_path, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    env = dict(os.environ, SATWATCH_API_TOKENS=f"other,{TOKEN}",
               SATWATCH_CACHE_DIR=str(tmp / "cache"), SATWATCH_DATA_DIR=str(tmp / "data"))
    proc, url = start_satwatch_serve(
        ["--db", f"sqlite:///{tmp / 's.sqlite'}", "--catalog", sample_path,
         "--log-level", "warning"], env)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_real_server_positions_and_rules(server, sample):
    r = httpx.get(server + "/api/v1/positions", params={"ids": "25544", "at": AT})
    assert r.status_code == 200
    ref = skyfield_subpoints(sample, [25544], [AT])[25544]
    assert abs(r.json()["lat_deg"][0] - ref[0][0]) < LATLON_TOL_DEG
    health = httpx.get(server + "/api/v1/health").json()
    assert health["objects"] == len(sample)
    rule = {"kind": "maneuver", "norad_ids": [25544]}
    assert httpx.post(server + "/api/v1/rules", json=rule).status_code == 401
    r = httpx.post(server + "/api/v1/rules", json=rule,
                   headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 201
    assert httpx.get(server + "/openapi.json").json()["info"]["title"] == "satwatch"
    missing = httpx.get(server + "/api/v1/objects/424242")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_real_server_serves_the_page(server):
    r = httpx.get(server + "/")
    if r.status_code == 503:
        pytest.skip("the page is not built (npm ci && npm run build in satwatch/web)")
    assert r.status_code == 200 and "<svg id=\"map\"" in r.text
    js = httpx.get(server + "/static/app.js")
    assert js.status_code == 200 and len(js.content) > 50_000   # d3-geo + the world map
    assert "cdn" not in r.text.lower() and "https://" not in r.text


# -- capabilities wired in from their modules ----------------------------------------------
# Skyfield's find_events and satwatch.passes share SGP4 and GMST-82; they
# differ by polar motion (~10 m at the site): rise/set agree to well under 1 s.
PASS_TIME_TOL_S = 1.0


def test_site_passes_match_skyfield(client, sample):
    pytest.importorskip("satwatch.passes")
    from skyfield.api import wgs84
    r = client.get("/api/v1/sites/BAIKONUR/passes", params={
        "ids": "25544", "start": AT, "hours": 24, "min_elevation_deg": 10})
    assert r.status_code == 200, r.text
    body = r.json()
    site = body["site"]
    _, _, _, sat, ts = skyfield_subpoints(sample, [25544], [AT])[25544]
    topos = wgs84.latlon(site["lat_deg"], site["lon_deg"], site["alt_m"])
    t0 = ts.from_datetime(dt.datetime(2023, 10, 13, tzinfo=dt.timezone.utc))
    t, kind = sat.find_events(topos, t0, t0 + 1.0, altitude_degrees=10.0)
    rises = [x.utc_datetime() for x, k in zip(t, kind) if k == 0]
    sets = [x.utc_datetime() for x, k in zip(t, kind) if k == 2]
    full = [p for p in body["passes"] if not p["rise_partial"] and not p["set_partial"]]
    assert len(full) == len(rises) > 0
    for p, rise, st in zip(full, rises, sets):
        got_rise = dt.datetime.fromisoformat(p["rise_time"].replace("Z", "+00:00"))
        got_set = dt.datetime.fromisoformat(p["set_time"].replace("Z", "+00:00"))
        assert abs((got_rise - rise).total_seconds()) < PASS_TIME_TOL_S
        assert abs((got_set - st).total_seconds()) < PASS_TIME_TOL_S


def test_passes_are_bounded(client):
    r = client.get("/api/v1/sites/BAIKONUR/passes", params={"ids": "25544", "hours": 24 * 30})
    assert r.status_code == 422 and r.json()["error"]["code"] == "limit_exceeded"
    r = client.get("/api/v1/sites/NO-SUCH-SITE/passes", params={"ids": "25544"})
    assert r.status_code == 404


@pytest.fixture(scope="module")
def events_client(sample, reference_data, tmp_path_factory):
    pytest.importorskip("satwatch.reported_events")
    db = tmp_path_factory.mktemp("ev") / "ev.sqlite"
    geo = reference_data / "geo"
    app = create_app(Settings(catalog=sample, db_url=f"sqlite:///{db}", api_tokens=[TOKEN],
                              events_source=str(reference_data / "events"),
                              zones_paths=[str(geo / "gfw_nk_eez_prk.json"),
                                           str(geo / "gfw_ocean_areas_eezs_simplified.json")]))
    with TestClient(app) as c:
        yield c


def test_events_list_and_analysis(events_client, reference_data):
    raw = json.loads((reference_data / "events" / "test.en.json").read_text())
    n_records = sum(len(b["data"]) for b in raw["timeBins"])     # counted in the file
    body = events_client.get("/api/v1/events", params={"limit": 500}).json()
    assert body["total"] == n_records
    ids = [e["id"] for e in body["items"]]
    assert len(set(ids)) == len(ids)
    # 2017-08-28: Hwasong-12 from Sunan (Pyongyang airport) over Hokkaido into
    # the Pacific (Japan MoD: ~2,700 km, east of Cape Erimo): the impact is
    # outside North Korea's zones and east of Japan.
    a = events_client.get("/api/v1/events/cns-2017-08-28-1/analysis").json()
    assert a["impact"]["lon_deg"] > 145.0
    assert not any("North Korea" in z for z in a["analysis"]["zones"])
    assert a["arc"]["type"] == "LineString" and len(a["arc"]["coordinates"]) > 10


def test_events_post_needs_token_and_is_served(events_client):
    event = {"event_id": "test-2024-1", "date": "2024-05-27", "time_utc": "2024-05-27T14:44:00Z",
             "kind": "launch", "vehicle": "test vehicle", "site": "SOHAE", "range_km": 400,
             "bearing_deg": 180}
    assert events_client.post("/api/v1/events", json={"events": [event]}).status_code == 401
    r = events_client.post("/api/v1/events", json={"events": [event]},
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 201, r.text
    again = events_client.post("/api/v1/events", json={"events": [event]},
                               headers={"Authorization": f"Bearer {TOKEN}"})
    assert again.status_code == 409
    got = events_client.get("/api/v1/events/test-2024-1").json()
    assert got["vehicle"] == "test vehicle" and abs(got["site_lat_deg"] - 39.66) < 0.2
    feed = events_client.get("/api/v1/feed", params={"limit": 500}).json()
    assert any(i["id"] == "event:test-2024-1" and i["kind"] == "launch" for i in feed["items"])


def test_event_arc_across_the_antimeridian_is_served_in_parts(events_client):
    """A reported flight whose arc crosses +-180 deg: the analysis serves it
    as a MultiLineString cut there (RFC 7946 sec. 3.1.9), lon/lat only.
    Reference: the WGS-84 geodesic from Sohae (39.66 N, 124.705 E) on
    bearing 60 deg for 8,000 km ends at 141.0 W (pyproj.Geod.fwd)."""
    import pyproj
    end_lon, _, _ = pyproj.Geod(ellps="WGS84").fwd(124.705, 39.66, 60.0, 8000e3)
    assert end_lon < 0
    event = {"event_id": "test-dateline-1", "date": "2024-05-27", "kind": "missile",
             "site": "SOHAE", "range_km": 8000, "apogee_km": 1500, "bearing_deg": 60}
    r = events_client.post("/api/v1/events", json={"events": [event]},
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 201, r.text
    arc = events_client.get("/api/v1/events/test-dateline-1/analysis").json()["arc"]
    assert arc["type"] == "MultiLineString" and len(arc["coordinates"]) == 2
    west, east = arc["coordinates"]
    assert all(len(c) == 2 for part in arc["coordinates"] for c in part)
    assert west[-1] == [180.0, east[0][1]] and east[0][0] == -180.0
    assert abs(east[-1][0] - end_lon) < 0.5


def test_event_without_bearing_says_its_arc_is_an_example(events_client):
    """With the bearing unknown the analysis's arc is an example along the
    ring's bearing nearest due east (the ring steps 5 deg), said in
    arc_example_bearing_deg; with a bearing it is the flight's path (null)."""
    events = [{"event_id": "test-nobearing-1", "date": "2024-05-27", "kind": "missile",
               "site": "SOHAE", "range_km": 650, "apogee_km": 50},
              {"event_id": "test-bearing-1", "date": "2024-05-27", "kind": "missile",
               "site": "SOHAE", "range_km": 650, "apogee_km": 50, "bearing_deg": 74}]
    r = events_client.post("/api/v1/events", json={"events": events},
                           headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 201, r.text
    a = events_client.get("/api/v1/events/test-nobearing-1/analysis").json()
    assert a["arc_example_bearing_deg"] is not None
    assert abs(a["arc_example_bearing_deg"] - 90.0) <= 2.5
    assert a["impact_ring"] is not None
    b = events_client.get("/api/v1/events/test-bearing-1/analysis").json()
    assert b["arc_example_bearing_deg"] is None

def test_site_reach_minimum_inclination(client):
    """Direct ascent reaches no inclination below the site's geocentric
    latitude (Vallado 4th ed. eq. 6-23 with azimuth due east)."""
    pytest.importorskip("satwatch.launches")
    site = client.get("/api/v1/sites/BAIKONUR").json()
    r = client.get("/api/v1/sites/BAIKONUR/reach").json()
    e2 = 6.69437999014e-3                                   # WGS-84
    lat_c = np.degrees(np.arctan((1 - e2) * np.tan(np.radians(site["lat_deg"]))))
    assert abs(r["inclination_min_deg"] - lat_c) < 0.05
    assert abs(r["inclination_max_deg"] - (180 - lat_c)) < 0.05


def test_object_maneuvers_from_ingested_history(client, reference_data):
    """CryoSat-2's 2012 element sets, ingested through the API: the
    manoeuvres found bracket operator-announced ones (labels yaml)."""
    pytest.importorskip("satwatch.maneuvers")
    import yaml
    text = (reference_data / "maneuvers" / "tle" / "CryoSat-2.tle").read_text().splitlines()
    pairs = [(text[i], text[i + 1]) for i in range(0, len(text) - 1, 2)
             if text[i].startswith("1 ") and text[i][18:20] == "12"]
    body = "\n".join(f"{a}\n{b}" for a, b in pairs) + "\n"
    r = client.post("/api/v1/ingest", content=body,
                    headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    got = client.get("/api/v1/objects/36508/maneuvers").json()
    assert got["element_sets"] == len(pairs)
    labels = yaml.safe_load((reference_data / "maneuvers" / "labels" /
                             "manoeuvres_CryoSat-2.yaml").read_text())["manoeuvre_timestamps"]
    label_ns = [satwatch.utc(str(t).replace(" ", "T") + "Z").ns for t in labels]
    windows = [(satwatch.utc(m["window_start"]).ns, satwatch.utc(m["window_end"]).ns)
               for m in got["maneuvers"]]
    assert windows
    matched = [w for w in windows if any(a <= t <= b for t in label_ns for a, b in [w])]
    # The windows span ~1 day and 2012 has ~1 announced burn a month, so a
    # window placed at random matches one ~1 time in 30: 3 matches or more
    # is detection, not chance (the detector's own accuracy is tested in
    # tests/test_maneuvers.py).
    span_days = sum((b - a) for a, b in windows) / 86_400e9
    chance = span_days * len(label_ns) / (365.25 * 13)     # labels over 2010-2022
    assert len(matched) >= 3 > 3 * chance


# A Starlink batch days after its launch (2023-148, 21 objects) flies in a
# train: its members pass within a few km of each other.
TRAIN, TRAIN_PRIMARY = "2023-148", 57942
CONJ_THRESHOLD_KM = 50.0
BRUTE_STEP_S = 1.0
# At 1 s sampling, a pair closing at up to ~1 km/s (train members drift
# slowly) has a sampled minimum within ~0.1 km of the true one; 1 km margin.
BRUTE_MARGIN_KM = 1.0


def test_conjunctions_match_brute_force(full_catalog, tmp_path):
    pytest.importorskip("satwatch.conjunctions")
    train = full_catalog.filter(predicate=lambda es: es.intl_designator.startswith(TRAIN))
    others = full_catalog.select([25544, 20580])
    catalog = satwatch.Catalog(train.element_sets + others.element_sets, [], "train")
    primary = TRAIN_PRIMARY
    app = create_app(Settings(catalog=catalog, db_url=f"sqlite:///{tmp_path / 'c.sqlite'}"))
    with TestClient(app) as c:
        r = c.get("/api/v1/conjunctions", params={
            "ids": str(primary), "start": AT, "hours": 2, "threshold_km": CONJ_THRESHOLD_KM,
            "limit": 500})
    assert r.status_code == 200, r.text
    api_rows = r.json()["items"]
    # Brute force: every pair's distance every second for two hours.
    times = satwatch.utc(AT) + np.arange(0, 7200 + 1, BRUTE_STEP_S)
    st = catalog.propagate(times)
    i = int(np.flatnonzero(catalog.norad_ids == primary)[0])
    d = np.linalg.norm(st.r_teme_km - st.r_teme_km[:, i:i + 1, :], axis=0)
    d[i] = np.inf
    close = d < CONJ_THRESHOLD_KM
    # Each run of samples under the threshold is one close approach.
    expected = []
    for j in range(len(catalog)):
        runs = np.flatnonzero(np.diff(np.r_[0, close[j].astype(int), 0]) == 1)
        ends = np.flatnonzero(np.diff(np.r_[0, close[j].astype(int), 0]) == -1)
        for a, b in zip(runs, ends):
            k = a + int(np.argmin(d[j, a:b]))
            interior = 0 < k < len(times) - 1       # a TCA, not the window's edge
            if interior and d[j, k] < CONJ_THRESHOLD_KM - BRUTE_MARGIN_KM:
                expected.append((int(catalog.norad_ids[j]), float(d[j, k])))
    assert expected, "the train should give close approaches"
    got = {}
    for row in api_rows:
        other = row["norad_id_2"] if row["norad_id_1"] == primary else row["norad_id_1"]
        got.setdefault(other, []).append(row["miss_km"])
    for nid, dmin in expected:
        assert nid in got, (nid, dmin)
        assert min(abs(m - dmin) for m in got[nid]) < BRUTE_MARGIN_KM
    for row in api_rows:                      # and nothing the brute force does not see
        other = row["norad_id_2"] if row["norad_id_1"] == primary else row["norad_id_1"]
        j = int(np.flatnonzero(catalog.norad_ids == other)[0])
        k = int(round(satwatch.utc(row["tca"]).seconds_since(times[0]) / BRUTE_STEP_S))
        assert abs(d[j, k] - row["miss_km"]) < BRUTE_MARGIN_KM


def test_serve_get_answers_one_request_in_process(sample_path, tmp_path):
    """``satwatch serve --get PATH`` (as Datasette's): the same app, no server."""
    from typer.testing import CliRunner

    from satwatch.cli import app
    env = {"SATWATCH_CACHE_DIR": str(tmp_path / "c"), "SATWATCH_DATA_DIR": str(tmp_path / "d")}
    result = CliRunner().invoke(app, ["serve", "--catalog", str(sample_path), "--db",
                                      f"sqlite:///{tmp_path / 'g.sqlite'}", "--get",
                                      "/api/v1/objects/25544"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout[result.stdout.index("{"):])["name"] == "ISS (ZARYA)"
    result = CliRunner().invoke(app, ["serve", "--catalog", str(sample_path), "--db",
                                      f"sqlite:///{tmp_path / 'g.sqlite'}", "--get",
                                      "/api/v1/objects/999999"], env=env)
    assert result.exit_code == 1 and '"not_found"' in result.stdout


def test_site_access_matches_skyfield(client, sample):
    """Access with an elevation mask only is visibility: its windows are
    Skyfield's rises and sets (find_events) of the ISS over Baikonur."""
    pytest.importorskip("satwatch.access")
    from skyfield.api import wgs84
    r = client.get("/api/v1/sites/BAIKONUR/access", params={
        "ids": "25544", "start": AT, "hours": 24, "min_elevation_deg": 10})
    assert r.status_code == 200, r.text
    body = r.json()
    site = client.get("/api/v1/sites/BAIKONUR").json()
    _, _, _, sat, ts = skyfield_subpoints(sample, [25544], [AT])[25544]
    topos = wgs84.latlon(site["lat_deg"], site["lon_deg"], site["alt_m"])
    t0 = ts.from_datetime(dt.datetime(2023, 10, 13, tzinfo=dt.timezone.utc))
    t, kind = sat.find_events(topos, t0, t0 + 1.0, altitude_degrees=10.0)
    rises = [x.utc_datetime() for x, k in zip(t, kind) if k == 0]
    windows = [w for w in body["windows"] if not w["start_partial"] and not w["end_partial"]]
    assert len(windows) == len(rises) > 0
    for w, rise in zip(windows, rises):
        got = dt.datetime.fromisoformat(w["start_time"].replace("Z", "+00:00"))
        assert abs((got - rise).total_seconds()) < PASS_TIME_TOL_S
    assert body["targets"][0]["windows"] == len(body["windows"])
    r = client.get("/api/v1/sites/BAIKONUR/access", params={"ids": "25544"})
    assert r.status_code == 422 and "min_elevation_deg" in r.json()["error"]["message"]


def test_area_access_is_bounded(client):
    pytest.importorskip("satwatch.access")
    huge = {"type": "Polygon", "coordinates": [[[-170, -80], [170, -80], [170, 80], [-170, 80],
                                                [-170, -80]]]}
    r = client.post("/api/v1/access", json={"ids": [25544], "area": huge, "spacing_km": 1,
                                            "min_elevation_deg": 10})
    assert r.status_code == 422 and r.json()["error"]["code"] == "limit_exceeded"
    box = {"type": "Polygon", "coordinates": [[[60, 44], [66, 44], [66, 48], [60, 48], [60, 44]]]}
    r = client.post("/api/v1/access", json={"ids": [25544], "area": box, "spacing_km": 100,
                                            "start": AT, "hours": 24, "min_elevation_deg": 10})
    assert r.status_code == 200, r.text
    # The box holds Baikonur: the area is seen at least as often as the site.
    site = client.get("/api/v1/sites/BAIKONUR/access", params={
        "ids": "25544", "start": AT, "hours": 24, "min_elevation_deg": 10}).json()
    assert r.json()["targets"][0]["coverage_fraction"] >= \
        site["targets"][0]["coverage_fraction"] > 0


def test_area_across_the_antimeridian_is_the_small_area(client):
    """A box written 179.5 E -> 179.5 W without the RFC 7946 sec. 3.1.9 cut
    is the 1-deg box across the antimeridian, as the CLI reads it (its
    sample points: satwatch.access.polygon_points), not a 359-deg band
    refused as too many points.  Reference: the same box cut as the RFC asks
    (a MultiPolygon): the same number of sample points and windows."""
    pytest.importorskip("satwatch.access")
    written = {"type": "Polygon", "coordinates": [[[179.5, 50], [-179.5, 50], [-179.5, 51],
                                                   [179.5, 51], [179.5, 50]]]}
    cut = {"type": "MultiPolygon", "coordinates": [
        [[[179.5, 50], [180, 50], [180, 51], [179.5, 51], [179.5, 50]]],
        [[[-180, 50], [-179.5, 50], [-179.5, 51], [-180, 51], [-180, 50]]]]}
    answers = []
    for area in (written, cut):
        r = client.post("/api/v1/access", json={"ids": [25544], "area": area, "spacing_km": 10,
                                                "start": AT, "hours": 24,
                                                "min_elevation_deg": 10})
        assert r.status_code == 200, r.text
        answers.append(r.json())
    assert answers[0]["targets"][0]["points"] == answers[1]["targets"][0]["points"] > 4
    assert len(answers[0]["windows"]) == len(answers[1]["windows"])


def test_area_with_a_bad_ring_is_refused_naming_the_ring(client):
    """RFC 7946 sec. 3.1.6: a linear ring has four or more positions, the
    last equal to the first.  The API answers 422 naming the ring, as the
    CLI does (shapely's 'A linearring requires at least 4 coordinates' said
    neither where nor what)."""
    pytest.importorskip("satwatch.access")
    for ring in ([[60, 44], [66, 44]],                                   # two positions
                 [[60, 44], [66, 44], [66, 48], [60, 48]]):              # not closed
        r = client.post("/api/v1/access", json={"ids": [25544], "min_elevation_deg": 10,
                        "area": {"type": "Polygon", "coordinates": [ring]}})
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["details"]["field"] == "area" and "coordinates[0]" in err["message"], err
