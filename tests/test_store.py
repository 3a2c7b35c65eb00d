"""The store, on SQLite and on a real PostgreSQL (fixture ``pg_url``; each
test gets a fresh database with a random name).

References: the element sets are parsed from the files in ../shared/data and
the expected answers (newest set per object, set nearest in epoch, distinct
sets) are computed here by brute force over the parsed list, independently
of the SQL the store runs.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import satwatch
from satwatch.elements import parse_elements, write_omm
from satwatch.store import Migration, StoreError, open_store
from satwatch.store.migrations import MIGRATIONS
from satwatch.time import utc

SAMPLE_OBJECTS = 400      # objects of the full catalog used in most tests (keeps them fast)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("fresh_pg_url")


@pytest.fixture(scope="module")
def sample_text(reference_data) -> str:
    """The first SAMPLE_OBJECTS objects (3LE) of the 2023-10-13 full catalog."""
    lines = (reference_data / "catalogs" / "full-3le-2023-10-13.txt").read_text().splitlines()
    return "\n".join(lines[:3 * SAMPLE_OBJECTS]) + "\n"


@pytest.fixture(scope="module")
def iss_2023_text(reference_data) -> str:
    """ISS element sets of 2023 from the 2020-2024 history."""
    lines = (reference_data / "history" / "iss_25544_2020-2024.tle").read_text().splitlines()
    keep = []
    for l1, l2 in zip(lines[0::2], lines[1::2]):
        if l1[18:20] == "23":
            keep += [l1, l2]
    return "\n".join(keep) + "\n"


def test_open_creates_schema_and_is_idempotent(db_url):
    store = open_store(db_url)
    assert store.schema_versions() == [m.version for m in MIGRATIONS]
    store.close()
    again = open_store(db_url)          # a second open applies nothing new
    assert again.schema_versions() == [m.version for m in MIGRATIONS]
    with again.engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    assert {"schema_version", "objects", "element_sets", "ingests"} <= names
    again.close()


def test_added_migration_step_runs_once(db_url):
    """The documented way to add a table: append a step; it runs exactly once."""
    extra = sa.Table("reported_events_demo", sa.MetaData(),
                     sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("time_ns", sa.BigInteger, nullable=False))
    calls = []

    def upgrade(conn):
        calls.append(1)
        extra.create(conn)

    steps = MIGRATIONS + [Migration(150, "reported_events_demo", upgrade)]
    open_store(db_url).close()                           # an existing database ...
    store = open_store(db_url, migrations=steps)         # ... is upgraded
    open_store(db_url, migrations=steps).close()
    assert calls == [1]
    assert 150 in store.schema_versions()
    with store.engine.begin() as conn:
        conn.execute(extra.insert().values(time_ns=1))
        assert conn.execute(sa.select(sa.func.count()).select_from(extra)).scalar() == 1
    store.close()


def test_duplicate_migration_versions_are_refused(tmp_path):
    steps = MIGRATIONS + [Migration(1, "clash", lambda conn: None)]
    with pytest.raises(StoreError, match="share version 1"):
        open_store(tmp_path / "x.db", migrations=steps)


def test_bad_url_is_one_clear_error():
    with pytest.raises(StoreError, match="not supported"):
        open_store("mysql://nobody@127.0.0.1/none")


def test_ingest_is_idempotent_and_identical_sets_are_stored_once(db_url, sample_text):
    sets, rejections = parse_elements(sample_text, source="sample")
    assert not rejections
    distinct = {(es.norad_id, es.epoch_ns) for es in sets}
    store = open_store(db_url)
    first = store.ingest_texts([("sample", sample_text)], batch=97)
    assert first.read == len(sets) and first.stored == len(distinct)
    assert first.new_objects == len({es.norad_id for es in sets})
    # The same text again: skipped as already ingested.
    second = store.ingest_texts([("sample", sample_text)])
    assert second.skipped_sources == ["sample"] and second.stored == 0
    # Forced, and as OMM JSON (same elements, another format): nothing new.
    assert store.ingest_texts([("sample", sample_text)], force=True).stored == 0
    omm = write_omm(sets, "json")
    again = store.ingest_texts([("sample.json", omm)])
    assert again.read == len(sets) and again.stored == 0
    counts = store.counts()
    assert counts["element_sets"] == len(distinct)
    assert counts["objects"] == len({es.norad_id for es in sets})
    store.close()


def test_history_queries_match_brute_force(db_url, iss_2023_text, sample_text):
    iss, _ = parse_elements(iss_2023_text)
    store = open_store(db_url)
    store.ingest_texts([("iss2023", iss_2023_text), ("sample", sample_text)], batch=500)
    got = store.element_sets(25544)
    assert [es.epoch_ns for es in got] == sorted(es.epoch_ns for es in iss)
    # Every field survives the round trip (the source text verbatim too).
    by_epoch = {es.epoch_ns: es for es in iss}
    for es in got[:50]:
        assert es == by_epoch[es.epoch_ns]
        assert es.source_text == by_epoch[es.epoch_ns].source_text
    start, end = utc("2023-09-01T00:00:00Z"), utc("2023-09-30T00:00:00Z")
    window = store.element_sets(25544, start=start, end=end)
    assert [es.epoch_ns for es in window] == sorted(
        es.epoch_ns for es in iss if start.ns <= es.epoch_ns <= end.ns)
    for when in ("2023-09-13T04:30:00Z", "2023-01-01T00:00:00Z", "2022-06-01T00:00:00Z",
                 "2024-06-01T00:00:00Z"):
        t = utc(when).ns
        want = min(iss, key=lambda es: (abs(es.epoch_ns - t), es.epoch_ns))
        assert store.nearest(25544, utc(when)).epoch_ns == want.epoch_ns
    assert store.nearest(99999999, utc("2023-01-01")) is None
    store.close()


def test_latest_catalog_as_of_a_time(db_url, iss_2023_text, sample_text):
    iss, _ = parse_elements(iss_2023_text)
    sample, _ = parse_elements(sample_text)
    store = open_store(db_url)
    store.ingest_texts([("iss2023", iss_2023_text), ("sample", sample_text)])
    at = utc("2023-09-13T00:00:00Z")
    cat = store.latest_catalog(at=at)
    assert isinstance(cat, satwatch.Catalog)
    newest = {}
    for es in iss + sample:
        if es.epoch_ns <= at.ns and (es.norad_id not in newest
                                     or es.epoch_ns > newest[es.norad_id].epoch_ns):
            newest[es.norad_id] = es
    assert {es.norad_id: es.epoch_ns for es in cat} == {
        k: v.epoch_ns for k, v in newest.items()}
    full = store.latest_catalog()
    assert len(full) == len({es.norad_id for es in iss + sample})
    assert full[25544].epoch_ns == max(es.epoch_ns for es in iss + sample
                                       if es.norad_id == 25544)
    store.close()


def test_object_metadata(db_url, sample_text):
    sample, _ = parse_elements(sample_text)
    store = open_store(db_url)
    store.ingest_texts([("sample", sample_text)])
    first = sample[0]
    obj = store.object(first.norad_id)
    assert obj["name"] == first.name and obj["intl_designator"] == first.intl_designator
    assert obj["first_epoch_ns"] == obj["last_epoch_ns"] == first.epoch_ns
    assert store.set_object_metadata([{"norad_id": first.norad_id, "owner": "CIS",
                                       "launch_date": "1957-10-04",
                                       "object_type": "rocket body"}]) == 1
    obj = store.object(first.norad_id)
    assert (obj["owner"], obj["launch_date"], obj["object_type"]) == (
        "CIS", "1957-10-04", "rocket body")
    pattern = store.objects(first.name[:3] + "*")
    assert first.norad_id in {o["norad_id"] for o in pattern}
    store.close()


def test_plain_path_means_sqlite(tmp_path):
    store = open_store(tmp_path / "sub" / "plain.db")
    assert store.dialect == "sqlite" and Path(tmp_path / "sub" / "plain.db").exists()
    store.close()


def test_cli_ingest_history_and_json(tmp_path, iss_2023_text, monkeypatch, reference_data):
    import json

    from typer.testing import CliRunner

    from satwatch.cli import app
    src = tmp_path / "iss2023.tle"
    src.write_text(iss_2023_text)
    monkeypatch.setenv("SATWATCH_DB", f"sqlite:///{tmp_path / 'env.db'}")
    runner = CliRunner()
    res = runner.invoke(app, ["ingest", str(src), "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    n = len(parse_elements(iss_2023_text)[0])
    assert doc["read"] == n and doc["stored"] == n
    assert (tmp_path / "env.db").exists()          # SATWATCH_DB was used
    res = runner.invoke(app, ["history", "25544", "--format", "json",
                              "--start", "2023-03-01T00:00:00Z",
                              "--end", "2023-03-02T00:00:00Z"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert rows and all(r["epoch"].startswith("2023-03-01") for r in rows)
    res = runner.invoke(app, ["maneuvers", "--format", "json", "--sat", "25544"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert rows, "the ISS reboosted in 2023"
    assert {"norad_id", "epoch", "type", "delta_v_m_s"} <= set(rows[0])
    # an object with too few sets to scan is said to be so, not counted as scanned
    full = (reference_data / "catalogs" / "full-3le-2023-10-13.txt").read_text().splitlines()
    at = next(i for i, line in enumerate(full) if line.startswith("1 20580"))   # HST, 1 set
    short = tmp_path / "short.tle"
    short.write_text("\n".join(full[at - 1:at + 2]) + "\n")
    assert runner.invoke(app, ["ingest", str(short)]).exit_code == 0
    res = runner.invoke(app, ["maneuvers"])                       # every object stored
    assert res.exit_code == 0, res.output
    assert "in 1 objects scanned (1 with fewer than 12 element sets not scanned)" in \
        " ".join(res.output.split())
    res = runner.invoke(app, ["history", "NO SUCH THING", "--db", str(tmp_path / "x.db")])
    assert res.exit_code != 0 and "no object" in res.output


def test_gcat_metadata(db_url, iss_2023_text, sample_text, reference_data):
    """GCAT psatcat.tsv (J. McDowell, CC-BY 4.0) fills launch date, registering
    state and payload class.  Reference: Zarya (25544) launched on
    1998-11-20 (NASA ISS fact sheet); the state is read here from GCAT's own
    row by splitting the tab-separated line."""
    text = (reference_data / "sites" / "psatcat.tsv").read_text()
    row = next(line.split("\t") for line in text.splitlines() if line.startswith("S25544\t"))
    header = next(line for line in text.splitlines() if line.startswith("#JCAT"))
    state = row[header.lstrip("#").split("\t").index("UNState")]
    store = open_store(db_url)
    store.ingest_texts([("iss2023", iss_2023_text), ("sample", sample_text)])
    n = store.ingest_gcat_psatcat(text)
    assert 0 < n <= store.counts()["objects"]
    iss = store.object(25544)
    assert iss["launch_date"] == "1998-11-20"
    assert iss["owner"] == state
    assert iss["object_type"].startswith("payload")
    assert iss["name"] != "Zarya Cargo Block"        # GCAT's names are not written
    store.close()


def test_cli_decays_new_and_stale(tmp_path, reference_data):
    """Two real catalogs a month apart (CelesTrak 'active' 2023-08-22 and
    2023-11-19).  References computed here from the parsed files: objects
    first seen in the later one are new; the stale list is checked against
    each object's epoch age; a perigee below 180 km means re-entering."""
    import json

    from typer.testing import CliRunner

    from satwatch.cli import app
    old = reference_data / "catalogs" / "active-2023-08-22.txt"
    new = reference_data / "catalogs" / "active-2023-11-19.txt"
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    res = runner.invoke(app, ["ingest", str(old), str(new), "--db", db, "--format", "json"])
    assert res.exit_code == 0, res.output
    old_sets, _ = parse_elements(old.read_text())
    new_sets, _ = parse_elements(new.read_text())
    old_ids = {es.norad_id for es in old_sets}
    first_new = {}
    for es in new_sets:
        if es.norad_id not in old_ids:
            first_new[es.norad_id] = min(es.epoch_ns, first_new.get(es.norad_id, es.epoch_ns))
    since = max(es.epoch_ns for es in old_sets) + 1
    since_iso = satwatch.Time(since).iso(3)
    res = runner.invoke(app, ["new-objects", "--since", since_iso, "--db", db,
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    got = {r["norad_id"] for r in json.loads(res.output)}
    assert got == {n for n, ep in first_new.items() if ep >= since}
    assert len(got) > 100            # Starlink and others launched that autumn
    res = runner.invoke(app, ["stale", "--db", db, "--format", "json",
                              "--at", "2023-11-19T12:00:00Z"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    at = utc("2023-11-19T12:00:00Z").ns
    for r in rows[:200]:
        assert r["age_days"] > r["limit_days"]
        assert abs(r["age_days"] - (at - utc(r["last_epoch"]).ns) / 86400e9) < 1e-3
    res = runner.invoke(app, ["decays", "--db", db, "--format", "json",
                              "--at", "2023-11-20T00:00:00Z"])     # after every epoch
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    low = {es.norad_id for es in new_sets if es.perigee_alt_km < 180}
    flagged = {r["norad_id"] for r in rows if r["status"] in ("reentering", "reentered?")}
    assert low <= flagged
    res = runner.invoke(app, ["new-objects", "--since", "2000-01-01T00:00:00Z", "--db", db])
    assert res.exit_code != 0 and "every object would look new" in res.output
