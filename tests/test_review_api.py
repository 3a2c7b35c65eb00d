"""Reviewer's regression tests for the positions/tracks endpoints.

References: the Gregorian calendar (closed form) for the documented 1957-2200
range of times; Skyfield (independent SGP4 + TEME->ITRS->WGS-84) for where the
ISS is at the times /tracks says its samples are at.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from fastapi.testclient import TestClient

import satwatch
from satwatch.web import Settings, create_app

ISS = 25544
# Skyfield and satwatch agree to metres; 1e-3 deg (~100 m) is far above that.
# Half a second of ISS motion is ~3.8 km (~0.03 deg), far above it.
LATLON_TOL_DEG = 1e-3


@pytest.fixture(scope="module")
def iss_catalog(full_catalog_path, tmp_path_factory):
    lines = full_catalog_path.read_text().splitlines()
    keep = []
    for i in range(0, len(lines) - 2, 3):
        if lines[i + 1][2:7].strip() == str(ISS):
            keep = lines[i:i + 3]
    path = tmp_path_factory.mktemp("review") / "iss.tle"
    path.write_text("\n".join(keep) + "\n")
    return satwatch.load_catalog(path)


@pytest.fixture(scope="module")
def client(iss_catalog, tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "review.sqlite"
    app = create_app(Settings(catalog=iss_catalog, db_url=f"sqlite:///{db}", api_tokens=["x"]))
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize("at", ["1956-12-31T23:59:59Z", "2201-01-01T00:00:00Z"])
def test_times_just_outside_1957_2200_are_refused(client, at):
    """deps.read_time promises 1957-2200 but estimates the year with a mean
    Gregorian year (365.2425 d) from 1970: hours outside the range pass."""
    r = client.get("/api/v1/positions", params={"ids": str(ISS), "at": at})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"


def test_track_times_are_the_sampled_times(client, iss_catalog):
    """/tracks writes its times with iso(0): a start or step with a fraction
    of a second labels each sample up to 0.5 s away from where it was
    computed.  Check the track against Skyfield at the labelled times."""
    from skyfield.api import EarthSatellite, load, wgs84
    r = client.get("/api/v1/tracks", params={"ids": str(ISS), "start": "2023-10-13T00:00:00.5Z",
                                             "duration_s": 6, "step_s": 1.5})
    assert r.status_code == 200, r.text
    body = r.json()
    ts = load.timescale(builtin=True)
    t = ts.from_datetimes([dt.datetime.fromisoformat(x.replace("Z", "+00:00"))
                           for x in body["times"]])
    l1, l2 = iss_catalog[ISS].source_text.strip().splitlines()[-2:]
    sub = wgs84.geographic_position_of(EarthSatellite(l1, l2, ts=ts).at(t))
    track = body["tracks"][0]
    assert np.max(np.abs(np.array(track["lat_deg"]) - sub.latitude.degrees)) < LATLON_TOL_DEG
