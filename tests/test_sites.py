"""Sites: the built-in registry checked row by row against the reference
files its coordinates cite (GCAT lp.tsv / sites.tsv by Jonathan McDowell,
CC-BY 4.0; CNS North Korea Missile Test Database facility.en.json), plus
user sites from text, CSV, GeoJSON and config files."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from satwatch.sites import (Site, SiteError, builtin_sites, find_site, parse_sites,
                            parse_sites_csv)
from satwatch.sources.files import load_sites

# The registry copies the reference coordinates, which are given to 4-6
# decimals: any difference beyond rounding means a transcription error.
COPY_TOLERANCE_DEG = 1e-5
# Sites the issue names; each must be in the registry.
REQUIRED = ["VOSTOCHNY", "BAIKONUR", "PLESETSK", "KAPUSTIN_YAR", "SOHAE", "TONGHAE", "JIUQUAN",
            "TAIYUAN", "XICHANG", "WENCHANG", "CAPE_CANAVERAL", "VANDENBERG", "KOUROU",
            "TANEGASHIMA", "UCHINOURA", "NARO", "SRIHARIKOTA", "MAHIA", "PALMACHIM", "SEMNAN",
            "SHAHROUD", "WALLOPS", "SUNAN", "SVOBODNY"]


def _gcat_rows(path):
    rows = {}
    with open(path, encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if not row or row[0].startswith("#"):
                continue
            rows.setdefault(row[0], []).append(row)
    return rows


@pytest.fixture(scope="module")
def references(reference_data):
    lp = _gcat_rows(reference_data / "sites" / "lp.tsv")
    sites = _gcat_rows(reference_data / "sites" / "sites.tsv")
    cns = json.loads((reference_data / "events" / "facility.en.json").read_text())["facilities"]
    return lp, sites, cns


def test_registry_has_the_sites_the_issue_names():
    codes = {s.code for s in builtin_sites()}
    missing = [c for c in REQUIRED if c not in codes]
    assert not missing, missing


def test_every_builtin_site_matches_its_cited_reference_row(references):
    lp, sites, cns = references
    for s in builtin_sites():
        assert s.source and s.ref, s.code
        kind, _, key = s.ref.partition(":")
        if kind == "gcat-lp":
            site, _, pad = key.partition("/")
            rows = [r for r in lp[site] if r[1].strip() == pad]
            assert len(rows) == 1, s.ref
            lon, lat = float(rows[0][10]), float(rows[0][11])
            assert "McDowell" in s.source
        elif kind == "gcat-sites":
            rows = sites[key]
            lon, lat = float(rows[0][10]), float(rows[0][11])
            assert "McDowell" in s.source
        elif kind == "cns":
            lat, lon = cns[key]["lat"], cns[key]["lon"]
            assert "CNS" in s.source
        else:
            pytest.fail(f"{s.code}: unknown reference {s.ref}")
        assert abs(s.lat_deg - lat) < COPY_TOLERANCE_DEG, s.code
        assert abs(s.lon_deg - lon) < COPY_TOLERANCE_DEG, s.code


def test_registry_codes_unique_and_kinds_valid():
    sites = builtin_sites()
    assert len({s.code for s in sites}) == len(sites)
    assert {s.kind for s in sites} <= {"launch site", "missile site", "other"}


def test_find_site_by_code_name_alias_prefix_and_latlon():
    assert find_site("vostochny").code == "VOSTOCHNY"
    assert find_site("Baykonur").code == "BAIKONUR"          # alias
    assert find_site("Svobodny-18").code == "SVOBODNY"       # alias with punctuation
    assert find_site("tanega").code == "TANEGASHIMA"         # unambiguous prefix
    s = find_site("51.88, 128.33, 250")
    assert (s.lat_deg, s.lon_deg, s.alt_m) == (51.88, 128.33, 250.0)
    gp = find_site("-39.26,177.86").ground_point
    assert gp.lat_deg == -39.26 and gp.alt_m == 0.0


def test_find_site_errors_say_what_to_do():
    with pytest.raises(SiteError, match="ambiguous"):
        find_site("k")
    with pytest.raises(SiteError, match="no site"):
        find_site("Atlantis")
    with pytest.raises(SiteError, match="lat,lon"):
        find_site("95,10")   # latitude out of range


def test_user_sites_searched_first_and_ground_point():
    mine = Site("My dish", 10.0, 20.0, 5.0, code="DISH")
    assert find_site("dish", extra_sites=[mine]) is mine
    # GroundPoint from the site: ITRS position on WGS-84 (closed form at the equator/meridian).
    gp = Site("eq", 0.0, 0.0, 1000.0).ground_point
    np.testing.assert_allclose(gp.r_itrs_km, [6378.137 + 1.0, 0, 0], atol=1e-9)


def test_load_sites_csv_geojson_yaml_toml(tmp_path):
    (tmp_path / "a.csv").write_text("# mine\nname,lat,lon,alt_m,kind\nHill,40.5,125.1,300,other\n")
    (tmp_path / "b.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Bridge"},
         "geometry": {"type": "Point", "coordinates": [130.6, 42.4]}}]}))
    (tmp_path / "c.yaml").write_text("sites:\n  Pier: {lat_deg: 39.1, lon_deg: 127.4}\n"
                                     "  Roof: '38.9,125.7,40'\n")
    (tmp_path / "d.toml").write_text("[sites.Tower]\nlat = 1.5\nlon = -2.5\nalt_m = 12\n")
    a, = load_sites(tmp_path / "a.csv")
    assert (a.name, a.lat_deg, a.lon_deg, a.alt_m) == ("Hill", 40.5, 125.1, 300.0)
    assert "line 3" in a.source
    b, = load_sites(tmp_path / "b.geojson")
    assert (b.lat_deg, b.lon_deg) == (42.4, 130.6)
    pier, roof = load_sites(tmp_path / "c.yaml")
    assert pier.lat_deg == 39.1 and roof.alt_m == 40.0
    tower, = load_sites(tmp_path / "d.toml")
    assert tower.lon_deg == -2.5 and tower.alt_m == 12.0


def test_load_sites_errors_name_file_line_field(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lat,lon\nOK,1,2\nBad,abc,3\n")
    with pytest.raises(SiteError) as exc:
        load_sites(bad)
    assert exc.value.line == 3 and exc.value.field == "lat_deg"
    assert "bad.csv" in str(exc.value) and "line 3" in str(exc.value)
    with pytest.raises(SiteError, match="field lon_deg"):
        parse_sites_csv("name,lat,lon\nX,10,999\n")
    poly = tmp_path / "p.geojson"
    poly.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": {
        "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}))
    with pytest.raises(SiteError, match="Points"):
        load_sites(poly)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("sites:\n  Pier: {lat_deg: 99, lon_deg: 127.4}\n")
    with pytest.raises(SiteError, match="sites.Pier.lat_deg"):
        load_sites(cfg)
    (tmp_path / "x.kml").write_text("<kml/>")
    with pytest.raises(SiteError, match="unknown site file type"):
        load_sites(tmp_path / "x.kml")


def test_parse_sites_is_text_in_sites_out_and_reader_names_missing_file(tmp_path):
    # The core parses text with a source name for its messages; only
    # sources.files opens the file.  Same YAML text, same sites either way.
    text = "sites:\n  Pier: {lat_deg: 39.1, lon_deg: 127.4}\n  Roof: '38.9,125.7,40'\n"
    (tmp_path / "s.yml").write_text(text)
    assert ([(s.name, s.lat_deg, s.lon_deg, s.alt_m) for s in load_sites(tmp_path / "s.yml")]
            == [(s.name, s.lat_deg, s.lon_deg, s.alt_m)
                for s in parse_sites(text, "s.yml", format=".yml")]
            == [("Pier", 39.1, 127.4, 0.0), ("Roof", 38.9, 125.7, 40.0)])
    with pytest.raises(SiteError, match=r"mine\.json, line 2"):
        parse_sites('{"sites":\n  [oops]}', "mine.json", format="json")
    with pytest.raises(SiteError, match="nowhere.csv: cannot read"):
        load_sites(tmp_path / "nowhere.csv")


def test_coordinates_in_exponent_notation_are_read_and_checked():
    """Programs write numbers as 1.283e2 or 1e12: a site given that way is
    read (not taken for an unknown name), and an altitude of 1e12 m is
    refused naming alt_m (it was 'no site')."""
    from satwatch.sites import SiteError
    s = find_site("51.9,1.283e2,2.7E2")
    assert (s.lat_deg, s.lon_deg, s.alt_m) == (51.9, 128.3, 270.0)
    with pytest.raises(SiteError) as err:
        find_site("0,0,1e12")
    assert err.value.field == "alt_m"
