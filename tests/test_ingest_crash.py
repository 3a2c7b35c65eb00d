"""Crash safety of ingest: ``kill -9`` an ingest of the full 2023-10-13 catalog
half-way, check that what is left is consistent, rerun it, and compare the
database with one built by an uninterrupted ingest: nothing lost, nothing
doubled.  On SQLite and on a real PostgreSQL (a fresh database per test).

Reference: the uninterrupted ingest of the same file, and the count of
distinct (object, epoch) sets parsed from the file here.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from satwatch.elements import parse_elements
from satwatch.store import open_store
from satwatch.store import schema

from conftest import scratch_pg_database

BATCH = 100                  # small batches: many commits, so the kill lands between some
KILL_AFTER_SETS = 2000       # kill once this many sets are committed (of ~26,000)
POLL_S = 0.005
WAIT_LIMIT_S = 300
KILL_ATTEMPTS = 3            # a kill that lands after the last batch interrupts nothing


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(
            schema.element_sets)).scalar_one()


def _empty(engine) -> None:
    """Delete every ingested row (children first), keeping the applied
    schema steps: the store as a freshly opened one."""
    with engine.begin() as conn:
        for table in (schema.element_sets, schema.ingests, schema.objects):
            conn.execute(table.delete())


def _snapshot(engine) -> dict:
    """Everything in the store except surrogate ids and wall-clock stamps."""
    es = schema.element_sets
    cols = [c for c in es.c if c.name != "id"]
    with engine.connect() as conn:
        sets = sorted(tuple(r) for r in conn.execute(sa.select(*cols)))
        objs = sorted(tuple(r) for r in conn.execute(sa.select(schema.objects)))
        ing = sorted(tuple(r) for r in conn.execute(sa.select(
            schema.ingests.c.text_sha256, schema.ingests.c.source,
            schema.ingests.c.element_sets, schema.ingests.c.rejected)))
    return {"element_sets": sets, "objects": objs, "ingests": ing}


def _ingest_cmd(url: str, path) -> list[str]:
    code = ("import sys; from satwatch.cli import app; "
            "app(sys.argv[1:], standalone_mode=True)")
    return [sys.executable, "-c", code, "ingest", str(path), "--db", url,
            "--batch", str(BATCH), "--format", "json"]


def _crash_and_rerun(url: str, reference_url: str, path):
    sets, _ = parse_elements(path.read_text(), source=str(path))
    distinct = len({(es.norad_id, es.epoch_ns) for es in sets})
    open_store(url).close()                        # schema first, so the poller can count
    engine = open_store(url).engine
    for attempt in range(KILL_ATTEMPTS):
        _empty(engine)
        proc = subprocess.Popen(_ingest_cmd(url, path), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        deadline = time.monotonic() + WAIT_LIMIT_S
        try:
            while time.monotonic() < deadline and proc.poll() is None:
                if _count(engine) >= KILL_AFTER_SETS:
                    os.kill(proc.pid, signal.SIGKILL)
                    break
                time.sleep(POLL_S)
        finally:
            if proc.poll() is None and time.monotonic() >= deadline:
                proc.kill()
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL, (
            f"the ingest was not killed mid-way (exit {proc.returncode}): "
            f"{proc.stderr.read().decode()[-500:]}")
        left = _count(engine)
        if left < distinct:
            break
        # The kill landed after the last batch (the poller was starved of
        # CPU on a loaded machine): nothing was interrupted; try again.
    # Consistent after the crash: whole batches only, objects and sets agree.
    assert KILL_AFTER_SETS <= left < distinct, f"no kill mid-way in {KILL_ATTEMPTS} attempts"
    with engine.connect() as conn:
        obj_ids = set(conn.execute(sa.select(schema.objects.c.norad_id)).scalars())
        set_ids = set(conn.execute(sa.select(schema.element_sets.c.norad_id).distinct())
                      .scalars())
        assert obj_ids == set_ids
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.ingests)
                            ).scalar_one() == 0, "an unfinished source must not be marked done"
    # The rerun completes it.
    done = subprocess.run(_ingest_cmd(url, path), capture_output=True, timeout=WAIT_LIMIT_S)
    assert done.returncode == 0, done.stderr.decode()[-500:]
    assert _count(engine) == distinct
    engine.dispose()
    # Uninterrupted reference ingest (in-process), then compare everything.
    ref = open_store(reference_url)
    from satwatch.sources import read_source_texts
    ref.ingest_texts(read_source_texts(path), batch=BATCH)     # the CLI reads it the same way
    assert _snapshot(open_store(url).engine) == _snapshot(ref.engine)
    ref.close()


@pytest.mark.slow
def test_kill_during_ingest_sqlite(tmp_path, full_catalog_path):
    _crash_and_rerun(f"sqlite:///{tmp_path / 'crash.db'}",
                     f"sqlite:///{tmp_path / 'reference.db'}", full_catalog_path)


@pytest.fixture
def second_pg_url(pg_url):
    """Another fresh PostgreSQL database for the reference ingest."""
    with scratch_pg_database(pg_url, "satwatch_ref_") as url:
        yield url


@pytest.mark.slow
def test_kill_during_ingest_postgresql(fresh_pg_url, second_pg_url,
                                       full_catalog_path):
    _crash_and_rerun(fresh_pg_url, second_pg_url, full_catalog_path)
