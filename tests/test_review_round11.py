"""Review round 11: the store, element parsing and the passes CLI's output.

Outside references, per test:
* python-sgp4 (``Satrec.sgp4_array``) says which objects fail over a window;
  docs/passes.md says `satwatch passes` names every such object on one line
  on standard error, whatever the output format.
* PostgreSQL 15 documentation, 8.1.1 "Integer Types": ``integer`` holds
  -2147483648 to +2147483647; SQLite "Datatypes In SQLite" 2.0: an INTEGER is
  a signed integer of at most 8 bytes (up to 2**63 - 1).
* PostgreSQL 15 documentation, 8.3 "Character Types": "The character with
  code zero cannot be stored" in a text column.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from sgp4.api import Satrec, jday
from typer.testing import CliRunner

from satwatch.cli import app
from satwatch.store import StoreError, open_store

# Space-Track 3LE records copied from ../shared/data/catalogs/full-3le-2023-10-13.txt
SL8_DEB = """0 SL-8 DEB
1 09572U 75112C   23281.09328950  .08088259  19070-5  31259-2 0  9995
2 09572  73.9823 310.2340 0008125 285.2222  74.8130 16.23822304554704
"""
ISS = """0 ISS (ZARYA)
1 25544U 98067A   23282.71486326  .00020100  00000-0  35938-3 0  9998
2 25544  51.6410 121.2575 0005123  92.3190 358.8196 15.49983917419557
"""

# python-sgp4's own OMM example (sgp4/tests.py, MARIO_XML), as CelesTrak JSON keywords
MARIO = {"OBJECT_NAME": "MARIO", "OBJECT_ID": "1998-067UQ",
         "EPOCH": "2023-04-25T10:45:30.642912", "MEAN_MOTION": 15.99081912,
         "ECCENTRICITY": 0.0014649, "INCLINATION": 51.6242, "RA_OF_ASC_NODE": 216.2930,
         "ARG_OF_PERICENTER": 331.8976, "MEAN_ANOMALY": 28.1241, "EPHEMERIS_TYPE": 0,
         "CLASSIFICATION_TYPE": "U", "NORAD_CAT_ID": 55123, "ELEMENT_SET_NO": 999,
         "REV_AT_EPOCH": 1839, "BSTAR": 0.001568, "MEAN_MOTION_DOT": 0.00787702,
         "MEAN_MOTION_DDOT": 0.00029408}

PG_INTEGER_MAX = 2**31 - 1         # PostgreSQL 'integer' (8.1.1)
SQLITE_INTEGER_MAX = 2**63 - 1     # SQLite INTEGER: 8 bytes, signed


def test_passes_ics_names_the_objects_that_failed_on_stderr(tmp_path):
    # Outside reference: python-sgp4 itself fails (error code 6, decayed) on
    # SL-8 DEB 9572 over 2023-10-13, minute by minute.
    sat = Satrec.twoline2rv(*SL8_DEB.splitlines()[1:3])
    jd, fr = jday(2023, 10, 13, 0, 0, 0)
    minutes = np.arange(0, 1, 1 / 1440)
    err, _, _ = sat.sgp4_array(np.full(minutes.size, jd), fr + minutes)
    assert (err != 0).any()
    path = tmp_path / "two.tle"
    path.write_text(SL8_DEB + ISS, encoding="utf-8")
    res = CliRunner().invoke(app, ["passes", "VOSTOCHNY", "--catalog", str(path),
                                   "--start", "2023-10-13T00:00:00Z", "--hours", "24",
                                   "--no-visibility", "--workers", "1", "--format", "ics"])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("BEGIN:VCALENDAR")
    lines = [ln for ln in res.stderr.splitlines() if "could not be propagated" in ln]
    assert len(lines) == 1 and "9572" in lines[0], res.stderr


def _store_url(kind, tmp_path, request):
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/r11.db"
    return request.getfixturevalue("fresh_pg_url")


@pytest.mark.parametrize("kind, rev", [("sqlite", SQLITE_INTEGER_MAX + 1),
                                       ("postgresql", PG_INTEGER_MAX + 1)])
def test_ingest_refuses_an_integer_the_database_cannot_hold(kind, rev, tmp_path, request):
    # A damaged REV_AT_EPOCH (OMM has no checksum) beyond what the column
    # holds: the record is a rejection naming the source and field, the
    # good record beside it is stored, and nothing raises.
    bad = dict(MARIO, NORAD_CAT_ID=55124, REV_AT_EPOCH=rev)
    text = json.dumps([MARIO, bad])
    with open_store(_store_url(kind, tmp_path, request)) as store:
        report = store.ingest_texts([("mario.json", text)])
        assert report.stored == 1
        assert [(r.source, r.field) for r in report.rejections] == [("mario.json",
                                                                      "REV_AT_EPOCH")]
        assert "55124" in report.rejections[0].reason
        assert len(store.element_sets(55123)) == 1 and store.element_sets(55124) == []


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_ingest_refuses_a_name_holding_nul_bytes(kind, tmp_path, request):
    # A file damaged by a crash (a block of zero bytes) in front of a name
    # line: the record's name is not text; PostgreSQL cannot store it.
    text = ISS + "\x00\x00\x00" + SL8_DEB
    with open_store(_store_url(kind, tmp_path, request)) as store:
        report = store.ingest_texts([("damaged.txt", text)])
        assert report.stored == 1
        assert [(r.source, r.line, r.field) for r in report.rejections] == [
            ("damaged.txt", 5, "OBJECT_NAME")]
        assert store.element_sets(9572) == []
        assert [o["name"] for o in store.objects()] == ["ISS (ZARYA)"]


# CCSDS 502.0-B-3 OMM: INCLINATION is in [deg]; a KVN value in other units
# carries them in brackets ("0.901 [rad]") and satwatch refuses it, naming them.
KVN_IN_RADIANS = """CCSDS_OMM_VERS = 2.0
CREATION_DATE = 2023-10-09T17:09:24.185664
ORIGINATOR = test
OBJECT_NAME = ISS (ZARYA)
OBJECT_ID = 1998-067A
CENTER_NAME = EARTH
REF_FRAME = TEME
TIME_SYSTEM = UTC
MEAN_ELEMENT_THEORY = SGP4
EPOCH = 2023-10-09T17:09:24.185664
MEAN_MOTION = 15.49983917
ECCENTRICITY = 0.0005123
INCLINATION = 0.901306 [rad]
RA_OF_ASC_NODE = 121.2575
ARG_OF_PERICENTER = 92.319
MEAN_ANOMALY = 358.8196
NORAD_CAT_ID = 25544
BSTAR = 0.00035938
MEAN_MOTION_DOT = 0.000201
MEAN_MOTION_DDOT = 0.0
"""


def test_ingest_table_shows_the_units_a_rejection_names(tmp_path):
    path = tmp_path / "rad.kvn"
    path.write_text(KVN_IN_RADIANS, encoding="utf-8")
    res = CliRunner().invoke(app, ["ingest", str(path), "--db", str(tmp_path / "k.db")])
    assert res.exit_code == 0, res.output
    # the file's unit and the standard's, as written (brackets and all)
    assert "[rad]" in res.stdout and "[deg]" in res.stdout, res.stdout


def test_stale_table_shows_a_name_with_brackets_verbatim(tmp_path):
    # The ISS set above under a name a user gave it; it is stale 30 days
    # after its epoch (LEO limit 7 days, docs/maneuvers.md).
    name = "ISS [/] [b]"
    path = tmp_path / "named.tle"
    path.write_text(ISS.replace("ISS (ZARYA)", name), encoding="utf-8")
    db = str(tmp_path / "s.db")
    assert CliRunner().invoke(app, ["ingest", str(path), "--db", db]).exit_code == 0
    res = CliRunner().invoke(app, ["stale", "--db", db, "--at", "2023-11-08T00:00:00Z"])
    assert res.exit_code == 0, res.output
    assert name in res.stdout, res.stdout


def _importable(module: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(module) is not None


# SQLAlchemy's URL form is dialect+driver://; "postgresql+psycopg2://" is the
# form its documentation gives for psycopg2 (its default PostgreSQL driver),
# common in DATABASE_URL settings.  satwatch installs psycopg 3 only.
@pytest.mark.parametrize("driver", ["psycopg2", "nosuchdriver"])
def test_db_url_with_a_driver_that_is_not_there_is_one_error_line(driver, tmp_path):
    if _importable(driver):
        pytest.skip(f"{driver} is installed here")
    url = f"postgresql+{driver}://user:secret@127.0.0.1:5432/satwatch"
    with pytest.raises(StoreError, match=driver):
        open_store(url)
    res = CliRunner().invoke(app, ["history", "25544", "--db", url])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and driver in lines[0], res.stderr
    assert "secret" not in res.stderr
