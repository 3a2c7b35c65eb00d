"""Review round 12: conjunction screening (time grid, CLI, probability of
collision inputs).

Each bug is a test marked ``xfail(strict=True)`` until it is fixed.

Outside references, named again at each test:

* brute force: a pair of constructed objects sampled with python-sgp4 every
  second, range-rate sign changes refined with scipy's ``brentq`` (shares no
  code with satwatch.conjunctions);
* exact integer arithmetic (Python ints, no overflow) for the sample times
  ``start + k (end - start) / n`` that ``conjunctions.Grid`` documents;
* the house rule (docs/conjunctions.md, STYLE.md): bad input is one clear
  error naming the field or option, never a traceback and never a silently
  wrong answer.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from scipy.optimize import brentq
from typer.testing import CliRunner

from satwatch.catalog import Catalog
from satwatch.cli import app as cli_app
from satwatch.collision_probability import CollisionProbabilityError, PcAssumptions
from satwatch.conjunctions import (ConjunctionError, ScreeningSettings, make_grid,
                                   screen_conjunctions)
from satwatch.elements import write_tle_text
from satwatch.time import utc

from conftest import constructed_set

NS_PER_DAY = 86_400_000_000_000
NS_PER_S = 1_000_000_000
EPOCH = "2023-10-13T00:00:00Z"
# Requirements of the screener (docs/conjunctions.md): TCA within 10 ms and
# miss distance within 1 m of the reference.
TCA_TOL_S = 0.010
MISS_TOL_KM = 0.001
# Two samples 1 s apart bracket every range-rate sign change; one with a
# minimum under D is at most (relative speed <= 20 km/s) x 1 s from D.
BRACKET_SLACK_KM = 20.0


# a constructed element set (no drag) at EPOCH
_es = partial(constructed_set, epoch=EPOCH, prefix="R12")


def _meeting_pair():
    """Two LEO objects in planes 20 deg apart in node, same size, shape and
    inclination (so SGP4's secular rates are the same and the geometry
    lasts), phased to cross the planes' intersection together: python-sgp4
    gives a sub-km pass about every 48 min for weeks."""
    return Catalog.from_element_sets([_es(90101, 15.06, 0.0001, 53.0, 0.0, 0.0, 0.0),
                                      _es(90102, 15.06, 0.0001, 53.0, 20.0, 0.0, 347.9)])


def _jd(ns):
    days, rem = np.divmod(np.asarray(ns, np.int64), NS_PER_DAY)
    return days + 2440587.5, rem / 86_400e9


def _brute_force_pair(catalog, start_ns, end_ns, threshold_km):
    """[(tca_ns, miss_km)] of every range-rate root under the threshold, from
    python-sgp4 at 1-s steps + brentq."""
    s1, s2 = catalog.satrecs
    grid = np.arange(start_ns, end_ns + 1, NS_PER_S)
    jd, fr = _jd(grid)
    _, p1, v1 = s1.sgp4_array(jd, fr)
    _, p2, v2 = s2.sgp4_array(jd, fr)
    d, w = p2 - p1, v2 - v1
    dist = np.linalg.norm(d, axis=1)
    rr = np.einsum("ij,ij->i", d, w)
    jd0, fr0 = _jd(start_ns)

    def state(ts):
        _, a, va = s1.sgp4(jd0, fr0 + ts / 86400.0)
        _, b, vb = s2.sgp4(jd0, fr0 + ts / 86400.0)
        return np.subtract(b, a), np.subtract(vb, va)

    out = []
    near = np.minimum(dist[:-1], dist[1:]) < threshold_km + BRACKET_SLACK_KM
    for k in np.flatnonzero((rr[:-1] < 0) & (rr[1:] >= 0) & near):
        tca_s = brentq(lambda ts: float(np.dot(*state(ts))), (grid[k] - start_ns) / 1e9,
                       (grid[k + 1] - start_ns) / 1e9, xtol=1e-7, rtol=1e-14)
        miss = float(np.linalg.norm(state(tca_s)[0]))
        if miss <= threshold_km:
            out.append((start_ns + int(round(tca_s * 1e9)), miss))
    return out


# ---------------------------------------------------------------------------
# 1. the time grid of windows longer than ~8.6 days (60 s step)
# ---------------------------------------------------------------------------

def test_long_window_samples_its_whole_span_and_keeps_its_last_events():
    """``Grid.times_ns`` computed ``k * (end - start)`` in int64: beyond
    n_steps x span = 9.2e18 ns^2 (8.6 days at the default 60 s step, 3.5
    days at 10 s, 1.1 days at 1 s) it wrapped round, and the later blocks
    sampled instants days before the window (2023-10-05 in a window from
    2023-10-13).  Their approaches were silently lost: a 9-day window gave 6
    events on its last day instead of ~30, none in its last 6 hours.
    References: exact integer arithmetic (Python ints) for the sample times;
    brute force (python-sgp4 at 1-s steps + brentq) for the events of the
    last 6 hours."""
    start, end = utc(EPOCH), utc(EPOCH) + 9 * 86400.0
    grid = make_grid(start, end, ScreeningSettings(threshold_km=10.0))
    k0, k1 = grid.blocks()[-1]
    span = int(end.ns) - int(start.ns)
    want = [int(start.ns) + k * span // grid.n_steps for k in range(k0, k1 + 1)]
    assert grid.times_ns(k0, k1).tolist() == want

    cat = _meeting_pair()
    ours = screen_conjunctions(cat, start, end, 10.0)
    last_ns = int(end.ns) - 6 * 3600 * NS_PER_S
    ref = _brute_force_pair(cat, last_ns, int(end.ns), 10.0)
    assert len(ref) >= 5                        # the pair still meets at the end
    got = [(t, m) for t, m in zip(ours.tca.ns.tolist(), ours.miss_km.tolist()) if t > last_ns]
    assert len(got) == len(ref), (got, ref)
    for (t, m), (t_ref, m_ref) in zip(got, ref):
        assert abs(t - t_ref) <= TCA_TOL_S * NS_PER_S and abs(m - m_ref) <= MISS_TOL_KM


# ---------------------------------------------------------------------------
# 2. CLI: --cdm-dir that cannot be a folder
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pair_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("r12") / "pair.tle"
    path.write_text(write_tle_text(list(_meeting_pair())))
    return path


def test_cdm_dir_that_is_a_file_is_one_error_line_naming_the_option(pair_file, tmp_path):
    """``--cdm-dir`` naming an existing file (or a folder that cannot be
    made) ended the run, after the whole screening, with FileExistsError's
    traceback.  Reference: the house rule (one line naming the option)."""
    not_a_dir = tmp_path / "events.kvn"
    not_a_dir.write_text("x")
    result = CliRunner().invoke(cli_app, ["conjunctions", "--catalog", str(pair_file),
                                          "--start", EPOCH, "--hours", "2",
                                          "--threshold-km", "10", "--cdm-dir", str(not_a_dir)])
    assert result.exit_code == 2, result.output
    assert "--cdm-dir" in result.output and "Traceback" not in result.output
    assert not isinstance(result.exception, OSError)


# ---------------------------------------------------------------------------
# 3. non-finite threshold and hard-body radius
# ---------------------------------------------------------------------------

def test_infinite_threshold_is_refused_naming_it(pair_file):
    """``threshold_km=inf`` passed ``threshold_km > 0`` and the screening
    answered "no events" (the grid's cells became infinite), although every
    approach of every pair is within an infinite distance.  Reference: the
    house rule (a clear error naming the field, never a silently wrong
    answer)."""
    cat = _meeting_pair()
    with pytest.raises(ConjunctionError, match="threshold_km"):
        screen_conjunctions(cat, utc(EPOCH), utc(EPOCH) + 3600.0, float("inf"))
    result = CliRunner().invoke(cli_app, ["conjunctions", "--catalog", str(pair_file),
                                          "--start", EPOCH, "--hours", "1",
                                          "--threshold-km", "inf"])
    assert result.exit_code == 2 and "threshold" in result.output, result.output


def test_non_finite_hard_body_radius_or_sigma_is_refused(pair_file):
    """``--hard-body-radius-m inf`` passed the positivity check and every Pc
    came out 0.0 (an infinite hard body would make every Pc 1); a NaN sigma
    passed ``min(...) <= 0`` and made every Pc NaN.  Reference: the house
    rule (a clear error naming the field, never a silently wrong answer)."""
    with pytest.raises(CollisionProbabilityError, match="hard_body_radius_km"):
        PcAssumptions(hard_body_radius_km=float("inf")).check()
    with pytest.raises(CollisionProbabilityError, match="sigma"):
        PcAssumptions(sigma_radial_km=float("nan")).check()
    result = CliRunner().invoke(cli_app, ["conjunctions", "--catalog", str(pair_file),
                                          "--start", EPOCH, "--hours", "1",
                                          "--hard-body-radius-m", "inf"])
    assert result.exit_code == 2 and "--hard-body-radius-m" in result.output, result.output


@pytest.mark.parametrize("step_s", [1e-6, 0.5])
def test_a_step_under_a_second_is_refused_naming_it(step_s):
    """A sub-second step only multiplies the samples (approaches are refined
    to the millisecond whatever the step: docs/conjunctions.md); 1e-6 s over
    a day is 8.6e10 samples per object, a run that never ends."""
    from satwatch.conjunctions import ConjunctionError, ScreeningSettings
    with pytest.raises(ConjunctionError, match="step_s"):
        ScreeningSettings(threshold_km=5.0, step_s=step_s).check()
