"""Manoeuvres, decays, new and stale objects, from element-set histories (pure).

Everything here takes arrays (one object's history sorted by epoch, or
per-object summaries) and returns arrays or small records; nothing reads a
database, a file or the clock.  :mod:`satwatch.store` supplies the arrays.

Manoeuvre detection: change tests on mean elements
--------------------------------------------------
A TLE's mean semi-major axis ``a`` drifts smoothly under drag and scatters
from set to set by the fit noise; a burn adds a step, which the TLE fit often
shows as a ramp over a few days.  After flagging outliers (a set far from
both neighbours while they agree), two tests run over every gap between
consecutive sets, vectorised over gaps:

1. trend break: a line fitted to the ``window_sets`` sets before the gap
   (the drag decay, the node drift) is extrapolated over the ``after_sets``
   sets after it; their mean departure over its standard error (robust noise
   from second differences, or the fit's own scatter, plus the
   extrapolation's uncertainty) is the z-score.  On ``a`` for in-track, on
   the inclination and the node (times sin i) for cross-track.
2. single-gap jump (outside GEO): the jump of ``a`` across one gap beyond
   the local median trend rate, over the noise of two sets; it separates
   burns a day apart that test 1 sees as one ramp.

Drag is not a burn: an in-track change must also exceed a floor (1 m LEO,
1 km GEO), three days of the trend's own decay, and half the decay over a long
gap in the data.  A ramp's epoch window is widened back to its onset, and a
weak in-track change outside GEO must also show in the along-track
positions (each set against the one before it carried forward at SGP4's
secular rates), when the argument of perigee, mean anomaly and ndot are
given.

* in-track: delta-v = v * |da| / (2a) (vis-viva, small tangential burn).
* cross-track: delta-v = 2 v sin(dtheta / 2), dtheta the angle between the
  orbit normals before and after.
* outliers are flagged (``outlier_epochs_ns``), not counted.

See docs/maneuvers.md for the benchmark, the matching rule and the limits.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MU_KM3_S2 = 398600.8            # WGS-72, as SGP4 and the TLE mean motion
EARTH_RADIUS_KM = 6378.135      # WGS-72
# Element-history columns the detector accepts and does not use (the store's
# history_arrays() gives every element column).
UNUSED_HISTORY_COLUMNS = frozenset({"bstar_per_earth_radius", "nddot_rev_day3"})
# Below this mean altitude a lowering of a is re-entry decay, not a burn (see
# detect_maneuvers): the decay speeds up by e every ~40 km scale height.
REENTRY_ALT_KM = 200.0
NS_PER_DAY = 86_400 * 10**9
DAY_S = 86400.0

__all__ = ["DetectorSettings", "Maneuvers", "detect_maneuvers", "semi_major_axis_km",
           "flag_outliers", "robust_scale", "decay_status", "DecayStatus", "new_objects",
           "stale_objects", "STALE_AFTER_DAYS", "along_track_residual_km"]


def semi_major_axis_km(mean_motion_rev_day) -> np.ndarray:
    """Semi-major axis from the TLE (Kozai) mean motion with WGS-72 mu."""
    n_rad_s = np.asarray(mean_motion_rev_day, dtype=float) * 2 * np.pi / DAY_S
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.cbrt(MU_KM3_S2 / n_rad_s ** 2)


@dataclass(frozen=True)
class DetectorSettings:
    """Tuning of :func:`detect_maneuvers`; the defaults are what
    benchmarks/maneuvers.py reports (see docs/maneuvers.md)."""

    after_sets: int = 3             # sets after a gap compared with the trend
    window_sets: int = 6            # sets either side of a gap in the local fit
    noise_sets: int = 41            # sets in the rolling robust noise scale
    z_jump: float = 30.0            # single-gap jump test (0 = off); not at GEO
    jump_rate_gaps: int = 21        # gaps in the median trend rate of the jump test
    jump_merge_sets: int = 2        # a jump this close to a window detection is the same
    # a jump after a still-rising small ramp is its catch-up (0 = off)
    catchup_z: float = 3.0
    catchup_max_km: float = 0.02    # ... "small": a change an orbit fit can spread over days
    # a jump next to a detection is its own burn beyond this many noise
    # scales: a step, not a ramp (0 = off)
    z_step: float = 200.0
    nms_sets: int = 2               # picks closer than this many gaps are one change
    settle_sets: int = 8            # sets over which the size of a change is measured
    z_threshold: float = 8.0        # step / standard error (in-track)
    z_cross: float = 40.0           # step / standard error (cross-track; see below)
    floor_a_km: float = 0.001       # smallest in-track step reported (LEO)
    floor_a_geo_km: float = 1.0     # GEO: a TLE's a scatters by 0.1-0.5 km
    floor_angle_deg: float = 0.01   # smallest cross-track step (orbit normal)
    drag_days: float = 3.0          # in-track floor: this many days of the a-trend
    drag_fraction: float = 0.5      # ... or this fraction of the trend over the gap
    outlier_z: float = 8.0          # outlier: this many sigma from both neighbours
    onset_sets: int = 3             # look this many sets back for a ramp's onset (0 = off)
    onset_z: float = 2.0            # ... a set has left the earlier trend beyond this many sigma
    along_sets: int = 3             # along-track check: residuals summed over this many gaps
    along_noise_sets: int = 41      # sets in its rolling median / MAD
    along_z: float = 2.5            # a weak in-track change needs this along-track support
    along_strong_z: float = 15.0    # ... in-track changes above this z need none (0 = off)
    z_weak: float = 6.0             # weak in-track changes down to this z (0 = off) are kept
    along_weak_z: float = 4.0       # ... with this along-track support
    floor_settled_km: float = 0.002 # outside GEO, an in-track change smaller once settled is wander
    # the catch-up rule over every in-track detection, weak ramps included
    catchup_all: bool = True
    # the node's displacement (dOmega sin i) with each gap's own inclination
    node_local_sini: bool = True
    # two consecutive sets out and back (in a) are outliers too
    outlier_pairs: bool = True
    # a set off in both a (out and back, or beyond both neighbours) and the
    # inclination (out and back) is taken out first (_double_outliers)
    double_outliers: bool = True

    @property
    def min_sets(self) -> int:
        """Fewest element sets (after outliers) a history needs to be scanned:
        a window of ``window_sets`` either side of a gap."""
        return 2 * self.window_sets


@dataclass
class Maneuvers:
    """Detected manoeuvres of one object, as arrays (one entry per manoeuvre).

    ``epoch_ns``: the first set after the step; the burn lies in
    [``window_start_ns``, ``window_end_ns``] (the epochs of the sets either
    side of the step, so as wide as the gap between element sets).
    ``kind``: "in-track" or "cross-track".  ``outlier_epochs_ns``: the
    element sets flagged as outliers (not counted as manoeuvres).
    """

    norad_id: int
    epoch_ns: np.ndarray
    window_start_ns: np.ndarray
    window_end_ns: np.ndarray
    kind: np.ndarray
    delta_v_m_s: np.ndarray
    delta_a_km: np.ndarray
    delta_normal_deg: np.ndarray
    delta_inclination_deg: np.ndarray
    z_score: np.ndarray
    outlier_epochs_ns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __len__(self):
        return len(self.epoch_ns)

    def rows(self) -> list[dict]:
        from .time import Time
        out = []
        for j in range(len(self)):
            out.append({"norad_id": self.norad_id,
                        "epoch": Time(int(self.epoch_ns[j])).iso(0),
                        "window_start": Time(int(self.window_start_ns[j])).iso(0),
                        "window_end": Time(int(self.window_end_ns[j])).iso(0),
                        "type": str(self.kind[j]),
                        "delta_v_m_s": float(self.delta_v_m_s[j]),
                        "delta_a_km": float(self.delta_a_km[j]),
                        "delta_inclination_deg": float(self.delta_inclination_deg[j]),
                        "delta_normal_deg": float(self.delta_normal_deg[j]),
                        "z_score": float(self.z_score[j])})
        return out


def _empty(norad_id, outliers=None) -> Maneuvers:
    z = np.zeros(0)
    zi = np.zeros(0, np.int64)
    return Maneuvers(norad_id, zi, zi, zi, np.zeros(0, dtype="<U11"), z, z, z, z, z,
                     zi if outliers is None else outliers)


def robust_scale(x: np.ndarray, t_days: np.ndarray, window: int) -> np.ndarray:
    """Per-set noise scale of ``x``: rolling MAD of second differences
    (which cancel a linear trend), divided by sqrt(6) (the second difference
    of white noise has variance 6 sigma^2), centred on each set."""
    n = len(x)
    if n < 3:
        return np.full(n, np.nan)
    dt1 = np.diff(t_days)
    # Second difference that cancels a linear trend on uneven sampling.
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.diff(x) / np.where(dt1 > 0, dt1, np.nan)
        d2 = (slope[1:] - slope[:-1]) * (dt1[1:] * dt1[:-1]) / (dt1[1:] + dt1[:-1])
    # For equal spacing d2 = (x0 - 2x1 + x2)/2: variance 1.5 sigma^2.
    d2 = np.abs(d2) / np.sqrt(1.5)
    d2 = np.concatenate([[d2[0]], d2, [d2[-1]]])
    w = min(window, n)
    if w < 3:
        return np.full(n, 1.4826 * np.nanmedian(d2))
    med = np.nanmedian(sliding_window_view(d2, w), axis=1) * 1.4826
    pad_lo = (w - 1) // 2
    pad_hi = n - len(med) - pad_lo
    return np.concatenate([np.full(pad_lo, med[0]), med, np.full(pad_hi, med[-1])])


def _middle_fraction(t: np.ndarray) -> np.ndarray:
    """For each set but the first and last, how far its time lies between
    its neighbours' (0..1; 0.5 where they share one epoch)."""
    t0, t1, t2 = t[:-2], t[1:-1], t[2:]
    return np.where(t2 > t0, (t1 - t0) / np.where(t2 > t0, t2 - t0, 1.0), 0.5)


