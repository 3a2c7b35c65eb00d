"""Review leftovers, 1: `satwatch decays` judges staleness per orbit regime
and reads each object's newest sets however old they are.

References (outside the code under test):
* staleness limits per regime as documented for users in `satwatch stale
  --help` and docs/maneuvers.md: LEO 7 days, MEO/GEO 21, GTO/HEO 14;
* regimes decided here from closed forms on the element sets of the real
  catalog ../shared/data/catalogs/full-3le-2023-10-13.txt (a geostationary
  orbit makes ~1.0027 rev/day, Kepler's third law; the ISS and HST make ~15);
* brute force over the parsed element sets for the store's "newest N sets
  per object" read.
"""
from __future__ import annotations

import dataclasses
import json

import pytest
from typer.testing import CliRunner

from satwatch.time import Time, utc

NS_PER_DAY = 86_400 * 10**9
AT = "2023-11-30T00:00:00Z"
ISS, HST = 25544, 20580


def _history(es, last_epoch_ns: int, n: int = 5) -> list:
    """``n`` copies of ``es`` one day apart, the last at ``last_epoch_ns``:
    an unchanged orbit (no decay)."""
    return [dataclasses.replace(es, epoch_ns=int(last_epoch_ns - k * NS_PER_DAY),
                                element_set_no=k + 1)
            for k in range(n - 1, -1, -1)]


@pytest.fixture(scope="module")
def decay_db(iss_hst_geo, tmp_path_factory):
    """ISS last seen 90 days before AT, HST 10 days, a GEO object 10 days."""
    from satwatch.store import open_store
    objects = iss_hst_geo
    at = int(utc(AT).ns)
    sets = (_history(objects["iss"], at - 90 * NS_PER_DAY)
            + _history(objects["hst"], at - 10 * NS_PER_DAY)
            + _history(objects["geo"], at - 10 * NS_PER_DAY))
    url = f"sqlite:///{tmp_path_factory.mktemp('decays') / 'store.db'}"
    with open_store(url) as store:
        store.ingest_catalog(sets)
    return url


def _decays(db, *extra):
    from satwatch.cli import app
    res = CliRunner().invoke(app, ["decays", "--db", db, "--at", AT, "--format", "json",
                                   *extra])
    assert res.exit_code == 0, res.output
    return {r["norad_id"]: r for r in json.loads(res.output)}


# -- 1. decays: regime-aware staleness, no object hidden by a read window -------------
def test_decays_reports_an_object_last_seen_90_days_ago_as_stale(decay_db):
    rows = _decays(decay_db)
    assert ISS in rows, "an object whose newest set is 90 days old went missing"
    assert rows[ISS]["stale"] is True
    assert abs(rows[ISS]["age_days"] - 90.0) < 1e-6


def test_decays_staleness_follows_the_regime(decay_db, iss_hst_geo):
    rows = _decays(decay_db, "--all")
    geo = iss_hst_geo["geo"].norad_id
    assert rows[geo]["stale"] is False        # GEO: 10 days < 21
    assert rows[HST]["stale"] is True         # LEO: 10 days > 7
    assert rows[geo]["regime"] == "GEO" and rows[HST]["regime"] == "LEO"


def test_decays_without_all_lists_stale_but_not_fresh_stable_objects(decay_db, iss_hst_geo):
    rows = _decays(decay_db)
    assert iss_hst_geo["geo"].norad_id not in rows       # stable and fresh: not news
    assert HST in rows and ISS in rows               # stable but stale: reported


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("fresh_pg_url")


def test_history_arrays_last_n_per_object_matches_brute_force(db_url, reference_data):
    from satwatch.elements import parse_elements
    from satwatch.store import open_store
    text = (reference_data / "history" / "iss_25544_2020-2024.tle").read_text()
    iss, _ = parse_elements(text)
    lines = (reference_data / "catalogs" / "full-3le-2023-10-13.txt").read_text().splitlines()
    others, _ = parse_elements("\n".join(lines[:30]))
    until = utc("2022-06-01T00:00:00Z").ns
    with open_store(db_url) as store:
        store.ingest_catalog(iss[:800] + others)
        got = dict(store.history_arrays(until=Time(until), last=10))
    want_iss = sorted({es.epoch_ns for es in iss[:800] if es.epoch_ns <= until})[-10:]
    assert got[ISS]["epoch_ns"].tolist() == want_iss
    for es in others:                                   # 2023 epochs: after `until`
        assert es.norad_id not in got


