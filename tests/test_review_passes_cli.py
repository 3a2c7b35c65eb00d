"""Review: `satwatch passes --format ics` against RFC 5545 (outside reference:
RFC 5545 section 3.1, content lines are folded so that no line is longer than
75 octets excluding the CRLF; section 3.3.11, in TEXT values a COMMA must be
written "\\," and a SEMICOLON "\\;").  The pass itself is an ISS pass over
51.5N 0.1W found by Skyfield 1.5x ``find_events`` (rise 00:30:51Z, set
00:36:08Z on 2026-03-19, mask 0 deg) -- not copied from satwatch output."""
from __future__ import annotations

import re

from typer.testing import CliRunner

from satwatch.cli import app
from satwatch.cli.passes import passes_ics

# RFC 5545 3.1: "Lines of text SHOULD NOT be longer than 75 octets, excluding
# the line break."
MAX_OCTETS = 75

ISS_TLE = """ISS (ZARYA), crew; module
1 25544U 98067A   26078.12958500  .00009105  00000+0  17698-3 0  9991
2 25544  51.6344  25.6919 0006229 207.4819 152.5840 15.48370465557798
"""


def _unfold(text: str) -> list[str]:
    """RFC 5545 3.1 unfolding: CRLF followed by one space or tab is removed."""
    return re.sub(r"\r\n[ \t]", "", text).split("\r\n")


def _unescaped(value: str, ch: str) -> bool:
    """True when `ch` occurs in a TEXT value without a preceding backslash."""
    i = 0
    while i < len(value):
        if value[i] == "\\":
            i += 2
            continue
        if value[i] == ch:
            return True
        i += 1
    return False


def _ics_via_cli(tmp_path, site):
    path = tmp_path / "iss.tle"
    path.write_text(ISS_TLE, encoding="utf-8")
    res = CliRunner().invoke(app, ["passes", site, "--catalog", str(path),
                                   "--start", "2026-03-19T00:00:00Z", "--hours", "2",
                                   "--min-elevation", "0", "--no-visibility",
                                   "--format", "ics"])
    assert res.exit_code == 0, res.output
    return res.stdout_bytes.decode("utf-8")  # bytes: keep the CRLF line breaks


def test_ics_escapes_commas_and_semicolons_in_text(tmp_path):
    text = _ics_via_cli(tmp_path, "51.5,-0.1,-20")
    # Skyfield: one pass in the window, rise 00:30:51Z.
    assert text.count("BEGIN:VEVENT") == 1
    summary = [ln for ln in _unfold(text) if ln.startswith("SUMMARY:")][0]
    value = summary.split(":", 1)[1]
    assert not _unescaped(value, ","), f"unescaped comma in TEXT (RFC 5545 3.3.11): {summary}"
    assert not _unescaped(value, ";"), f"unescaped semicolon in TEXT: {summary}"


def test_ics_lines_folded_at_75_octets(tmp_path):
    text = _ics_via_cli(tmp_path, "51.50000,-0.10000,-20.5")
    long = [ln for ln in text.split("\r\n") if len(ln.encode("utf-8")) > MAX_OCTETS]
    assert not long, f"lines over {MAX_OCTETS} octets (RFC 5545 3.1): {long}"


def test_ics_folding_counts_octets_not_characters():
    # 40 two-octet characters: the SUMMARY line is 68 characters but 108
    # octets, so it must be folded (RFC 5545 counts octets).
    row = {"norad_id": 1, "name": "\u00e9" * 40, "site": "X",
           "rise_time": "2026-03-19T00:30:51.000Z", "set_time": "2026-03-19T00:36:08.000Z",
           "window_start": "2026-03-19T00:00:00.000Z",
           "window_end": "2026-03-19T02:00:00.000Z",
           "culmination_time": "2026-03-19T00:33:30.000Z", "max_elevation_deg": 2.7,
           "culmination_azimuth_deg": 232.0, "rise_partial": False, "set_partial": False}
    text = passes_ics([row])
    long = [ln for ln in text.split("\r\n") if len(ln.encode("utf-8")) > MAX_OCTETS]
    assert not long, f"lines over {MAX_OCTETS} octets (RFC 5545 3.1): {long}"
    # and unfolding gives the name back whole
    assert "\u00e9" * 40 in "".join(_unfold(text))


def test_site_list_with_repeated_name_drops_nothing(tmp_path):
    """A YAML site list (parse_sites_mapping accepts a list of mappings) with
    two entries of the same name: house rule "nothing silently dropped" --
    either both sites come back (as a CSV with a repeated name does) or a
    SiteError names the file.  Closed form: the input holds two coordinates."""
    import pytest

    from satwatch.sites import SiteError
    from satwatch.sources.files import load_sites

    path = tmp_path / "sites.yaml"
    path.write_text("sites:\n  - {name: A, lat: 1, lon: 2}\n  - {name: A, lat: 3, lon: 4}\n",
                    encoding="utf-8")
    try:
        sites = load_sites(path)
    except SiteError as exc:
        assert str(path) in str(exc)
        return
    got = sorted((s.lat_deg, s.lon_deg) for s in sites)
    if got != [(1.0, 2.0), (3.0, 4.0)]:
        pytest.fail(f"site (1, 2) silently dropped: got {got}")