def flag_outliers(t_days: np.ndarray, series: list[np.ndarray], scales: list[np.ndarray],
                  z: float) -> np.ndarray:
    """Boolean mask of outlier sets: for any of ``series``, the set lies more
    than ``z`` scales from the line through its two neighbours while those
    neighbours' own step is small (an excursion out and back, not a step).
    A set on a step of the first series (its neighbours there differ by
    more than ``z`` scales: the semi-major axis across a burn) is part of
    that change, not an outlier in the others (a TLE fit straddling a burn
    disturbs the other elements too)."""
    n = len(t_days)
    bad = np.zeros(n, bool)
    if n < 3:
        return bad
    frac = _middle_fraction(t_days)
    on_step = np.zeros(n - 2, bool)
    for i, (x, s) in enumerate(zip(series, scales)):
        x0, x1, x2 = x[:-2], x[1:-1], x[2:]
        pred = x0 + (x2 - x0) * frac
        dev = np.abs(x1 - pred)
        sc = np.maximum(s[1:-1], 1e-12)
        # Out and back: far from the line, yet the neighbours agree with
        # each other much better than with the middle set.
        out = (dev > z * sc) & (np.abs(x2 - x0) < 0.5 * dev)
        if i == 0:
            on_step = (np.abs(x2 - x0) > z * sc) & ~out
        else:
            out &= ~on_step
        bad[1:-1] |= out
    return bad


def _drop_catchups(g, in_ok, cross_ok, da, dl_settled, t, a, sa, cfg):
    """The catch-up rule of the jump test (step 6 of docs/maneuvers.md)
    over every in-track detection, test 1's, the jumps' and the weak ramps'
    alike: a detection up to ``settle_sets`` sets after the previous
    in-track one, of the same sign, while the sets between still rise
    (their single-gap jumps over the noise sum beyond ``catchup_z`` over
    sqrt of their number), both under ``catchup_max_km``, is the orbit fit
    catching up on the first (Jason-1 2004-02 and 2004-06, TOPEX 1994-02:
    a weak ramp, then its catch-up 3-8 sets later).  Returns the kept gaps."""
    gi = g[in_ok[g] & ~cross_ok[g]]
    if len(gi) < 2:
        return g
    jump, _, _ = _jump_test(t, a, sa, cfg.jump_rate_gaps)
    with np.errstate(divide="ignore", invalid="ignore"):
        zs = np.nan_to_num(jump / (np.maximum(sa[:-1], sa[1:]) * np.sqrt(2.0)))
    cz = np.concatenate([[0.0], np.cumsum(zs)])
    size = np.maximum(np.abs(np.nan_to_num(da)), np.abs(np.nan_to_num(dl_settled)))
    p, q = gi[:-1], gi[1:]                  # consecutive in-track detections
    lag = q - p
    sgn = np.sign(np.nan_to_num(da[p]))
    rising = sgn * (cz[q] - cz[np.minimum(p + 1, len(zs))]) / np.sqrt(np.maximum(lag - 1, 1))
    later = np.maximum(np.abs(jump[q]), np.abs(np.nan_to_num(da[q])))
    catchup = (lag > 1) & (lag <= cfg.settle_sets) & (sgn != 0) \
        & (np.sign(np.nan_to_num(da[q])) == sgn) & (rising > cfg.catchup_z) \
        & (size[p] < cfg.catchup_max_km) & (later < cfg.catchup_max_km)
    return g[~np.isin(g, q[catchup])]


