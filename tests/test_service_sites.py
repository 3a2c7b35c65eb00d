"""The web service knows the user's own sites (``satwatch serve --sites FILE``,
as every CLI command's ``--sites``): listed, looked up by code, used for
passes, watch rules and reported events.  A real ``satwatch serve`` on
loopback.

Reference for the coordinates: the sites file itself (the Tumangang-Khasan
rail crossing, 42.4253 N 130.6222 E, from the brief's example of a border
crossing to watch); for passes: the same request over the same coordinates
given as ``lat,lon,alt_m``, which never reads a site file.
"""
from __future__ import annotations

import os

import httpx
import pytest

from conftest import catalog_records, start_satwatch_serve

TOKEN = "sites-test-token"
AT = "2023-10-13T00:00:00Z"
SITES_CSV = """code,name,lat_deg,lon_deg,alt_m,kind,country
TUMANGANG,Tumangang-Khasan rail crossing,42.4253,130.6222,10,other,KP
"""
EVENTS_CSV = """event_id,date,time,kind,vehicle,site,range_km,apogee_km,bearing_deg,outcome
my-1,2023-10-12,01:00:00,missile,unknown,TUMANGANG,300,50,90,success
"""


@pytest.fixture(scope="module")
def server(full_catalog_path, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sites")
    (tmp / "sites.csv").write_text(SITES_CSV)
    (tmp / "events.csv").write_text(EVENTS_CSV)
    keep = catalog_records(full_catalog_path, (25544, 48274))
    (tmp / "cat.tle").write_text("\n".join(keep) + "\n")
    env = dict(os.environ, SATWATCH_API_TOKENS=TOKEN, SATWATCH_CACHE_DIR=str(tmp / "cache"),
               SATWATCH_DATA_DIR=str(tmp / "data"))
    proc, url = start_satwatch_serve(
        ["--db", f"sqlite:///{tmp / 's.sqlite'}", "--catalog", tmp / "cat.tle",
         "--sites", tmp / "sites.csv", "--events", tmp / "events.csv",
         "--log-level", "warning"], env)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def test_user_site_is_listed_and_found(server):
    listed = httpx.get(server + "/api/v1/sites", params={"limit": 500}).json()
    assert listed["items"][0]["code"] == "TUMANGANG"
    builtin = httpx.get(server + "/api/v1/sites", params={"limit": 1}).json()["total"]
    assert builtin > 10
    one = httpx.get(server + "/api/v1/sites/TUMANGANG").json()
    assert (one["lat_deg"], one["lon_deg"], one["alt_m"]) == (42.4253, 130.6222, 10.0)
    assert httpx.get(server + "/api/v1/sites/NO-SUCH-PLACE").status_code == 404


def test_passes_over_a_user_site_are_those_over_its_coordinates(server):
    params = {"ids": "25544,48274", "start": AT, "hours": 24}
    by_code = httpx.get(server + "/api/v1/sites/TUMANGANG/passes", params=params).json()
    by_coords = httpx.get(server + "/api/v1/sites/42.4253,130.6222,10/passes",
                          params=params).json()
    assert by_code["site"]["code"] == "TUMANGANG"
    assert len(by_code["passes"]) >= 4                 # two LEO objects over a day
    assert [(p["norad_id"], p["rise"], p["set"]) for p in by_code["passes"]] == \
        [(p["norad_id"], p["rise"], p["set"]) for p in by_coords["passes"]]


def test_watch_rule_and_event_use_the_user_site(server):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = httpx.post(server + "/api/v1/rules", headers=auth,
                   json={"kind": "pass", "norad_ids": [25544], "site": "TUMANGANG",
                         "radius_km": 500})
    assert r.status_code == 201, r.text
    rule = r.json()
    assert (rule["site_lat_deg"], rule["site_lon_deg"]) == (42.4253, 130.6222)
    events = httpx.get(server + "/api/v1/events").json()["items"]
    mine = next(e for e in events if e["event_id"] == "my-1")
    assert (mine["site_lat_deg"], mine["site_lon_deg"]) == (42.4253, 130.6222)
    r = httpx.post(server + "/api/v1/events", headers=auth,
                   json={"events": [{"event_id": "my-2", "date": "2023-10-12",
                                     "kind": "missile", "site": "TUMANGANG", "range_km": 200}]})
    assert r.status_code == 201, r.text
