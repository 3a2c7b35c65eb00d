"""Review round 17: an end-to-end review from an OSINT analyst's side (the
2023-09-13 Vostochny summit, the Sunan launches of that day, the ISS), through
the command line only.  Each test names the outside reference its expected
value comes from.

References used here: python-sgp4 and Skyfield on the same element sets
(positions, elevations), Kepler's third law on the GP history's own mean
motions (semi-major axis), shapely on the Global Fishing Watch EEZ polygons
(../shared/data/geo), the catalog's own element-set lines.
"""
import csv
import io
import json

import numpy as np
from typer.testing import CliRunner

from satwatch.cli import app

from conftest import catalog_records

runner = CliRunner()

# Earth's GM (WGS-72, the constant SGP4 and its mean motions use), km^3/s^2
MU_WGS72_KM3_S2 = 398600.8
# The ISS's 2024-11-13/14 raise seen in its GP history is ~4.8 km; a
# detector's size of it may differ by its trend fits, by well under 1.5 km.
ISS_RAISE_TOLERANCE_KM = 1.5


def _a_km(mean_motion_rev_day: float) -> float:
    n_rad_s = mean_motion_rev_day * 2 * np.pi / 86400.0
    return (MU_WGS72_KM3_S2 / n_rad_s ** 2) ** (1 / 3)


def _history_a(path, start_doy: float, end_doy: float, year: int = 24) -> list[float]:
    """Semi-major axes (Kepler's third law on the mean motion) of the GP sets
    whose epochs lie in [start_doy, end_doy) of 20YY, read from the file."""
    lines = [ln for ln in path.read_text().splitlines() if ln.startswith(("1 ", "2 "))]
    out = []
    for l1, l2 in zip(lines[0::2], lines[1::2]):
        if int(l1[18:20]) == year and start_doy <= float(l1[20:32]) < end_doy:
            out.append(_a_km(float(l2[52:63])))
    return out