def _local_rate(t, x, window: int = 21) -> np.ndarray:
    """Per set, the median of the set-to-set slopes of ``x`` over ``window``
    gaps centred on it (the local trend, robust to a step or an outlier)."""
    n = len(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.diff(x) / np.where(np.diff(t) > 0, np.diff(t), np.nan)
    if n < 3:
        return np.zeros(n)
    w = min(window, len(slope))
    med = np.nanmedian(sliding_window_view(slope, w), axis=1)
    pad_lo = w // 2
    out = np.concatenate([np.full(pad_lo, med[0]), med, np.full(n - len(med) - pad_lo, med[-1])])
    return np.nan_to_num(out)


def _double_outliers(t, a, inc, sa, si, z):
    """Sets off the line through their neighbours in both the semi-major axis
    and the inclination: in ``a`` out and back, or beyond both neighbours
    (an overshoot on a step), and in the inclination out and back (its
    neighbours agree).  A badly fitted set is off in several elements at
    once; where two such sets straddle good ones (the ISS of 2024-11-13: two
    off-fit sets 0.005-0.025 deg low in inclination, 4 km high in a, around
    its +4.8 km raise), the one-element test flags the good set between
    them, its neighbours agreeing with each other.  A burn moves a (or the
    plane) once, and a fit straddling it lies between the levels either
    side, not beyond both."""
    n = len(t)
    bad = np.zeros(n, bool)
    if n < 3:
        return bad
    t0, t1, t2 = t[:-2], t[1:-1], t[2:]
    frac = _middle_fraction(t)
    sca = np.maximum(sa[1:-1], 1e-12)
    a0, a1, a2 = a[:-2], a[1:-1], a[2:]
    dev_a = np.abs(a1 - (a0 + (a2 - a0) * frac))
    # beyond both neighbours once each is carried to t1 along the local
    # trend (drag: a rolling median of the set-to-set slopes)
    rate = _local_rate(t, a)[1:-1]
    left, right = a0 + rate * (t1 - t0), a2 - rate * (t2 - t1)
    beyond = np.maximum(a1 - np.maximum(left, right), np.minimum(left, right) - a1)
    out_a = ((dev_a > z * sca) & (np.abs(a2 - a0) < 0.5 * dev_a)) | (beyond > z * sca)
    sci = np.maximum(si[1:-1], 1e-12)
    i0, i1, i2 = inc[:-2], inc[1:-1], inc[2:]
    dev_i = np.abs(i1 - (i0 + (i2 - i0) * frac))
    out_i = (dev_i > z * sci) & (np.abs(i2 - i0) < 0.5 * dev_i)
    bad[1:-1] = out_a & out_i
    return bad


def _pair_outliers(t, x, s, z):
    """Two consecutive sets both far (same side) from the line through the
    sets either side of them, while those agree with each other: an
    excursion out and back over two sets."""
    n = len(x)
    bad = np.zeros(n, bool)
    if n < 4:
        return bad
    t0, t1, t2, t3 = t[:-3], t[1:-2], t[2:-1], t[3:]
    span = np.where(t3 > t0, t3 - t0, 1.0)
    p1 = x[:-3] + (x[3:] - x[:-3]) * (t1 - t0) / span
    p2 = x[:-3] + (x[3:] - x[:-3]) * (t2 - t0) / span
    d1, d2 = x[1:-2] - p1, x[2:-1] - p2
    sc = np.maximum(np.maximum(s[1:-2], s[2:-1]), 1e-12)
    m = np.minimum(np.abs(d1), np.abs(d2))
    out = (np.sign(d1) == np.sign(d2)) & (m > z * sc) & (np.abs(x[3:] - x[:-3]) < 0.5 * m)
    bad[1:-2] |= out
    bad[2:-1] |= out
    return bad


def _trend_breaks(t_days: np.ndarray, x: np.ndarray, scale: np.ndarray, kb: int, ka: int):
    """For each gap g (between sets g and g+1): fit a line to the ``kb`` sets
    up to g (the undisturbed trend: drag decay, node drift), extrapolate it
    over the ``ka`` sets after the gap, and return the mean departure of
    those sets from it and that departure's standard error (noise from
    ``scale`` or the fit's own scatter, whichever is larger, plus the
    extrapolation's uncertainty).  A burn shows as a step or as a change of
    slope (a TLE fit that straddles a burn takes days to settle); both make
    the later sets leave the earlier trend.  NaN where the sets run out."""
    n = len(x)
    dev = np.full(n - 1, np.nan)
    se = np.full(n - 1, np.nan)
    rate = np.full(n - 1, np.nan)
    width = kb + ka
    if n < width:
        return dev, se, rate
    tw = sliding_window_view(t_days, width)
    xw = sliding_window_view(x, width)
    tb, xb = tw[:, :kb], xw[:, :kb]
    ta, xa = tw[:, kb:], xw[:, kb:]
    tbar = tb.mean(axis=1, keepdims=True)
    xbar = xb.mean(axis=1, keepdims=True)
    sxx = ((tb - tbar) ** 2).sum(axis=1, keepdims=True)
    ok = sxx[:, 0] > 1e-12
    sxx = np.where(sxx > 1e-12, sxx, 1.0)
    slope = ((tb - tbar) * (xb - xbar)).sum(axis=1, keepdims=True) / sxx
    pred_a = xbar + slope * (ta - tbar)
    d = (xa - pred_a).mean(axis=1)
    resid = xb - (xbar + slope * (tb - tbar))
    rms = np.sqrt((resid ** 2).sum(axis=1) / max(kb - 2, 1))
    sw = sliding_window_view(scale, width)
    sig = np.maximum(np.median(sw, axis=1), rms)
    tam = ta.mean(axis=1)
    var_unit = 1.0 / ka + 1.0 / kb + (tam - tbar[:, 0]) ** 2 / sxx[:, 0]
    gaps = np.arange(kb - 1, kb - 1 + len(d))
    dev[gaps] = np.where(ok, d, np.nan)
    se[gaps] = np.where(ok, sig * np.sqrt(var_unit), np.nan)
    rate[gaps] = np.where(ok, slope[:, 0], np.nan)
    return dev, se, rate


def _jump_test(t_days: np.ndarray, x: np.ndarray, scale: np.ndarray, rate_gaps: int):
    """Jump of ``x`` across each single gap beyond the local trend (the
    median slope over ``rate_gaps`` gaps times the gap's length), and its
    z-score against the noise of two sets (scale * sqrt 2).  Returns
    (jump, z, trend rate)."""
    d = np.diff(x)
    dt = np.diff(t_days)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(dt > 0, d / np.where(dt > 0, dt, 1.0), 0.0)
    w = min(rate_gaps, len(slope))
    if w < 1:
        return d, np.zeros_like(d), np.zeros_like(d)
    med = np.median(sliding_window_view(slope, w), axis=1)
    lo = (w - 1) // 2
    rate = np.concatenate([np.full(lo, med[0]), med, np.full(len(slope) - len(med) - lo,
                                                               med[-1])])
    jump = d - rate * dt
    sig = np.maximum(scale[:-1], scale[1:]) * np.sqrt(2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.nan_to_num(np.abs(jump) / sig, nan=0.0, posinf=0.0)
    return jump, z, rate


def _break_z(t, x, scale, kb, ka):
    """Trend departure, trend rate and z-score for every gap."""
    dev, se, rate = _trend_breaks(t, x, scale, kb, ka)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.nan_to_num(np.abs(dev) / se, nan=0.0)
    return dev, rate, z


def _ramp_onset(t, x, scale, g, sign, in_track, kb, back, z):
    """Earliest gap, at most ``back`` gaps before each detected gap ``g``,
    after which every set up to g has left the trend of the ``kb`` sets
    before it by more than ``z`` noise scales in the change's ``sign``: where
    a ramp (a TLE fit straddling a burn) starts.  Only for in-track changes;
    else g itself."""
    n = len(x)
    out = g.copy()
    for b in range(1, back + 1):            # loop over a few offsets, not over time
        gb = g - b                          # candidate onset gap
        lo = gb - kb + 1
        ok = (lo >= 0) & in_track & (out == gb + 1)
        if not ok.any():
            break
        idx = np.clip(lo[:, None] + np.arange(kb)[None, :], 0, n - 1)
        tb, xb = t[idx], x[idx]
        tbar, xbar = tb.mean(1, keepdims=True), xb.mean(1, keepdims=True)
        sxx = ((tb - tbar) ** 2).sum(1, keepdims=True)
        slope = ((tb - tbar) * (xb - xbar)).sum(1, keepdims=True) / np.where(sxx > 0, sxx, 1.0)
        # sets gb+1 .. g (those between the candidate onset and the detection)
        ja = np.clip(gb[:, None] + 1 + np.arange(b)[None, :], 0, n - 1)
        r = (x[ja] - (xbar + slope * (t[ja] - tbar))) * sign[:, None]
        left = (r > z * scale[ja]).all(axis=1)
        out = np.where(ok & left, gb, out)
    return out


J2_WGS72 = 0.001082616
XKE_PER_MIN = 60.0 / np.sqrt(EARTH_RADIUS_KM ** 3 / MU_KM3_S2)


def _argument_of_latitude_rate(mean_motion_rev_day, eccentricity, inc_rad):
    """Secular rate of the mean argument of latitude (mean anomaly plus
    argument of perigee) in rad/day and SGP4's semi-major axis in km, from
    SGP4's initialisation (Hoots & Roehrich, Spacetrack Report No. 3: the
    Kozai mean motion recovered to Brouwer's, then the first-order J2
    secular rates of M and omega)."""
    k2 = 0.5 * J2_WGS72
    n0 = np.asarray(mean_motion_rev_day, float) * 2 * np.pi / 1440.0
    a1 = (XKE_PER_MIN / n0) ** (2.0 / 3.0)
    cosi = np.cos(inc_rad)
    th2 = cosi * cosi
    x3thm1 = 3 * th2 - 1
    b2 = 1 - np.asarray(eccentricity, float) ** 2
    b = np.sqrt(b2)
    del1 = 1.5 * k2 * x3thm1 / (a1 * a1 * b * b2)
    ao = a1 * (1 - del1 * (1 / 3 + del1 * (1 + 134 / 81 * del1)))
    delo = 1.5 * k2 * x3thm1 / (ao * ao * b * b2)
    xnodp = n0 / (1 + delo)
    aodp = ao / (1 - delo)
    temp1 = 3 * k2 * xnodp / (aodp * aodp * b2 * b2)
    mdot = xnodp + 0.5 * temp1 * b * x3thm1
    omgdot = -0.5 * temp1 * (1 - 5 * th2)
    return (mdot + omgdot) * 1440.0, aodp * EARTH_RADIUS_KM


def along_track_residual_km(t_days, mean_motion_rev_day, eccentricity, inclination_rad,
                            arg_perigee_rad, mean_anomaly_rad, ndot_rev_day2) -> np.ndarray:
    """For each gap: where the set after it is along its orbit, minus where
    the set before it, carried forward with its own mean motion, SGP4's J2
    secular rates and its drag term (TLE ndot/2), puts it; in km.  A TLE's
    mean motion may take days to follow a burn, but its position is fitted
    to the tracking: a burn that raises ``a`` slows the satellite, and the
    sets after it fall behind the earlier ones (negative), by about
    1.5 v (da / a) per unit time."""
    rate, a_km = _argument_of_latitude_rate(mean_motion_rev_day, eccentricity, inclination_rad)
    u = np.asarray(arg_perigee_rad, float) + np.asarray(mean_anomaly_rad, float)
    dt = np.diff(t_days)
    pred = u[:-1] + rate[:-1] * dt + 2 * np.pi * np.asarray(ndot_rev_day2, float)[:-1] * dt ** 2
    return np.angle(np.exp(1j * (u[1:] - pred))) * a_km[1:]


def _rolling(x: np.ndarray, w: int, fn) -> np.ndarray:
    """Centred rolling ``fn`` (median) over ``w`` samples, edges held."""
    w = min(w, len(x))
    m = fn(sliding_window_view(x, w), axis=1)
    lo = (w - 1) // 2
    return np.concatenate([np.full(lo, m[0]), m, np.full(len(x) - len(m) - lo, m[-1])])


def _along_support(resid_km, g, sign, m, window):
    """Along-track support of an in-track change at gaps ``g`` with sign
    ``sign`` (of da): the along-track residuals, less their rolling median
    (drag mismodelling), summed over ``m`` consecutive gaps, over their
    noise (rolling MAD) times sqrt(m), with the sign a raise of ``a`` gives
    (falling behind); the largest over the gaps from 3 before to 1 after g
    (a ramp's onset, the label's lag)."""
    n = len(resid_km)
    if n < max(m, 3):
        return np.full(len(g), np.inf)
    r = resid_km - _rolling(resid_km, window, np.median)
    s = 1.4826 * _rolling(np.abs(r), window, np.median)
    c = np.concatenate([np.convolve(r, np.ones(m), "valid"), np.zeros(m - 1)])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.nan_to_num(-c / (s * np.sqrt(m)))
    idx = np.clip(g[:, None] + np.arange(-3, 2)[None, :], 0, n - 1)
    return np.max(z[idx] * sign[:, None], axis=1)


def _unit_normal(inc_rad, raan_rad):
    si = np.sin(inc_rad)
    return np.stack([si * np.sin(raan_rad), -si * np.cos(raan_rad), np.cos(inc_rad)])


def _normal_angle(t, inc, raan, di, kb, ka):
    """For each gap: the angle (rad) between the orbit normal of the trend
    before it (extrapolated) and that of the ``ka`` sets after it, from the
    departures of the inclination (``di``) and of the node, by the spherical
    law of cosines (haversine form).  Its small-angle form, hypot(di,
    dOmega sin i), overstates a large node swing at a small inclination:
    GEO north-south station-keeping turns the node by ~180 deg at i ~ 0.2
    deg, and the normal moves by the chord, 2 i, not by the arc, pi i."""
    d_raan = np.nan_to_num(_trend_breaks(t, raan, np.ones_like(raan), kb, ka)[0])
    di = np.nan_to_num(di)
    i_after = np.full(len(inc) - 1, np.nan)
    if len(inc) > ka:
        i_after[:len(inc) - ka] = sliding_window_view(inc[1:], ka).mean(axis=1)
    i_after = np.where(np.isfinite(i_after), i_after, inc[1:])
    hav = np.sin(di / 2) ** 2 + np.sin(i_after - di) * np.sin(i_after) * np.sin(d_raan / 2) ** 2
    return 2 * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0)))


