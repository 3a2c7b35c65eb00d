"""``satwatch conjunctions`` through Typer's runner, on a real catalog sample.

Reference for the events: the core screener (checked against brute force in
test_conjunctions.py); here the face must carry them unchanged, in every
format, with CDM files and the Pc assumptions.
"""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from satwatch.cdm import read_kvn
from satwatch.cli import app
from satwatch.conjunctions import screen_conjunctions
from satwatch.elements import write_tle_text
from satwatch.time import utc

START, END = "2023-10-13T00:00:00Z", "2023-10-13T01:00:00Z"


@pytest.fixture(scope="module")
def sample_file(full_catalog, tmp_path_factory):
    shell = full_catalog.filter(lambda es: 520 < es.perigee_alt_km and es.apogee_alt_km < 580)
    rng = np.random.default_rng(11)
    sub = full_catalog.filter(norad_ids=rng.choice(shell.norad_ids, 1200, replace=False))
    path = tmp_path_factory.mktemp("cat") / "sample.tle"
    path.write_text(write_tle_text(list(sub)))
    return path, sub


def _run(*args):
    result = CliRunner().invoke(app, ["conjunctions", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_matches_core_and_has_required_keys(sample_file):
    path, sub = sample_file
    out = _run("--catalog", str(path), "--start", START, "--end", END, "--threshold-km", "10",
               "--format", "json")
    rows = json.loads(out)
    from satwatch import load_catalog
    ref = screen_conjunctions(load_catalog(path), utc(START), utc(END), 10.0)
    assert len(rows) == len(ref) > 0
    for key in ("norad_id_1", "norad_id_2", "tca", "miss_km", "relative_speed_km_s",
                "radial_km", "in_track_km", "cross_track_km", "age_1_days", "age_2_days",
                "pc", "pc_method", "pc_assumptions"):
        assert key in rows[0]
    assert [r["tca"] for r in rows] == sorted(r["tca"] for r in rows)
    assert rows[0]["pc_assumptions"]["hard_body_radius_km"] == pytest.approx(0.010)
    assert rows[0]["tca"].endswith("Z") and len(rows[0]["tca"]) == 24   # millisecond


def test_sort_by_miss_csv_and_hours(sample_file):
    path, _ = sample_file
    out = _run("--catalog", str(path), "--start", START, "--hours", "1", "--threshold-km",
               "10", "--sort", "miss", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    miss = [float(r["miss_km"]) for r in rows]
    assert miss == sorted(miss) and miss


def test_table_prints_stages_and_assumptions(sample_file):
    path, _ = sample_file
    out = _run("--catalog", str(path), "--start", START, "--end", END, "--threshold-km", "10")
    assert "apogee/perigee" in out and "ASSUMED" in out and "hard-body radius 10 m" in out


def test_cdm_per_event(sample_file, tmp_path):
    path, _ = sample_file
    out = _run("--catalog", str(path), "--start", START, "--end", END, "--threshold-km", "10",
               "--format", "json", "--cdm-dir", str(tmp_path / "cdm"))
    rows = json.loads(out)
    files = sorted((tmp_path / "cdm").glob("*.kvn"))
    assert len(files) == len(rows)
    kv = read_kvn(files[0].read_text())
    assert kv["CCSDS_CDM_VERS"] == ["1.0"]


def test_primary_filter(sample_file):
    path, sub = sample_file
    rows = json.loads(_run("--catalog", str(path), "--start", START, "--end", END,
                           "--threshold-km", "10", "--format", "json"))
    target = rows[0]["norad_id_2"]
    mine = json.loads(_run("--catalog", str(path), "--start", START, "--end", END,
                           "--threshold-km", "10", "--format", "json", "--primary",
                           str(target)))
    assert mine and all(r["norad_id_1"] == target for r in mine)
    assert len(mine) == sum(target in (r["norad_id_1"], r["norad_id_2"]) for r in rows)


def test_errors_are_one_line(sample_file):
    path, _ = sample_file
    result = CliRunner().invoke(app, ["conjunctions", "--catalog", str(path), "--start", START,
                                      "--end", END, "--hours", "2"])
    assert result.exit_code == 2 and "only one of" in result.output
    result = CliRunner().invoke(app, ["conjunctions", "--catalog", str(path), "--start", START,
                                      "--hours", "1", "--primary", "NO SUCH OBJECT"])
    assert result.exit_code == 2 and "NO SUCH OBJECT" in result.output