def test_iss_raise_of_2024_11_13_is_not_reported_as_a_lowering(reference_data, tmp_path):
    # The ISS's GP history (../shared/data/history) around 2024-11-13: every
    # set before 2024-11-13T10Z sits at a ~= 6790.7 km, every set from
    # 2024-11-14T11Z on at ~= 6795.4 km (Kepler's third law on each set's own
    # mean motion); between them two off-fit sets (2024-11-13T22:09Z at
    # 6799.3 km and i = 51.613 deg, 2024-11-14T09:30Z at 6799.2 km, i =
    # 51.633 deg, while every neighbour has i = 51.638..51.642 deg).  So the
    # orbit was raised by ~4.8 km once, and never lowered.  satwatch reported
    # +6.18 km (to the off-fit set) and then -11.82 km / 6.66 m/s, a de-boost
    # of 5.6 km net, having flagged the good set of 2024-11-14T07:16Z as the
    # outlier and kept the off-fit one.
    path = reference_data / "history" / "iss_25544_2020-2024.tle"
    before = _history_a(path, 316.0, 318.41)      # 2024-11-11 .. 2024-11-13T09:50Z
    after = _history_a(path, 319.45, 321.0)       # 2024-11-14T10:48Z .. 2024-11-16
    assert len(before) > 5 and len(after) > 5
    raise_km = float(np.median(after) - np.median(before))
    assert 4.0 < raise_km < 5.5                   # the reference itself: one raise
    db = str(tmp_path / "iss.db")
    r = runner.invoke(app, ["ingest", str(path), "--db", db, "--format", "json"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["maneuvers", "--db", db, "--since", "2024-11-01T00:00:00Z",
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = [m for m in json.loads(r.stdout)
            if "2024-11-13T00:00:00Z" <= m["epoch"] < "2024-11-15T00:00:00Z"]
    assert rows, "the 2024-11-13 raise is not reported"
    assert all(m["delta_a_km"] > 0 for m in rows), rows
    assert abs(sum(m["delta_a_km"] for m in rows) - raise_km) < ISS_RAISE_TOLERANCE_KM, rows


def test_iss_and_its_docked_modules_are_not_conjunctions(full_catalog_path, tmp_path):
    # In the 2023-10-13 Space-Track catalog, ISS (NAUKA) 49044 (a module of
    # the station since 2021) and SOYUZ MS-24 57862 (docked to it) carry the
    # same element set line for line (epoch 23281.49023427, rev 41936): the
    # station's own set, 1.2 days older than ISS (ZARYA)'s 23282.71486326.
    # python-sgp4 on both sets: the separation stays 3-5 km and the relative
    # speed under 10 m/s all day (one body seen through two element sets), so
    # there is no close approach.  docs/conjunctions.md: vehicles docked to
    # the ISS "have no closest approach ... never as events".  satwatch
    # reported ISS-NAUKA and ISS-SOYUZ MS-24 every orbit (3.2 km, 3.8 m/s,
    # Pc 7e-6: the highest Pc of the ISS's day).
    from sgp4.api import Satrec, jday
    records = catalog_records(full_catalog_path, [25544, 49044, 57862])
    assert records[4][18:32] == records[7][18:32] and records[5][8:63] == records[8][8:63]
    iss = Satrec.twoline2rv(records[1], records[2])
    nauka = Satrec.twoline2rv(records[4], records[5])
    jd, fr = jday(2023, 10, 13, 0, 0, 0)
    frs = fr + np.arange(0, 3 * 3600, 10.0) / 86400.0
    _, r1, v1 = iss.sgp4_array(np.full(frs.size, jd), frs)
    _, r2, v2 = nauka.sgp4_array(np.full(frs.size, jd), frs)
    sep = np.linalg.norm(r1 - r2, axis=1)
    assert 2.0 < sep.min() and sep.max() < 6.0
    assert np.linalg.norm(v1 - v2, axis=1).max() < 0.010
    cat = tmp_path / "iss_docked.txt"
    cat.write_text("\n".join(records) + "\n")
    r = runner.invoke(app, ["conjunctions", "--catalog", str(cat), "--start",
                            "2023-10-13T00:00:00Z", "--hours", "3", "--threshold-km", "10",
                            "--workers", "1", "--format", "json"])
    assert r.exit_code == 0, r.output
    pairs = {(e["norad_id_1"], e["norad_id_2"]) for e in json.loads(r.stdout)}
    assert not pairs & {(25544, 49044), (25544, 57862)}, pairs


def test_passes_csv_and_table_carry_the_partial_flags(full_catalog_path, skyfield_ts):
    # 'satwatch passes --help' promises "partial flags at the window edges",
    # and docs/passes.md defines rise_partial/set_partial (then rise_time or
    # set_time is null and duration_s counts from the window edge).  THOR
    # ABLESTAR DEB (172) is already 21 deg up over Vostochny at the window's
    # start (Skyfield on the same element set, below): its pass began before
    # the window.  The CSV held only the table's columns: an empty rise_time
    # and a "culmination" at 00:00:00.000Z with nothing saying the pass was
    # cut, and neither the visible stretch (visible_start/visible_end) that
    # the JSON carries.
    from skyfield.api import EarthSatellite, wgs84
    records = catalog_records(full_catalog_path, [172])
    ts = skyfield_ts
    sat = EarthSatellite(records[1], records[2], records[0][2:], ts)
    alt, _, _ = (sat - wgs84.latlon(51.877, 128.332)).at(ts.utc(2023, 9, 13)).altaz()
    assert alt.degrees > 10.0                      # up at the window's start
    args = ["passes", "51.877,128.332", "--start", "2023-09-13T00:00:00Z", "--hours", "1",
            "--sat", "172", "--catalog", str(full_catalog_path), "--workers", "1"]
    r = runner.invoke(app, args + ["--format", "csv"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert {"rise_partial", "set_partial", "visible_start", "visible_end"} <= set(rows[0])
    first = min(rows, key=lambda row: row["culmination_time"])
    assert first["rise_time"] == "" and first["rise_partial"] in ("1", "True", "true")
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "partial" in r.stdout


def test_event_analyze_table_says_when_zones_were_not_checked(reference_data, tmp_path,
                                                             monkeypatch):
    # The 650-km Sunan launch of 2023-09-13 (CNS record: bearing 74 deg,
    # apogee 50 km): its impact point lies inside the Global Fishing Watch
    # "Russia" EEZ polygon (shapely on ../shared/data/geo, below).  Without
    # --zones, the table's zones cell was blank with no word that no zone
    # was checked (the ring case says "not checked (give --zones FILE)"):
    # a blank reads as "in no one's waters".
    from pyproj import Geod
    from shapely.geometry import Point, shape
    monkeypatch.setenv("SATWATCH_DATA_DIR", str(tmp_path))
    lon, lat, _ = Geod(ellps="WGS84").fwd(125.70926, 39.20299, 74.0, 650e3)
    eez = reference_data / "geo" / "gfw_ocean_areas_eezs_simplified.json"
    inside = [f["properties"]["name"] for f in json.loads(eez.read_text())
              if shape(f["geometry"]).contains(Point(lon, lat))]
    assert inside == ["Russia"]
    args = ["event", "analyze", "--site", "SUNAN", "--range-km", "650", "--apogee-km", "50",
            "--bearing-deg", "74"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "not checked" in r.stdout
    r = runner.invoke(app, args + ["--zones", f"EEZ={eez}"])
    assert r.exit_code == 0, r.output
    assert "Russia" in r.stdout and "not checked" not in r.stdout


def test_passes_partial_flags_are_booleans_for_any_number_of_workers(full_catalog_path,
                                                                    tmp_path):
    # docs/passes.md: rise_partial/set_partial are flags (the REST model in
    # satwatch/web/routers/sites.py declares them bool), and the pool gives
    # "the same passes as one call would".  Reference: the one-process
    # answer (--workers 1) of the same command, whose flags are JSON
    # true/false; with --workers 2 they came out as 1/0 (bool + 0 is int64),
    # so a consumer testing 'is True' or a schema saw a different type, and
    # an API caller's ~passes.rise_partial gave -1/-2 instead of a mask.
    cat = tmp_path / "first60.txt"
    cat.write_text("\n".join(catalog_records(full_catalog_path, first=60)) + "\n")
    answers = {}
    for workers in ("1", "2"):
        r = runner.invoke(app, ["passes", "VOSTOCHNY", "--start", "2023-09-13T00:00:00Z",
                                "--hours", "2", "--catalog", str(cat), "--workers", workers,
                                "--format", "json"])
        assert r.exit_code == 0, r.output
        answers[workers] = json.loads(r.stdout)
    one, two = answers["1"], answers["2"]
    assert one and any(p["rise_partial"] is True for p in one)
    assert [(p["norad_id"], p["culmination_time"]) for p in two] == \
        [(p["norad_id"], p["culmination_time"]) for p in one]
    for p in two:
        assert isinstance(p["rise_partial"], bool) and isinstance(p["set_partial"], bool), p


def test_launch_identify_with_a_date_only_searches_that_day(reference_data):
    # GCAT psatcat (J. McDowell, CC-BY 4.0): 2023-176A "Hai Yang 3-01",
    # launched 2023 Nov 16 (from Jiuquan, CZ-2C).  An analyst who knows only
    # the day types 'launch identify JIUQUAN 2023-11-16'.  satwatch took
    # 2023-11-16T00:00:00Z +- 60 s (the --uncertainty-s default) and ranked
    # Starlinks first; HAIYANG-3A (58349) was not among 3,000 candidates.
    # 'event import' reads a date alone as its middle +- 12 h
    # (docs/launches.md); identify should search the day the same way.
    psatcat = (reference_data / "sites" / "psatcat.tsv").read_text().splitlines()
    row = next(line.split("\t") for line in psatcat if "\t2023-176A\t" in line)
    assert row[3] == "2023 Nov 16"
    cat = reference_data / "catalogs" / "active-2023-11-19.txt"
    r = runner.invoke(app, ["launch", "identify", "JIUQUAN", "2023-11-16", "--catalog",
                            str(cat), "--top", "5", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert rows[0]["norad_id"] == 58349, rows[:3]