def detect_maneuvers(epoch_ns, mean_motion_rev_day, eccentricity, inclination_deg, raan_deg,
                     *, norad_id: int = 0, settings: DetectorSettings | None = None,
                     arg_perigee_deg=None, mean_anomaly_deg=None, ndot_rev_day2=None,
                     **other_elements) -> Maneuvers:
    """Manoeuvres in one object's history (arrays sorted by epoch; duplicate
    epochs are merged by keeping the last).  Returns :class:`Maneuvers`.
    With ``arg_perigee_deg``, ``mean_anomaly_deg`` and ``ndot_rev_day2``
    (as ``Store.history_arrays()`` gives them), weak in-track changes must
    also show in the along-track positions (see docs/maneuvers.md)."""
    unknown = set(other_elements) - UNUSED_HISTORY_COLUMNS
    if unknown:
        # a history's other columns are welcome; a misspelt one is not
        # (it would silently turn a check off)
        raise TypeError(f"detect_maneuvers: unknown argument(s) {', '.join(sorted(unknown))}")
    cfg = settings or DetectorSettings()
    ep = np.asarray(epoch_ns, dtype=np.int64)
    order = np.argsort(ep, kind="stable")
    ep = ep[order]
    keep = np.ones(len(ep), bool)
    keep[:-1] = ep[1:] != ep[:-1]                       # last of equal epochs
    idx = order[keep]
    ep = ep[keep]
    have_along = arg_perigee_deg is not None and mean_anomaly_deg is not None \
        and ndot_rev_day2 is not None
    # A set with a non-finite element (or a mean motion <= 0) cannot be
    # used: it is reported with the outliers, and left out.
    used = [mean_motion_rev_day, eccentricity, inclination_deg, raan_deg]
    if have_along:
        used += [arg_perigee_deg, mean_anomaly_deg, ndot_rev_day2]
    vals = [np.asarray(x, float)[idx] for x in used]
    usable = np.logical_and.reduce([np.isfinite(x) for x in vals]) & (vals[0] > 0)
    unusable = ep[~usable]
    idx, ep = idx[usable], ep[usable]
    k = cfg.window_sets
    if len(ep) < cfg.min_sets:
        return _empty(norad_id, unusable if len(unusable) else None)
    n_rev = np.asarray(mean_motion_rev_day, float)[idx]
    inc = np.radians(np.asarray(inclination_deg, float)[idx])
    raan = np.unwrap(np.radians(np.asarray(raan_deg, float)[idx]))
    a = semi_major_axis_km(n_rev)
    t = (ep - ep[0]) / NS_PER_DAY
    if have_along:
        argp = np.radians(np.asarray(arg_perigee_deg, float)[idx])
        mean_an = np.radians(np.asarray(mean_anomaly_deg, float)[idx])
        ndot = np.asarray(ndot_rev_day2, float)[idx]
        ecc = np.asarray(eccentricity, float)[idx]
    # Cross-track coordinates: the normal's displacement in radians, along
    # the inclination and along the node (scaled by sin i), each detrended
    # by the fit itself.
    if cfg.node_local_sini:
        # the normal moves by dOmega * sin i: with the local inclination (a
        # GEO satellite's i drifts from 0.1 to 3 deg; near i = 0 the node is
        # ill-defined and its swings are no motion of the normal)
        node = np.concatenate([[0.0], np.cumsum(np.diff(raan) * np.sin(0.5 * (inc[1:] + inc[:-1])))])
    else:
        node = raan * np.sin(np.median(inc))
    sa = robust_scale(a, t, cfg.noise_sets)
    si = robust_scale(inc, t, cfg.noise_sets)
    sn = robust_scale(node, t, cfg.noise_sets)
    first = _double_outliers(t, a, inc, sa, si, cfg.outlier_z) if cfg.double_outliers \
        else np.zeros(len(t), bool)
    rest = np.flatnonzero(~first)
    bad_rest = flag_outliers(t[rest], [a[rest], inc[rest], node[rest]],
                             [sa[rest], si[rest], sn[rest]], cfg.outlier_z)
    if cfg.outlier_pairs:
        bad_rest |= _pair_outliers(t[rest], a[rest], sa[rest], cfg.outlier_z)
    bad = first.copy()
    bad[rest[bad_rest]] = True
    outliers = np.sort(np.concatenate([unusable, ep[bad]]))
    good = ~bad
    ep, t, a, inc, raan, node = ep[good], t[good], a[good], inc[good], raan[good], node[good]
    if have_along:
        along = along_track_residual_km(t, n_rev[good], ecc[good], inc, argp[good],
                                        mean_an[good], ndot[good])
    if len(ep) < cfg.min_sets:
        return _empty(norad_id, outliers)
    sa, si, sn = (robust_scale(x, t, cfg.noise_sets) for x in (a, inc, node))
    ka = cfg.after_sets
    da, rate_a, za = _break_z(t, a, sa, k, ka)
    di, _, zi = _break_z(t, inc, si, k, ka)
    _, _, zn = _break_z(t, node, sn, k, ka)
    a_mid = 0.5 * (a[:-1] + a[1:])
    geo = np.abs(a_mid - 42164.0) < 500.0
    floor_a = np.where(geo, cfg.floor_a_geo_km, cfg.floor_a_km)
    # Drag: a departure smaller than a day of the trend's own decay may be
    # the decay changing pace (solar activity), not a burn.
    # Across a long gap in the data the decay may also change pace: allow
    # drag_fraction of the trend over the gap.
    gap_days = np.diff(t)
    floor_a = np.maximum(floor_a, np.abs(np.nan_to_num(rate_a))
                         * np.maximum(cfg.drag_days, cfg.drag_fraction * gap_days))
    dtheta = _normal_angle(t, inc, raan, di, k, ka)
    cross_ok = (np.maximum(zi, zn) > cfg.z_cross) & (np.degrees(dtheta) > cfg.floor_angle_deg)
    in_ok = (za > cfg.z_threshold) & (np.abs(np.nan_to_num(da)) > floor_a)
    score = np.where(in_ok, za, 0.0)
    score = np.maximum(score, np.where(cross_ok, np.maximum(zi, zn), 0.0))
    cand = score > 0
    # Weak in-track changes are kept only where the along-track check runs.
    weak = (za > cfg.z_weak) & (np.abs(np.nan_to_num(da)) > floor_a) & ~geo \
        & (cfg.z_weak > 0 and have_along and cfg.along_strong_z > 0)
    # A change makes a run of significant gaps (a step is seen by every
    # window that holds it; a TLE fit straddling a burn draws a ramp).
    # Report each run at its first local maximum: where the departure from
    # the earlier trend starts, not where it has grown largest.  Runs closer
    # than nms_sets gaps are one change.
    nxt = np.concatenate([score[1:], [0.0]])
    prv = np.concatenate([[0.0], score[:-1]])
    run_id = np.cumsum(cand & ~(prv > 0))
    g_all = np.flatnonzero(cand & (score >= nxt))
    _, first = np.unique(run_id[g_all], return_index=True)
    g = g_all[first]
    if len(g) > 1:
        g = g[np.concatenate([[True], np.diff(g) > cfg.nms_sets])]
    g0 = g
    if len(g) and ka > 1:
        # Locate each change at the gap where the first set after it leaves
        # the trend the most: the window test smears the location over
        # after_sets sets, most when they straddle a gap in the data.
        z1 = np.maximum.reduce([_break_z(t, x, sx, k, 1)[2]
                                for x, sx in ((a, sa), (inc, si), (node, sn))])
        span = cfg.after_sets - 1
        cand_g = np.clip(g[:, None] + np.arange(-span, span + 1)[None, :], 0, len(score) - 1)
        g = cand_g[np.arange(len(g)), np.argmax(z1[cand_g], axis=1)]
        g, first = np.unique(g, return_index=True)
        g0 = g0[first]
    # Type and significance from the detecting gap; sizes from the located
    # gap where its own test passes too.
    own = in_ok[g] | cross_ok[g]
    src = np.where(own, g, g0)
    in_ok_g, cross_ok_g = in_ok[g0], cross_ok[g0]
    za_raw = za.copy()
    da, dtheta, di = da.copy(), dtheta.copy(), di.copy()
    da[g], dtheta[g], di[g] = da[src], dtheta[src], di[src]
    za[g], zi[g], zn[g], score[g] = za[g0], zi[g0], zn[g0], score[g0]
    in_ok[g], cross_ok[g] = in_ok_g, cross_ok_g
    dl_settled = _trend_breaks(t, a, sa, k, cfg.settle_sets)[0]
    if cfg.z_jump > 0:
        # Test 2, single-gap jumps (burns a day apart, which the windowed
        # test sees as one ramp): outside GEO, where a TLE's a is clean
        # enough gap to gap.
        jump, zj, rate_j = _jump_test(t, a, sa, cfg.jump_rate_gaps)
        # the same floors as test 1: a day of drag, or drag_fraction of the
        # decay across a long gap in the data
        floor_j = np.maximum(np.where(geo, np.inf, cfg.floor_a_km),
                             np.abs(rate_j) * np.maximum(cfg.drag_days,
                                                         cfg.drag_fraction * gap_days))
        gj = np.flatnonzero((zj > cfg.z_jump) & (np.abs(jump) > floor_j))
        if len(g) and len(gj):
            pos = np.clip(np.searchsorted(g, gj), 1, len(g)) - 1
            nearest = np.minimum(np.abs(gj - g[pos]),
                                 np.abs(gj - g[np.clip(pos + 1, 0, len(g) - 1)]))
            keep = nearest > cfg.jump_merge_sets
            if cfg.z_step > 0:
                # A jump far beyond anything an orbit fit would spread over
                # several sets (a fit through it would miss the tracking by
                # hundreds of noise scales) is a burn of its own, next to
                # another: burn sequences of a day apart.
                keep |= (nearest > 0) & (zj[gj] > cfg.z_step)
            if cfg.catchup_z > 0:
                # The fit catching up on a small burn it spread as a ramp:
                # a jump of the same sign within settle_sets sets after an
                # in-track change, while the sets between still rise
                # (their single-gap jumps, over the noise, sum beyond
                # catchup_z), both under catchup_max_km.
                prev = g[pos]
                lag = gj - prev
                sgn = np.sign(np.nan_to_num(da[prev]))
                with np.errstate(divide="ignore", invalid="ignore"):
                    zs = np.nan_to_num(jump / (np.maximum(sa[:-1], sa[1:]) * np.sqrt(2.0)))
                cz = np.concatenate([[0.0], np.cumsum(zs)])
                rising = sgn * (cz[gj] - cz[np.clip(prev + 1, 0, len(zs))]) \
                    / np.sqrt(np.maximum(lag - 1, 1))
                size = np.maximum(np.abs(np.nan_to_num(da[prev])),
                                  np.abs(np.nan_to_num(dl_settled[prev])))
                keep &= ~((prev < gj) & (lag > 1) & (lag <= cfg.settle_sets) & in_ok[prev]
                          & (np.sign(jump[gj]) == sgn) & (rising > cfg.catchup_z)
                          & (size < cfg.catchup_max_km)
                          & (np.abs(jump[gj]) < cfg.catchup_max_km))
            gj = gj[keep]
        if len(gj):
            da[gj] = jump[gj]
            za[gj] = zj[gj]
            score[gj] = zj[gj]
            in_ok[gj] = True
            cross_ok[gj] = False
            g = np.sort(np.concatenate([g, gj]))
    if weak.any():
        # Weak in-track changes (z_weak < z <= z_threshold), each run of them
        # at its first local maximum, where no stronger change is near: kept
        # only with a strong along-track support (below).
        zw = np.where(weak, za_raw, 0.0)
        nxt = np.concatenate([zw[1:], [0.0]])
        prv = np.concatenate([[0.0], zw[:-1]])
        rid = np.cumsum(weak & ~(prv > 0))
        strong_run = np.zeros(rid.max() + 1, bool)
        strong_run[rid[weak & cand]] = True
        gw_all = np.flatnonzero(weak & (zw >= nxt) & ~strong_run[rid])
        _, first = np.unique(rid[gw_all], return_index=True)
        gw = gw_all[first]
        if len(g) and len(gw):
            pos = np.clip(np.searchsorted(g, gw), 1, len(g)) - 1
            nearest = np.minimum(np.abs(gw - g[pos]),
                                 np.abs(gw - g[np.clip(pos + 1, 0, len(g) - 1)]))
            gw = gw[nearest > cfg.jump_merge_sets]
        if len(gw):
            in_ok[gw] = True
            cross_ok[gw] = False
            score[gw] = za_raw[gw]
            g = np.sort(np.concatenate([g, gw]))
    if cfg.catchup_all and cfg.catchup_z > 0 and len(g) > 1:
        g = _drop_catchups(g, in_ok, cross_ok, da, dl_settled, t, a, sa, cfg)
    if cfg.settle_sets > ka and len(g):
        # Size of an in-track change once the orbit fit has settled (it may
        # show a burn as a ramp over days): the mean departure from the
        # earlier trend of the settle_sets sets after the gap, where larger
        # and of the same sign.
        dl = dl_settled
        ok_l = np.isfinite(dl[g]) & (np.abs(np.nan_to_num(dl[g])) > np.abs(da[g]))
        ok_l &= np.sign(np.nan_to_num(dl[g])) == np.sign(da[g])
        da[g] = np.where(ok_l, dl[g], da[g])
    if cfg.floor_settled_km > 0 and len(g):
        small = in_ok[g] & ~cross_ok[g] & ~geo[g] \
            & (np.abs(np.nan_to_num(da[g])) < cfg.floor_settled_km)
        g = g[~small]
    if len(g):
        # Re-entry: below REENTRY_ALT_KM the decay speeds up by e every scale
        # height, faster than any trend the tests extrapolate; a lowering
        # there is the decay (decay_status reports it), not a burn.
        low = in_ok[g] & ~cross_ok[g] & (np.nan_to_num(da[g]) < 0) \
            & (a[g + 1] - EARTH_RADIUS_KM < REENTRY_ALT_KM)
        g = g[~low]
    win_lo = g.copy()
    if cfg.onset_sets > 0 and len(g):
        win_lo = _ramp_onset(t, a, sa, g, np.sign(np.nan_to_num(da[g])), in_ok[g],
                             k, cfg.onset_sets, cfg.onset_z)
    if have_along and cfg.along_strong_z > 0 and len(g):
        # A weak in-track change outside GEO must also show along the orbit
        # (a TLE's a wanders by metres on its own; its positions do not).
        is_in_g = np.where(in_ok[g] & cross_ok[g], za[g] >= np.maximum(zi[g], zn[g]), in_ok[g])
        sup = _along_support(along, g, np.sign(np.nan_to_num(da[g])), cfg.along_sets,
                             cfg.along_noise_sets)
        need = np.where(score[g] <= cfg.z_threshold, cfg.along_weak_z, cfg.along_z)
        veto = ~geo[g] & is_in_g & (score[g] < cfg.along_strong_z) & (sup < need)
        g, win_lo = g[~veto], win_lo[~veto]
    v_km_s = np.sqrt(MU_KM3_S2 / a_mid[g])
    dv_in = v_km_s * np.abs(da[g]) / (2 * a_mid[g]) * 1000.0
    dv_cross = 2 * v_km_s * np.sin(dtheta[g] / 2) * 1000.0
    is_in = np.where(in_ok[g] & cross_ok[g], za[g] >= np.maximum(zi[g], zn[g]), in_ok[g])
    kind = np.where(is_in, "in-track", "cross-track")
    # Tangential and normal components are orthogonal: their vector sum.
    dv = np.hypot(np.where(in_ok[g], dv_in, 0.0), np.where(cross_ok[g], dv_cross, 0.0))
    return Maneuvers(norad_id=norad_id, epoch_ns=ep[g + 1], window_start_ns=ep[win_lo],
                     window_end_ns=ep[g + 1], kind=kind, delta_v_m_s=dv,
                     delta_a_km=np.nan_to_num(da[g]),
                     delta_normal_deg=np.degrees(dtheta[g]),
                     delta_inclination_deg=np.degrees(np.nan_to_num(di[g])),
                     z_score=score[g], outlier_epochs_ns=outliers)


