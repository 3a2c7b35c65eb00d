"""The core commands through Typer's runner: `where` against Skyfield, and
`catalog` summaries with rejections."""
import json

import numpy as np
from typer.testing import CliRunner

from satwatch.cli import app

runner = CliRunner()
# 1 m and 1e-4 deg, as required of the frames (same IERS table for both)
POSITION_TOLERANCE_KM = 1e-3


def test_where_json_matches_skyfield(reference_data, skyfield_ts):
    from skyfield.api import EarthSatellite, wgs84
    path = reference_data / "catalogs" / "active-2023-11-19.txt"
    result = runner.invoke(app, ["where", "ISS (ZARYA)", "43013", "--at",
                                 "2023-11-19T22:00:00Z", "--catalog", str(path),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["norad_id"] for r in rows] == [25544, 43013]
    lines = path.read_text().splitlines()
    ts = skyfield_ts
    t = ts.utc(2023, 11, 19, 22, 0, 0)
    for row in rows:
        i = next(k for k, line in enumerate(lines) if line.startswith(f"1 {row['norad_id']:05d}"))
        sat = EarthSatellite(lines[i], lines[i + 1], lines[i - 1].strip(), ts)
        r, v, _ = sat._position_and_velocity_TEME_km(t)
        assert np.abs(np.array(row["r_teme_km"]) - r).max() < 1e-6
        assert np.abs(np.array(row["v_teme_km_s"]) - v).max() < 1e-9
        pos = wgs84.geographic_position_of(sat.at(t))
        assert abs(pos.latitude.degrees - row["lat_deg"]) < 1e-4
        assert abs((pos.longitude.degrees - row["lon_deg"] + 180) % 360 - 180) < 1e-4
        assert abs(pos.elevation.km - row["alt_km"]) < POSITION_TOLERANCE_KM
        assert row["time"] == "2023-11-19T22:00:00.000Z" and row["name"]


def test_where_unknown_satellite_is_a_clear_error(reference_data):
    path = reference_data / "catalogs" / "active-2023-11-19.txt"
    result = runner.invoke(app, ["where", "NO SUCH SAT", "--catalog", str(path)])
    assert result.exit_code == 2 and "NO SUCH SAT" in result.output


def test_catalog_summary_lists_rejections(reference_data, tmp_path):
    lines = (reference_data / "catalogs" / "active-2023-08-22.txt").read_text().splitlines()
    lines[4] = lines[4][:30] + "x" + lines[4][31:]        # corrupt record 2, line 1
    del lines[10]                                         # cut record 4 short
    path = tmp_path / "damaged.txt"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["catalog", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["objects"] == 8405 - 2
    assert doc["rejected"] == len(doc["rejections"]) >= 2
    assert {r["line"] for r in doc["rejections"]} >= {5}
    assert all(r["reason"] and r["field"] for r in doc["rejections"])
    strict = runner.invoke(app, ["catalog", str(path), "--strict"])
    assert strict.exit_code == 2 and "line 5" in strict.output
    table = runner.invoke(app, ["catalog", str(path)])
    assert "rejected" in table.stdout and "LEO" in table.stdout
    csv_out = runner.invoke(app, ["catalog", str(path), "--format", "csv"])
    assert csv_out.stdout.splitlines()[0] == "source,line,field,reason"


def test_long_tables_are_cut_with_a_pointer_to_json(reference_data):
    # the whole active catalog has 8854 objects: a table shows the first 500
    path = reference_data / "catalogs" / "active-2023-11-19.txt"
    result = runner.invoke(app, ["where", "*", "--at", "2023-11-19T22:00:00Z",
                                 "--catalog", str(path)])
    assert result.exit_code == 0, result.output
    assert "8354 more rows not shown (of 8854)" in result.stdout
    full = runner.invoke(app, ["where", "*", "--at", "2023-11-19T22:00:00Z",
                               "--catalog", str(path), "--format", "csv"])
    assert len(full.stdout.splitlines()) == 8854 + 1
