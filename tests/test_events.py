"""The event engine against closed forms and brute force.

References: roots of a*sin(2*pi*t/P) - c are asin(c/a)*P/(2*pi) and
P/2 - that (closed form); maxima at P/4 + k*P; narrow Gaussian pulses whose
peak is far shorter than the sampling step are found by a brute-force dense
scan in the test itself.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satwatch.events import (Crossings, EventError, FunctionG, GFunction, _edge_events_sorted,
                             all_of, any_of, find_crossings, find_extrema, find_maxima,
                             interval_stats, intervals, latest_at_or_before, negate,
                             obj_time_order, scan, to_intervals)
from satwatch.kernels import merge_edge_events, merge_latest_at_or_before
from satwatch.time import NS_PER_S, Time, utc

# Roots are refined to 1 ms (ROOT_TOL_S); closed-form agreement to 5 ms leaves
# room for the bracket midpoint.
ROOT_TOL_S = 5e-3
# Golden-section extremum times: 10 ms search width; on a sine the peak time
# is known to that, with margin.
PEAK_TOL_S = 0.05
# Polished peaks (Newton on exact values, repeated while a step exceeds
# 0.1 s): well inside 0.1 s of the closed form.
POLISHED_PEAK_TOL_S = 0.1

T0 = utc("2023-10-13T00:00:00Z")
T1 = T0 + 86400.0


def _sine(periods, level, step_fraction=20.0):
    periods = np.asarray(periods, dtype=float)

    def fn(obj, t):
        x = (t - T0.ns) / NS_PER_S
        return np.sin(2 * np.pi * x / periods[obj][:, None]) - level
    return FunctionG(fn, len(periods), periods / step_fraction)


def _expected_roots(period, level, span=86400.0):
    r1 = np.arcsin(level) / (2 * np.pi) * period
    r2 = period / 2 - r1
    k = np.arange(-1, int(span / period) + 2)
    roots = np.sort(np.concatenate([r1 + k * period, r2 + k * period]))
    return roots[(roots > 0) & (roots < span)]


def test_crossings_match_closed_form_for_many_objects_at_once():
    periods = [5400.0, 7000.0, 43080.0, 86164.0, 30000.0]
    g = _sine(periods, 0.3)
    c = find_crossings(g, T0, T1)
    for i, p in enumerate(periods):
        got = (c.time.ns[c.obj == i] - T0.ns) / NS_PER_S
        want = _expected_roots(p, 0.3)
        assert len(got) == len(want), (p, len(got), len(want))
        np.testing.assert_allclose(got, want, atol=ROOT_TOL_S)
        d = c.direction[c.obj == i]
        assert np.all(d[:-1] != d[1:])           # alternate rise / set


def test_maxima_and_minima_closed_form():
    g = _sine([5400.0, 20000.0], 0.0)
    mx, mn = find_extrema(g, T0, T1)
    for i, p in enumerate([5400.0, 20000.0]):
        k = np.arange(0, 86400 / p + 1)
        want_max = p / 4 + k * p
        want_max = want_max[want_max < 86400]
        got = (mx.time.ns[mx.obj == i] - T0.ns) / NS_PER_S
        np.testing.assert_allclose(got, want_max, atol=PEAK_TOL_S)
        np.testing.assert_allclose(mx.value[mx.obj == i], 1.0, atol=1e-9)
        want_min = 3 * p / 4 + k * p
        want_min = want_min[want_min < 86400]
        np.testing.assert_allclose((mn.time.ns[mn.obj == i] - T0.ns) / NS_PER_S, want_min,
                                   atol=PEAK_TOL_S)
    above = find_maxima(g, T0, T1, threshold=2.0)
    assert len(above) == 0


class _Interpolating(GFunction):
    """Like an SGP4-backed g: its interpolated values are off the exact ones
    (a 3 s time shift) and its interpolated rate carries a bias (0.1 % of
    its amplitude, seconds of peak time) that the values do not have
    (SGP4's velocity is not the derivative of its position).  Exact:
    ``sin(2 pi t / P)``, peaks at P/4 + k P."""

    def __init__(self, periods):
        self.periods = np.asarray(periods, dtype=float)
        self.n_obj = len(self.periods)
        self.step_s = self.periods / 20.0

    def _x(self, obj, t):
        return (np.asarray(t) - T0.ns) / NS_PER_S, self.periods[np.asarray(obj)]

    def evaluate(self, obj, t_ns, exact=False):
        x, p = self._x(obj, t_ns)
        shift = 0.0 if exact else 3.0
        return np.sin(2 * np.pi * (x - shift) / p[:, None])

    def value_and_rate(self, obj, t_ns):
        x, p = self._x(obj, t_ns)
        w = 2 * np.pi / p
        return np.sin(w * (x - 3.0)), w * (np.cos(w * (x - 3.0)) + 1e-3)


def test_extremum_polish_lands_on_the_exact_peak():
    """The interpolated peaks are 3 s late and the interpolated rate is
    biased; the polish (exact values only) must put each peak at P/4 + k P
    (closed form) and its value at 1."""
    periods = [5400.0, 43080.0]
    mx = find_maxima(_Interpolating(periods), T0, T1)
    for i, p in enumerate(periods):
        want = p / 4 + np.arange(0, 86400 / p + 1) * p
        want = want[want < 86400]
        got = (mx.time.ns[mx.obj == i] - T0.ns) / NS_PER_S
        assert len(got) == len(want)
        np.testing.assert_allclose(got, want, atol=POLISHED_PEAK_TOL_S)
        np.testing.assert_allclose(mx.value[mx.obj == i], 1.0, atol=1e-12)


def test_hidden_pulses_shorter_than_the_step_are_found():
    # Gaussian pulses 20 s wide sampled every 25 s: most are above zero for less
    # than one step and their peaks fall between samples.  Brute force: a dense
    # 0.05 s scan of the same function.
    centers = np.array([3333.3, 11111.1, 20002.7, 47000.9, 80000.4])
    heights = np.array([1.0, 0.8, 0.6, 1.2, 0.55])

    def fn(obj, t):
        x = (t - T0.ns) / NS_PER_S
        shift = obj[:, None] * 7.7
        y = sum(h * np.exp(-((x - c - shift) / 20.0) ** 2) for c, h in zip(centers, heights))
        return y - 0.5
    g = FunctionG(fn, 3, 25.0)
    c = find_crossings(g, T0, T1)
    x = np.arange(0, 86400, 0.05)
    for i in range(3):
        y = fn(np.array([i]), (T0.ns + x * NS_PER_S).astype(np.int64)[None, :])[0]
        flips = x[1:][np.diff(y >= 0) != 0]
        got = (c.time.ns[c.obj == i] - T0.ns) / NS_PER_S
        assert len(got) == len(flips) == 2 * len(centers)
        np.testing.assert_allclose(got, flips, atol=0.06)


def test_short_excursions_of_a_broad_curve_are_found():
    # A LEO-like elevation curve (period 5400 s, sampled every 270 s) whose top
    # pokes above zero for only 2..40 s: the sampled values are all negative.
    dur = np.array([2.0, 10.0, 30.0, 40.0])
    level = np.cos(2 * np.pi * (dur / 2) / 5400.0)
    phase = np.array([100.0, 1234.5, 2999.9, 4000.1])

    def fn(obj, t):
        x = (t - T0.ns) / NS_PER_S
        return np.cos(2 * np.pi * (x - phase[obj][:, None]) / 5400.0) - level[obj][:, None]
    c = find_crossings(FunctionG(fn, 4, 270.0), T0, T1)
    for i in range(4):
        got = (c.time.ns[c.obj == i] - T0.ns) / NS_PER_S
        k = np.arange(-1, 18)
        want = np.sort(np.r_[phase[i] - dur[i] / 2 + k * 5400, phase[i] + dur[i] / 2 + k * 5400])
        want = want[(want > 0) & (want < 86400)]
        assert len(got) == len(want), (i, len(got), len(want))
        np.testing.assert_allclose(got, want, atol=ROOT_TOL_S)


def test_intervals_partial_at_window_edges():
    g = _sine([86400.0 * 4], 0.0)      # up for two days from T0 - a quarter period... ; here all day
    iv = intervals(g, T0 + 1.0, T1)
    assert len(iv) == 1 and iv.start_partial[0] and iv.end_partial[0]
    g2 = _sine([40000.0], 0.0)
    iv2 = intervals(g2, T0 + 10000.0, T1)
    # up at 10000 s (sin(2pi/4)=1 at 10000 s): starts partial; then (40000k, 40000k+20000)
    assert iv2.start_partial[0] and not iv2.end_partial[0]
    np.testing.assert_allclose((iv2.end.ns[0] - T0.ns) / 1e9, 20000.0, atol=ROOT_TOL_S)
    np.testing.assert_allclose((iv2.start.ns[1] - T0.ns) / 1e9, 40000.0, atol=ROOT_TOL_S)
    assert iv2.end_partial[-1]          # up again at 80000 s until the end
    stats = interval_stats(iv2, 1, T0 + 10000.0, T1)
    span = 76400.0
    covered = (20000 - 10000) + (60000 - 40000) + (86400 - 80000)
    np.testing.assert_allclose(stats["coverage_fraction"][0], covered / span, atol=1e-6)
    np.testing.assert_allclose(stats["max_gap_s"][0], 20000.0, atol=0.01)


def test_combinators_are_min_max_negate():
    a, b = _sine([10000.0], 0.0), _sine([7000.0], 0.0)
    t = T0 + np.arange(0, 86400, 97.0)
    np.testing.assert_array_equal(all_of(a, b)(t), np.minimum(a(t), b(t)))
    np.testing.assert_array_equal(any_of(a, b)(t), np.maximum(a(t), b(t)))
    np.testing.assert_array_equal(negate(a)(t), -a(t))
    both = intervals(a & b, T0, T1)
    # brute force: where both sines are >= 0
    x = np.arange(0, 86400, 0.5)
    y = np.minimum(np.sin(2 * np.pi * x / 10000), np.sin(2 * np.pi * x / 7000))
    inside = x[y >= 0]
    covered = float(both.duration_s.sum())
    assert abs(covered - 0.5 * len(inside)) < 2.0
    assert all_of(a, b).step_s[0] == 350.0


def test_failed_values_are_out_not_errors():
    def fn(obj, t):
        x = (t - T0.ns) / NS_PER_S
        y = np.sin(2 * np.pi * x / 6000.0)
        return np.where(x > 43200, np.nan, y)
    c = find_crossings(FunctionG(fn, 1, 300.0), T0, T1)
    assert np.all(c.time.ns <= T0.ns + 43200.5 * NS_PER_S)


def test_bad_windows_and_steps_raise():
    g = _sine([5400.0], 0.0)
    with pytest.raises(EventError):
        find_crossings(g, T1, T0)
    with pytest.raises(EventError):
        find_crossings(FunctionG(lambda o, t: t * 0.0, 1, 0.0), T0, T1)
    with pytest.raises(EventError):
        all_of(_sine([1.0, 2.0], 0), _sine([1.0], 0))


def test_scan_matches_separate_calls():
    g = _sine([5400.0, 9000.0], 0.2)
    s = scan(g, T0, T1, maxima=True)
    c = find_crossings(g, T0, T1)
    np.testing.assert_array_equal(s.crossings.time.ns, c.time.ns)
    assert len(s.maxima) == len(find_maxima(g, T0, T1))
    assert len(to_intervals(c)) == len(c) // 2 + int(c.direction[0] == -1)


@pytest.mark.parametrize("doc", ["events.md", "passes.md", "access.md"])
def test_docs_examples_run(doc, reference_data, monkeypatch, capsys):
    """The Python blocks of docs/events.md, passes.md and access.md run as
    written (from the repository root; DATA pointed at the reference data)."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    blocks = re.findall(r"```python\n(.*?)```", (root / "docs" / doc).read_text(), re.DOTALL)
    assert blocks
    monkeypatch.chdir(root)
    code = "\n".join(blocks).replace('DATA = "../shared/data"', f'DATA = "{reference_data}"')
    exec(compile(code, f"docs/{doc}", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_latest_at_or_before_matches_a_loop():
    """Against the obvious loop, with ties, unknown objects and times near
    2**62 ns (where float keys would merge neighbours)."""
    rng = np.random.default_rng(9)
    base = 2 ** 62
    obj = rng.integers(0, 40, 300)
    t = base + rng.integers(0, 1000, 300)
    q_obj = rng.integers(0, 45, 500)
    q_t = base + rng.integers(-10, 1010, 500)
    q_t[:50] = t[:50]                                   # exact ties count as "at"
    q_obj[:50] = obj[:50]
    got = latest_at_or_before(obj, t, q_obj, q_t)
    for k in range(len(q_obj)):
        cand = np.flatnonzero((obj == q_obj[k]) & (t <= q_t[k]))
        if not len(cand):
            assert got[k] == -1
        else:
            assert got[k] in cand and t[got[k]] == t[cand].max()


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_sorted_inputs_take_the_merge_and_match_the_loop(data):
    """latest_at_or_before on lists sorted by object then time (intervals and
    extrema, as find_passes gives them) takes kernels.merge_latest_at_or_before:
    against the loop, ties answered by the last equal entry (as the lexsort
    path answers them), and the same as on the shuffled lists (the lexsort path)."""
    n = data.draw(st.integers(0, 60))
    nq = data.draw(st.integers(0, 60))
    obj = np.array(data.draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), np.int64)
    t = np.array(data.draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n)), np.int64)
    q_obj = np.array(data.draw(st.lists(st.integers(-1, 7), min_size=nq, max_size=nq)), np.int64)
    q_t = np.array(data.draw(st.lists(st.integers(-6, 6), min_size=nq, max_size=nq)), np.int64)
    o = np.lexsort((t, obj))
    obj, t = obj[o], t[o]
    o = np.lexsort((q_t, q_obj))
    q_obj, q_t = q_obj[o], q_t[o]
    ok, merged = merge_latest_at_or_before(obj, t, q_obj, q_t)
    assert ok
    got = latest_at_or_before(obj, t, q_obj, q_t)
    for k in range(nq):
        cand = np.flatnonzero((obj == q_obj[k]) & (t <= q_t[k]))
        want = -1 if not len(cand) else cand[t[cand] == t[cand].max()].max()
        assert got[k] == merged[k] == want
    perm = np.array(data.draw(st.permutations(range(n))), dtype=np.int64)
    shuffled = latest_at_or_before(obj[perm], t[perm], q_obj, q_t)
    same_entry = (shuffled >= 0) == (got >= 0)
    assert same_entry.all()
    assert np.array_equal(obj[perm][shuffled[shuffled >= 0]], obj[got[got >= 0]])
    assert np.array_equal(t[perm][shuffled[shuffled >= 0]], t[got[got >= 0]])


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_to_intervals_merge_matches_the_sort(data):
    """to_intervals on sorted crossings (kernels.merge_edge_events) gives
    the intervals of the lexsort over crossings and edge events, for
    crossings at, inside and outside the window edges, objects in or out at
    either edge, and ties; unsorted crossings take the sort."""
    n_obj = data.draw(st.integers(1, 6))
    n = data.draw(st.integers(0, 30))
    t0, t1 = 0, 10
    obj = np.array(data.draw(st.lists(st.integers(0, n_obj - 1), min_size=n, max_size=n)),
                   np.int64)
    t = np.array(data.draw(st.lists(st.integers(-2, 12), min_size=n, max_size=n)), np.int64)
    d = np.array(data.draw(st.lists(st.sampled_from([-1, 1]), min_size=n, max_size=n)), np.int8)
    in_s = np.array(data.draw(st.lists(st.booleans(), min_size=n_obj, max_size=n_obj)))
    in_e = np.array(data.draw(st.lists(st.booleans(), min_size=n_obj, max_size=n_obj)))
    o = np.lexsort((t, obj))
    c = Crossings(obj[o], Time(t[o]), d[o], in_s, in_e, Time(t0), Time(t1))
    ok, *merged = merge_edge_events(c.obj, c.time.ns, c.direction, in_s, in_e, t0, t1)
    assert ok
    for a, b in zip(merged, _edge_events_sorted(c)):
        assert np.array_equal(a, b)
    iv = to_intervals(c)
    perm = np.array(data.draw(st.permutations(range(n))), dtype=np.int64)
    shuffled = Crossings(c.obj[perm], Time(c.time.ns[perm]), c.direction[perm], in_s, in_e,
                         Time(t0), Time(t1))
    pairs = list(zip(shuffled.obj.tolist(), shuffled.time.ns.tolist()))
    assert merge_edge_events(shuffled.obj, shuffled.time.ns, shuffled.direction, in_s, in_e,
                             t0, t1)[0] == (pairs == sorted(pairs))
    # every interval: a rise followed by the next event of its object, a set
    ev_obj, ev_t, ev_d, ev_edge, ev_src = _edge_events_sorted(c)
    want = [(ev_obj[i], ev_t[i], ev_t[i + 1], ev_edge[i], ev_edge[i + 1])
            for i in range(len(ev_obj) - 1)
            if ev_d[i] == 1 and ev_obj[i + 1] == ev_obj[i] and ev_d[i + 1] == -1]
    got = list(zip(iv.obj, iv.start.ns, iv.end.ns, iv.start_partial, iv.end_partial))
    assert got == want
    # refs: the crossing's own at a crossing, -1 at a window edge
    ref = np.arange(100, 100 + n, dtype=np.int64)
    c_ref = Crossings(c.obj, c.time, c.direction, in_s, in_e, Time(t0), Time(t1), ref)
    iv_ref = to_intervals(c_ref)
    ends = [(ev_src[i], ev_src[i + 1]) for i in range(len(ev_obj) - 1)
            if ev_d[i] == 1 and ev_obj[i + 1] == ev_obj[i] and ev_d[i + 1] == -1]
    assert [(int(a), int(b)) for a, b in zip(iv_ref.start_ref, iv_ref.end_ref)] == \
        [(100 + a if a >= 0 else -1, 100 + b if b >= 0 else -1) for a, b in ends]
    assert all((r < 0) == p for r, p in zip(iv_ref.start_ref, iv_ref.start_partial))
    assert iv.start_ref is None and iv.end_ref is None
    if len(c) and len(np.unique(np.stack([c.obj, c.time.ns]), axis=1)[0]) == len(c):
        # no ties: the shuffled crossings (sorted again) give the same intervals
        ivs = to_intervals(shuffled)
        assert np.array_equal(ivs.obj, iv.obj) and np.array_equal(ivs.start.ns, iv.start.ns)
        assert np.array_equal(ivs.end.ns, iv.end.ns)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(-2, 40), st.sampled_from([-(2 ** 62), -5, 0, 3, 7,
                                                                 2 ** 40, 2 ** 62])),
                max_size=60),
       st.integers(0, 2 ** 20))
def test_obj_time_order_is_the_lexsort(pairs, shift):
    """events.obj_time_order (the order of scan's crossings and extrema) is
    np.lexsort((t, obj)), ties in input order: through its combined key where
    the key is exact, through the lexsort where it is not (negative objects,
    spans near 2**63 ns)."""
    obj = np.array([p[0] for p in pairs], dtype=np.int64)
    t = np.array([p[1] for p in pairs], dtype=np.int64) + np.int64(shift) * (
        np.abs(np.array([p[1] for p in pairs], dtype=np.int64)) < 2 ** 61)
    assert np.array_equal(obj_time_order(obj, t), np.lexsort((t, obj)))
    small = np.abs(t) < 2 ** 41
    if small.any() and (obj[small] >= 0).all():
        # the combined key's own path: only small spans and objects >= 0
        assert np.array_equal(obj_time_order(obj[small], t[small]),
                              np.lexsort((t[small], obj[small])))
