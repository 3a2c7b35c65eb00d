"""Refusals of the web service name the field at fault.

Reference: docs/service.md, "a refusal is a 422 with details.field", and the
pattern of satwatch/web/deps.py (ApiError(422, "validation_error", msg,
{"field": ...})).  Each request below is wrong in exactly one named field;
the answer must say which (the event's index in ``events`` too, for POST
/events).  The service runs in-process (FastAPI's TestClient), on a scratch
SQLite store.
"""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from satwatch.catalog import Catalog
from satwatch.web import Settings, create_app

TOKEN = "refusals"
AUTH = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    db = tmp_path_factory.mktemp("refusals") / "r.sqlite"
    app = create_app(Settings(catalog=Catalog([], [], "empty"), db_url=f"sqlite:///{db}",
                              api_tokens=[TOKEN]))
    with TestClient(app) as c:
        yield c


def _refused(r, status=422):
    assert r.status_code == status, r.text
    return r.json()["error"]


def test_maneuvers_until_before_since_names_until(client):
    err = _refused(client.get("/api/v1/objects/25544/maneuvers",
                              params={"since": "2023-10-13T00:00:00Z",
                                      "until": "2023-10-12T00:00:00Z"}))
    assert err["code"] == "validation_error"
    assert err["details"]["field"] == "until"


# -- watch rules -------------------------------------------------------------------
@pytest.mark.parametrize("rule, field", [
    # watch.Rule: a pass rule over a site needs radius_km
    ({"kind": "pass", "norad_ids": [25544], "site_lat_deg": 37.94, "site_lon_deg": -75.47},
     "radius_km"),
    ({"kind": "conjunction", "norad_ids": [25544]}, "max_miss_km"),
    ({"kind": "pass", "site_lat_deg": 37.94, "site_lon_deg": -75.47, "radius_km": 100},
     "norad_ids"),
])
def test_rule_refusal_names_the_field(client, rule, field):
    err = _refused(client.post("/api/v1/rules", json=rule, headers=AUTH))
    assert err["code"] == "validation_error"
    assert err["details"]["field"] == field
    assert field.split("_")[0] in err["message"]


# -- reported events -------------------------------------------------------------
GOOD = {"event_id": "R-1", "date": "2023-10-01", "time": "12:00", "kind": "missile",
        "site_lat_deg": 39.66, "site_lon_deg": 124.7, "range_km": 300}


@pytest.mark.parametrize("events, field", [
    ([], "events"),
    ([GOOD, dict(GOOD, event_id="R-2", date="2023-13-45")], "events[1].date"),
    ([dict(GOOD, range_km="far")], "events[0].range_km"),
    ([dict(GOOD, range_km=None, range="far")], "events[0].range"),    # an alias, as sent
    ([dict(GOOD, time="25:00")], "events[0].time"),
    ([dict(GOOD, kind="rocket")], "events[0].kind"),
    ([dict(GOOD, site_lat_deg=95.0)], "events[0].site_lat_deg"),
    ([dict(GOOD, colour="red")], "events[0].colour"),
    ([GOOD, dict(GOOD)], "events[1].event_id"),              # the same id twice
])
def test_event_refusal_names_the_event_and_field(client, events, field):
    events = [{k: v for k, v in e.items() if v is not None} for e in events]
    err = _refused(client.post("/api/v1/events", json={"events": events}, headers=AUTH))
    assert err["code"] == "validation_error", err
    assert err["details"]["field"] == field, err
    if "[" in field:
        assert err["details"]["index"] == int(field[7:field.index("]")])
        assert err["message"].startswith(field)


def test_too_many_events_names_events(client):
    events = [dict(GOOD, event_id=f"M-{i}") for i in range(1001)]
    err = _refused(client.post("/api/v1/events", json={"events": events}, headers=AUTH))
    assert err["code"] == "limit_exceeded"
    assert err["details"]["field"] == "events"


def test_event_id_in_use_names_the_event(client):
    r = client.post("/api/v1/events", json={"events": [dict(GOOD, event_id="U-1")]},
                    headers=AUTH)
    assert r.status_code == 201, r.text
    err = _refused(client.post("/api/v1/events",
                               json={"events": [dict(GOOD, event_id="U-2"),
                                                dict(GOOD, event_id="U-1")]},
                               headers=AUTH), 409)
    assert err["details"]["field"] == "events[1].event_id"


@pytest.mark.parametrize("event, field", [
    (dict(GOOD, event_id="A-1", site_lat_deg=None, site_lon_deg=None, site="unknown"), "site"),
    (dict(GOOD, event_id="A-2", range_km="unknown"), "range_km"),
])
def test_unanalysable_event_names_what_is_missing(client, event, field):
    event = {k: v for k, v in event.items() if v is not None}
    r = client.post("/api/v1/events", json={"events": [event]}, headers=AUTH)
    assert r.status_code == 201, r.text
    err = _refused(client.get(f"/api/v1/events/{event['event_id']}/analysis"))
    assert err["code"] == "validation_error"
    assert err["details"]["field"] == field
