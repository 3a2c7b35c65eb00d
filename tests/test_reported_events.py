"""Reported events: the CNS North Korea missile test data (../shared/data/events,
CNS/NTI via nk-missile-tests, Apache-2.0) imported, kept, flagged and analysed.

Outside references: the raw JSON itself (what is known and unknown), the
reported landing area (Sea of Japan, Yellow Sea), Japan MoD's statement on
2023-09-13 (two missiles from Sunan, the second about 650 km, fell in the
Sea of Japan outside Japan's EEZ), GFW's EEZ polygons, Natural Earth
countries, and WGS-84 geodesics by pyproj for range and bearing.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from pyproj import Geod

from satwatch.reported_events import (
    EventsError,
    analysis_geojson,
    analyze,
    analyze_event,
    analyze_events,
    events_to_csv,
    parse_cns,
    parse_events_csv,
    parse_events_json,
)
from satwatch.sources.files import read_zones
from satwatch.zones import ZoneSet

# The consistency requirement for a solved arc: 1 %.
REPORT_RTOL = 0.01
BEARING_TOL_DEG = 0.01
# Some CNS bearings and ranges are rounded estimates (a 250 km shot from an
# inland base "bearing 61" can end on the coast); at least this share of the
# reported Sea-of-Japan landings must come out at sea.
SEA_SHARE = 0.9


@pytest.fixture(scope="module")
def cns(reference_data):
    d = reference_data / "events"
    return (parse_cns((d / "test.en.json").read_text(), (d / "facility.en.json").read_text(),
                      (d / "missile.en.json").read_text()),
            json.loads((d / "test.en.json").read_text()))


@pytest.fixture(scope="module")
def eez(reference_data):
    g = reference_data / "geo"
    return ZoneSet(read_zones(g / "gfw_ocean_areas_eezs_simplified.json")
                   + read_zones(g / "gfw_nk_eez_prk.json"))


@pytest.fixture(scope="module")
def countries(reference_data):
    return ZoneSet(read_zones(reference_data / "geo" / "countries-50m.json"))


@pytest.fixture(scope="module")
def analysed(cns, eez):
    events, _ = cns
    full = [e for e in events if e.analyzable and e.apogee_km is not None]
    return full, analyze_events(full, eez, track_points=10)


def _raw_records(raw):
    return [r for b in raw["timeBins"] for r in b["data"]]


def test_every_record_is_kept_and_unknowns_flagged(cns):
    events, raw = cns
    recs = _raw_records(raw)
    assert len(events) == len(recs) == 339
    assert len({e.event_id for e in events}) == len(events)
    for e, r in zip(events, recs):
        d = str(r["distance"]).lower()
        if d == "unknown":
            assert e.range_km is None and "range_unknown" in e.flags
        elif d == "na":
            assert e.range_km is None and "range_not_applicable" in e.flags
        else:
            assert e.range_km == float(r["distance"])
        a = str(r["apogee"]).lower()
        if a in ("unknown", "na"):
            assert e.apogee_km is None and any(f.startswith("apogee_") for f in e.flags)
        else:
            assert e.apogee_km == float(r["apogee"])
        if r["time"] == "unknown":
            assert "time_unknown" in e.flags and e.time_uncertainty_s >= 43_200
        if r["facility"] == "unknown":
            assert not e.analyzable and "site_unknown" in e.flags


def test_times_and_uncertainties(cns):
    events, _ = cns
    one = next(e for e in events if e.event_id == "cns-2023-09-13-2")
    # "02:51 (UTC)": the middle of that minute, +- 30 s
    assert one.time_iso == "2023-09-13T02:51:30Z" and one.time_uncertainty_s == 30.0
    month = next(e for e in events if e.date == "1984-09")
    assert "day_unknown" in month.flags and month.time_uncertainty_s == 15 * 86400


def test_all_events_with_facility_distance_and_apogee_analyse(analysed):
    events, results = analysed
    raw_known = len(events)
    assert raw_known > 200
    geod = Geod(ellps="WGS84")
    for e, r in zip(events, results):
        assert r["error"] == 0, (e.event_id, r["error_text"])
        for key in ("impact_lat_deg", "impact_lon_deg", "flight_time_s", "burnout_speed_km_s",
                    "min_energy_range_km"):
            assert np.isfinite(r[key]), (e.event_id, key)
        assert isinstance(r["zones"], list)
        az, _, dist = geod.inv(e.site_lon_deg, e.site_lat_deg, r["impact_lon_deg"],
                               r["impact_lat_deg"])
        assert abs(dist / 1000.0 - e.range_km) / e.range_km < REPORT_RTOL
        assert abs((az - e.bearing_deg + 180) % 360 - 180) < BEARING_TOL_DEG
        assert abs(r["apogee_alt_km"] - e.apogee_km) / e.apogee_km < REPORT_RTOL
        # the same burnout speed on a minimum-energy arc goes at least as far
        assert r["min_energy_range_km"] >= e.range_km * (1 - 1e-6)


def test_reported_sea_landings_land_at_sea(analysed, countries):
    events, results = analysed
    sea = [(e, r) for e, r in zip(events, results) if e.landing in ("sea-of-japan",
                                                                       "yellow-sea")]
    hits = countries.containing([r["impact_lat_deg"] for _, r in sea],
                                [r["impact_lon_deg"] for _, r in sea])
    at_sea = sum(1 for h in hits if not h)
    assert at_sea / len(sea) >= SEA_SHARE


def test_2023_09_13_sunan_650km_outside_japan_eez(cns, eez, countries):
    events, _ = cns
    ev = [e for e in events if e.date == "2023-09-13"]
    assert len(ev) == 2 and all(e.site_code == "sunan" for e in ev)
    far = max(ev, key=lambda e: e.range_km)
    assert far.range_km == 650.0
    r = analyze_event(far, eez)
    assert "Japan" not in r["zones"]
    japan = next(b for b in r["boundaries"] if b["name"] == "Japan")
    assert not japan["inside"] and japan["distance_to_boundary_km"] > 50
    assert countries.containing(r["impact_lat_deg"], r["impact_lon_deg"]) == [[]]
    assert r["distance_to_boundary_km"] == min(b["distance_to_boundary_km"]
                                               for b in r["boundaries"])


def test_unknown_bearing_gives_ring(eez):
    r = analyze(39.20299, 125.70926, 650.0, 50.0, None, zones=eez)
    assert r["impact_lat_deg"] is None and not r["bearing_known"]
    ring = r["ring"]
    assert len(ring) == 72 and all(x["error"] == 0 for x in ring)
    geod = Geod(ellps="WGS84")
    for x in ring:
        _, _, d = geod.inv(125.70926, 39.20299, x["impact_lon_deg"], x["impact_lat_deg"])
        assert abs(d / 1000 - 650.0) < 650.0 * 1e-5
    # a 650 km circle around Pyongyang reaches the Japanese, Chinese and Russian EEZs
    assert {"Japan", "China", "Russia"} <= set(r["zones"])
    # eastward shots gain from the Earth's rotation: less burnout speed
    speeds = {x["bearing_deg"]: x["burnout_speed_km_s"] for x in ring}
    assert speeds[90.0] < speeds[270.0]
    gj = analysis_geojson(r, eez)
    roles = [f["properties"]["role"] for f in gj["features"]]
    assert "impact_ring" in roles and "arc" in roles and roles.count("zone") >= 3


def test_geojson_of_point_analysis(eez):
    r = analyze(39.20299, 125.70926, 350.0, 50.0, 74.0, zones=eez)
    gj = analysis_geojson(r, eez)
    assert gj["type"] == "FeatureCollection"
    impact = next(f for f in gj["features"] if f["properties"]["role"] == "impact")
    assert impact["geometry"]["coordinates"] == [r["impact_lon_deg"], r["impact_lat_deg"]]
    arc = next(f for f in gj["features"] if f["properties"]["role"] == "arc")
    # RFC 7946 sec. 4: the third position element is the height in metres
    assert max(c[2] for c in arc["geometry"]["coordinates"]) == pytest.approx(50_000.0, rel=0.01)
    json.dumps(gj)


def test_csv_and_json_import_round_trip(tmp_path):
    text = ("event_id,date,time,site,range_km,apogee_km,bearing_deg,outcome,source,notes\n"
            "a1,2023-09-13,02:51,SUNAN,650,50,74,success,MoD,two missiles\n"
            "a2,2023-11-21,,SOHAE,unknown,na,,unknown,,\n"
            "a3,,2024-01-14T05:53:00Z,\"39.0,125.7\",1000,50,,failure,,\n")
    ev = parse_events_csv(text, "log.csv")
    assert [e.event_id for e in ev] == ["a1", "a2", "a3"]
    assert ev[0].site_lat_deg == pytest.approx(39.20299) and ev[0].analyzable
    assert {"range_unknown", "apogee_not_applicable", "bearing_unknown",
            "time_unknown"} <= set(ev[1].flags) and not ev[1].analyzable
    assert ev[2].time_iso == "2024-01-14T05:53:00Z" and ev[2].site_lon_deg == 125.7
    again = parse_events_csv(events_to_csv(ev), "again.csv")
    for x, y in zip(ev, again):
        assert (x.event_id, x.range_km, x.apogee_km, x.bearing_deg, x.site_lat_deg,
                x.outcome) == (y.event_id, y.range_km, y.apogee_km, y.bearing_deg,
                               y.site_lat_deg, y.outcome)
        assert set(x.flags) <= set(y.flags) | {"time_unknown"}
    js = parse_events_json(json.dumps({"events": [{"id": "j1", "time": "2023-09-13T02:51:00Z",
                                                   "site": "sunan", "range": 650}]}), "e.json")
    assert js[0].event_id == "j1" and js[0].range_km == 650 and "apogee_unknown" in js[0].flags


@pytest.mark.parametrize("text,field", [
    ("event_id,date,range_km\nx,2023-01-01,far\n", "range"),
    ("event_id,date,bearing_deg\nx,2023-01-01,400\n", "bearing"),
    ("event_id,date\nx,13/01/2023\n", "date"),
    ("event_id,date,site\nx,2023-01-01,NOWHERE_SITE\n", "site"),
    ("event_id,date,outcome\nx,2023-01-01,maybe\n", "outcome"),
])
def test_bad_values_name_file_line_and_field(text, field):
    with pytest.raises(EventsError) as err:
        parse_events_csv(text, "bad.csv")
    msg = str(err.value)
    assert "bad.csv" in msg and "record 2" in msg and f"field {field}" in msg


def test_unanalysable_event_says_why(cns):
    events, _ = cns
    e = next(e for e in events if not e.analyzable)
    with pytest.raises(EventsError, match=e.event_id):
        analyze_event(e)


# -- the store and the command line ---------------------------------------------

def _roundtrip(url, events):
    from satwatch.launch_store import get_event, load_events, save_events
    from satwatch.store import open_store
    with open_store(url) as store:
        assert 100 in store.schema_versions()
        first = save_events(store, events)
        again = save_events(store, events[:10])
        back = load_events(store)
        one = get_event(store, events[5].event_id)
        by_site = load_events(store, site="sunan")
    assert first == {"inserted": len(events), "replaced": 0}
    assert again == {"inserted": 0, "replaced": 10}
    assert len(back) == len(events)
    assert {e.event_id: e for e in back} == {e.event_id: e for e in events}
    assert one == events[5]
    assert by_site and all(e.site_code == "sunan" for e in by_site)


def test_store_round_trip_sqlite(cns, tmp_path):
    events, _ = cns
    _roundtrip(f"sqlite:///{tmp_path / 'ev.db'}", events)


def test_store_round_trip_postgresql(cns, fresh_pg_url):
    events, _ = cns
    _roundtrip(fresh_pg_url, events)


def test_cli_import_list_analyze(reference_data, tmp_path):
    from typer.testing import CliRunner

    from satwatch.cli import app
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    res = runner.invoke(app, ["event", "import", str(reference_data / "events" / "test.en.json"),
                              "--db", db, "-f", "json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["events"] == 339 and summary["inserted"] == 339
    res = runner.invoke(app, ["event", "list", "--db", db, "-f", "json"])
    listed = json.loads(res.output)
    assert len(listed) == 339 and any("range_unknown" in e["flags"] for e in listed)
    geo = reference_data / "geo"
    res = runner.invoke(app, ["event", "analyze", "cns-2023-09-13-2", "--db", db, "-f", "json",
                              "--zones", str(geo / "gfw_ocean_areas_eezs_simplified.json")])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    for key in ("impact_lat_deg", "impact_lon_deg", "flight_time_s", "burnout_speed_km_s",
                "min_energy_range_km", "zones", "distance_to_boundary_km"):
        assert key in doc
    assert "Japan" not in doc["zones"]
    res = runner.invoke(app, ["event", "analyze", "--site", "SUNAN", "--range-km", "650",
                              "--apogee-km", "50", "--bearing-deg", "74", "-f", "geojson",
                              "--zones", f"NK claim={geo / 'gfw_nk_eez_prk.json'}"])
    assert res.exit_code == 0, res.output
    gj = json.loads(res.output)
    assert gj["type"] == "FeatureCollection"
    assert {"site", "arc", "impact"} <= {f["properties"]["role"] for f in gj["features"]}
    res = runner.invoke(app, ["event", "analyze", "nope", "--db", db])
    assert res.exit_code != 0 and "no event nope" in res.output
    res = runner.invoke(app, ["event", "analyze", "cns-1984-04-09-1", "--db", db])
    assert res.exit_code != 0 and "range_unknown" in res.output
