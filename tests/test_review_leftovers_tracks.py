"""Review leftovers, 2: /tracks checks the end of its span, not only the
start, and names the field in each refusal.

References: the documented API time range 1957-2200 (docs/service.md) and the
largest track span (Settings.limits.max_track_span_s, 2 days by default,
documented in the OpenAPI schema of the settings).
"""
from __future__ import annotations

import pytest

from satwatch.catalog import Catalog

ISS = 25544


# -- 2. /tracks: the end of the span is checked too ---------------------------------
@pytest.fixture(scope="module")
def api(iss_hst_geo, tmp_path_factory):
    from fastapi.testclient import TestClient

    from satwatch.web import Settings, create_app
    db = tmp_path_factory.mktemp("api") / "api.sqlite"
    app = create_app(Settings(catalog=Catalog([iss_hst_geo["iss"]], [], "iss"),
                              db_url=f"sqlite:///{db}", api_tokens=["tok"]))
    with TestClient(app) as client:
        yield client


def _error(r):
    assert r.status_code == 422, r.text
    return r.json()["error"]


def test_track_span_ending_after_2200_is_refused_naming_the_field(api):
    # starts inside the documented range, ends 90 min after it
    r = api.get("/api/v1/tracks", params={"ids": str(ISS), "start": "2200-12-31T23:30:00Z",
                                          "duration_s": 7200, "step_s": 600})
    err = _error(r)
    assert err["code"] == "validation_error"
    assert err["details"]["field"] == "duration_s"
    assert "2200" in err["message"]


def test_track_span_over_the_maximum_names_the_field(api):
    r = api.get("/api/v1/tracks", params={"ids": str(ISS), "start": "2023-10-13T00:00:00Z",
                                          "duration_s": 3 * 86_400, "step_s": 3600})
    err = _error(r)
    assert err["details"]["field"] == "duration_s"
    assert err["details"]["max_track_span_s"] == 2 * 86_400.0     # Settings' documented default


def test_track_span_ending_before_its_start_is_refused_naming_the_field(api):
    # the span is start + duration_s: a negative duration is an end before the start
    r = api.get("/api/v1/tracks", params={"ids": str(ISS), "start": "2023-10-13T00:00:00Z",
                                          "duration_s": -60})
    err = _error(r)
    assert "duration_s" in err["message"]


def test_track_span_inside_the_range_is_answered(api):
    r = api.get("/api/v1/tracks", params={"ids": str(ISS), "start": "2200-12-31T22:00:00Z",
                                          "duration_s": 3600, "step_s": 600})
    assert r.status_code == 200, r.text
    assert len(r.json()["times"]) == 7


