"""The one event engine: continuous g-functions of time for many objects at
once, sampled with a step that adapts to each object, roots refined to well
under a second, extrema (culminations), and/or/not combinators.

A **g-function** is a continuous function of time for ``n_obj`` objects.
Its sign is the state (``g >= 0``: "in", e.g. above the elevation mask;
``g < 0``: "out").  It carries its own sampling step ``step_s`` (one per
object: a LEO satellite is sampled every few minutes, a GEO satellite every
twenty; a step must be short enough that the function has at most one
extremum per step).  It is evaluated through one method::

    g.evaluate(obj, t_ns)  ->  values, shape of ``t_ns``

where ``obj`` is an int array ``(n,)`` of object indices and ``t_ns`` an
int64 array ``(n, m)`` of UTC nanoseconds (each row its own times).
``g(t)`` evaluates every object at the common times ``t`` (``(n_obj, n_t)``).
An optional keyword ``exact=True`` asks for a full-accuracy value where the
function otherwise interpolates (satellite functions interpolate between
SGP4 samples, then polish each root with exact SGP4).  A g-function that
logs what its exact evaluations computed offers ``exact_log_size()`` (the
rows logged so far, each call's times flattened row by row; None while not
logging): the polish then records the log row of each root's and each
extremum's last exact evaluation (``Crossings.ref``, ``Extrema.ref``,
``Intervals.start_ref`` / ``end_ref``), so that the caller can reuse those
states (passes: the look angles at rise, culmination and set).

The engine (:func:`scan`, :func:`find_crossings`, :func:`find_maxima`,
:func:`find_minima`) samples both window ends, each object on its own grid
(grouped by step), finds sign changes, and looks for *hidden* pairs of roots
inside one step by refining every sampled local extremum that comes near
zero (a pass shorter than the step shows as a peak below zero between two
samples; refining the peak reveals it).  Brackets are refined all at once by
a vectorised Illinois (modified regula falsi) iteration, extrema by
Illinois on the derivative where the g-function offers one
(``value_and_rate``), else by vectorised golden-section search; the one pass
over the samples is compiled (:func:`satwatch.kernels.sample_features`).  No
Python loop runs over time or over objects, only over refinement iterations
and chunks of objects.

See docs/events.md for the contract and examples.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import SatwatchError
from .kernels import (EXTREMA_ALL, EXTREMA_HIDDEN, EXTREMA_REACH,
                      merge_edge_events, merge_latest_at_or_before, sample_features)
from .time import NS_PER_S, Time

# Root tolerance: brackets are refined until narrower than this (1 ms), far
# below the 1 s the passes must agree with references to.
ROOT_TOL_S = 1e-3
# Extremum time tolerance of the golden-section search (on interpolated
# values); each reported extremum is then polished by parabolic steps on
# exact values (_polish_extremum), which fixes its time to well under 0.1 s.
EXTREMUM_TOL_S = 0.2
# With the derivative (g.value_and_rate), the stationary point is bracketed
# to this (s): a few Illinois steps more buy a time far better than golden's.
EXTREMUM_RATE_TOL_S = 0.01
# Exact samples per grid step between an "out" sample and a failed one
# (_failure_substeps): a pass there longer than 1/16 of a step is found.
FAILURE_SUBSTEPS = 16
# Root polish (_polish): a Newton step, then secant steps, on exact values,
# each at most POLISH_TRUST_S, repeated (at most POLISH_STEPS) while a step
# moves the root by more than POLISH_AGAIN_S (after one step from an
# interpolated root the error is then milliseconds).
POLISH_TRUST_S = 10.0
POLISH_STEPS = 4
POLISH_AGAIN_S = 0.5
# ... and, where the crossing is slower than this (|dg/dt|, 1/s: 0.006 deg/s
# of elevation), while a step moves it by more than POLISH_SLOW_AGAIN_S: a
# grazing set of GSLV R/B 57321, whose SGP4 velocity is 81 m/s off its
# position's derivative, was 6 s off Skyfield after one step.  Steps after
# the first take the slope from the exact values of the last two.
POLISH_SLOW_RATE_PER_S = 1e-4
POLISH_SLOW_AGAIN_S = 0.05
# Newton steps of the extremum polish (_newton_extremum), each at most 20 s:
# a flat peak (an eccentric orbit near apogee, a near-stationary object),
# whose interpolated time may be minutes off, walks up to 4 minutes.
NEWTON_EXTREMUM_STEPS = 12
# Objects per chunk: bounds peak memory to a few hundred MB at most.
CHUNK_ELEMENTS = 1_500_000
# A sampled extremum is refined when it is within OVERSHOOT times the local
# variation (|b-a| + |b-c| of the three samples) of the level: a smooth
# function sampled at <= 1/12 of its period overshoots its sampled extremum
# by about 1/8 of that variation (cosine); real elevation curves are sharper
# near the top, and 1.0 missed 3 of 124,127 passes of the full catalog over
# one site (found with 2.0), so 2.0 it is.
OVERSHOOT = 2.0
# Steps are rounded down onto 4 rungs per factor of two.
STEP_LADDER_PER_OCTAVE = 4
_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


class EventError(SatwatchError, ValueError):
    """A search could not be set up (bad window, bad step, mismatched g)."""


# -- g-functions -----------------------------------------------------------------

class GFunction:
    """Base class: ``n_obj`` objects, a step per object, ``evaluate``.

    Subclasses implement :meth:`evaluate`.  ``step_s`` is an array
    ``(n_obj,)`` of sampling steps in seconds.  A g-function whose values
    between samples are interpolated (``evaluate(..., exact=False)``) gives
    ``interpolation_tol``, a bound on how far those values can be from the
    exact ones: a hidden root pair whose interpolated extremum lies within
    it of zero is then decided, and its roots found, on exact values.
    """

    n_obj: int
    step_s: np.ndarray
    interpolation_tol: float = 0.0

    def evaluate(self, obj, t_ns, exact: bool = False):  # pragma: no cover - interface
        raise NotImplementedError

    def __call__(self, t: Time):
        """Every object at the common times ``t``: ``(n_obj, n_time)``."""
        t_ns = np.atleast_1d(np.asarray(t.ns, dtype=np.int64))
        obj = np.arange(self.n_obj)
        return self.evaluate(obj, np.broadcast_to(t_ns, (self.n_obj, t_ns.size)))

    def __and__(self, other):
        return all_of(self, other)

    def __or__(self, other):
        return any_of(self, other)

    def __neg__(self):
        return negate(self)

    def __invert__(self):
        return negate(self)


class FunctionG(GFunction):
    """A g-function from a plain callable ``fn(obj (n,), t_ns (n, m)) -> (n, m)``.

    >>> import numpy as np
    >>> g = FunctionG(lambda obj, t: np.sin(t / 1e9 / 100.0 + obj[:, None]), 2, step_s=30.0)
    >>> g.step_s
    array([30., 30.])
    """

    def __init__(self, fn, n_obj: int, step_s, exact_fn=None):
        self.fn = fn
        self.exact_fn = exact_fn
        self.n_obj = int(n_obj)
        self.step_s = np.broadcast_to(np.asarray(step_s, dtype=float), (self.n_obj,)).copy()

    def evaluate(self, obj, t_ns, exact=False):
        obj = np.asarray(obj)
        t_ns = np.asarray(t_ns, dtype=np.int64)
        fn = self.exact_fn if (exact and self.exact_fn is not None) else self.fn
        return np.asarray(fn(obj, t_ns), dtype=float)


class _Combined(GFunction):
    def __init__(self, parts, reduce):
        parts = list(parts)
        if not parts:
            raise EventError("combine at least one g-function")
        n = {p.n_obj for p in parts}
        if len(n) != 1:
            raise EventError(f"g-functions cover different numbers of objects: {sorted(n)}")
        self.parts, self.reduce = parts, reduce
        self.n_obj = parts[0].n_obj
        self.step_s = np.minimum.reduce([np.asarray(p.step_s, dtype=float) for p in parts])
        self.interpolation_tol = max(float(getattr(p, "interpolation_tol", 0.0)) for p in parts)

    def evaluate(self, obj, t_ns, exact=False):
        return self.reduce([p.evaluate(obj, t_ns, exact=exact) for p in self.parts])


def all_of(*gs) -> GFunction:
    """In where every g is in: the minimum (Orekit's ``andCombine``)."""
    return _Combined(gs, lambda vs: np.minimum.reduce(vs))


def any_of(*gs) -> GFunction:
    """In where any g is in: the maximum."""
    return _Combined(gs, lambda vs: np.maximum.reduce(vs))


class _Negated(GFunction):
    def __init__(self, g):
        self.g, self.n_obj, self.step_s = g, g.n_obj, np.asarray(g.step_s, dtype=float)
        self.interpolation_tol = float(getattr(g, "interpolation_tol", 0.0))

    def evaluate(self, obj, t_ns, exact=False):
        return -self.g.evaluate(obj, t_ns, exact=exact)


def negate(g) -> GFunction:
    """In where g is out."""
    return _Negated(g)


# -- results ---------------------------------------------------------------------

@dataclass(frozen=True)
class Crossings:
    """Sign changes: ``obj`` (int), ``time`` (Time), ``direction`` (+1 rising
    into g >= 0, -1 setting), sorted by object then time; plus the state of
    every object at both window ends (``in_at_start``, ``in_at_end``,
    ``(n_obj,)`` bool) so that intervals can be built with partial flags."""

    obj: np.ndarray
    time: Time
    direction: np.ndarray
    in_at_start: np.ndarray
    in_at_end: np.ndarray
    start: Time
    end: Time
    # per crossing, where g logs its exact evaluations (``exact_log_size``):
    # the log row of the polish's last exact evaluation, -1 where none
    ref: np.ndarray | None = None

    def __len__(self):
        return len(self.obj)


@dataclass(frozen=True)
class Extrema:
    """Local maxima (or minima): ``obj``, ``time`` (Time), ``value``; sorted
    by object then time.  Extrema at the window edges are not reported."""

    obj: np.ndarray
    time: Time
    value: np.ndarray
    # as Crossings.ref: the log row of the first of the last pair of exact
    # values the polish took (1 s before and after its last point; the
    # second is the next row), -1 where none
    ref: np.ndarray | None = None

    def __len__(self):
        return len(self.obj)


@dataclass(frozen=True)
class Intervals:
    """Where g >= 0, per object: ``obj``, ``start``/``end`` (Time), and
    ``start_partial``/``end_partial`` (True where the interval is cut by the
    window edge: it began before the window or lasts beyond it)."""

    obj: np.ndarray
    start: Time
    end: Time
    start_partial: np.ndarray
    end_partial: np.ndarray
    # the crossings' refs (Crossings.ref) at the start and the end, -1 at
    # the window edges or where the crossings carry none
    start_ref: np.ndarray | None = None
    end_ref: np.ndarray | None = None

    def __len__(self):
        return len(self.obj)

    @property
    def duration_s(self):
        return (self.end.ns - self.start.ns) / NS_PER_S


@dataclass(frozen=True)
class Scan:
    """Everything one sampling pass found: crossings and (optionally) maxima."""
    crossings: Crossings
    maxima: Extrema | None
    minima: Extrema | None


# -- the engine ------------------------------------------------------------------

def _window(start: Time, end: Time):
    t0, t1 = int(np.asarray(start.ns).reshape(-1)[0]), int(np.asarray(end.ns).reshape(-1)[0])
    if t1 <= t0:
        raise EventError(f"the window ends ({Time(t1).iso()}) before it starts "
                         f"({Time(t0).iso()})")
    return t0, t1


def _grid(t0: int, t1: int, step_ns: int) -> np.ndarray:
    """Sampling times: one step before the window, the window start, regular
    steps, the window end (exactly), one step after."""
    k = max(int(np.ceil((t1 - t0) / step_ns)), 1)
    inner = t0 + np.arange(k, dtype=np.int64) * step_ns
    return np.concatenate(([t0 - step_ns], inner, [t1, t1 + step_ns])).astype(np.int64)


def _groups(g, max_elements: int, t0: int, t1: int):
    """Object index chunks sharing one step, sized to bound memory."""
    step = np.asarray(g.step_s, dtype=float)
    if step.shape != (g.n_obj,) or not np.all(np.isfinite(step)) or np.any(step <= 0):
        raise EventError("every object needs a positive finite sampling step (g.step_s)")
    # Quantise steps down onto a ladder of ratio 2**(1/4) from 1 s, so that
    # objects with similar steps share one grid (and one vectorised pass).
    rung = np.floor(np.log2(np.maximum(step, 1e-3)) * STEP_LADDER_PER_OCTAVE)
    step_q = np.where(step >= 1.0, 2.0 ** (rung / STEP_LADDER_PER_OCTAVE), step)
    step_ns = np.maximum(np.rint(step_q * NS_PER_S).astype(np.int64), 1_000_000)
    step_ns = np.minimum(step_ns, max(t1 - t0, 1_000_000))
    for s in np.unique(step_ns):
        idx = np.flatnonzero(step_ns == s)
        times = _grid(t0, t1, int(s))
        per = max(1, max_elements // len(times))
        for i in range(0, len(idx), per):
            yield idx[i:i + per], times


def scan(g: GFunction, start: Time, end: Time, *, maxima: bool = False, minima: bool = False,
         max_threshold: float | None = None, polish: bool = True,
         chunk_elements: int = CHUNK_ELEMENTS, failure_crossings: bool = True) -> Scan:
    """Sample ``g`` once over ``[start, end]`` and return its crossings and,
    when asked, its local maxima/minima (maxima below ``max_threshold`` are
    dropped).  Hidden root pairs (a sign excursion shorter than a step) are
    found by refining sampled extrema that approach zero.

    Non-finite values (failed propagation) count as "out", and the edge of a
    failed stretch is refined like any crossing; ``failure_crossings=False``
    drops sign changes next to a non-finite sample instead (for functions
    evaluated only near chosen windows, whose edges are not events)."""
    t0, t1 = _window(start, end)
    tol = float(getattr(g, "interpolation_tol", 0.0) or 0.0)
    c_obj, c_t, c_dir, c_ref, mx, mn, later = [], [], [], [], [], [], []
    in_start = np.zeros(g.n_obj, dtype=bool)
    in_end = np.zeros(g.n_obj, dtype=bool)
    for idx, times in _groups(g, chunk_elements, t0, t1):
        n, m = len(idx), len(times)
        tt = np.broadcast_to(times, (n, m))
        # Non-finite values (failed propagation) are "out": v >= 0 is False
        # for NaN, and sample_features skips extrema next to them.
        v = np.asarray(g.evaluate(idx, tt), dtype=float)
        in_start[idx] = v[:, 1] >= 0
        in_end[idx] = v[:, -2] >= 0
        max_mode = (EXTREMA_ALL if max_threshold is None else EXTREMA_REACH) if maxima \
            else EXTREMA_HIDDEN
        min_mode = EXTREMA_ALL if minima else EXTREMA_HIDDEN
        br_r, br_c, mx_r, mx_c, mn_r, mn_c = sample_features(
            v, max_mode, -np.inf if max_threshold is None else float(max_threshold),
            min_mode, 0.0, OVERSHOOT)
        obj_b, lo_b, hi_b = idx[br_r], times[br_c], times[br_c + 1]
        lo_v, hi_v = v[br_r, br_c], v[br_r, br_c + 1]
        if not failure_crossings:
            keep = np.isfinite(lo_v) & np.isfinite(hi_v)
            obj_b, lo_b, hi_b, lo_v, hi_v = (obj_b[keep], lo_b[keep], hi_b[keep], lo_v[keep],
                                             hi_v[keep])
        # brackets refined on exact values: the edges of failed stretches
        # where g interpolates (its interpolant is NaN over the whole step
        # next to a failed sample: the root stayed on the last good one)
        exact_b = ~(np.isfinite(lo_v) & np.isfinite(hi_v)) if tol > 0 \
            else np.zeros(len(obj_b), dtype=bool)
        # steps between an "out" sample and a failed one, sampled finer on
        # exact values: a pass there leaves no trace in the samples
        if failure_crossings:
            sub = _failure_substeps(g, idx, times, v)
            if sub is not None:
                later.append(sub)
        # bracket ends at a grid sample (True) or at a refined extremum
        # (False: the polish must not carry a root across a peak)
        open_lo = np.ones(len(obj_b), dtype=bool)
        open_hi = np.ones(len(obj_b), dtype=bool)
        lo_v = np.where(np.isfinite(lo_v), lo_v, -np.inf)
        hi_v = np.where(np.isfinite(hi_v), hi_v, -np.inf)
        found_max = found_min = None
        for kind, rows, cols in (("max", mx_r, mx_c), ("min", mn_r, mn_c)):
            if not len(rows):
                continue
            want_all = (kind == "max" and maxima) or (kind == "min" and minima)
            te, ve, ce = _extremum(g, idx[rows], times[cols - 1], times[cols + 1], kind)
            ve_ok = np.isfinite(ve)
            out_side = (v[rows, cols] < 0) if kind == "max" else (v[rows, cols] >= 0)
            # an interpolated extremum within the interpolation's error of
            # zero: whether it crosses is the exact function's to say
            check = out_side & ve_ok & (np.abs(ve) <= tol) if tol > 0 \
                else np.zeros(len(rows), dtype=bool)
            # ... and where the interpolated one is not clearly across zero,
            # the interpolant cannot place its roots: exact values there too
            on_exact = check & ((ve < 0.2 * tol) if kind == "max" else (ve >= -0.2 * tol))
            if check.any():
                ci = np.flatnonzero(check)
                lo_c, hi_c = times[cols[ci] - 1], times[cols[ci] + 1]
                tc, vc = _polish_extremum(g, idx[rows[ci]], te[ci], ve[ci], kind,
                                          curv=ce[ci])
                te[ci] = np.clip(tc, lo_c + 1, hi_c - 1)
                # a polish that left the bracket: the exact value where it is clipped
                moved = np.flatnonzero(te[ci] != tc)
                if len(moved):
                    vc[moved] = np.asarray(g.evaluate(idx[rows[ci[moved]]],
                                                      te[ci[moved]][:, None], exact=True),
                                           dtype=float)[:, 0]
                ve[ci] = vc
                ve_ok = np.isfinite(ve)
            hidden = out_side & ve_ok & ((ve >= 0) if kind == "max" else (ve < 0))
            if hidden.any():
                r, c, tm, vm = rows[hidden], cols[hidden], te[hidden], ve[hidden]
                # the sampled neighbours are on the same side as the sampled extremum
                obj_b = np.concatenate([obj_b, idx[r], idx[r]])
                lo_b = np.concatenate([lo_b, times[c - 1], tm])
                hi_b = np.concatenate([hi_b, tm, times[c + 1]])
                lo_v = np.concatenate([lo_v, v[r, c - 1], vm])
                hi_v = np.concatenate([hi_v, vm, v[r, c + 1]])
                exact_b = np.concatenate([exact_b, on_exact[hidden], on_exact[hidden]])
                yes, no = np.ones(len(r), dtype=bool), np.zeros(len(r), dtype=bool)
                open_lo = np.concatenate([open_lo, yes, no])
                open_hi = np.concatenate([open_hi, no, yes])
            if want_all:
                inside = (te > t0) & (te < t1) & ve_ok
                if kind == "max" and max_threshold is not None:
                    inside &= ve >= max_threshold
                te_i, ve_i, obj_i = te[inside], ve[inside], idx[rows][inside]
                ref_i = np.full(len(te_i), -1, dtype=np.int64)
                if polish and inside.any():
                    te_i, ve_i = _polish_extremum(g, obj_i, te_i, ve_i, kind, ref_i,
                                                  ce[inside])
                    # the polish may walk a peak next to an edge out of the window
                    still = (te_i > t0) & (te_i < t1)
                    if kind == "max" and max_threshold is not None:
                        still &= ve_i >= max_threshold
                    te_i, ve_i, obj_i, ref_i = te_i[still], ve_i[still], obj_i[still], ref_i[still]
                rec = (obj_i, te_i, ve_i, ref_i)
                if kind == "max":
                    found_max = rec
                else:
                    found_min = rec
        if found_max is not None:
            mx.append(found_max)
        if found_min is not None:
            mn.append(found_min)
        # brackets on exact values need no chunk's interpolant: all of them
        # at once after the last chunk (one exact evaluation per step)
        later.append(tuple(x[exact_b] for x in (obj_b, lo_b, hi_b, lo_v, hi_v)))
        now = ~exact_b
        obj_b, lo_b, hi_b, lo_v, hi_v, open_lo, open_hi = (
            x[now] for x in (obj_b, lo_b, hi_b, lo_v, hi_v, open_lo, open_hi))
        if len(obj_b):
            refs = np.full(len(obj_b), -1, dtype=np.int64)
            tr = _refine_roots(g, obj_b, lo_b, hi_b, lo_v, hi_v, polish=polish,
                               open_ends=(open_lo, open_hi), refs=refs)
            _keep_roots(c_obj, c_t, c_dir, c_ref, t0, t1, tr, obj_b, lo_b, hi_b, hi_v, refs)
    if later and sum(len(x[0]) for x in later):
        obj_b, lo_b, hi_b, lo_v, hi_v = (np.concatenate(x) for x in zip(*later))
        tr = _refine_roots(g, obj_b, lo_b, hi_b, lo_v, hi_v, exact=True)
        _keep_roots(c_obj, c_t, c_dir, c_ref, t0, t1, tr, obj_b, lo_b, hi_b, hi_v,
                    np.full(len(obj_b), -1, dtype=np.int64))
    obj = np.concatenate(c_obj) if c_obj else np.zeros(0, dtype=np.int64)
    t = np.concatenate(c_t) if c_t else np.zeros(0, dtype=np.int64)
    d = np.concatenate(c_dir) if c_dir else np.zeros(0, dtype=np.int8)
    ref = np.concatenate(c_ref) if c_ref else np.zeros(0, dtype=np.int64)
    order = obj_time_order(obj, t)
    crossings = Crossings(obj[order], Time(t[order]), d[order], in_start, in_end,
                          Time(t0), Time(t1), ref[order])
    return Scan(crossings, _pack(mx) if maxima else None, _pack(mn) if minima else None)


def _failure_substeps(g, idx, times, v):
    """Brackets on exact values inside the steps that join an "out" sample
    (g < 0) to a failed one (non-finite), and the out-out steps just before
    and after those, for objects whose g reports failed
    samples (``g.failed_rows(idx)``: their non-finite values are failures,
    not samples left out): each such step is sampled at FAILURE_SUBSTEPS
    exact points, and every sign change there (non-finite counting as out)
    is a bracket.  A pass lying wholly inside such a step (an object whose
    SGP4 solution fails on and off, at re-entry) is found where it is longer
    than a sub-step.  Returns ``(obj, lo, hi, lo_v, hi_v)`` or None."""
    rows_fn = getattr(g, "failed_rows", None)
    if rows_fn is None:
        return None
    fr = np.flatnonzero(np.asarray(rows_fn(idx), dtype=bool))
    if not len(fr):
        return None
    vf = v[fr]
    fin = np.isfinite(vf)
    with np.errstate(invalid="ignore"):
        neg = fin & (vf < 0)
    a, b = neg[:, :-1], neg[:, 1:]
    # the step itself (out, failed) or (failed, out) ...
    step = (a & ~fin[:, 1:]) | (~fin[:, :-1] & b)
    # ... and the one before (after) the last (first) good sample: that
    # sample may be the peak of a pass inside it, a sampled extremum that
    # sample_features skips next to a failed sample (review round 22)
    step[:, :-1] |= a[:, :-1] & b[:, :-1] & ~fin[:, 2:]
    step[:, 1:] |= ~fin[:, :-2] & a[:, 1:] & b[:, 1:]
    r, c = np.nonzero(step)
    if not len(r):
        return None
    rows, obj = fr[r], idx[fr[r]]
    lo, hi = times[c], times[c + 1]
    frac = np.arange(1, FAILURE_SUBSTEPS) / FAILURE_SUBSTEPS
    t_sub = lo[:, None] + np.rint((hi - lo)[:, None] * frac[None, :]).astype(np.int64)
    v_sub = np.asarray(g.evaluate(obj, t_sub, exact=True), dtype=float)
    t_all = np.concatenate([lo[:, None], t_sub, hi[:, None]], axis=1)
    v_all = np.concatenate([v[rows, c][:, None], v_sub, v[rows, c + 1][:, None]], axis=1)
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(v_all) & (v_all >= 0)
    br, bc = np.nonzero(inside[:, 1:] != inside[:, :-1])
    if not len(br):
        return None
    lo_v = np.where(np.isfinite(v_all[br, bc]), v_all[br, bc], -np.inf)
    hi_v = np.where(np.isfinite(v_all[br, bc + 1]), v_all[br, bc + 1], -np.inf)
    return obj[br], t_all[br, bc], t_all[br, bc + 1], lo_v, hi_v


def _keep_roots(c_obj, c_t, c_dir, c_ref, t0, t1, tr, obj_b, lo_b, hi_b, hi_v, refs):
    """Append the refined roots ``tr`` (and their ``refs``) that lie in the
    window [t0, t1]."""
    # The states at the window edges are those of the edge samples
    # (in_at_start, in_at_end): a root whose bracket ends on an edge sample
    # stays on its bracket's side of that edge.  A polish step may cross it:
    # a set polished onto (or past) the window's last sample was dropped, the
    # last sample a hair below zero, and its pass with it.
    edge = (lo_b == t0) | (lo_b == t1) | (hi_b == t0) | (hi_b == t1)
    tr = np.where(edge, np.clip(tr, lo_b + 1, hi_b - 1), tr)
    inside = (tr >= t0) & (tr <= t1)
    c_obj.append(obj_b[inside])
    c_t.append(tr[inside])
    c_dir.append(np.where(hi_v[inside] >= 0, 1, -1).astype(np.int8))
    c_ref.append(refs[inside])


def obj_time_order(obj, t_ns) -> np.ndarray:
    """``np.lexsort((t_ns, obj))``: the order by object then time, equal
    pairs in input order.  One stable argsort of the key ``obj * span + (t -
    t_min)`` where that is exact (objects >= 0 and the key under 2**62),
    about three times faster on the engine's crossings; else the lexsort."""
    obj = np.asarray(obj)
    t_ns = np.asarray(t_ns, dtype=np.int64)
    if len(obj) and np.issubdtype(obj.dtype, np.integer):
        o_min, o_max = int(obj.min()), int(obj.max())
        t_min, t_max = int(t_ns.min()), int(t_ns.max())
        span = t_max - t_min + 1                       # Python ints: the test cannot overflow
        if o_min >= 0 and (o_max + 1) * span < 2 ** 62:
            return np.argsort(obj.astype(np.int64) * span + (t_ns - t_min), kind="stable")
    return np.lexsort((t_ns, obj))


def _pack(recs) -> Extrema:
    if not recs:
        return Extrema(np.zeros(0, dtype=np.int64), Time(np.zeros(0, dtype=np.int64)),
                       np.zeros(0), np.zeros(0, dtype=np.int64))
    obj = np.concatenate([r[0] for r in recs])
    t = np.concatenate([r[1] for r in recs])
    v = np.concatenate([r[2] for r in recs])
    ref = np.concatenate([r[3] for r in recs])
    order = obj_time_order(obj, t)
    return Extrema(obj[order], Time(t[order]), v[order], ref[order])


def _extremum(g, obj, lo, hi, kind):
    """The extremum of each object's g in ``[lo, hi]`` (int ns): where g
    offers ``value_and_rate(obj, t_ns)`` (its interpolated value and time
    derivative), Illinois on the derivative, which converges in a few steps;
    else, or where the derivative does not change sign across the bracket,
    golden-section search.  A g-function may offer ``extremum_illinois(mode,
    obj, lo, hi, tol)``: the rates at both ends, that check and the same
    iteration compiled, ``(ok, a, b, ga, gb, mid)`` (None where it does not
    apply).  Returns (time_ns, value, curvature): the second derivative
    (1/s^2) from the converged bracket's rates, NaN where golden section
    found it."""
    sign = 1.0 if kind == "max" else -1.0
    tol = EXTREMUM_RATE_TOL_S * NS_PER_S
    fused = getattr(g, "extremum_illinois", None)
    out = fused(int(sign), obj, lo, hi, tol) if fused is not None and len(obj) else None
    if out is None:
        vr = getattr(g, "value_and_rate", None)
        first = vr(obj, lo) if vr is not None and len(obj) else None
        second = vr(obj, hi) if first is not None else None
        if second is None:
            return _golden(g, obj, lo, hi, kind) + (np.full(len(obj), np.nan),)
        fa, fb = sign * first[1], sign * second[1]
        ok = np.isfinite(fa) & np.isfinite(fb) & (fa > 0) & (fb < 0)
        a, b, ga, gb, mid = (np.full(len(obj), np.nan) for _ in range(5))
        idx = np.flatnonzero(ok)
        if len(idx):
            o = obj[idx]
            a[idx], b[idx], ga[idx], gb[idx], m = _solve(
                g, int(sign), o, lo[idx].astype(float), hi[idx].astype(float), fa[idx],
                fb[idx], tol, lambda ia, x: sign * vr(o[ia], x)[1])
            mid[idx] = vr(o, np.rint(0.5 * (a[idx] + b[idx])).astype(np.int64))[0] \
                if m is None else m
        out = (ok, a, b, ga, gb, mid)
    ok, a, b, ga, gb, val = out
    t = np.zeros(len(obj), dtype=np.int64)
    t[ok] = np.rint(0.5 * (a[ok] + b[ok])).astype(np.int64)
    curv = sign * _end_slopes(a, b, ga, gb) * NS_PER_S
    bad = np.flatnonzero(~ok)
    if len(bad):
        t[bad], val[bad] = _golden(g, obj[bad], lo[bad], hi[bad], kind)
        curv[bad] = np.nan
    return t, val, curv


def _golden(g, obj, lo, hi, kind):
    """Vectorised golden-section search for the extremum of each object's g
    in ``[lo, hi]`` (int ns).  Returns (time_ns, value)."""
    sign = 1.0 if kind == "max" else -1.0
    a = lo.astype(float)
    b = hi.astype(float)
    c = b - _GOLDEN * (b - a)
    d = a + _GOLDEN * (b - a)

    def f(x):
        return sign * np.asarray(g.evaluate(obj, np.rint(x).astype(np.int64)[:, None]),
                                 dtype=float)[:, 0]

    fc, fd = f(c), f(d)
    tol = EXTREMUM_TOL_S * NS_PER_S
    for _ in range(80):
        if not np.any(b - a > tol):
            break
        left = fc > fd                       # maximum lies in [a, d]
        a, b = np.where(left, a, c), np.where(left, d, b)
        c_new = b - _GOLDEN * (b - a)
        d_new = a + _GOLDEN * (b - a)
        # reuse one interior value per step, evaluate the other
        x_new = np.where(left, c_new, d_new)
        fx = f(x_new)
        fc, fd, c, d = (np.where(left, fx, fd), np.where(left, fc, fx),
                        np.where(left, c_new, d), np.where(left, c, d_new))
    t = np.rint(np.where(fc > fd, c, d)).astype(np.int64)
    val = sign * np.maximum(fc, fd)
    return t, val


def golden_extremum(g, obj, lo, hi, kind):
    """The extremum (``kind`` "max" / "min") of each object's g in ``[lo,
    hi]`` (int ns) by golden-section search on ``g.evaluate``, to
    EXTREMUM_TOL_S: ``(time_ns, value)``."""
    return _golden(g, np.asarray(obj), np.asarray(lo), np.asarray(hi), kind)


def _log_size(g):
    """Rows g has logged of its exact evaluations, or None (not logging)."""
    size = getattr(g, "exact_log_size", None)
    return None if size is None else size()


def _polish_extremum(g, obj, t, v, kind=None, refs=None, curv=None):
    """Vertex of the parabola through exact values 2 s either side of each
    extremum: corrects the interpolation error of functions that interpolate,
    which matters for flat peaks (no-op where ``exact`` changes nothing).
    Functions that interpolate their rate take Newton steps instead
    (_newton_extremum): two exact evaluations per step, not three."""
    if getattr(g, "value_and_rate", None) is not None:
        out = _newton_extremum(g, obj, t, v, kind, refs, curv)
        if out is not None:
            return out
    h = 2.0 * NS_PER_S
    t, v = t.copy(), v.copy()
    todo = np.arange(len(t))
    for _ in range(3):
        if not len(todo):
            break
        tt = t[todo, None] + np.array([-h, 0, h], dtype=np.int64)[None, :]
        f = np.asarray(g.evaluate(obj[todo], tt, exact=True), dtype=float)
        a, b, c = f[:, 0], f[:, 1], f[:, 2]
        den = a - 2 * b + c
        ok = np.isfinite(den) & (den != 0)
        shift = np.where(ok, 0.5 * (a - c) / np.where(ok, den, 1.0), 0.0)
        good = ok & (np.abs(shift) <= 10.0)    # within 20 s: the peak is nearby
        shift = np.where(good, shift, 0.0)
        v[todo] = np.where(good, b - 0.25 * (a - c) * shift,
                           np.where(np.isfinite(b), b, v[todo]))
        t[todo] = t[todo] + np.rint(shift * h).astype(np.int64)
        todo = todo[np.abs(shift) >= 0.05]       # moved by more than 0.1 s: again
    return t, v


def _newton_extremum(g, obj, t, v, kind=None, refs=None, curv=None):
    """Newton-secant on the time derivative with exact values: at each
    step the slope comes from exact values 1 s either side, the curvature
    first from the interpolated rate (the difference of its values at the
    ends of the converged rate bracket, ``curv``, or 1 s either side: a
    constant bias of the interpolated rate cancels), then from the exact
    slopes of the last two steps (secant), and the value is the vertex of
    that parabola.  Steps
    are clipped to 20 s (a trust region: the interpolated curvature of a
    flat peak can be off by a factor of two) and taken only where the
    curvature has the sign of ``kind`` ("max" / "min"; None: either).  Two
    exact evaluations per step, repeated (at most NEWTON_EXTREMUM_STEPS) while a step
    moves by more than 0.1 s.  None where g cannot interpolate its rate
    there.  Exact values, not an exact rate: SGP4's velocity is not the
    derivative of its position (by up to ~1 m/s), which would move a flat
    peak by seconds.  ``refs`` (int64, -1 filled): set to the log row of
    each extremum's last pair of exact values (``_log_size``).  ``curv``
    (1/s^2, NaN where unknown): the interpolant's curvature at ``t`` where
    the caller has it (``_extremum``), for the first step."""
    curv_hint = curv
    h = NS_PER_S
    want = {"max": -1.0, "min": 1.0}.get(kind, 0.0)
    t, v = t.copy(), v.copy()
    todo = np.arange(len(t))
    prev_t = prev_slope = None
    for _ in range(NEWTON_EXTREMUM_STEPS):
        if not len(todo):
            break
        o, tt = obj[todo], t[todo]
        base = _log_size(g) if refs is not None else None
        f = np.asarray(g.evaluate(o, tt[:, None] + np.array([-h, h], dtype=np.int64)[None, :],
                                  exact=True), dtype=float)
        if base is not None:
            refs[todo] = base + 2 * np.arange(len(todo))
        slope = (f[:, 1] - f[:, 0]) / 2.0                   # 1/s at tt
        if prev_t is None:
            curv = np.full(len(o), np.nan) if curv_hint is None else \
                np.array(curv_hint, dtype=float)
            need = np.flatnonzero(~np.isfinite(curv))
            if len(need):
                lo = g.value_and_rate(o[need], tt[need] - h)
                hi = g.value_and_rate(o[need], tt[need] + h)
                if lo is None or hi is None:
                    return None
                curv[need] = (hi[1] - lo[1]) / 2.0          # 1/s^2 (base 2 s)
        else:
            dt_s = (tt - prev_t) / NS_PER_S
            curv = (slope - prev_slope) / np.where(dt_s != 0, dt_s, np.nan)
        mid = 0.5 * (f[:, 0] + f[:, 1]) - 0.5 * curv        # value at tt
        ok = np.isfinite(slope) & np.isfinite(mid) & np.isfinite(curv) & (curv != 0) \
            & (curv * want >= 0)
        step_s = np.clip(np.where(ok, -slope / np.where(ok, curv, 1.0), 0.0), -20.0, 20.0)
        here = 0.5 * (f[:, 0] + f[:, 1])
        v[todo] = np.where(ok, mid + slope * step_s + 0.5 * curv * step_s ** 2,
                           np.where(np.isfinite(here), here, v[todo]))
        t[todo] = tt + np.rint(step_s * NS_PER_S).astype(np.int64)
        again = np.abs(step_s) >= 0.1
        todo, prev_t, prev_slope = todo[again], tt[again], slope[again]
    return t, v


def _illinois(values, a, b, fa, fb, tol):
    """Illinois (modified regula falsi) on every bracket ``[a, b]`` (float
    ns, ``fa`` and ``fb`` of opposite signs) at once, until narrower than
    ``tol`` ns.  ``values(ia, x)`` gives the function at int ns ``x`` for the
    brackets ``ia``; non-finite values count as negative, and brackets with a
    non-finite end step by bisection.  Returns the final ``(a, b)`` and the
    function's values there ``(ga, gb)`` (``fa``, ``fb`` are halved by the
    Illinois rule; NaN at an end never moved)."""
    a, b, fa, fb = a.copy(), b.copy(), fa.copy(), fb.copy()
    ga, gb = np.full(len(a), np.nan), np.full(len(a), np.nan)
    side = np.zeros(len(a), dtype=np.int8)
    for _ in range(100):
        active = (b - a) > tol
        if not active.any():
            break
        ia = np.flatnonzero(active)
        fa_, fb_ = fa[ia], fb[ia]
        ok = np.isfinite(fa_) & np.isfinite(fb_) & (fb_ != fa_)
        x = np.where(ok, (a[ia] * fb_ - b[ia] * fa_) / np.where(ok, fb_ - fa_, 1.0),
                     0.5 * (a[ia] + b[ia]))
        # keep the step strictly inside and avoid stalling at an end
        w = b[ia] - a[ia]
        x = np.clip(x, a[ia] + 0.01 * w, b[ia] - 0.01 * w)
        fx = np.asarray(values(ia, np.rint(x).astype(np.int64)), dtype=float)
        fx = np.where(np.isfinite(fx), fx, -np.inf)
        same_as_a = (fx >= 0) == (fa_ >= 0)
        # Illinois: halve the retained end's value when the same end stays twice
        new_side = np.where(same_as_a, 1, -1).astype(np.int8)
        stay = side[ia] == new_side
        a[ia] = np.where(same_as_a, x, a[ia])
        fa[ia] = np.where(same_as_a, fx, np.where(stay, fa_ * 0.5, fa_))
        b[ia] = np.where(same_as_a, b[ia], x)
        fb[ia] = np.where(same_as_a, np.where(stay, fb_ * 0.5, fb_), fx)
        ga[ia] = np.where(same_as_a, fx, ga[ia])
        gb[ia] = np.where(same_as_a, gb[ia], fx)
        side[ia] = new_side
    return a, b, ga, gb


def _solve(g, mode, obj, a, b, fa, fb, tol, values):
    """``_illinois`` on g's brackets: mode 0 for roots of g, +1 / -1 for
    roots of +- its time derivative (maxima / minima), ``values`` giving
    those numbers.  A g-function may offer ``illinois(mode, obj, a, b, fa,
    fb, tol)``, the same iteration compiled for its own interpolant (None
    where that does not apply): the engine's answer either way.  Returns
    ``(a, b, ga, gb, mid)`` (``_illinois``'s, and from the compiled one, for
    modes +-1, g's value at ``rint((a + b) / 2)``; else None)."""
    fast = getattr(g, "illinois", None)
    out = fast(mode, obj, a, b, fa, fb, tol) if fast is not None and len(obj) else None
    return tuple(out) if out is not None else _illinois(values, a, b, fa, fb, tol) + (None,)


def _end_slopes(a, b, ga, gb):
    """The secant of a converged bracket, ``(gb - ga) / (b - a)`` (per ns),
    NaN where an end was never moved or a value is not finite: the
    derivative at its middle to O((b - a)^2)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (gb - ga) / (b - a)
    return np.where(np.isfinite(s) & (b > a), s, np.nan)


def _refine_roots(g, obj, lo, hi, lo_v, hi_v, polish=True, exact=False, open_ends=None,
                  refs=None):
    """Illinois (modified regula falsi) on every bracket at once, then an
    optional secant polish with exact values; with ``exact`` (hidden pairs
    decided on exact values) on exact values throughout, no polish needed.
    Returns root times (ns); ``refs``: as in ``_polish``."""
    def values(ia, x):
        return np.asarray(g.evaluate(obj[ia], x[:, None], exact=exact), dtype=float)[:, 0]

    args = (lo.astype(float), hi.astype(float), lo_v.astype(float), hi_v.astype(float),
            ROOT_TOL_S * NS_PER_S)
    a, b, ga, gb, _ = _illinois(values, *args) + (None,) if exact else \
        _solve(g, 0, obj, *args, values)
    root = 0.5 * (a + b)
    if polish and not exact:
        if open_ends is None:
            open_ends = (np.ones(len(obj), dtype=bool),) * 2
        slack = POLISH_TRUST_S * NS_PER_S
        # the first Newton step's slope: the converged bracket's secant
        # (the interpolant's derivative at the root to ~1e-7), else the
        # interpolated rate there
        root = _polish(g, obj, root, lo - slack * open_ends[0], hi + slack * open_ends[1],
                       refs, _end_slopes(a, b, ga, gb))
    return np.rint(root).astype(np.int64)


def _polish(g, obj, root, lo, hi, refs=None, slope=None):
    """Where g offers ``value_and_rate``: a Newton step on an exact value
    with the interpolated derivative, then secant steps on the exact values
    of the last two steps; else one secant step on exact values over a
    0.2 s base.  Corrects the interpolation error of functions that
    interpolate (no-op otherwise).  Each step is at most POLISH_TRUST_S (a
    trust region) and stays inside ``[lo, hi]`` (ns: the root's sampling
    bracket, widened by the trust region at its grid-sample ends, whose
    values may be interpolated too, not at a refined peak); steps repeat (at
    most POLISH_STEPS) while one moves by more than POLISH_AGAIN_S, or by
    more than POLISH_SLOW_AGAIN_S across a slow crossing: one (an eccentric
    orbit near apogee setting at a grazing angle) may lie more than 10 s
    from its interpolated root.  ``refs`` (int64, -1 filled): set to the
    log row of each root's last exact value (``_log_size``; Newton path).
    ``slope`` (per ns, NaN where unknown): the interpolant's derivative at
    the roots where the caller has it (``_end_slopes``)."""
    vr = getattr(g, "value_and_rate", None)
    newton = vr is not None and len(obj) > 0
    if newton:
        slope = np.full(len(obj), np.nan) if slope is None else np.array(slope, dtype=float)
        need = np.flatnonzero(~np.isfinite(slope))
        if len(need):
            rate = vr(obj[need], np.rint(root[need]).astype(np.int64))
            newton = rate is not None
            if newton:
                slope[need] = rate[1] / NS_PER_S
    if newton:
        # Newton with the interpolated derivative, then secant steps on the
        # exact values of the last two steps: one exact value per root a step
        x = np.asarray(root, dtype=float).copy()
        lo_f, hi_f = lo.astype(float) + 1, hi.astype(float) - 1
        todo = np.arange(len(x))
        prev_x = prev_f = None
        for k in range(POLISH_STEPS):
            xt = x[todo]
            base = _log_size(g) if refs is not None else None
            f = np.asarray(g.evaluate(obj[todo], np.rint(xt).astype(np.int64)[:, None],
                                      exact=True), dtype=float)[:, 0]
            if base is not None:
                refs[todo] = base + np.arange(len(todo))
            if k:
                dx = xt - prev_x
                with np.errstate(invalid="ignore", divide="ignore"):
                    slope = np.where(dx != 0, (f - prev_f) / np.where(dx != 0, dx, 1.0), np.nan)
            ok = np.isfinite(f) & np.isfinite(slope) & (slope != 0)
            step = np.clip(np.where(ok, -f / np.where(ok, slope, 1.0), 0.0),
                           -POLISH_TRUST_S * NS_PER_S, POLISH_TRUST_S * NS_PER_S)
            x[todo] = np.clip(xt + step, lo_f[todo], hi_f[todo])
            # again where the step was long, or where the crossing is slow
            # (there the interpolated rate may be off by more than itself:
            # SGP4's velocity is no derivative of its position far from
            # epoch under drag; review round 23) and the step not tiny
            slow = np.abs(slope) * NS_PER_S < POLISH_SLOW_RATE_PER_S
            again = ok & ((np.abs(step) >= POLISH_AGAIN_S * NS_PER_S)
                          | (slow & (np.abs(step) >= POLISH_SLOW_AGAIN_S * NS_PER_S)))
            prev_x, prev_f = xt[again], f[again]
            todo = todo[again]
            if not len(todo):
                break
        return x
    h = 0.1 * NS_PER_S
    x0, x1 = root - h, root + h
    t = np.rint(np.stack([x0, x1], axis=1)).astype(np.int64)
    try:
        f = np.asarray(g.evaluate(obj, t, exact=True), dtype=float)
    except TypeError:
        return root
    f0, f1 = f[:, 0], f[:, 1]
    ok = np.isfinite(f0) & np.isfinite(f1) & (f1 != f0)
    x = np.where(ok, x0 - f0 * (x1 - x0) / np.where(ok, f1 - f0, 1.0), root)
    # trust the polish only when it moves the root by less than 10 s
    good = ok & (np.abs(x - root) < 10 * NS_PER_S)
    return np.where(good, x, root)


# -- public wrappers -------------------------------------------------------------

def find_crossings(g: GFunction, start: Time, end: Time, **kw) -> Crossings:
    """Every time each object's g changes sign in ``[start, end]``."""
    return scan(g, start, end, **kw).crossings


def find_maxima(g: GFunction, start: Time, end: Time, threshold: float | None = None,
                **kw) -> Extrema:
    """Local maxima of g inside the window (those >= ``threshold`` when given)."""
    return scan(g, start, end, maxima=True, max_threshold=threshold, **kw).maxima


def find_minima(g: GFunction, start: Time, end: Time, **kw) -> Extrema:
    """Local minima of g inside the window."""
    return scan(g, start, end, minima=True, **kw).minima


def find_extrema(g: GFunction, start: Time, end: Time, **kw):
    """``(maxima, minima)`` of g inside the window."""
    s = scan(g, start, end, maxima=True, minima=True, **kw)
    return s.maxima, s.minima


def to_intervals(crossings: Crossings) -> Intervals:
    """Intervals where g >= 0, per object, from crossings and the states at
    the window ends; intervals cut by an edge carry a partial flag."""
    t0, t1 = int(crossings.start.ns), int(crossings.end.ns)
    obj, t, d = crossings.obj, crossings.time.ns, crossings.direction
    # Synthetic events at the edges: a rise at start for objects already in,
    # a set at end for objects still in; with the crossings sorted (as scan
    # gives them) one merge puts them in order, else a sort
    ok, all_obj, all_t, all_d, edge, src = merge_edge_events(
        np.ascontiguousarray(obj, dtype=np.int64), np.ascontiguousarray(t, dtype=np.int64),
        np.ascontiguousarray(d, dtype=np.int8), np.ascontiguousarray(crossings.in_at_start,
                                                                      dtype=bool),
        np.ascontiguousarray(crossings.in_at_end, dtype=bool), t0, t1)
    if not ok:
        all_obj, all_t, all_d, edge, src = _edge_events_sorted(crossings)
    # pair each rise with the next set of the same object
    nxt_obj = np.r_[all_obj[1:], -1]
    nxt_d = np.r_[all_d[1:], 0]
    pair = (all_d == 1) & (nxt_obj == all_obj) & (nxt_d == -1)
    i = np.flatnonzero(pair)
    refs = (None, None)
    if crossings.ref is not None:
        ev_ref = np.append(np.asarray(crossings.ref, dtype=np.int64), -1)[src]   # src -1: -1
        refs = (ev_ref[i], ev_ref[i + 1])
    return Intervals(all_obj[i], Time(all_t[i]), Time(all_t[i + 1]), edge[i], edge[i + 1],
                     *refs)


def _edge_events_sorted(crossings: Crossings):
    """``to_intervals``'s events (crossings and the edges' synthetic ones)
    by one lexsort: object, time, then start rise / crossing / end set
    (kernels.merge_edge_events, where the crossings are sorted, gives the
    same without the sort); and each event's crossing (-1: an edge's)."""
    t0, t1 = int(crossings.start.ns), int(crossings.end.ns)
    obj, t, d = crossings.obj, crossings.time.ns, crossings.direction
    s_obj = np.flatnonzero(crossings.in_at_start)
    e_obj = np.flatnonzero(crossings.in_at_end)
    all_obj = np.concatenate([s_obj, obj, e_obj])
    all_t = np.concatenate([np.full(len(s_obj), t0), t, np.full(len(e_obj), t1)])
    all_d = np.concatenate([np.ones(len(s_obj), np.int8), d, -np.ones(len(e_obj), np.int8)])
    edge = np.concatenate([np.ones(len(s_obj), bool), np.zeros(len(obj), bool),
                           np.ones(len(e_obj), bool)])
    prio = np.concatenate([np.zeros(len(s_obj)), np.ones(len(obj)), np.full(len(e_obj), 2)])
    src = np.concatenate([np.full(len(s_obj), -1), np.arange(len(obj)),
                          np.full(len(e_obj), -1)]).astype(np.int64)
    order = np.lexsort((prio, all_t, all_obj))
    return all_obj[order], all_t[order], all_d[order], edge[order], src[order]


def intervals(g: GFunction, start: Time, end: Time, **kw) -> Intervals:
    """Where each object's g >= 0 in ``[start, end]``."""
    return to_intervals(find_crossings(g, start, end, **kw))


def grid_window_mask(rows, grid_ns, w_obj, w_start_ns, w_end_ns) -> np.ndarray:
    """``(len(rows), len(grid_ns))`` bool: which samples of objects ``rows``
    (sorted, unique) on the common grid ``grid_ns`` lie in a window
    ``[w_start_ns, w_end_ns]`` of their object ``w_obj`` (windows of objects
    not in ``rows`` are ignored; overlapping windows are fine).  One mark at
    each window's first and past its last column, then a running sum."""
    rows = np.asarray(rows)
    w_obj = np.asarray(w_obj)
    pos = np.searchsorted(rows, w_obj)
    keep = (pos < len(rows)) & (rows[np.minimum(pos, len(rows) - 1)] == w_obj)
    m = len(grid_ns)
    lo = np.searchsorted(grid_ns, np.asarray(w_start_ns)[keep], side="left")
    hi = np.searchsorted(grid_ns, np.asarray(w_end_ns)[keep], side="right")
    marks = np.zeros((len(rows), m + 1), dtype=np.int32)
    np.add.at(marks, (pos[keep], lo), 1)
    np.add.at(marks, (pos[keep], hi), -1)
    return np.cumsum(marks, axis=1)[:, :m] > 0


def latest_at_or_before(obj, t_ns, q_obj, q_t_ns) -> np.ndarray:
    """For each query ``(q_obj, q_t_ns)``: the index of the entry of
    ``(obj, t_ns)`` (any order) with the same object and the latest time at
    or before the query's, or -1.  Exact on int64 ns: e.g. which interval
    (by its start) an event falls in.  One merge where both lists are sorted
    by object then time (kernels.merge_latest_at_or_before), else one
    lexsort and a running maximum; equal entries: the last in input order."""
    obj, t_ns = np.asarray(obj), np.asarray(t_ns, dtype=np.int64)
    q_obj, q_t_ns = np.asarray(q_obj), np.asarray(q_t_ns, dtype=np.int64)
    if np.issubdtype(obj.dtype, np.integer) and np.issubdtype(q_obj.dtype, np.integer):
        # both sorted by object then time (intervals, extrema): one merge
        ok, out = merge_latest_at_or_before(
            np.ascontiguousarray(obj, dtype=np.int64), np.ascontiguousarray(t_ns),
            np.ascontiguousarray(q_obj, dtype=np.int64), np.ascontiguousarray(q_t_ns))
        if ok:
            return out
    n = len(obj)
    all_obj = np.concatenate([obj, q_obj])
    all_t = np.concatenate([t_ns, q_t_ns])
    is_query = np.r_[np.zeros(n, bool), np.ones(len(q_obj), bool)]
    order = np.lexsort((is_query, all_t, all_obj))      # entries before queries at a tie
    pos = np.where(is_query[order], -1, np.arange(len(order)))
    last = np.maximum.accumulate(pos) if len(pos) else pos
    found = np.where(last >= 0, order[np.maximum(last, 0)], -1)
    out = np.empty(len(q_obj), dtype=np.int64)
    q_sorted = is_query[order]
    out[order[q_sorted] - n] = found[q_sorted]
    same = out >= 0
    same[same] = obj[out[same]] == q_obj[same]
    return np.where(same, out, -1)


def interval_stats(iv: Intervals, n_obj: int, start: Time, end: Time) -> dict:
    """Coverage fraction, mean and maximum gap (s) per object over the window
    (arrays ``(n_obj,)``); gaps include the edges of the window."""
    t0, t1 = int(start.ns), int(end.ns)
    span = (t1 - t0) / NS_PER_S
    covered = np.zeros(n_obj)
    np.add.at(covered, iv.obj, iv.duration_s)
    mean_gap = np.full(n_obj, np.nan)
    max_gap = np.full(n_obj, span)
    count = np.bincount(iv.obj, minlength=n_obj)
    # gaps: start->first, between, last->end
    order = np.lexsort((iv.start.ns, iv.obj))
    o, s, e = iv.obj[order], iv.start.ns[order], iv.end.ns[order]
    prev_end = np.where(np.r_[True, o[1:] != o[:-1]], t0, np.r_[t0, e[:-1]])
    gaps = (s - prev_end) / NS_PER_S
    last = np.r_[o[1:] != o[:-1], True] if len(o) else np.zeros(0, bool)
    tail = (t1 - e[last]) / NS_PER_S
    gap_sum = np.zeros(n_obj)
    np.add.at(gap_sum, o, gaps)
    np.add.at(gap_sum, o[last], tail)
    gmax = np.zeros(n_obj)
    np.maximum.at(gmax, o, gaps)
    np.maximum.at(gmax, o[last], tail)
    has = count > 0
    max_gap[has] = gmax[has]
    mean_gap[has] = gap_sum[has] / (count[has] + 1)
    return {"coverage_fraction": covered / span, "mean_gap_s": mean_gap,
            "max_gap_s": max_gap, "count": count}
