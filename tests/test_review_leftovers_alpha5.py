"""Review leftovers, 4: Alpha-5 catalog numbers given as text to the store
look-ups (`satwatch history T0288`) mean the same object as the number.

Reference: Alpha-5 as Space-Track defines it (the first character a letter
A-Z without I and O standing for 10..33, then four digits): the raw TLE lines
of ../shared/data/catalogs/full-3le-2023-10-13.txt carry "T0288" in columns
3-7 for the object numbered 270288 there.
"""
from __future__ import annotations

import dataclasses
import json

from typer.testing import CliRunner

# -- 4. Alpha-5 catalog numbers in store look-ups ------------------------------------
ALPHA5_TEXT, ALPHA5_NUMBER = "T0288", 270288     # T = 27 (A-Z without I and O, from 10)


def test_history_by_alpha5_text_equals_history_by_number(full_catalog_path, tmp_path):
    from satwatch.cli import app
    from satwatch.elements import parse_elements
    lines = full_catalog_path.read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(f"1 {ALPHA5_TEXT}"))
    sets, rej = parse_elements("\n".join(lines[i - 1:i + 2]))
    assert not rej and sets[0].norad_id == ALPHA5_NUMBER
    db = f"sqlite:///{tmp_path / 'a5.db'}"
    src = tmp_path / "a5.tle"
    src.write_text("\n".join(lines[i - 1:i + 2]) + "\n")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(src), "--db", db]).exit_code == 0
    by_number = runner.invoke(app, ["history", str(ALPHA5_NUMBER), "--db", db,
                                    "--format", "json"])
    by_alpha5 = runner.invoke(app, ["history", ALPHA5_TEXT, "--db", db, "--format", "json"])
    assert by_number.exit_code == 0, by_number.output
    assert by_alpha5.exit_code == 0, by_alpha5.output
    assert json.loads(by_alpha5.output) == json.loads(by_number.output)
    assert json.loads(by_alpha5.output)[0]["norad_id"] == ALPHA5_NUMBER


def test_store_objects_reads_alpha5_like_the_tle_columns(tmp_path, iss_hst_geo):
    from satwatch.store import open_store
    # A0001 is 100001 and Z9999 is 339999 (Space-Track's Alpha-5 definition)
    sets = [dataclasses.replace(iss_hst_geo["iss"], norad_id=n) for n in (100001, 339999, 180001)]
    with open_store(tmp_path / "o.db") as store:
        store.ingest_catalog(sets)
        assert [o["norad_id"] for o in store.objects("A0001")] == [100001]
        assert [o["norad_id"] for o in store.objects("Z9999")] == [339999]
        assert [o["norad_id"] for o in store.objects("J0001")] == [180001]   # I is skipped