# --------------------------------------------------------------------------
# Decay / re-entry, new objects, stale objects
# --------------------------------------------------------------------------

STALE_AFTER_DAYS = {"LEO": 7.0, "MEO": 21.0, "GEO": 21.0, "GTO": 14.0, "HEO": 14.0,
                    "other": 30.0}
REENTRY_PERIGEE_KM = 180.0      # below this a LEO object re-enters within days
REENTRY_APOGEE_KM = 1000.0      # ... "LEO": an apogee below this (not HEO or GTO)
DECAY_LAST_SETS = 10            # sets of an object's history the decay trend is taken over


@dataclass(frozen=True)
class DecayStatus:
    """Decay of one object from its last element sets."""

    norad_id: int
    last_epoch_ns: int
    perigee_alt_km: float
    apogee_alt_km: float
    decay_rate_km_day: float        # d(a)/dt over the last sets (negative = decaying);
                                    # NaN from fewer than two epochs: no trend
    days_to_reentry: float          # rough: perigee down to ~120 km at the current rate
                                    # (inf: not decaying; NaN: rate unknown)
    status: str                     # "reentered?", "reentering", "decaying", "stable",
                                    # "no trend" (one epoch, perigee not low: unknown)


def decay_status(epoch_ns, mean_motion_rev_day, eccentricity, *, norad_id: int = 0,
                 at_ns: int | None = None, last_sets: int = DECAY_LAST_SETS,
                 stale_days: float = STALE_AFTER_DAYS["LEO"]) -> DecayStatus:
    """Classify one object's decay from its history: the semi-major axis
    trend over the last ``last_sets`` sets (a robust Theil-Sen slope), the
    perigee height, and whether its elements stopped while low (which is how
    a re-entry shows in a catalog: the sets just end).  ``stale_days``: the
    age past which a re-entering object without newer sets counts as
    re-entered; give its regime's limit (``STALE_AFTER_DAYS``).  A trend
    needs two epochs: from one set (or sets of one epoch) the rate and the
    days to re-entry are NaN, and the status is ``"no trend"`` unless the
    perigee alone says the object is re-entering."""
    ep = np.asarray(epoch_ns, np.int64)
    a = semi_major_axis_km(mean_motion_rev_day)
    e = np.asarray(eccentricity, float)
    tail = slice(max(0, len(ep) - last_sets), len(ep))
    t = (ep[tail] - ep[-1]) / NS_PER_DAY
    at = a[tail]
    i, j = np.triu_indices(len(t), 1)
    dt = t[j] - t[i]
    ok = dt > 0
    # fewer than two distinct epochs: no slope (unknown, not 0 km/day)
    rate = float(np.median((at[j] - at[i])[ok] / dt[ok])) if ok.any() else np.nan
    perigee = float(a[-1] * (1 - e[-1]) - EARTH_RADIUS_KM)
    apogee = float(a[-1] * (1 + e[-1]) - EARTH_RADIUS_KM)
    margin_km = perigee - 120.0
    days = np.nan if np.isnan(rate) else margin_km / -rate if rate < 0 else np.inf
    age = (at_ns - ep[-1]) / NS_PER_DAY if at_ns is not None else 0.0
    # a low perigee means a re-entry within days only for a low orbit: an
    # eccentric one (HEO, GTO) can keep a 170 km perigee for years
    low_leo = perigee < REENTRY_PERIGEE_KM and apogee < REENTRY_APOGEE_KM
    if age > 1.0 and (low_leo or days < age):
        status = "reentered?"       # sets stopped while low, or past the predicted re-entry
    elif low_leo or days < 30:
        status = "reentering"
    elif rate < 0 and days < 365:
        status = "decaying"
    elif np.isnan(rate):
        status = "no trend"
    else:
        status = "stable"
    if age > stale_days and status == "reentering":
        status = "reentered?"
    return DecayStatus(norad_id, int(ep[-1]), perigee, apogee, rate, float(days), status)


