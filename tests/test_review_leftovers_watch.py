"""Review leftovers, 3: watch rules that name objects absent from the
catalog are reported (evaluation, `satwatch watch`, the API's rule creation
and ingest) instead of never firing in silence.

Reference: the plain statement of expected behaviour in docs/service.md
("Rules whose objects are not in the catalog"): a pass, manoeuvre or
conjunction rule cannot fire for an object that is not in the catalog it is
evaluated on; a new-object rule waits for objects to appear and is not
reported; a rule watching every object is not reported.
"""
from __future__ import annotations

import json

from typer.testing import CliRunner

from satwatch.catalog import Catalog

ISS, HST = 25544, 20580


# -- 3. rules naming objects absent from the catalog are reported --------------------
MISSING = 99_999_001     # a NORAD id no catalog holds


def test_evaluation_reports_rules_whose_objects_are_absent(iss_hst_geo):
    from satwatch.watch import Rule, rule_warnings
    catalog = Catalog([iss_hst_geo["iss"], iss_hst_geo["hst"]], [], "two")
    rules = [Rule(1, "pass", norad_ids=(ISS, MISSING), site_lat_deg=0.0, site_lon_deg=0.0,
                  radius_km=500.0),
             Rule(2, "maneuver", name_pattern="NO SUCH SATELLITE*"),
             Rule(3, "conjunction", norad_ids=(HST,), max_miss_km=5.0),
             Rule(4, "maneuver", owner="NOBODY"),
             Rule(5, "new_object", norad_ids=(MISSING,)),      # waits for it to appear
             Rule(6, "maneuver")]                              # watches everything
    warnings = rule_warnings(rules, catalog, owners={ISS: "ISS"})
    by_rule = {w.rule_id: w for w in warnings}
    assert set(by_rule) == {1, 2, 4}
    assert by_rule[1].missing_norad_ids == (MISSING,)
    assert str(MISSING) in by_rule[1].message and "rule 1" in by_rule[1].message
    assert "NO SUCH SATELLITE*" in by_rule[2].message
    assert "NOBODY" in by_rule[4].message
    assert "never seen" not in by_rule[1].message          # no store to ask
    known = rule_warnings(rules, catalog, owners={ISS: "ISS"}, known_ids=[ISS, HST])
    assert f"{MISSING} never seen" in known[0].message


def _tle_file(tmp_path, sets):
    path = tmp_path / "catalog.tle"
    path.write_text("".join(es.source_text.strip() + "\n" for es in sets))
    return path


def test_api_and_watch_tell_the_user_about_absent_objects(iss_hst_geo, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from satwatch.cli import app as cli_app
    from satwatch.web import Settings, create_app
    monkeypatch.setenv("SATWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SATWATCH_DATA_DIR", str(tmp_path / "data"))
    db = f"sqlite:///{tmp_path / 'watch.sqlite'}"
    auth = {"Authorization": "Bearer tok"}
    rule = {"kind": "pass", "norad_ids": [ISS, MISSING], "site_lat_deg": 48.85,
            "site_lon_deg": 2.35, "radius_km": 800}
    web = create_app(Settings(catalog=Catalog([iss_hst_geo["iss"]], [], "iss"), db_url=db,
                              api_tokens=["tok"]))
    with TestClient(web) as client:
        r = client.post("/api/v1/rules", json=rule, headers=auth)
        assert r.status_code == 201, r.text
        rule_id = r.json()["id"]
        assert [w["missing_norad_ids"] for w in r.json()["warnings"]] == [[MISSING]]
        r = client.post("/api/v1/ingest", headers=auth,
                        content=iss_hst_geo["hst"].source_text.strip() + "\n")
        assert r.status_code == 200, r.text
        warned = {w["rule_id"]: w for w in r.json()["warnings"]}
        # the update holds HST only: both of the rule's objects are absent from it
        assert sorted(warned[rule_id]["missing_norad_ids"]) == [ISS, MISSING]
    catalog = _tle_file(tmp_path, [iss_hst_geo["iss"], iss_hst_geo["hst"]])
    res = CliRunner().invoke(cli_app, ["watch", "--once", "--db", db, "--catalog",
                                       str(catalog), "--at", "2023-10-10T00:00:00Z",
                                       "--format", "json"])
    assert res.exit_code == 0, res.output
    row, = json.loads(res.stdout)
    assert len(row["warnings"]) == 1 and str(MISSING) in row["warnings"][0]
    assert f"rule {rule_id}" in row["warnings"][0]