def test_access_geojson_bad_input_is_a_clear_error_not_a_crash():
    """targets_from_geojson (read by `satwatch access --polygon FILE`): valid
    JSON that is not a GeoJSON object (a list) and a Point at latitude 95
    (RFC 7946 3.1.1: latitude is within [-90, 90]) must raise a SatwatchError
    naming the file, not an AttributeError traceback / a silently accepted
    impossible point."""
    import pytest

    from satwatch.access import targets_from_geojson
    from satwatch.errors import SatwatchError

    with pytest.raises(SatwatchError, match="t.geojson"):
        targets_from_geojson("[]", "t.geojson")
    with pytest.raises(SatwatchError, match="t.geojson"):
        targets_from_geojson('{"type": "Point", "coordinates": [10, 95]}', "t.geojson")


def test_access_geojson_point_keeps_its_altitude():
    """RFC 7946 3.1.1: a position's optional third element is the altitude
    (metres above the WGS-84 ellipsoid, as satwatch.sites.parse_sites_geojson
    reads it).  A target point at 4000 m must not silently become 0 m."""
    from satwatch.access import targets_from_geojson

    (t,) = targets_from_geojson('{"type": "Point", "coordinates": [-70.4, -24.6, 4000]}',
                                "t.geojson")
    assert abs(t.points[0].alt_m - 4000.0) < 1e-6, t.points[0]


def test_api_site_with_out_of_range_latitude_is_a_validation_error(tmp_path):
    """GET /api/v1/sites/95,0/passes: a well-formed lat,lon whose latitude is
    out of [-90, 90] is a bad parameter (RFC 9110 15.5.5: 404 means the
    resource was not found), so 400 or 422 -- it answered 404 not_found."""
    from fastapi.testclient import TestClient

    import satwatch
    from satwatch.web import Settings, create_app

    path = tmp_path / "iss.tle"
    path.write_text(ISS_TLE, encoding="utf-8")
    app = create_app(Settings(catalog=satwatch.load_catalog(path),
                              db_url=f"sqlite:///{tmp_path / 'a.sqlite'}", api_tokens=["t"]))
    with TestClient(app) as c:
        r = c.get("/api/v1/sites/95,0/passes?ids=25544&start=2026-03-19T00:00:00Z&hours=1",
                  headers={"Authorization": "Bearer t"})
    assert r.status_code in (400, 422), (r.status_code, r.text)


def test_unsupported_format_is_one_clear_line_not_a_traceback(tmp_path):
    """cli/passes.py _fmt accepts "ics" and "geojson" for every command, then
    Format(fmt) raises ValueError (a traceback): `passes -f geojson`,
    `sites -f ics`, `access -f ics`.  House rule: an error is one clear line
    and a non-zero exit (SystemExit), never an uncaught exception."""
    path = tmp_path / "iss.tle"
    path.write_text(ISS_TLE, encoding="utf-8")
    window = ["--catalog", str(path), "--start", "2026-03-19T00:00:00Z", "--hours", "1"]
    for args in (["passes", "51.5,-0.1", *window, "--no-visibility", "-f", "geojson"],
                 ["sites", "-f", "ics"],
                 ["access", "51.5,-0.1", "--min-elevation", "10", *window, "-f", "ics"]):
        res = CliRunner().invoke(app, args)
        assert res.exit_code != 0, args
        assert res.exception is None or isinstance(res.exception, SystemExit), \
            (args, repr(res.exception))


def test_table_shows_the_first_rows_of_the_json_answer(monkeypatch, tmp_path, reference_data):
    """A table builds only the rows it shows: they must be the first rows of
    the full answer (the JSON array, in the documented order: by rise time,
    the window start for a pass already up, then NORAD number), and its
    footer must count every pass.  Checked on 300 objects of the 2023-10-13
    catalog over Vostochny, with the table cut at 40 rows."""
    import json

    import satwatch.cli.passes as cli_passes
    text = (reference_data / "catalogs" / "full-3le-2023-10-13.txt").read_text().splitlines()
    path = tmp_path / "cat.txt"
    path.write_text("\n".join(text[:900]) + "\n")
    args = ["passes", "VOSTOCHNY", "--start", "2023-10-13T00:00:00Z", "--hours", "24",
            "--catalog", str(path), "--workers", "1", "--no-visibility"]
    runner = CliRunner()
    full = runner.invoke(app, args + ["--format", "json"])
    assert full.exit_code == 0, full.output
    rows = json.loads(full.stdout)
    assert len(rows) > 100
    keys = [(r["rise_time"] or r["window_start"], r["norad_id"]) for r in rows]
    assert keys == sorted(keys)
    monkeypatch.setattr(cli_passes, "MAX_TABLE_ROWS", 40)
    table = runner.invoke(app, args + ["--format", "table"])
    assert table.exit_code == 0, table.output
    ids = [int(line.split("│")[1]) for line in table.stdout.splitlines()
           if line.startswith("│") and line.split("│")[1].strip().isdigit()]
    assert ids == [r["norad_id"] for r in rows[:40]]
    assert f"{len(rows) - 40} more rows not shown (of {len(rows)})" in table.stdout
