"""The Dask run gives the same events as the single-machine run.

A real ``distributed.LocalCluster`` (2 workers, in-process threads to keep
the test light) runs the blocks; the single-machine run is the reference
(itself checked against brute force in test_conjunctions.py).
"""
from __future__ import annotations

import numpy as np
import pytest

from satwatch.conjunctions import ConjunctionError, ScreeningSettings, screen_conjunctions
from satwatch.distributed import same_events, screen_distributed
from satwatch.time import utc

START, END = "2023-10-13T00:00:00Z", "2023-10-13T02:00:00Z"


@pytest.fixture(scope="module")
def sample(full_catalog):
    shell = full_catalog.filter(lambda es: 500 < es.perigee_alt_km and es.apogee_alt_km < 600)
    rng = np.random.default_rng(4)
    return full_catalog.filter(norad_ids=rng.choice(shell.norad_ids, 1500, replace=False))


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as lc, distributed.Client(lc) as c:
        yield c


def test_dask_events_identical_to_single_machine(sample, cluster):
    # small blocks: many tasks, events straddling block edges
    settings = ScreeningSettings(threshold_km=10.0, block_steps=17)
    local = screen_conjunctions(sample, utc(START), utc(END), 10.0, settings=settings)
    remote = screen_distributed(sample, utc(START), utc(END), 10.0, client=cluster,
                                settings=settings)
    assert len(local) > 20
    assert same_events(local, remote)
    assert local.stats == remote.stats


def test_dask_primary_mode_identical(sample, cluster):
    ids = [int(n) for n in sample.norad_ids[:40]]
    local = screen_conjunctions(sample, utc(START), utc(END), 10.0, primaries=ids)
    remote = screen_distributed(sample, utc(START), utc(END), 10.0, client=cluster,
                                primaries=ids)
    assert same_events(local, remote)


def test_process_pool_events_identical_to_one_process(sample):
    """``workers=2`` (forked processes, same blocks, same merge) finds the
    same events as one process, bit for bit, with the same stage counts;
    primaries mode too.  Small blocks: many blocks, events at block edges."""
    settings = ScreeningSettings(threshold_km=10.0, block_steps=17)
    one = screen_conjunctions(sample, utc(START), utc(END), 10.0, settings=settings)
    ticks = []
    two = screen_conjunctions(sample, utc(START), utc(END), 10.0, settings=settings,
                              workers=2, progress=ticks.append)
    assert len(one) > 20
    assert same_events(one, two)
    assert one.stats == two.stats and one.failed == two.failed
    assert sum(ticks) == one.stats["blocks"] > 2
    ids = [int(n) for n in sample.norad_ids[:40]]
    p1 = screen_conjunctions(sample, utc(START), utc(END), 10.0, primaries=ids,
                             settings=settings)
    p2 = screen_conjunctions(sample, utc(START), utc(END), 10.0, primaries=ids,
                             settings=settings, workers=3)
    assert len(p1) > 0 and same_events(p1, p2)


def test_cli_workers_give_the_same_json(sample, tmp_path):
    import json

    from typer.testing import CliRunner

    from satwatch.cli import app
    from satwatch.elements import write_tle_text
    path = tmp_path / "sample.tle"
    path.write_text(write_tle_text(list(sample)))
    args = ["conjunctions", "--catalog", str(path), "--start", START, "--hours", "2",
            "--threshold-km", "10", "--format", "json"]
    one = CliRunner().invoke(app, args + ["--workers", "1"])
    two = CliRunner().invoke(app, args + ["--workers", "2"])
    assert one.exit_code == 0 and two.exit_code == 0, one.output + two.output
    assert json.loads(one.stdout) == json.loads(two.stdout) != []
    bad = CliRunner().invoke(app, args + ["--workers", "0"])
    assert bad.exit_code != 0 and "--workers" in bad.output


def test_block_size_does_not_change_events(sample):
    """Partitioning is invisible: other block sizes, same events."""
    a = screen_conjunctions(sample, utc(START), utc(END), 10.0,
                            settings=ScreeningSettings(threshold_km=10.0, block_steps=120))
    b = screen_conjunctions(sample, utc(START), utc(END), 10.0,
                            settings=ScreeningSettings(threshold_km=10.0, block_steps=7))
    assert len(a) == len(b)
    assert np.array_equal(a.tca.ns // 1_000_000, b.tca.ns // 1_000_000) or \
        np.allclose(a.tca.ns, b.tca.ns, atol=1e6)
    assert np.allclose(a.miss_km, b.miss_km, atol=1e-6)


def test_needs_a_cluster(sample):
    with pytest.raises(ConjunctionError, match="scheduler"):
        screen_distributed(sample, utc(START), utc(END), 10.0)


def test_cli_scheduler_option_gives_the_same_json(sample, tmp_path):
    """``satwatch conjunctions --scheduler tcp://...`` against a real TCP
    scheduler: the JSON equals the single-machine run's."""
    import json

    distributed = pytest.importorskip("distributed")
    from typer.testing import CliRunner

    from satwatch.cli import app
    from satwatch.elements import write_tle_text
    path = tmp_path / "sample.tle"
    path.write_text(write_tle_text(list(sample)))
    args = ["conjunctions", "--catalog", str(path), "--start", START, "--hours", "0.5",
            "--threshold-km", "10", "--format", "json"]
    local = CliRunner().invoke(app, args)
    assert local.exit_code == 0, local.output
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp://", dashboard_address=None) as lc:
        assert lc.scheduler_address.startswith("tcp://")
        remote = CliRunner().invoke(app, args + ["--scheduler", lc.scheduler_address])
    assert remote.exit_code == 0, remote.output
    assert json.loads(remote.stdout) == json.loads(local.stdout) != []
