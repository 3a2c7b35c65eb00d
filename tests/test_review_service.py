"""Review findings for the service faces (REST API, CLI) and conjunction screening.

Every test here uses outside references: closed forms of the calendar (a date
past 2262-04-11 does not fit int64 nanoseconds since 1970) and the service's own
documented contract (bad input is a clear 4xx / one-line CLI error, never a 500
or a traceback).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import satwatch
from satwatch.cli import app as cli_app
from satwatch.errors import TimeError
from satwatch.time import utc
from satwatch.web import Settings, create_app

# The last instant that int64 ns since 1970 can hold is 2262-04-11T23:47:16.854775807Z.
# Any later date is valid ISO-8601 but out of satwatch's range: it must be a TimeError.
BEYOND_INT64_NS = "2300-01-01T00:00:00Z"


def _three_objects(reference_data: Path, tmp_path: Path) -> Path:
    lines = (reference_data / "catalogs" / "full-3le-2023-10-13.txt").read_text().splitlines()
    path = tmp_path / "three.txt"
    path.write_text("\n".join(lines[:9]) + "\n")
    return path


def test_time_past_int64_range_is_a_time_error():
    with pytest.raises(TimeError):
        utc(BEYOND_INT64_NS)


def test_api_conjunctions_far_future_start_is_4xx(reference_data, tmp_path):
    from fastapi.testclient import TestClient
    cat = satwatch.load_catalog(_three_objects(reference_data, tmp_path))
    app = create_app(Settings(catalog=cat, db_url=f"sqlite:///{tmp_path / 'x.sqlite'}"))
    first = int(cat.norad_ids[0])
    with TestClient(app, raise_server_exceptions=False) as client:
        for url in (f"/api/v1/conjunctions?ids={first}&start={BEYOND_INT64_NS}&hours=1",
                    f"/api/v1/positions?ids={first}&at={BEYOND_INT64_NS}"):
            r = client.get(url)
            assert 400 <= r.status_code < 500, (url, r.status_code, r.text[:200])


def test_cli_conjunctions_far_future_start_is_one_line_error(reference_data, tmp_path):
    path = _three_objects(reference_data, tmp_path)
    res = CliRunner().invoke(cli_app, ["conjunctions", "-c", str(path), "--start",
                                       BEYOND_INT64_NS, "--hours", "1", "--workers", "1",
                                       "-f", "json"])
    assert res.exit_code != 0
    assert not isinstance(res.exception, OverflowError), repr(res.exception)