def new_objects(norad_ids, first_epoch_ns, since_ns: int) -> np.ndarray:
    """Mask of objects whose first element set is at or after ``since_ns``."""
    return np.asarray(first_epoch_ns, np.int64) >= int(since_ns)


def stale_objects(last_epoch_ns, regimes, at_ns: int,
                  max_age_days: dict | None = None) -> np.ndarray:
    """Age in days of each object's newest set, and a mask of those older
    than the limit of their orbit regime (``STALE_AFTER_DAYS``)."""
    limits = max_age_days or STALE_AFTER_DAYS
    age = (int(at_ns) - np.asarray(last_epoch_ns, np.int64)) / NS_PER_DAY
    lim = np.array([limits.get(r, limits.get("other", 30.0)) for r in regimes], float)
    return age, age > lim


# --------------------------------------------------------------------------
# Scoring against labelled manoeuvres (benchmarks and tests)
# --------------------------------------------------------------------------

MATCH_TOLERANCE_DAYS = 1.5


def match_labels(window_start_ns, window_end_ns, label_ns,
                 tolerance_days: float = MATCH_TOLERANCE_DAYS) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching of detections to labelled manoeuvre times.

    A detection may match a label when the label lies within its epoch
    window widened by ``tolerance_days`` on each side; among the allowed
    pairs, the assignment with the most matches (then the smallest total
    distance) is chosen (Hungarian algorithm).  Returns, per detection, the
    index of its label or -1, and per label the index of its detection or -1.
    """
    from scipy.optimize import linear_sum_assignment
    ws = np.asarray(window_start_ns, np.int64)
    we = np.asarray(window_end_ns, np.int64)
    lab = np.asarray(label_ns, np.int64)
    det_to_lab = np.full(len(ws), -1)
    lab_to_det = np.full(len(lab), -1)
    if not len(ws) or not len(lab):
        return det_to_lab, lab_to_det
    before = (ws[:, None] - lab[None, :]).clip(min=0)
    after = (lab[None, :] - we[:, None]).clip(min=0)
    dist = np.maximum(before, after) / NS_PER_DAY
    allowed = dist <= tolerance_days
    cost = np.where(allowed, dist, 1e6)
    rows, cols = linear_sum_assignment(cost)
    ok = allowed[rows, cols]
    det_to_lab[rows[ok]] = cols[ok]
    lab_to_det[cols[ok]] = rows[ok]
    return det_to_lab, lab_to_det
