"""Passes over sites for a whole catalog at once, and their visibility.

Every (satellite, site) pair is one object of the event engine
(:mod:`satwatch.events`): its g-function is ``sin(elevation) - sin(mask)``
(same roots and maxima as the elevation, without an arcsine), sampled every
1/20 of the orbital period (Skyfield's ``find_events`` step), shortened for
eccentric orbits by the ratio of perigee to mean angular rate and capped at
30 minutes (MAX_STEP_S).  SGP4 runs on that grid only; in between, states come from cubic
Hermite interpolation of SGP4 positions and velocities, and each rise and set
is finally polished with exact SGP4 (one secant step), so results keep
SGP4's own accuracy.

Frames follow satwatch.frames (TEME -> ITRS by GMST-82 with IERS UT1 and
polar motion).  Skyfield's ``find_events`` uses the same GMST-82 rotation
and ignores polar motion (~10 m at the site): event times differ by
milliseconds from that.

Visibility: the satellite's shadow uses Skyfield's ``is_sunlit`` geometry
(:mod:`satwatch.sun`); a pass is *visible* where the satellite is sunlit,
above the mask, and the Sun is below ``dark_sun_elevation_deg`` at the site.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import SatwatchError
from .events import (CHUNK_ELEMENTS, GFunction, Scan, golden_extremum, grid_window_mask,
                     latest_at_or_before, scan, to_intervals)
from .frames import gmst82_rad, polar_cos_sin, rotate_teme_to_itrs, teme_to_itrs
from .kernels import (accept_states, anomaly_knots, carry_logged_states,
                      hermite_elevation_illinois, hermite_elevation_rate,
                      hermite_extremum_illinois, hermite_geometry,
                      knot_fill, rotate_linear, screen_elevation, screen_pairs, track_need)
from .propagation import (EARTH_RADIUS_WGS72_KM, MIN_PERIGEE_RADIUS_KM, MU_KM3_S2,
                          UNPHYSICAL_STATE, max_radius_km, warn_if_stale)
from .sgp4_kernel import pack_near_earth, sgp4_near_ns_scatter
from .sdp4_kernel import N_DEEP_PARAMS, pack_deep_space, sdp4_ns_scatter
from .sun import shadow_margin_km, sun_position_itrs_km, sun_position_teme_km
from .time import NS_PER_DAY, NS_PER_S, Time

SAMPLES_PER_ORBIT = 20
# Longest step (GEO and MEO, whose 1/20 orbit is 36-72 min): Hermite
# interpolation over 30 min is good to ~0.03 km at GEO and ~0.3 km at GNSS
# heights, and their passes and eclipses last an hour or more.
MAX_STEP_S = 1800.0
# Screening of sampling grids (see _PairG._screened): a sphere of the WGS-84
# polar radius, below every site, and a margin on the horizon circle.
SCREEN_EARTH_RADIUS_KM = 6356.752
SCREEN_MARGIN_DEG = 0.5
EARTH_ROTATION_RAD_S = 7.2921159e-5
MIN_STEP_S = 10.0
# Sample screen (_PairG._needed_samples): the plane of each near-Earth
# satellite from its mean elements (inclination, node with SGP4's secular
# node rate), checked against SGP4's osculating plane at every 32nd grid
# sample; the largest difference seen there plus this margin bounds the
# difference everywhere.  Measured on every near-Earth object of the
# 2023-10-13 catalog (those the track screen serves) over 1 and 7 days from
# 13 Sep, 1 Oct and 13 Oct 2023, on the engine's own grids: the osculating
# plane never strays more than 0.039 deg beyond its largest difference at
# the anchors (0.029 deg with anchors every 16th sample from 13 Oct), so
# 0.25 deg is over 6 times that.
PLANE_ANCHOR_EVERY = 32
PLANE_MARGIN_DEG = 0.25
# The argument of latitude from mean elements, corrected by the anchors
# (interpolated linearly), strays from SGP4's by at most 4e + 0.16 deg over
# the same objects, over 1 and 7 days from 13 Sep, 1 Oct and 13 Oct 2023
# (a month before the epochs to after them), where e is the largest of the
# mean eccentricity at epoch and the osculating ones at the anchors (4e: the
# equation of centre, twice over; the screen takes 4 asin(e), which bounds
# it for any e, 2e being its small-e value; SGP4 run backwards undoes drag, and a
# decaying orbit was more eccentric: with the epoch's e alone the excess
# reached 3.5 deg on 13 Sep): 0.6 deg allowed beyond 4e, plus a quarter of
# the anchor correction's largest second difference (twice the error of
# interpolating a quadratic linearly).
TRACK_MARGIN_DEG = 0.6
# Near-Earth orbits whose osculating perigee, at any anchor, lies below this
# radius (WGS-72 equatorial radius + 350 km) are propagated at every sample:
# decaying orbits fail in SGP4 (mean eccentricity out of range, radius below
# the surface) in stretches shorter than the anchor spacing, and every
# failure must be reported.  Measured on the full 2023-10-13 catalog over
# five days from 13 Oct to 10 Nov 2023 and two site sets: the screened search
# reports exactly the failed objects of the full search (292 to 476), where
# without this rule a transient failure (34445, 16 Oct) went unreported.
LOW_PERIGEE_RADIUS_KM = 6378.135 + 350.0
# Margin on the highest osculating apogee seen at the anchors when sizing a
# satellite's screening circle (_needed_samples).
RADIUS_MARGIN_KM = 100.0
# Points per grid interval at which the sample screen checks the predicted
# track (kernels.track_need): half a sub-step of motion (~1.2 deg in LEO)
# widens its circle.
TRACK_SUBSTEPS = 8
# At most this many sites for the sample screen (_needed_samples): beyond
# that nearly every sample is near some site and the screen costs more than
# it saves.
SAMPLE_SCREEN_MAX_SITES = 8
# Eccentric deep-space orbits (GTO, Molniya): a time grid fine enough for
# perigee oversamples the rest of the orbit (up to 8 times at e = 0.7).
# Their grid states come from SGP4 at knots every 1/(KNOT_PER_ORBIT
# sqrt((1+e)/(1-e))) of eccentric anomaly (the grid step's 1/20 orbit at
# perigee, longer elsewhere; at most MAX_STEP_S apart), Hermite-interpolated
# onto the grid (Ephemeris._knot_states; accuracy: tests/test_eccentric_knots.py).
KNOT_MIN_ECCENTRICITY = 0.25
KNOT_PER_ORBIT = 24
# Knots only pay where the grid has at least this many samples.
KNOT_MIN_GRID_SAMPLES = 16
# Anchors of the knots' mean anomaly (Ephemeris._knot_states).
KNOT_ANCHOR_S = 3 * 3600.0
# Knots' eccentricity at most this (Ephemeris._knotted takes e below it).
KNOT_MAX_ECCENTRICITY = 0.95
# Knots only where the grid step is set by perigee speed, not by MAX_STEP_S:
# very high orbits (TESS, CHANG'E 5) get knots no sparser than their grid,
# and SGP4's lunar-solar periodics make its velocity no derivative of its
# position there (review round 22).
KNOT_MAX_GRID_STEP_S = 900.0
# An orbit whose SGP4 velocity departs from its position's derivative by more
# than this at an anchor keeps the full grid (Ephemeris._knot_states): the
# catalog's median is 1.6 m/s, its 99th percentile 3-6 m/s; drag far from
# epoch reaches 0.1-1.6 km/s.
KNOT_MAX_VELOCITY_BIAS_KM_S = 0.005
# Sparse SGP4 on a grid only pays below this fraction of needed samples.
SPARSE_GRID_MAX_FRACTION = 0.7
# Satellite samples (satellites x grid times) per chunk of the pass search:
# each chunk's grid (positions and velocities, 48 bytes a sample) then stays
# within a few tens of MB, which the refinement reads at random.  A third of
# the engine's default chunk: 4% faster on the full catalog over one site
# (benchmarks/passes.py); with several sites the engine's bound on pairs
# (events.CHUNK_ELEMENTS) is the smaller one.
PASS_GRID_CHUNK_SAMPLES = 400_000
# Largest disagreement (rad) between linear GMST and the full GMST-82 with
# UT1 at the far end of a span before the fast path is refused (a leap
# second or a UT1 step): 1e-7 rad is 0.6 m at the Earth's surface.
FAST_GMST_TOL_RAD = 1e-7
# Exact states are rotated with one linear GMST model per UTC day
# (_PairG._itrs) for batches spanning at most this many days.
MAX_MODEL_DAYS = 62
# Look angles at a rise or a set: the polish's last exact state is carried
# to the root over at most this (s; the polish stops once a step is under
# POLISH_AGAIN_S = 0.5 s): _states_from_log.
LOOK_CARRY_MAX_S = 0.5
# Passes whose look angles are computed at once (_look_angles).
LOOK_CHUNK_PASSES = 100_000
# A carried state's sin(elevation) may differ from what the polish found
# there with exact SGP4 (0 at a root, the peak at a culmination) by this:
# the polish leaves a root's residual under ~1e-6 and a peak's value within
# ~1e-7; 1e-5 is ~0.0006 deg, 20 m across the line of sight at 2,000 km.
LOOK_CHECK_SIN_TOL = 1e-5
# Civil twilight: the site is "dark" for a visual pass when the Sun is below -6 deg.
DARK_SUN_ELEVATION_DEG = -6.0
_JD_UNIX = 2440587.5


class PassError(SatwatchError, ValueError):
    """A pass search asked with impossible inputs (no sites)."""


def sampling_step_s(period_min, eccentricity) -> np.ndarray:
    """Per-object step: 1/20 orbit, divided by the perigee/mean angular-rate
    ratio sqrt(1+e)/(1-e)^1.5, clipped to [10 s, 30 min]."""
    period_s = np.asarray(period_min, dtype=float) * 60.0
    e = np.clip(np.asarray(eccentricity, dtype=float), 0.0, 0.99)
    factor = np.sqrt(1 + e) / (1 - e) ** 1.5
    step = period_s / SAMPLES_PER_ORBIT / factor
    return np.clip(np.where(np.isfinite(step), step, MAX_STEP_S), MIN_STEP_S, MAX_STEP_S)


class Ephemeris:
    """TEME states of many satellites: exact SGP4 on common time grids,
    cached, and cubic Hermite interpolation for other times of the last
    cached grid (exact SGP4 otherwise or when asked)."""

    def __init__(self, satrecs, step_s, period_s=None, radius_km=None, _parent=None,
                 epochs_from_split=False):
        """``epochs_from_split``: every deep-space satrec was initialised
        with the epoch its ``jdsatepoch + jdsatepochF`` gives back (as
        ``Satrec.twoline2rv`` and satwatch.propagation.satrec make them: a
        Catalog's), so the compiled deep-space SGP4 can recover it exactly;
        otherwise (a satrec from ``sgp4init`` with any float epoch, which the
        split may round) python-sgp4 evaluates them."""
        self.satrecs = list(satrecs)
        self.epochs_from_split = bool(epochs_from_split)
        self.step_s = np.asarray(step_s, dtype=float)
        # orbital period and mean radius (semi-major axis), for functions
        # that adapt their own step (access)
        self.period_s = None if period_s is None else np.asarray(period_s, dtype=float)
        self.radius_km = None if radius_km is None else np.asarray(radius_km, dtype=float)
        self._cache = None          # (sat_idx sorted, grid_ns, r, v)
        # the propagated samples (rows, cols) of the cached grid when it is
        # sparse (NaN elsewhere); None when every sample was propagated
        self.sparse_rows = None
        if _parent is not None:     # (ephemeris, sel): its satellites sel (slice or indices)
            par, sel = _parent
            self._r_fwd, self._r_bwd = par._r_fwd[sel], par._r_bwd[sel]
            self._epoch_ns = par._epoch_ns[sel]
            self._plane = {k: x[sel] for k, x in par.plane_elements().items()}
            self._near = _rows_subset(*par._near_earth(), sel)
            self._deep = _rows_subset(*par._deep_space(), sel)
        else:
            self._r_fwd = max_radius_km(self.satrecs)
            self._r_bwd = max_radius_km(self.satrecs, backward=True)
            self._epoch_ns = np.array([(s.jdsatepoch - _JD_UNIX + s.jdsatepochF) * NS_PER_DAY
                                       for s in self.satrecs], dtype=float)
        self.sgp4_calls = 0
        # (start, end) ns: only failed samples at these times or between
        # them are recorded (a search samples beyond its window's edges);
        # None: every one
        self.failure_window = None
        self.failed = {}

    @property
    def failed(self) -> dict:
        """Satellite index -> error code (SGP4's, or UNPHYSICAL_STATE) of
        its earliest failed sample propagated (within ``failure_window``
        when set): failures are data, reported."""
        return {k: code for k, (_, code) in self._failed.items()}

    @failed.setter
    def failed(self, value: dict):
        # (time ns, code) of the earliest failure per satellite; a given
        # mapping starts it over (each search reports its own window)
        self._failed = {int(k): (np.iinfo(np.int64).max, int(c)) for k, c in value.items()}

    def _note_failures(self, sat, t_ns, err, ok):
        """Record satellites with failed samples: ``sat``, ``t_ns``, ``err``,
        ``ok`` (one entry per sample).  Each keeps the code of its earliest
        failed sample, whatever order samples are propagated in."""
        bad = ~np.asarray(ok, dtype=bool)
        if self.failure_window is not None:
            lo, hi = self.failure_window
            bad &= (t_ns >= lo) & (t_ns <= hi)
        if not bad.any():
            return
        sat_b, t_b, err_b = sat[bad], t_ns[bad], err[bad]
        o = np.lexsort((t_b, sat_b))
        sat_b, t_b, err_b = sat_b[o], t_b[o], err_b[o]
        first = np.r_[True, sat_b[1:] != sat_b[:-1]]
        for k, t, e in zip(sat_b[first].tolist(), t_b[first].tolist(), err_b[first].tolist()):
            if t < self._failed.get(k, (np.iinfo(np.int64).max, 0))[0]:
                self._failed[k] = (t, int(e) if e else UNPHYSICAL_STATE)

    def radius_limit_km(self, sats, t_ns):
        """Largest physical radius (propagation.max_radius_km) of satellites
        ``sats`` at ``t_ns`` (broadcast together): the forward bound after
        each element set's epoch, the wider backward one before it."""
        sats = np.asarray(sats)
        return np.where(np.asarray(t_ns, dtype=float) >= self._epoch_ns[sats],
                        self._r_fwd[sats], self._r_bwd[sats])

    def __len__(self):
        return len(self.satrecs)

    def plane_elements(self):
        """Per satellite, for the orbital-plane screen: ``near`` (SGP4's
        near-Earth branch, whose plane turns only by the secular node rate),
        inclination and node at epoch (rad), node rate (rad/s), epoch (ns)
        and an upper bound of the radius (km: mean apogee + 100 km)."""
        if getattr(self, "_plane", None) is None:
            sr = self.satrecs
            self._plane = {
                "near": np.array([s.method == "n" for s in sr], dtype=bool),
                "incl_rad": np.array([s.inclo for s in sr], dtype=float),
                "node_rad": np.array([s.nodeo for s in sr], dtype=float),
                "node_rate_rad_s": np.array([s.nodedot for s in sr], dtype=float) / 60.0,
                "epoch_ns": self._epoch_ns,
                "r_max_km": np.array([s.a * (1 + s.ecco) * s.radiusearthkm + 100.0
                                      for s in sr], dtype=float),
                "ecc": np.array([s.ecco for s in sr], dtype=float),
                "u_rad": np.array([s.argpo + s.mo for s in sr], dtype=float),
                "u_rate_rad_s": np.array([s.argpdot + s.mdot for s in sr], dtype=float) / 60.0,
                "mdot_rad_s": np.array([s.mdot for s in sr], dtype=float) / 60.0,
            }
        return self._plane

    def grid_states(self, sats, t_ns, need=None):
        """Exact SGP4 for sorted unique ``sats`` at common times ``t_ns`` (m,):
        r, v ``(3, n, m)``; cached for interpolation.  ``need`` (n, m) bool:
        only those samples are computed (NaN elsewhere), when few enough.
        Eccentric deep-space orbits get SGP4 at their knots instead, and
        Hermite on the grid (``_knot_states``)."""
        sats = np.asarray(sats)
        t_ns = np.asarray(t_ns)
        self.sparse_rows = None
        n, m = len(sats), len(t_ns)
        knot = self._knotted(sats, t_ns)
        if need is not None and need.mean() < SPARSE_GRID_MAX_FRACTION:
            return self._sparse_grid_states(sats, t_ns, need, knot)
        r, v = np.empty((n * m, 3)), np.empty((n * m, 3))
        plain = ~knot
        if knot.any():
            plain |= self._knot_states(sats, knot, t_ns, r, v)
        plain = np.flatnonzero(plain)
        self._sgp4_runs(np.repeat(sats[plain], m), np.tile(t_ns, len(plain)),
                        out=((plain[:, None] * m + np.arange(m)).ravel(), r, v))
        # keep the contiguous (n * m, 3) layout for interpolation gathers
        self._cache = (sats, t_ns, r, v, m)
        return np.moveaxis(r.reshape(n, m, 3), -1, 0), np.moveaxis(v.reshape(n, m, 3), -1, 0)

    def _knotted(self, sats, t_ns):
        """Which of ``sats`` get their grid states from knots: deep-space
        orbits of eccentricity >= KNOT_MIN_ECCENTRICITY (and a positive mean
        motion) whose grid step is at most KNOT_MAX_GRID_STEP_S, on grids of
        at least KNOT_MIN_GRID_SAMPLES samples (``_knot_states`` may still
        send some back to the full grid)."""
        if len(t_ns) < KNOT_MIN_GRID_SAMPLES or not len(sats):
            return np.zeros(len(sats), dtype=bool)
        el = self.plane_elements()
        e, rate = el["ecc"][sats], el["mdot_rad_s"][sats]
        return ~el["near"][sats] & (e >= KNOT_MIN_ECCENTRICITY) & (e < KNOT_MAX_ECCENTRICITY) \
            & (self.step_s[sats] <= KNOT_MAX_GRID_STEP_S) \
            & np.isfinite(rate) & (rate > 0)

    def _knot_states(self, sats, knot, t_ns, r, v):
        """Grid states of the knotted rows ``knot`` of ``sats`` (rows of the
        ``(n * m, 3)`` arrays ``r``, ``v``): exact SGP4 at knots every
        1/(KNOT_PER_ORBIT sqrt((1+e)/(1-e))) of eccentric anomaly (the grid
        step's 1/20 orbit at perigee), at most MAX_STEP_S and at least
        MIN_STEP_S apart, both grid ends included (kernels.anomaly_knots),
        cubic Hermite between them (kernels.knot_fill).

        Where the knots fall comes from SGP4 itself: its osculating mean
        anomaly at anchors every KNOT_ANCHOR_S (and both grid ends), linear
        in between, whole orbits between anchors counted with the osculating
        mean motion (drag makes the element set's own rate drift by a whole
        orbit within weeks of its epoch: a perigee then falls between knots
        30 minutes apart; review round 21).  A satellite whose SGP4
        fails at an anchor or at a knot, whose anomaly does not advance, or
        whose SGP4 velocity departs from its position's derivative by more
        than KNOT_MAX_VELOCITY_BIAS_KM_S at an anchor (the Hermite between
        knots takes one for the other), is propagated on the grid instead:
        its failures are then found as the full search finds them.
        Returns the rows that were not knotted after all (bool (n,))."""
        ks = np.flatnonzero(knot)
        if not len(ks):
            return knot
        m = len(t_ns)
        el = self.plane_elements()
        idx = sats[ks]
        lo, hi = int(t_ns[0]), int(t_ns[-1])
        na = max(2, int(np.ceil((hi - lo) / (KNOT_ANCHOR_S * NS_PER_S))) + 1)
        ta = np.linspace(lo, hi, na).astype(np.int64)
        ta[-1] = hi
        ok_a, ra, va = self._sgp4_runs(np.repeat(idx, na), np.tile(ta, len(idx)))
        ra, va = ra.reshape(-1, na, 3), va.reshape(-1, na, 3)
        # SGP4's velocity against its own position 1 s on: the Hermite
        # between knots takes the velocity as the position's derivative,
        # which drag far from epoch (GSLV R/B 57321: 137 m/s off) and
        # lunar-solar periodics break (review round 22); those orbits keep
        # the full grid
        _, r1, v1 = self._sgp4_runs(np.repeat(idx, na), np.tile(ta, len(idx)) + NS_PER_S)
        with np.errstate(invalid="ignore"):
            dv = np.linalg.norm(r1.reshape(-1, na, 3) - ra - 0.5 * (va + v1.reshape(-1, na, 3)),
                                axis=-1)
            smooth = (dv <= KNOT_MAX_VELOCITY_BIAS_KM_S).all(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            # osculating elements at the anchors: eccentricity vector, true
            # anomaly, and the mean motion from the semi-major axis
            rn = np.sqrt((ra * ra).sum(axis=-1))
            rv = (ra * va).sum(axis=-1)
            v2 = (va * va).sum(axis=-1)
            e_vec = ((v2 - MU_KM3_S2 / rn)[..., None] * ra - rv[..., None] * va) / MU_KM3_S2
            e_n = np.sqrt((e_vec * e_vec).sum(axis=-1))
            n_osc = np.sqrt(np.maximum(2.0 / rn - v2 / MU_KM3_S2, 0.0) ** 3 * MU_KM3_S2)
            cos_nu = (e_vec * ra).sum(axis=-1) / (e_n * rn)
            nu = np.arccos(np.clip(cos_nu, -1.0, 1.0))
            nu = np.where(rv < 0, 2 * np.pi - nu, nu)
            # the knots' eccentricity: the largest of the element set's and
            # the anchors' (drag lowers it; a higher one spaces the knots
            # closer at perigee); the mean anomaly at that eccentricity
            ecc = np.minimum(np.maximum(el["ecc"][idx], np.where(
                np.isfinite(e_n), e_n, 0.0).max(axis=1)), KNOT_MAX_ECCENTRICITY)
            big_e = 2 * np.arctan2(np.sqrt(1 - ecc)[:, None] * np.sin(nu / 2),
                                   np.sqrt(1 + ecc)[:, None] * np.cos(nu / 2))
            m_a = (big_e - ecc[:, None] * np.sin(big_e)) % (2 * np.pi)
            # whole orbits between anchors from the osculating mean motion at
            # both ends (not the element set's: drag raises a low-perigee
            # GTO's from 6.2 to 10.3 rev/day within three months, an orbit
            # more per 6 h; the osculating one is within a few per cent)
            dt = np.diff(ta) / NS_PER_S
            dm = np.diff(m_a, axis=1)
            n_gap = 0.5 * (n_osc[:, 1:] + n_osc[:, :-1])
            dm += 2 * np.pi * np.rint((n_gap * dt - dm) / (2 * np.pi))
            m_cum = np.concatenate([m_a[:, :1], m_a[:, :1] + np.cumsum(dm, axis=1)], axis=1)
        good = ok_a.reshape(-1, na).all(axis=1) & np.isfinite(m_cum).all(axis=1) \
            & (dm > 0).all(axis=1) & (e_n < 1).all(axis=1) & np.isfinite(n_osc).all(axis=1) \
            & smooth
        bad_rows = np.zeros(len(sats), dtype=bool)
        bad_rows[ks[~good]] = True
        ks, idx, m_cum, ecc = ks[good], idx[good], m_cum[good], ecc[good]
        if len(ks):
            # knots per orbit: the grid step's 1/20 orbit at perigee
            per_orbit = KNOT_PER_ORBIT * np.sqrt((1 + ecc) / (1 - ecc))
            orbits = (m_cum[:, -1] - m_cum[:, 0]) / (2 * np.pi)
            # room for every knot, the splits of gaps over MAX_STEP_S (at
            # most one per MAX_STEP_S of the span) and the kernel's reserve
            # for the last gap (as much again): a budget counted once ran out
            # within ~9 days (review round 22)
            cap = int((per_orbit * (orbits + 2)).max() + 2 * (hi - lo) / NS_PER_S / MAX_STEP_S
                      + 32)
            start, kt = anomaly_knots(ta, np.ascontiguousarray(m_cum), ecc, 2 * np.pi / per_orbit,
                                      int(MAX_STEP_S * NS_PER_S), int(MIN_STEP_S * NS_PER_S), cap)
            ok_k, kr, kv = self._sgp4_runs(np.repeat(idx, np.diff(start)), kt)
            # a failed knot would leave NaN over the knot gaps either side,
            # minutes of states SGP4 gives (review round 22): that orbit
            # keeps the full grid, whose failures are the full search's
            fine = np.logical_and.reduceat(ok_k, start[:-1]) if len(kt) else \
                np.ones(len(ks), dtype=bool)
            bad_rows[ks[~fine]] = True
            keep = np.flatnonzero(fine)
            if len(keep) < len(ks):
                sel = np.concatenate([np.arange(start[i], start[i + 1]) for i in keep]) \
                    if len(keep) else np.zeros(0, dtype=np.int64)
                counts = np.diff(start)[keep]
                start = np.r_[0, np.cumsum(counts)].astype(np.int64)
                kt, kr, kv, ks = kt[sel], kr[sel], kv[sel], ks[keep]
            if len(ks):
                knot_fill(start, kt, kr, kv, np.ascontiguousarray(t_ns, dtype=np.int64),
                          (ks * m).astype(np.int64), r, v)
        return bad_rows

    def _sgp4_runs(self, sat, t_ns, out=None):
        """Exact SGP4 at per-sample satellites ``sat`` (in any order; sorted,
        one contiguous run per satellite, where python-sgp4 serves some) and
        times ``t_ns`` (flat): near-Earth
        sets in one compiled call (sgp4_kernel), deep-space ones in another
        (sdp4_kernel), both with ``trig_by_series`` (the C++ numbers to
        1e-9 km + 1e-11 of |r|: tests/test_sgp4_series.py; about 30% less
        time); python-sgp4, one call per satellite, for deep-space sets the
        kernel does not take.
        Returns ``(ok, r, v)`` ``(k,)``, ``(k, 3)``, ``(k, 3)``, r NaN where
        not ok; failures are recorded (``failed``).  ``out = (rows, r, v)``
        writes sample i into row ``rows[i]`` of those arrays instead (and
        returns them)."""
        k = len(sat)
        sat = np.asarray(sat, dtype=np.int64)
        t_ns = np.ascontiguousarray(t_ns, dtype=np.int64)
        if out is None:
            q, r, v = np.arange(k, dtype=np.int64), np.empty((k, 3)), np.empty((k, 3))
        else:
            q, r, v = out
        err = np.zeros(len(r), dtype=np.uint8)
        if k:
            rows, params = self._near_earth()
            row = rows[sat]
            sgp4_near_ns_scatter(params, row, t_ns, q, err, r, v, True)
            rows_d, params_d = self._deep_space()
            row_d = rows_d[sat]
            sdp4_ns_scatter(params_d, row_d, t_ns, q, err, r, v, True)
            self._sgp4_deep_runs(sat, t_ns, np.flatnonzero((row < 0) & (row_d < 0)), q, err, r, v)
        ok = accept_states(sat, t_ns, q, err, r, v, self._epoch_ns, self._r_fwd, self._r_bwd,
                           MU_KM3_S2, MIN_PERIGEE_RADIUS_KM, EARTH_RADIUS_WGS72_KM)
        if not ok.all():
            self._note_failures(sat, t_ns, err[q], ok)
        self.sgp4_calls += k
        return ok, r, v

    def _near_earth(self):
        """``(row, params)``: each satellite's row of the compiled near-Earth
        SGP4 parameters (sgp4_kernel.pack_near_earth; -1 for deep-space
        sets, which python-sgp4 evaluates), packed on first use."""
        if getattr(self, "_near", None) is None:
            near = np.array([s.method == "n" for s in self.satrecs], dtype=bool)
            row = np.full(len(self.satrecs), -1, dtype=np.int64)
            row[near] = np.arange(int(near.sum()))
            self._near = (row, pack_near_earth([s for s, n in zip(self.satrecs, near) if n]))
        return self._near

    def _deep_space(self):
        """``(row, params)`` of the compiled deep-space SGP4
        (sdp4_kernel.pack_deep_space; -1 for near-Earth sets), packed on
        first use.  Only where the epochs come from their split
        (``epochs_from_split``, a Catalog's satrecs), and where the kernel
        accepts them (it checks each sidereal time at epoch): python-sgp4
        otherwise, every row then -1."""
        if getattr(self, "_deep", None) is None:
            deep = np.array([s.method == "d" for s in self.satrecs], dtype=bool)
            row = np.full(len(self.satrecs), -1, dtype=np.int64)
            params = np.zeros((0, N_DEEP_PARAMS))
            if self.epochs_from_split:
                try:
                    params = pack_deep_space([s for s, d in zip(self.satrecs, deep) if d])
                    row[deep] = np.arange(int(deep.sum()))
                except ValueError:
                    pass
            self._deep = (row, params)
        return self._deep

    def _sgp4_deep_runs(self, sat, t_ns, idx, q, err, r, v):
        """python-sgp4 for samples ``idx`` (deep-space satellites the
        compiled kernel does not take, see _deep_space; ``sat`` sorted
        there: one contiguous run per satellite), one call per satellite,
        written into rows ``q[idx]`` of ``err``, ``r``, ``v``."""
        if not len(idx):
            return
        s_d = sat[idx]
        days, rem = np.divmod(t_ns[idx], NS_PER_DAY)
        jd = np.ascontiguousarray(days + _JD_UNIX, dtype=np.float64)
        fr = np.ascontiguousarray(rem / NS_PER_DAY, dtype=np.float64)
        e_d = np.zeros(len(idx), dtype=np.uint8)
        r_d = np.empty((len(idx), 3))
        v_d = np.empty((len(idx), 3))
        bounds = np.flatnonzero(np.r_[True, s_d[1:] != s_d[:-1], True]).tolist()
        satrecs = self.satrecs
        for a, b in zip(bounds[:-1], bounds[1:]):
            satrecs[s_d[a]]._sgp4(jd[a:b], fr[a:b], e_d[a:b], r_d[a:b], v_d[a:b])
        rows = q[idx]
        err[rows], r[rows], v[rows] = e_d, r_d, v_d

    def _sparse_grid_states(self, sats, t_ns, need, knot):
        n, m = need.shape
        need = need | knot[:, None]            # knotted rows: every sample, from knots
        rows, cols = np.nonzero(need)                  # sorted by satellite
        r = np.full((n * m, 3), np.nan)
        v = np.empty((n * m, 3))        # never read where r is NaN: Hermite gives NaN there
        if knot.any():
            knot = knot & ~self._knot_states(sats, knot, t_ns, r, v)
        sgp4 = ~knot[rows]
        self._sgp4_runs(sats[rows[sgp4]], t_ns[cols[sgp4]],
                        out=(rows[sgp4] * m + cols[sgp4], r, v))
        self._cache = (sats, t_ns, r, v, m)
        self.sparse_rows = (rows, cols)
        return (np.moveaxis(r.reshape(n, m, 3), -1, 0), np.moveaxis(v.reshape(n, m, 3), -1, 0))

    def exact_states(self, sats, t_ns, velocity=True):
        """Exact SGP4 at per-row times: ``sats`` (n,), ``t_ns`` (n, m).
        ``velocity=False``: v is None (not rearranged)."""
        n, m = t_ns.shape
        sats = np.asarray(sats)
        # rows sorted by satellite, flattened: one contiguous run per
        # satellite for python-sgp4's per-satellite calls (deep-space sets
        # the compiled kernel does not take); the compiled kernels take
        # samples in any order
        py = (self._near_earth()[0][sats] < 0) & (self._deep_space()[0][sats] < 0)
        if py.any() and np.any(np.diff(sats) < 0):
            order = np.argsort(sats, kind="stable")
        else:
            order = None
        _, rr, vv = self._sgp4_runs(np.repeat(sats if order is None else sats[order], m),
                                    (t_ns if order is None else t_ns[order]).ravel())

        def layout(x):
            # (n * m, 3) in the order computed -> (3, n, m) in the rows' order
            x = np.moveaxis(x.reshape(n, m, 3), -1, 0)
            if order is None:
                return np.ascontiguousarray(x)
            out = np.empty((3, n, m))
            out[:, order, :] = x
            return out

        return layout(rr), (layout(vv) if velocity else None)

    def states(self, sats, t_ns, exact=False, velocity=True):
        """States ``(3, n, m)`` of satellites ``sats`` (n,) at ``t_ns`` (n, m);
        ``velocity=False`` may return None for v (interpolation skips it)."""
        sats = np.asarray(sats)
        t_ns = np.asarray(t_ns, dtype=np.int64)
        c = self._cache
        if not exact and c is not None:
            cs, grid, cr, cv, m = c
            pos = np.searchsorted(cs, sats)
            pos_ok = pos < len(cs)
            hit = pos_ok & (cs[np.minimum(pos, len(cs) - 1)] == sats)
            if hit.all() and t_ns.min() >= grid[0] and t_ns.max() <= grid[-1]:
                return _hermite(pos, t_ns, grid, cr, cv, m, velocity)
        return self.exact_states(sats, t_ns, velocity=velocity)


def _rows_subset(row, params, sel):
    """A packed kernel's ``(row, params)`` for satellites ``sel`` (slice or
    indices) of an ephemeris: their rows, renumbered."""
    sub = row[sel]
    new_row = np.full(len(sub), -1, dtype=np.int64)
    new_row[sub >= 0] = np.arange(int((sub >= 0).sum()))
    return new_row, params[sub[sub >= 0]]


def _hermite(rows, t_ns, grid, r, v, m, velocity=True):
    """Cubic Hermite interpolation of cached states: ``r``, ``v`` are
    ``(n * m, 3)`` (row-major satellites x grid times)."""
    k = np.clip(np.searchsorted(grid, t_ns, side="right") - 1, 0, len(grid) - 2)
    t0 = grid[k]
    h = (grid[k + 1] - t0) / NS_PER_S
    s = (t_ns - t0) / NS_PER_S / h
    s2 = s * s
    s3 = s2 * s
    flat = (rows[:, None] if t_ns.ndim == 2 else rows) * m + k
    r0, r1, v0, v1 = r[flat], r[flat + 1], v[flat], v[flat + 1]        # (..., 3)
    h00 = (2 * s3 - 3 * s2 + 1)[..., None]
    h10 = ((s3 - 2 * s2 + s) * h)[..., None]
    h01 = (-2 * s3 + 3 * s2)[..., None]
    h11 = ((s3 - s2) * h)[..., None]
    out_r = h00 * r0 + h10 * v0 + h01 * r1 + h11 * v1
    # at a grid sample: that sample's state, whatever the next one holds (a
    # sparse grid may not have propagated it: NaN); as kernels._hermite_pv
    knot = (s == 0.0)[..., None]
    out_r = np.where(knot, r0, out_r)
    if not velocity:
        return np.moveaxis(out_r, -1, 0), None
    d00 = ((6 * s2 - 6 * s) / h)[..., None]
    d10 = (3 * s2 - 4 * s + 1)[..., None]
    d11 = (3 * s2 - 2 * s)[..., None]
    out_v = np.where(knot, v0, d00 * (r0 - r1) + d10 * v0 + d11 * v1)
    return np.moveaxis(out_r, -1, 0), np.moveaxis(out_v, -1, 0)


def _common(t_ns):
    """The shared row of times when every row is the same, else None."""
    # Sampling grids have at least 4 columns (both edges and one step beyond
    # each); refinement calls have one or two.
    if t_ns.ndim == 2 and t_ns.shape[0] and t_ns.shape[1] >= 4:
        if t_ns.strides[0] == 0:             # one row broadcast (the engine's grids)
            return t_ns[0]
        if np.array_equal(t_ns[0], t_ns[-1]) and np.all(t_ns == t_ns[0]):
            return t_ns[0]
    return None


class _PairG(GFunction):
    """Base of (satellite, site) g-functions: object k is satellite
    ``k // n_sites`` seen from site ``k % n_sites``."""

    # Between grid samples the states are Hermite-interpolated: sin(elevation)
    # and cos(off-nadir) then differ from exact SGP4 by up to 4.7e-4 at the
    # maxima of the whole 2023-10-13 catalog over Vostochny (24 h, 10 deg;
    # 99.9 % under 1.2e-4).  A hidden pass whose interpolated peak is within
    # ten times that of the mask is decided on exact values (events.scan):
    # a pass 0.002 deg above a 10 deg mask for 6 s was missed.
    interpolation_tol = 5e-3

    def __init__(self, eph: Ephemeris, sites):
        self.eph = eph
        self.sites = list(sites)
        self.n_sites = len(self.sites)
        self.n_obj = len(eph) * self.n_sites
        self.step_s = np.repeat(eph.step_s, self.n_sites)
        self._r_site = np.stack([s.r_itrs_km for s in self.sites], axis=1)          # (3, S)
        self._up = np.stack([s.enu_matrix()[2] for s in self.sites], axis=1)       # (3, S)
        self._site_unit = self._r_site / np.sqrt((self._r_site ** 2).sum(axis=0))
        self._r_site_rows = np.ascontiguousarray(self._r_site.T)                  # (S, 3)
        self._up_rows = np.ascontiguousarray(self._up.T)
        self._exact_log, self._exact_rows = None, 0         # start_exact_log

    def failed_rows(self, obj):
        """Which pairs ``obj`` belong to satellites with failed SGP4 samples
        in this search (events.scan samples the steps next to their
        failures finer: their non-finite values are failures, where other
        satellites' may be samples a sparse grid left out)."""
        failed = self.eph._failed
        if not failed:
            return np.zeros(len(obj), dtype=bool)
        return np.isin(np.asarray(obj) // self.n_sites, np.fromiter(failed, dtype=np.int64))

    def _screened(self, obj, common, screen_cos, exact_at, polar_motion=True, elevation=False):
        """Values on a sampling grid: each (satellite, site, time) is first
        screened with one geocentric dot product (``cos theta`` against
        ``screen_cos(r_km)``, a bound outside which the function is < 0); only
        samples inside get ``exact_at(r_itrs (3, k), site (k,), times (k,))``.
        Far samples get ``cos theta - bound - 2``: below any exact value
        (functions of sines and cosines >= -2), so the sampled extrema of the
        result are those of the exact function near the sites.  ``elevation``:
        ``screen_cos`` and ``exact_at`` are ElevationG's, fused in one
        compiled pass (kernels.screen_elevation)."""
        sat, site = obj // self.n_sites, obj % self.n_sites
        usat, inv = np.unique(sat, return_inverse=True)
        times = Time(common)
        # The screen works in TEME: each site's unit vector is rotated into
        # TEME once per time (GMST only: polar motion moves it by ~1e-6 rad,
        # far inside the screen's margin), so no satellite sample is rotated
        # except those that pass the screen.
        theta, theta_rate = gmst82_rad(times)
        c, s = np.cos(theta), np.sin(theta)
        ux, uy, uz = self._site_unit
        sx = c[None, :] * ux[:, None] - s[None, :] * uy[:, None]     # (S, m)
        sy = s[None, :] * ux[:, None] + c[None, :] * uy[:, None]
        sites_here = np.unique(site)
        need = (self._needed_samples(usat, common, screen_cos, sx[sites_here], sy[sites_here],
                                     uz[sites_here], float(np.max(theta_rate)))
                if len(sites_here) <= SAMPLE_SCREEN_MAX_SITES else None)
        r, _ = self.eph.grid_states(usat, common, need)           # TEME (3, U, m)
        margin = self._step_margin_rad(usat)
        if elevation:
            # ElevationG: screen and exact values in one compiled pass, the
            # same arithmetic (kernels.screen_elevation)
            eps = np.arcsin(self.sin_mask) - np.radians(0.25)
            pcs = (polar_cos_sin(*times.polar_motion_rad()) if polar_motion
                   else (np.ones(1),) * 4)
            return screen_elevation(
                self.eph._cache[2], len(common), margin, SCREEN_EARTH_RADIUS_KM * np.cos(eps),
                eps, np.radians(SCREEN_MARGIN_DEG), sx, sy, np.asarray(uz, float),
                inv.astype(np.int64), site.astype(np.int64), c, s, bool(polar_motion), *pcs,
                self._r_site_rows, self._up_rows, float(self.sin_mask))
        if self.eph.sparse_rows is None:
            rn = np.sqrt(r[0] * r[0] + r[1] * r[1] + r[2] * r[2])        # (U, m)
            thr = screen_cos(rn, margin[:, None])
        else:
            # a sparse grid is NaN where not propagated, and so is every
            # value screen_pairs derives there: radius and bound only where
            # there is a state
            rows, cols = self.eph.sparse_rows
            rs = r[:, rows, cols]
            rn_s = np.sqrt(rs[0] * rs[0] + rs[1] * rs[1] + rs[2] * rs[2])
            rn = np.empty(r.shape[1:])
            thr = np.empty(r.shape[1:])
            rn[rows, cols] = rn_s
            thr[rows, cols] = screen_cos(rn_s, margin[rows])
        # one compiled pass: screen value of every pair sample, and the
        # samples inside the screen (kernels.screen_pairs)
        r_flat = self.eph._cache[2]
        g, ii, jj = screen_pairs(r_flat, len(common), rn, thr, sx, sy, np.asarray(uz, float),
                                 inv.astype(np.int64), site.astype(np.int64))
        if len(ii):
            # GMST and polar motion (its cosines and sines) once per grid
            # column, gathered per sample
            pcs = polar_cos_sin(*times.polar_motion_rad()) if polar_motion else None
            r_in = rotate_teme_to_itrs(r[:, inv[ii], jj], c[jj], s[jj],
                                       polar_cos_sin=None if pcs is None else
                                       [q[jj] for q in pcs])
            g[ii, jj] = exact_at(r_in, site[ii], times[jj])
        return g

    def _needed_samples(self, usat, common, screen_cos, sx, sy, uz, gmst_rate):
        """Which grid samples of satellites ``usat`` can matter: ``(U, m)``
        bool, or None (all).  Only these get SGP4 (kernels.track_need).

        Each near-Earth satellite's direction is predicted from its mean
        elements: the orbital plane (inclination, node with SGP4's secular
        node rate) and the argument of latitude (SGP4's secular rates),
        corrected by what SGP4 itself gives at every PLANE_ANCHOR_EVERY-th
        grid sample (anchors; the correction, mostly drag, is interpolated
        linearly).  Bounds on the prediction's error, measured on the whole
        2023-10-13 catalog over 1 and 7 days from a month before the epochs
        to after them: the plane is off by at most its largest difference at
        the anchors plus 0.039 deg (PLANE_MARGIN_DEG = 0.25 allowed), the
        argument of latitude by at most 4e + 0.16 deg beyond the
        interpolated anchors, e the largest eccentricity seen (TRACK_MARGIN_DEG
        = 0.6 allowed, plus a term for the correction's curvature).  A sample
        is a candidate where the predicted direction is within the screening
        angle (at the largest radius the orbit reaches: the mean apogee at
        epoch or the osculating apogee at any anchor, + RADIUS_MARGIN_KM)
        plus one step of
        motion (as the geocentric screen) plus those bounds: every sample
        next to a moment in view is one.  Within a run of candidates (one
        approach to a site), an interval is needed where the predicted
        track, checked TRACK_SUBSTEPS times along it, comes within the
        screening angle plus the bounds plus half a sub-step of motion of a
        site: an approach that never comes into view needs no SGP4.  Both
        ends of each needed interval are taken, then one more sample either
        side, so that every bracket, every sampled extremum and every
        interpolation around a pass has its states, as in the full search
        (a sample left out is NaN, "out", and never next to an "in" one or a
        sampled extremum that matters).  Where the anchors show
        anything odd (an SGP4 error, an unphysical state, a correction that
        jumps), only the plane is used (the site's angle to the plane bounds
        the angle to the satellite); deep-space orbits, whose plane moves
        with lunar-solar terms, are always computed."""
        el = self.eph.plane_elements()
        near = el["near"][usat]
        m = len(common)
        if not near.any() or m < 3:
            return None
        idx = usat[near]
        anchors = np.unique(np.r_[np.arange(0, m, PLANE_ANCHOR_EVERY), m - 1]).astype(np.int64)
        ta = common[anchors]
        na = len(ta)
        ok_a, r, v = self.eph._sgp4_runs(np.repeat(idx, na), np.tile(ta, len(idx)))
        ok_a, r, v = ok_a.reshape(-1, na), r.reshape(-1, na, 3), v.reshape(-1, na, 3)
        incl = el["incl_rad"][idx]
        node_rate = el["node_rate_rad_s"][idx]
        epoch = el["epoch_ns"][idx]
        dt_a = (ta[None, :].astype(float) - epoch[:, None]) / NS_PER_S
        node = el["node_rad"][idx][:, None] + node_rate[:, None] * dt_a
        ci, si = np.cos(incl)[:, None], np.sin(incl)[:, None]
        cn, sn = np.cos(node), np.sin(node)
        # mean plane: node direction ex, in-plane normal-to-node ey, normal nz
        h = np.cross(r, v)
        h2 = (h * h).sum(axis=-1)
        h /= np.sqrt(h2)[..., None]
        # Orbits that reach the ground fail (SGP4 errors 1, 4, 6) in
        # stretches that may lie between anchors: propagate them in full,
        # so that every failure is seen and reported (Passes.failed).
        with np.errstate(invalid="ignore", divide="ignore"):
            rr = np.sqrt((r * r).sum(axis=-1))
            inv_a = 2.0 / rr - (v * v).sum(axis=-1) / MU_KM3_S2
            p_km = h2 / MU_KM3_S2
            ecc = np.sqrt(np.maximum(1.0 - p_km * inv_a, 0.0))
            perigee_km = p_km / (1.0 + ecc)
            apogee_km = (1.0 + ecc) / inv_a
        low = (perigee_km < LOW_PERIGEE_RADIUS_KM).any(axis=1)
        # The screening circle is sized at the highest the orbit gets over
        # the window: the mean apogee at epoch, or the osculating apogee at
        # any anchor, whichever is higher (SGP4 run backwards undoes drag: a
        # month before its epoch a decaying set is hundreds of km higher),
        # plus RADIUS_MARGIN_KM (the mean apogee between two anchors lies
        # between theirs; short-period terms move a state by tens of km).
        apogee_max = np.where(np.isfinite(apogee_km) & (apogee_km > 0), apogee_km,
                              0.0).max(axis=1, initial=0.0)
        r_max = np.maximum(el["r_max_km"][idx], apogee_max + RADIUS_MARGIN_KM)
        cos_d = h[..., 0] * si * sn - h[..., 1] * si * cn + h[..., 2] * ci
        off = np.arccos(np.clip(cos_d, -1.0, 1.0))
        u_true = np.arctan2(r[..., 0] * (-sn * ci) + r[..., 1] * (cn * ci) + r[..., 2] * si,
                            r[..., 0] * cn + r[..., 1] * sn)
        u0 = el["u_rad"][idx]
        u_rate = el["u_rate_rad_s"][idx]
        du = np.unwrap(np.angle(np.exp(1j * (u_true - (u0[:, None] + u_rate[:, None] * dt_a)))),
                       axis=1)
        bad = (~ok_a).any(
            axis=1) | ~np.isfinite(off).all(axis=1) | ~np.isfinite(du).all(axis=1)
        jumpy = (np.abs(np.diff(du, axis=1)) > np.radians(60.0)).any(axis=1) if du.shape[1] > 1 \
            else np.zeros(len(idx), bool)
        d_plane = np.where(bad, np.pi, off.max(axis=1, initial=0.0) + np.radians(PLANE_MARGIN_DEG))
        # the equation of centre at the largest eccentricity the orbit has
        # over the window (SGP4 run backwards undoes drag: a decaying orbit
        # was more eccentric), and the anchor correction's curvature (its
        # linear interpolation is off by at most 1/8 of its second
        # difference where that is constant; twice that allowed)
        e_max = np.maximum(el["ecc"][idx], np.where(np.isfinite(ecc), ecc, 0.0).max(
            axis=1, initial=0.0))
        curv = (np.abs(np.diff(np.where(np.isfinite(du), du, 0.0), n=2, axis=1)).max(
            axis=1, initial=0.0) if na > 2 else np.zeros(len(idx)))
        # (the equation of centre is at most 2 asin(e): 2e for small e)
        d_track = 4.0 * np.arcsin(np.minimum(e_max, 1.0)) + np.radians(TRACK_MARGIN_DEG) \
            + curv / 4.0
        lam = np.arccos(np.clip(screen_cos(r_max), -1.0, 1.0))
        step_s = float(np.max(np.diff(common))) / NS_PER_S
        # the predicted direction turns at most at |u rate| (with the anchor
        # correction's steepest slope) + |node rate|, the sites at the Earth's
        # rate: one step of that widens the candidates' circle (the step
        # margin covers the orbit's fastest rate and the Earth's), half a
        # sub-step the fine test's
        du_ok = np.where(np.isfinite(du), du, 0.0)
        du_rate = (np.abs(np.diff(du_ok, axis=1)) / (np.diff(ta) / NS_PER_S)).max(
            axis=1, initial=0.0)
        track = lam + self._step_margin_rad(idx) + (du_rate + np.abs(node_rate)) * step_s \
            + d_plane + d_track
        plane = lam + d_plane + 2.0 * (EARTH_ROTATION_RAD_S + np.abs(node_rate)) * step_s
        use_track = ~bad & ~jumpy & (track < np.pi)
        speed = np.abs(u_rate) + du_rate + np.abs(node_rate) + EARTH_ROTATION_RAD_S
        fine = lam + d_plane + d_track + 0.5 * speed * step_s / TRACK_SUBSTEPS
        need_near = track_need(
            common.astype(np.int64), anchors, incl, el["node_rad"][idx], node_rate, epoch,
            u0, u_rate, du_ok, use_track, np.cos(np.minimum(track, np.pi)),
            np.cos(np.minimum(fine, np.pi)), np.where(plane < np.pi / 2, np.sin(
                np.minimum(plane, np.pi / 2)), 2.0),
            np.ascontiguousarray(sx, dtype=float), np.ascontiguousarray(sy, dtype=float),
            np.ascontiguousarray(uz, dtype=float), float(gmst_rate), TRACK_SUBSTEPS)
        # propagated in full too: orbits failing at an anchor, so that the
        # failure reported (the earliest failed sample's code) is the full
        # search's
        need_near[low | (~ok_a).any(axis=1)] = True
        need = np.ones((len(usat), m), dtype=bool)
        need[near] = need_near
        return need

    def _step_margin_rad(self, usat):
        """How far (geocentric angle) each satellite can move in one sampling
        step: its fastest angular rate (perigee) plus the Earth's rotation,
        times the step.  Widening the screening circle by this much puts a
        sample inside it for every pass, however grazing."""
        step = np.asarray(self.step_s, dtype=float)[usat * self.n_sites]
        if self.eph.period_s is None:
            return np.full(len(usat), np.pi)
        period = self.eph.period_s[usat]
        fastest = 2 * np.pi / period * np.maximum(
            1.0, period / (SAMPLES_PER_ORBIT * self.eph.step_s[usat]))
        return np.minimum((fastest + EARTH_ROTATION_RAD_S) * step, np.pi)

    def _fast_look(self, obj, t_ns, polar_motion=True):
        """``(sin elevation, cos off-nadir)`` of pairs at per-row times
        ``(n, k)`` from the cached grid (Hermite), in one compiled pass
        (kernels.hermite_geometry); None where that path does not apply
        (times outside the cached grid, a satellite not cached, or GMST not
        linear to FAST_GMST_TOL_RAD over the grid)."""
        if t_ns.ndim != 2:
            return None
        args = self._fast_args(obj, t_ns, polar_motion)
        return None if args is None else hermite_geometry(*args)

    def _fast_args(self, obj, t_ns, polar_motion):
        """Arguments of the compiled Hermite kernels for pairs ``obj`` at
        ``t_ns``, or None where the fast path does not apply (see _fast_look)."""
        c = self.eph._cache
        if c is None or t_ns.size == 0:
            return None
        cs, grid, cr, cv, _ = c
        sat = obj // self.n_sites
        pos = np.minimum(np.searchsorted(cs, sat), len(cs) - 1)
        if not np.all(cs[pos] == sat) or t_ns.min() < grid[0] or t_ns.max() > grid[-1]:
            return None
        model = self._rotation_model(int(grid[0]), int(grid[-1]), polar_motion)
        if model is None:
            return None
        return (pos.astype(np.int64), np.ascontiguousarray(t_ns, dtype=np.int64), grid, cr, cv,
                *model, (obj % self.n_sites).astype(np.int64), self._r_site_rows,
                self._up_rows)

    def _rotation_model(self, lo, hi, polar_motion):
        """GMST and polar motion as linear functions of time over [lo, hi]
        (ns): ``(t_ref, theta, rate, px, px_rate, py, py_rate)``, cached per
        span.  GMST's line is the chord through both ends (UT1 - UTC drifts
        by a millisecond or two a week: the tangent at the start left 7-day
        spans 1.1e-7 rad off at their end); None where it departs from GMST
        by more than FAST_GMST_TOL_RAD (0.6 m at the Earth's surface) at any
        quarter of the span (a leap second or UT1 step inside it).  Polar
        motion moves by under 5 mas a day: linear over a week is good to
        centimetres.  Used between grid samples (Hermite) and for exact SGP4
        states alike (``_itrs``)."""
        key = (lo, hi, polar_motion)
        cached = getattr(self, "_rot_cache", None)
        if cached is None:
            cached = self._rot_cache = {}
        if key in cached:
            return cached[key]
        quarters = lo + (hi - lo) // 4 * np.arange(5, dtype=np.int64)
        quarters[-1] = hi
        t = Time(quarters)
        th, rate = gmst82_rad(t)
        dt_s = (t.ns - lo) / NS_PER_S
        span_s = dt_s[-1]
        th_rate = float(rate[0])
        if span_s > 0:
            th_rate += float(np.angle(np.exp(1j * (th[-1] - th[0] - rate[0] * span_s)))) / span_s
        lin = th[0] + th_rate * dt_s
        model = None
        if np.all(np.abs(np.angle(np.exp(1j * (lin - th)))) <= FAST_GMST_TOL_RAD):
            if polar_motion:
                px, py = t.polar_motion_rad()
                dpx = (px[-1] - px[0]) / span_s if span_s > 0 else 0.0
                dpy = (py[-1] - py[0]) / span_s if span_s > 0 else 0.0
                pm = (float(px[0]), float(dpx), float(py[0]), float(dpy))
            else:
                pm = (0.0, 0.0, 0.0, 0.0)
            model = (np.int64(lo), float(th[0]), th_rate) + pm
        if len(cached) >= 2 * MAX_MODEL_DAYS:
            cached.clear()
        cached[key] = model
        return model

    def _itrs(self, obj, t_ns, exact, polar_motion=True):
        """ITRS positions of the pairs' satellites ``(3, n, m)`` and the
        times; on a common grid each satellite is rotated once, then shared
        by its sites."""
        sat = obj // self.n_sites
        common = None if exact else _common(t_ns)
        if common is not None:
            usat, inv = np.unique(sat, return_inverse=True)
            r, _ = self.eph.grid_states(usat, common)
            times = Time(common)
            r_itrs, _ = teme_to_itrs(r, None, times, polar_motion=polar_motion)
            return (r_itrs if len(usat) == len(sat) and np.all(inv == np.arange(len(sat)))
                    else r_itrs[:, inv, :]), times
        # exact values, or (rare) interpolated ones the compiled path cannot
        # serve (_fast_look)
        log = exact and self._exact_log is not None
        # velocities only for one-time rows (a root's polish: its state is
        # carried by them; an extremum's pair is read by positions only)
        with_v = log and t_ns.ndim == 2 and t_ns.shape[1] == 1
        r, v = self.eph.states(sat, t_ns, exact=exact, velocity=with_v)
        if log:
            # what the search's exact evaluations computed, row by row of
            # the times flattened (events: exact_log_size): the arrays are
            # kept, not copied
            self._exact_log.append((np.ascontiguousarray(t_ns, dtype=np.int64).reshape(-1),
                                    r.reshape(3, -1), v.reshape(3, -1) if with_v else None))
            self._exact_rows += t_ns.size
        return self._rotate_exact(r, t_ns, polar_motion), Time(t_ns)

    def start_exact_log(self):
        """Keep the TEME states of every exact evaluation from now on (the
        engine's polish records which row each root and extremum read last:
        events.Crossings.ref)."""
        self._exact_log, self._exact_rows = [], 0

    def exact_log_size(self):
        """Rows logged so far, or None when not logging (events._log_size)."""
        return self._exact_rows if self._exact_log is not None else None

    def stop_exact_log(self):
        """Stop logging; ``(t_ns (N,), r_teme_km (3, N), v_teme_km_s (3, N))``
        of the rows logged (v NaN where not kept), or None where there was no
        log."""
        log, self._exact_log = self._exact_log, None
        if log is None:
            return None
        t = np.concatenate([b[0] for b in log]) if log else np.zeros(0, np.int64)
        r = np.concatenate([b[1] for b in log], axis=1) if log else np.zeros((3, 0))
        v = np.full(r.shape, np.nan)
        start = 0
        for b in log:
            if b[2] is not None:
                v[:, start:start + len(b[0])] = b[2]
            start += len(b[0])
        return t, r, v

    def _rotate_exact(self, r, t_ns, polar_motion=True):
        """TEME positions ``r`` (3, n, m) at ``t_ns`` (n, m) to ITRS: in one
        compiled pass with one linear model per UTC day (each time's rotation
        then depends on that time only, not on the batch it comes in:
        searches split over processes give the one-process numbers), else
        the full rotation."""
        times = Time(t_ns)
        flat_t = np.ascontiguousarray(t_ns.reshape(-1), dtype=np.int64)
        first = int(flat_t.min()) // NS_PER_DAY if len(flat_t) else 0
        which = flat_t // NS_PER_DAY - first
        n_days = int(which.max()) + 1 if len(flat_t) else 0
        models = [self._rotation_model((first + d) * NS_PER_DAY, (first + d + 1) * NS_PER_DAY,
                                       polar_motion) for d in range(min(n_days, MAX_MODEL_DAYS))]
        if not n_days or n_days > MAX_MODEL_DAYS or any(m is None for m in models):
            r_itrs, _ = teme_to_itrs(r, None, times, polar_motion=polar_motion)
            return r_itrs
        flat = rotate_linear(np.ascontiguousarray(r.reshape(3, -1)), flat_t,
                             which.astype(np.int64), np.array([m[0] for m in models], np.int64),
                             np.array([m[1:] for m in models], dtype=float))
        return flat.reshape(r.shape)


class ElevationG(_PairG):
    """``sin(elevation) - sin(mask)`` of every (satellite, site) pair."""

    def __init__(self, eph, sites, min_elevation_deg=0.0, polar_motion=True):
        super().__init__(eph, sites)
        self.sin_mask = np.sin(np.radians(min_elevation_deg))
        self.polar_motion = polar_motion

    def sin_elevation(self, obj, t_ns, exact=False):
        if not exact and _common(t_ns) is None:
            fast = self._fast_look(obj, t_ns, self.polar_motion)
            if fast is not None:
                return fast[0]
        r, _ = self._itrs(obj, t_ns, exact, self.polar_motion)
        site = obj % self.n_sites
        d = r - self._r_site[:, site][:, :, None]
        up = self._up[:, site][:, :, None]
        u = (d * up).sum(axis=0)
        return u / np.sqrt((d * d).sum(axis=0))

    def value_and_rate(self, obj, t_ns):
        """Interpolated g and its time derivative (1/s) for pairs ``obj`` (n,)
        at ``t_ns`` (n,) (the engine's extremum search), or None."""
        args = self._fast_args(np.asarray(obj), np.asarray(t_ns, dtype=np.int64),
                               self.polar_motion)
        if args is None:
            return None
        val, rate = hermite_elevation_rate(*args)
        return val - self.sin_mask, rate

    def illinois(self, mode, obj, a, b, fa, fb, tol):
        """The engine's Illinois iteration (events._solve) on the Hermite
        elevation, compiled (kernels.hermite_elevation_illinois); None where
        the compiled look path does not apply."""
        args = self._fast_args(np.asarray(obj), np.stack([np.floor(a), np.ceil(b)], axis=1)
                               .astype(np.int64), self.polar_motion)
        if args is None:
            return None
        rows, _, *rest = args
        return hermite_elevation_illinois(int(mode), self.sin_mask, rows, a, b, fa, fb,
                                          float(tol), *rest)

    def extremum_illinois(self, mode, obj, lo, hi, tol):
        """events._extremum's rate bracket check and Illinois on the Hermite
        elevation's rate in one compiled pass (kernels.hermite_extremum_
        illinois): ``(ok, a, b, ga, gb, mid)``, or None where the compiled
        look path does not apply."""
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.asarray(hi, dtype=np.int64)
        args = self._fast_args(np.asarray(obj), np.stack([lo, hi], axis=1), self.polar_motion)
        if args is None:
            return None
        rows, _, *rest = args
        return hermite_extremum_illinois(int(mode), self.sin_mask, rows, lo, hi, float(tol),
                                         *rest)

    def screen_cos(self, r_km, extra_rad=0.0):
        """cos of the largest geocentric angle at which a satellite at radius
        ``r_km`` can be above the mask: the horizon circle on a sphere of the
        WGS-84 polar radius (below every site), the mask lowered by 0.25 deg
        (geodetic vs geocentric vertical), plus 0.5 deg of margin."""
        eps = np.arcsin(self.sin_mask) - np.radians(0.25)
        lam = np.arccos(np.clip(SCREEN_EARTH_RADIUS_KM * np.cos(eps) / r_km, -1, 1)) - eps
        return np.cos(np.minimum(lam + np.radians(SCREEN_MARGIN_DEG) + extra_rad, np.pi))

    def _exact_at(self, r, site, times):
        d = r - self._r_site[:, site]
        return (d * self._up[:, site]).sum(axis=0) / np.sqrt((d * d).sum(axis=0)) \
            - self.sin_mask

    def evaluate(self, obj, t_ns, exact=False):
        obj = np.asarray(obj)
        t_ns = np.asarray(t_ns, dtype=np.int64)
        common = None if exact else _common(t_ns)
        if common is not None:
            return self._screened(obj, common, self.screen_cos, self._exact_at,
                                  self.polar_motion, elevation=True)
        return self.sin_elevation(obj, t_ns, exact) - self.sin_mask


class SunlitG(GFunction):
    """Shadow margin (km, >= 0 sunlit) of satellites; objects as ElevationG's
    (the site index is ignored), so that it combines with it."""

    # Hermite positions between grid samples are within 0.78 km of exact SGP4
    # (mid-interval, 300 objects of every step of the 2023-10-13 catalog; the
    # worst at deep-space steps of ~1,600 s): a hidden eclipse whose
    # interpolated margin is within 5 km of zero is decided on exact values.
    interpolation_tol = 5.0

    def __init__(self, eph, n_sites=1, windows=None):
        """``windows``: optional ``(sat, start_ns, end_ns)`` arrays; only
        grid samples within two steps of a satellite's windows are then
        propagated (NaN, i.e. "out", elsewhere), so that crossings are
        exact inside the windows and meaningless far outside them."""
        self.eph, self.n_sites = eph, n_sites
        self.n_obj = len(eph) * n_sites
        self.step_s = np.repeat(eph.step_s, n_sites)
        self.windows = windows

    def _need(self, usat, common):
        if self.windows is None:
            return None
        w_sat, w_a, w_b = self.windows
        pad = 2 * np.max(np.diff(common))
        return grid_window_mask(usat, common, w_sat, w_a - pad, w_b + pad)

    def evaluate(self, obj, t_ns, exact=False):
        obj = np.asarray(obj)
        t_ns = np.asarray(t_ns, dtype=np.int64)
        sat = obj // self.n_sites
        common = None if exact else _common(t_ns)
        if common is not None:
            usat, inv = np.unique(sat, return_inverse=True)
            r, _ = self.eph.grid_states(usat, common, self._need(usat, common))
            sun = sun_position_teme_km(Time(common))
            # only the propagated samples (NaN, "out", elsewhere)
            out = np.full(r.shape[1:], np.nan)
            ii, jj = np.nonzero(np.isfinite(r[0]))
            out[ii, jj] = shadow_margin_km(r[:, ii, jj], sun[:, jj])
            return out if len(usat) == len(sat) and np.all(inv == np.arange(len(sat))) \
                else out[inv]
        else:
            r, _ = self.eph.states(sat, t_ns, exact=exact, velocity=False)
            sun = sun_position_teme_km(Time(t_ns))
        return shadow_margin_km(r, sun)


class DarkSiteG(GFunction):
    """``sin(-6 deg) - sin(sun elevation)`` at the site of each pair (>= 0: dark)."""

    def __init__(self, sites, n_sat, sun_limit_deg=DARK_SUN_ELEVATION_DEG):
        self.sites = list(sites)
        self.n_sites = len(self.sites)
        self.n_obj = n_sat * self.n_sites
        self.step_s = np.full(self.n_obj, 600.0)
        self.sin_limit = np.sin(np.radians(sun_limit_deg))
        self._r_site = np.stack([s.r_itrs_km for s in self.sites], axis=1)
        self._up = np.stack([s.enu_matrix()[2] for s in self.sites], axis=1)

    def evaluate(self, obj, t_ns, exact=False):
        obj = np.asarray(obj)
        t_ns = np.asarray(t_ns, dtype=np.int64)
        site = obj % self.n_sites
        sun = sun_position_itrs_km(Time(t_ns))
        d = sun - self._r_site[:, site][:, :, None]
        u = (d * self._up[:, site][:, :, None]).sum(axis=0)
        return self.sin_limit - u / np.sqrt((d * d).sum(axis=0))


@dataclass
class Passes:
    """Passes as parallel arrays (one entry per pass), plus the inputs.

    Times are int64 UTC ns; ``rise_ns``/``set_ns`` are the window edges where
    ``rise_partial``/``set_partial`` (the pass began before, or lasts beyond,
    the window).  Culmination: the highest point inside the window.
    """

    sat: np.ndarray
    site: np.ndarray
    rise_ns: np.ndarray
    set_ns: np.ndarray
    rise_partial: np.ndarray
    set_partial: np.ndarray
    culmination_ns: np.ndarray
    max_elevation_deg: np.ndarray
    culmination_azimuth_deg: np.ndarray
    rise_azimuth_deg: np.ndarray
    set_azimuth_deg: np.ndarray
    start: Time
    end: Time
    min_elevation_deg: float
    maxima: object = None            # every local maximum (events.Extrema over pairs)
    visibility: dict | None = field(default=None)
    # satellite index -> error code for objects SGP4 could not propagate over
    # (part of) the window: SGP4's codes 1-6, or 7 for an unphysical state
    failed: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.sat)

    @property
    def duration_s(self):
        return (self.set_ns - self.rise_ns) / NS_PER_S


def catalog_ephemeris(catalog) -> Ephemeris:
    """A fresh ephemeris of the catalog.  Its per-satellite constants (steps,
    radius bounds, plane elements, packed SGP4 parameters) are derived once
    per catalog and kept on it, as the catalog keeps its Satrec objects:
    repeated questions to one catalog (the API server, a notebook) skip that
    work; each call still gets its own grids and failures."""
    satrecs = catalog.satrecs               # (rebuilds the catalog's caches if it changed)
    derived = getattr(catalog, "_derived", None)
    proto = derived.get("ephemeris") if derived is not None else None
    if proto is None or len(proto) != len(catalog):
        sets = list(catalog)
        period = np.array([es.period_min for es in sets])
        ecc = np.array([es.eccentricity for es in sets])
        sma = np.array([es.semi_major_axis_km for es in sets])
        proto = Ephemeris(satrecs, sampling_step_s(period, ecc), period * 60.0, sma,
                          epochs_from_split=True)       # satwatch.propagation.satrec's
        proto.plane_elements()
        proto._near_earth()
        proto._deep_space()
        if derived is not None:
            derived["ephemeris"] = proto
    return sub_ephemeris(proto, 0, len(proto))


_FORK_JOB = None       # (eph, fn, args) for forked workers (map_satellite_chunks)


def sub_ephemeris(eph: Ephemeris, a: int, b: int) -> Ephemeris:
    """Satellites ``a:b`` of an ephemeris (their steps, periods and radii,
    and its per-satellite constants, sliced rather than recomputed)."""
    return Ephemeris(eph.satrecs[a:b], eph.step_s[a:b],
                     None if eph.period_s is None else eph.period_s[a:b],
                     None if eph.radius_km is None else eph.radius_km[a:b],
                     _parent=(eph, slice(a, b)), epochs_from_split=eph.epochs_from_split)


def _fork_chunk(bounds):
    eph, fn, args = _FORK_JOB
    a, b = bounds
    return fn(sub_ephemeris(eph, a, b), a, *args)


def map_satellite_chunks(eph: Ephemeris, fn, args, workers: int) -> list:
    """``fn(sub_ephemeris, first_index, *args)`` over contiguous chunks of
    the satellites (4 per worker, for balance) in ``workers`` forked
    processes; the results in satellite order.  ``fn`` must be a module-level
    function; the inputs reach the workers by fork, not by pickling."""
    import multiprocessing as mp
    global _FORK_JOB
    n = len(eph)
    eph.plane_elements()            # per-satellite constants once, before the fork
    eph._near_earth()
    eph._deep_space()
    edges = np.linspace(0, n, min(n, 4 * workers) + 1).astype(int)
    bounds = [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]
    _FORK_JOB = (eph, fn, args)
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            return pool.map(_fork_chunk, bounds)
    finally:
        _FORK_JOB = None


def _passes_chunk(sub, a, sites, start, end, mask, pm, visibility, dark):
    p = find_passes(None, sites, start, end, mask, visibility=visibility,
                    dark_sun_elevation_deg=dark, ephemeris=sub, polar_motion=pm)
    mx = p.maxima
    return (a, p.sat, p.site, p.rise_ns, p.set_ns, p.rise_partial, p.set_partial,
            p.culmination_ns, p.max_elevation_deg, p.culmination_azimuth_deg,
            p.rise_azimuth_deg, p.set_azimuth_deg, mx.obj, mx.time.ns, mx.value, p.visibility,
            {a + k: c for k, c in p.failed.items()})


def _find_passes_pool(catalog, sites, start, end, min_elevation_deg, visibility,
                      dark_sun_elevation_deg, eph, polar_motion, workers):
    """find_passes (and pass_visibility) over contiguous satellite chunks in
    ``workers`` forked processes; results are concatenated in satellite
    order, as one call would give them."""
    from .events import Extrema
    parts = map_satellite_chunks(eph, _passes_chunk,
                                 (sites, start, end, min_elevation_deg, polar_motion,
                                  visibility, dark_sun_elevation_deg), workers)
    n_sites = len(sites)

    def cat(i, offset=None):
        # (adding 0 would turn the boolean partial flags into integers)
        arrs = [pt[i] if offset is None else pt[i] + offset(pt[0]) for pt in parts]
        return np.concatenate(arrs)

    mx = Extrema(cat(12, lambda a: a * n_sites), Time(cat(13)), cat(14))
    passes = Passes(sat=cat(1, lambda a: a), site=cat(2), rise_ns=cat(3), set_ns=cat(4),
                    rise_partial=cat(5), set_partial=cat(6), culmination_ns=cat(7),
                    max_elevation_deg=cat(8), culmination_azimuth_deg=cat(9),
                    rise_azimuth_deg=cat(10), set_azimuth_deg=cat(11),
                    start=Time(int(start.ns)), end=Time(int(end.ns)),
                    min_elevation_deg=float(min_elevation_deg), maxima=mx,
                    failed={k: c for pt in parts for k, c in pt[16].items()})
    if visibility and len(passes):
        vis = [pt[15] for pt in parts if pt[15] is not None]
        passes.visibility = {
            "sunlit": np.concatenate([v["sunlit"] for v in vis]),
            "sun_elevation_deg": np.concatenate([v["sun_elevation_deg"] for v in vis]),
            "eclipse_entry_ns": [e for v in vis for e in v["eclipse_entry_ns"]],
            "eclipse_exit_ns": [e for v in vis for e in v["eclipse_exit_ns"]],
            "visible_start_ns": np.concatenate([v["visible_start_ns"] for v in vis]),
            "visible_end_ns": np.concatenate([v["visible_end_ns"] for v in vis]),
            "dark_sun_elevation_deg": dark_sun_elevation_deg}
    return passes


def find_passes(catalog, sites, start: Time, end: Time, min_elevation_deg: float = 0.0,
                visibility: bool = False, dark_sun_elevation_deg=DARK_SUN_ELEVATION_DEG,
                ephemeris: Ephemeris | None = None, polar_motion: bool = True,
                workers: int = 1) -> Passes:
    """Every pass of every satellite of ``catalog`` over every site in
    ``[start, end]`` reaching ``min_elevation_deg``.

    ``sites``: GroundPoints or objects with ``.ground_point``.  A pass that
    is still up at the window edge is cut there and flagged partial.
    ``polar_motion=False`` leaves out IERS polar motion (~10 m at the site), as
    Skyfield's ``find_events`` does: for like-for-like comparisons.
    ``workers > 1`` splits the satellites over that many forked processes
    (same results; the caller chooses, the core reads no CPU count).
    """
    sites = [getattr(s, "ground_point", s) for s in (sites if isinstance(sites, (list, tuple))
                                                     else [sites])]
    if not sites:
        raise PassError("find_passes: no sites given (sites: one or more GroundPoints)")
    if not -90.0 <= float(min_elevation_deg) <= 90.0:
        raise PassError(f"min_elevation_deg {min_elevation_deg:g}: an elevation mask lies in "
                        "[-90, 90] deg")
    eph = ephemeris if ephemeris is not None else catalog_ephemeris(catalog)
    if ephemeris is None:           # (the caller of a given ephemeris warns for its window)
        warn_if_stale(eph._epoch_ns, start.ns, end.ns)
    if workers > 1 and len(eph) >= 2 * workers:
        return _find_passes_pool(catalog, sites, start, end, min_elevation_deg, visibility,
                                 dark_sun_elevation_deg, eph, polar_motion, int(workers))
    eph.failed = {}                       # failures of this window only
    eph.failure_window = (int(start.ns), int(end.ns))
    g = ElevationG(eph, sites, min_elevation_deg, polar_motion=polar_motion)
    # the polish's exact states, for the look angles at rise, culmination
    # and set (_look_angles)
    g.start_exact_log()
    try:
        result: Scan = scan(g, start, end, maxima=True, max_threshold=0.0,
                            chunk_elements=min(CHUNK_ELEMENTS,
                                               PASS_GRID_CHUNK_SAMPLES * len(sites)))
    finally:
        log = g.stop_exact_log()
    iv = to_intervals(result.crossings)
    mx = result.maxima
    n = len(iv)
    # Culmination: the highest interior maximum of each interval; else the
    # higher window edge (a partial pass still rising or already falling).
    cul = np.full(n, -1, dtype=np.int64)
    cul_ref = np.full(n, -1, dtype=np.int64)
    cul_value = np.full(n, np.nan)
    if len(mx) and n:
        j = latest_at_or_before(iv.obj, iv.start.ns, mx.obj, mx.time.ns)
        jj = np.maximum(j, 0)
        ok = (j >= 0) & (mx.time.ns <= iv.end.ns[jj])
        for_j, t_m, v_m, r_m = jj[ok], mx.time.ns[ok], mx.value[ok], mx.ref[ok]
        order = np.lexsort((v_m, for_j))            # highest last per interval
        for_j, t_m, v_m, r_m = for_j[order], t_m[order], v_m[order], r_m[order]
        last = np.r_[for_j[1:] != for_j[:-1], True]  # the highest of each interval
        cul[for_j[last]] = t_m[last]
        cul_ref[for_j[last]] = r_m[last]
        cul_value[for_j[last]] = v_m[last]
    # A pass without a sampled maximum (found on exact values next to an
    # SGP4 failure, events._failure_substeps): its peak by golden section on
    # exact values (it was reported at an edge; review rounds 22 and 23); a
    # partial one then keeps the higher of that and its window edge (below)
    sat = iv.obj // len(sites)
    site = iv.obj % len(sites)
    lone = cul < 0
    # A partial pass without an interior maximum, of a satellite whose SGP4
    # did not fail in the window, rises to the window's end or falls from
    # its start (a sampled maximum inside the window would have been found):
    # its culmination is its partial edge, the higher one where both are
    # (below), no search needed
    edge_only = lone & (iv.start_partial | iv.end_partial) & ~np.isin(
        sat, np.fromiter(eph.failed, dtype=np.int64, count=len(eph.failed)))
    cul[edge_only] = np.where(iv.start_partial, iv.start.ns, iv.end.ns)[edge_only]
    lone &= ~edge_only
    if lone.any():
        cul[lone], _ = golden_extremum(_ExactValues(g), iv.obj[lone], iv.start.ns[lone],
                                       iv.end.ns[lone], "max")
    # exact states at rise, culmination and set for azimuths and elevations
    t3 = np.stack([iv.start.ns, cul, iv.end.ns], axis=1)
    refs3 = np.stack([iv.start_ref, cul_ref, iv.end_ref], axis=1)   # cul_ref: -1 off maxima
    # what the polish found there on exact values: the mask at the roots,
    # the polished peak at the culminations
    expect = np.stack([np.full(n, g.sin_mask), cul_value + g.sin_mask,
                       np.full(n, g.sin_mask)], axis=1)
    el, az = _look_angles(g, iv.obj, t3, log, refs3, expect)
    # The culmination is the highest point inside the window: a window edge
    # of a partial pass where that edge is higher than every interior maximum
    # (a pass still rising at the end, or falling from before the start).
    above = np.stack([iv.start_partial & (el[:, 0] > el[:, 1]),
                      iv.end_partial & (el[:, 2] > el[:, 1])], axis=1)
    use_edge = above.any(axis=1)
    if use_edge.any():
        edge_el = np.where(above, el[:, [0, 2]], -np.inf)[use_edge]
        edge_hi = np.where(edge_el[:, 0] >= edge_el[:, 1], 0, 2)
        cul[use_edge] = t3[use_edge, edge_hi]
        el[use_edge, 1] = el[use_edge, edge_hi]
        az[use_edge, 1] = az[use_edge, edge_hi]
    passes = Passes(sat=sat, site=site, rise_ns=iv.start.ns, set_ns=iv.end.ns,
                    rise_partial=iv.start_partial, set_partial=iv.end_partial,
                    culmination_ns=cul, max_elevation_deg=el[:, 1],
                    culmination_azimuth_deg=az[:, 1], rise_azimuth_deg=az[:, 0],
                    set_azimuth_deg=az[:, 2], start=Time(int(start.ns)), end=Time(int(end.ns)),
                    min_elevation_deg=float(min_elevation_deg), maxima=mx)
    passes.failed = dict(sorted(eph.failed.items()))
    if visibility and n:
        passes.visibility = pass_visibility(passes, catalog, sites, eph,
                                            dark_sun_elevation_deg)
    return passes


class _ExactValues:
    """A g-function's exact values only (for a search on exact values)."""

    def __init__(self, g):
        self.g = g

    def evaluate(self, obj, t_ns, exact=True):
        return self.g.evaluate(obj, t_ns, exact=True)


def _look_angles(g, obj, t_ns, log=None, refs=None, expect_sin_el=None):
    """Exact elevation and azimuth (deg) of pairs ``obj`` of ``g`` (an
    ElevationG) at times ``t_ns`` (n, 3): rise, culmination, set.

    Where the search's polish left an exact SGP4 state near the time
    (``log``, ``refs`` (n, 3): g.stop_exact_log() and the rows the engine
    recorded, -1 for none), that state is carried to the time instead of a
    new SGP4 evaluation (_states_from_log); elsewhere SGP4 at the time.  A
    carried state is checked against what the polish found there with exact
    SGP4, ``expect_sin_el`` (n, 3): the sine of the mask at a root, of the
    polished peak at a culmination.  Off by more than LOOK_CHECK_SIN_TOL (an
    element set whose SGP4 velocity is not its position's rate: 81521 in
    October 2023, 44 km/s against 6 km/s; review round 26), SGP4 at the
    time instead."""
    if not len(obj):
        return np.zeros((0, t_ns.shape[1])), np.zeros((0, t_ns.shape[1]))
    if log is None or refs is None:
        return _exact_look_angles(g, obj, t_ns)
    # in chunks: the states gathered from the log stay a few tens of MB
    parts = [_carried_look_angles(g, obj[k:k + LOOK_CHUNK_PASSES], t_ns[k:k + LOOK_CHUNK_PASSES],
                                  log, refs[k:k + LOOK_CHUNK_PASSES],
                                  None if expect_sin_el is None
                                  else expect_sin_el[k:k + LOOK_CHUNK_PASSES])
             for k in range(0, len(obj), LOOK_CHUNK_PASSES)]
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


def _exact_look_angles(g, obj, t_ns):
    """``_look_angles`` from SGP4 at the times."""
    r, _ = g._itrs(obj, t_ns, exact=True, polar_motion=g.polar_motion)
    return _angles(g, obj % g.n_sites, r)[:2]


def _carried_look_angles(g, obj, t_ns, log, refs, expect_sin_el):
    """``_look_angles`` from the logged states, SGP4 where there are none or
    where they disagree with ``expect_sin_el``."""
    r_teme, have = _states_from_log(log, refs, t_ns)
    el, az, sin_el = _angles(g, obj % g.n_sites, g._rotate_exact(r_teme, t_ns, g.polar_motion))
    # SGP4 at the time where no state was carried, or where the carried one
    # disagrees with the polish
    redo = ~have
    if expect_sin_el is not None:
        with np.errstate(invalid="ignore"):
            redo |= ~(np.abs(sin_el - expect_sin_el) <= LOOK_CHECK_SIN_TOL)
    if redo.any():
        i, j = np.nonzero(redo)
        el_x, az_x = _exact_look_angles(g, obj[i], t_ns[i, j][:, None])
        el[i, j], az[i, j] = el_x[:, 0], az_x[:, 0]
    return el, az


def _angles(g, site, r):
    """Elevation, azimuth (deg) and sin(elevation) of ITRS positions ``r``
    (3, n, m) seen from ``g``'s sites ``site`` (n,)."""
    r_site = np.stack([s.r_itrs_km for s in g.sites], axis=1)[:, site][:, :, None]
    enu = np.stack([s.enu_matrix() for s in g.sites])[site]          # (n, 3, 3)
    d = r - r_site
    e = np.einsum("nj,jnm->nm", enu[:, 0, :], d)
    nn = np.einsum("nj,jnm->nm", enu[:, 1, :], d)
    u = np.einsum("nj,jnm->nm", enu[:, 2, :], d)
    horizontal = np.hypot(e, nn)
    el = np.degrees(np.arctan2(u, horizontal))
    az = np.degrees(np.arctan2(e, nn)) % 360.0
    with np.errstate(invalid="ignore", divide="ignore"):
        sin_el = u / np.hypot(horizontal, u)
    return el, az, sin_el


def _states_from_log(log, refs, t_ns):
    """TEME positions ``(3, n, 3)`` at ``t_ns`` (n, 3) (rise, culmination,
    set) from the exact states the polish logged, and where they were
    found ``(n, 3)`` bool.

    * Rise and set (columns 0 and 2): the root's last exact state (row
      ``ref``), carried over the last polish step (at most
      LOOK_CARRY_MAX_S) by its velocity and two-body gravity.  SGP4's
      velocity is off its position's derivative by ~1 m/s (0.5 m over
      0.5 s; 137 m/s for the worst element set of the 2023-10-13 catalog,
      70 m), the gravity term's J2 part by 1e-3 of it (a few mm).
    * Culmination (column 1): between the pair of exact states 1 s either
      side of the extremum polish's last point (rows ``ref``, ``ref + 1``):
      the chord plus two-body gravity, ``r = r_a + (r_b - r_a) s + a (t -
      t_a)(t - t_b) / 2``, positions only (no velocity); off by the third
      derivative's term, under a millimetre.
    In one compiled pass (kernels.carry_logged_states).  Tests:
    tests/test_passes.py against SGP4 at the same times."""
    t_log, r_log, v_log = log
    return carry_logged_states(t_log, r_log, v_log, np.ascontiguousarray(refs, dtype=np.int64),
                               np.ascontiguousarray(t_ns, dtype=np.int64), float(MU_KM3_S2),
                               int(LOOK_CARRY_MAX_S * NS_PER_S))


def pass_visibility(passes: Passes, catalog, sites, eph: Ephemeris,
                    dark_sun_elevation_deg=DARK_SUN_ELEVATION_DEG) -> dict:
    """Per pass: sunlit at rise/culmination/set, eclipse entry/exit times
    inside the pass, whether the site is dark, and the visible span (sunlit
    satellite above the mask under a dark sky: the first start and last end
    of those stretches).

    Eclipses come from one engine scan of the shadow margin (SunlitG), with
    SGP4 only around the passes; dark spells from a scan of the Sun's
    elevation at each site (DarkSiteG); the visible stretches are the pass
    cut by both, as intervals."""
    n = len(passes)
    n_sites = len(sites)
    sats = np.unique(passes.sat)
    sub = Ephemeris([eph.satrecs[i] for i in sats], eph.step_s[sats], _parent=(eph, sats),
                    epochs_from_split=eph.epochs_from_split)
    local = np.searchsorted(sats, passes.sat)
    t0, t1 = passes.start, passes.end
    ecl = scan(SunlitG(sub, 1, windows=(local, passes.rise_ns, passes.set_ns)),
               t0, t1, failure_crossings=False).crossings   # object = local satellite
    dark_iv = to_intervals(scan(DarkSiteG(sites, 1, dark_sun_elevation_deg), t0, t1).crossings)
    # sunlit at rise, culmination and set: exact
    t3 = np.stack([passes.rise_ns, passes.culmination_ns, passes.set_ns], axis=1)
    r, _ = sub.exact_states(local, t3, velocity=False)
    lit = shadow_margin_km(r, sun_position_teme_km(Time(t3))) >= 0
    sun_el = _sun_elevation_at(sites, passes.site, t3)
    # eclipse events inside each pass (passes of one satellite over one site
    # never overlap, so each event belongs to at most one pass per site)
    ev_pass, ev_t, ev_dir = [], [], []
    for s_i in range(n_sites):
        ps = np.flatnonzero(passes.site == s_i)
        if not len(ps) or not len(ecl):
            continue
        j = latest_at_or_before(local[ps], passes.rise_ns[ps], ecl.obj, ecl.time.ns)
        jj = ps[np.maximum(j, 0)]
        ok = (j >= 0) & (ecl.time.ns <= passes.set_ns[jj])
        ev_pass.append(jj[ok])
        ev_t.append(ecl.time.ns[ok])
        ev_dir.append(ecl.direction[ok])
    ev_pass = np.concatenate(ev_pass) if ev_pass else np.zeros(0, np.int64)
    ev_t = np.concatenate(ev_t) if ev_t else np.zeros(0, np.int64)
    ev_dir = np.concatenate(ev_dir) if ev_dir else np.zeros(0, np.int8)
    o = np.lexsort((ev_t, ev_pass))
    ev_pass, ev_t, ev_dir = ev_pass[o], ev_t[o], ev_dir[o]
    # per pass: its eclipse entries and exits (most passes have none: they
    # share one empty tuple)
    entry: list = [()] * n
    exit_: list = [()] * n
    for p, t, d in zip(ev_pass.tolist(), ev_t.tolist(), ev_dir.tolist()):
        lists = exit_ if d > 0 else entry
        lists[p] = (*lists[p], t)
    # sunlit stretches of each pass: from the rise, toggled at each event
    seg_p = np.concatenate([np.arange(n), ev_pass])
    seg_a = np.concatenate([passes.rise_ns, ev_t])
    seg_lit = np.concatenate([lit[:, 0], ev_dir > 0])
    first = np.concatenate([np.ones(n, bool), np.zeros(len(ev_pass), bool)])
    o = np.lexsort((~first, seg_a, seg_p))
    seg_p, seg_a, seg_lit = seg_p[o], seg_a[o], seg_lit[o]
    same_next = np.r_[seg_p[1:] == seg_p[:-1], False]
    seg_b = np.where(same_next, np.r_[seg_a[1:], 0], passes.set_ns[seg_p])
    keep = seg_lit & (seg_b > seg_a)
    seg_p, seg_a, seg_b = seg_p[keep], seg_a[keep], seg_b[keep]
    # cut by the dark spells of each pass's site
    vis_start = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    vis_end = np.full(n, -1, dtype=np.int64)
    seg_site = passes.site[seg_p]
    for k in range(len(dark_iv)):
        here = seg_site == dark_iv.obj[k]
        lo = np.maximum(seg_a[here], dark_iv.start.ns[k])
        hi = np.minimum(seg_b[here], dark_iv.end.ns[k])
        ok = lo < hi
        np.minimum.at(vis_start, seg_p[here][ok], lo[ok])
        np.maximum.at(vis_end, seg_p[here][ok], hi[ok])
    vis_start[vis_end < 0] = -1
    return {"sunlit": lit, "sun_elevation_deg": sun_el, "eclipse_entry_ns": entry,
            "eclipse_exit_ns": exit_, "visible_start_ns": vis_start, "visible_end_ns": vis_end,
            "dark_sun_elevation_deg": dark_sun_elevation_deg}


def _passes_subset(passes: Passes, index) -> Passes:
    """Passes ``index`` (in that order) of ``passes``, visibility included."""
    arrays = {name: getattr(passes, name)[index] for name in (
        "sat", "site", "rise_ns", "set_ns", "rise_partial", "set_partial", "culmination_ns",
        "max_elevation_deg", "culmination_azimuth_deg", "rise_azimuth_deg", "set_azimuth_deg")}
    vis = passes.visibility
    if vis is not None:
        ix = index.tolist()
        vis = dict(vis, **{k: vis[k][index] for k in (
            "sunlit", "sun_elevation_deg", "visible_start_ns", "visible_end_ns")},
            eclipse_entry_ns=[vis["eclipse_entry_ns"][i] for i in ix],
            eclipse_exit_ns=[vis["eclipse_exit_ns"][i] for i in ix])
    return Passes(**arrays, start=passes.start, end=passes.end,
                  min_elevation_deg=passes.min_elevation_deg, maxima=passes.maxima,
                  visibility=vis, failed=passes.failed)


def _sun_elevation_at(sites, site_idx, t_ns):
    sun = sun_position_itrs_km(Time(t_ns))
    r_site = np.stack([s.r_itrs_km for s in sites], axis=1)[:, site_idx][:, :, None]
    up = np.stack([s.enu_matrix()[2] for s in sites], axis=1)[:, site_idx][:, :, None]
    d = sun - r_site
    return np.degrees(np.arcsin((d * up).sum(axis=0) / np.sqrt((d * d).sum(axis=0))))


def pass_order(passes: Passes, catalog) -> np.ndarray:
    """Indices of the passes by rise time (the window start for a pass
    already up), then NORAD number: the order the interfaces list them in."""
    norad = np.array([es.norad_id for es in catalog], dtype=np.int64)
    return np.lexsort((norad[passes.sat], passes.rise_ns))


def pass_rows(passes: Passes, catalog, sites, index=None) -> list[dict]:
    """JSON-ready rows, one per pass (UTC ISO-8601 with Z; null for a rise or
    set outside the window).  Every value is a plain Python value, each
    column converted once as an array.  ``index``: only these passes, in
    this order (e.g. the first rows of :func:`pass_order`)."""
    sets = list(catalog)
    sites = [getattr(s, "ground_point", s) for s in (sites if isinstance(sites, (list, tuple))
                                                     else [sites])]
    names = [getattr(s, "name", "") for s in sites]
    if index is not None:
        passes = _passes_subset(passes, np.asarray(index, dtype=np.int64))
    vis = passes.visibility
    n = len(passes)
    if not n:
        return []

    def iso(ns):
        return Time(np.asarray(ns, dtype=np.int64)).iso(3) if len(ns) else []

    def rounded(x, digits):
        x = np.asarray(x, dtype=float)
        return nullable(np.round(x, digits).tolist(), ~np.isfinite(x))

    def nullable(values, null):
        return [None if z else v for v, z in zip(values, null.tolist())]

    sat = passes.sat.tolist()
    rise_p, set_p = passes.rise_partial, passes.set_partial
    cols = {
        "norad_id": [sets[i].norad_id for i in sat],
        "name": [sets[i].name for i in sat],
        "site": [names[i] for i in passes.site.tolist()],
        "rise_time": nullable(iso(passes.rise_ns), rise_p),
        "rise_azimuth_deg": nullable(rounded(passes.rise_azimuth_deg, 3), rise_p),
        "culmination_time": iso(passes.culmination_ns),
        "max_elevation_deg": rounded(passes.max_elevation_deg, 4),
        "culmination_azimuth_deg": rounded(passes.culmination_azimuth_deg, 3),
        "set_time": nullable(iso(passes.set_ns), set_p),
        "set_azimuth_deg": nullable(rounded(passes.set_azimuth_deg, 3), set_p),
        "duration_s": rounded(passes.duration_s, 3),
        "rise_partial": rise_p.tolist(),
        "set_partial": set_p.tolist(),
        "window_start": [Time(int(passes.start.ns)).iso(3)] * n,
        "window_end": [Time(int(passes.end.ns)).iso(3)] * n,
        "epoch": iso(np.array([sets[i].epoch_ns for i in sat], dtype=np.int64)),
    }
    if vis is not None:
        vs, ve = vis["visible_start_ns"], vis["visible_end_ns"]
        entry, exit_ = vis["eclipse_entry_ns"], vis["eclipse_exit_ns"]
        flat_in = iso(np.array([t for ts in entry for t in ts], dtype=np.int64))
        flat_out = iso(np.array([t for ts in exit_ for t in ts], dtype=np.int64))
        cut_in = np.cumsum([0] + [len(ts) for ts in entry]).tolist()
        cut_out = np.cumsum([0] + [len(ts) for ts in exit_]).tolist()
        cols.update({
            "sunlit_at_culmination": vis["sunlit"][:, 1].tolist(),
            "sunlit": (vis["sunlit"].any(axis=1)
                       | np.array([bool(ts) for ts in exit_], dtype=bool)).tolist(),
            "site_dark": (vis["sun_elevation_deg"][:, 1]
                          < vis["dark_sun_elevation_deg"]).tolist(),
            "sun_elevation_deg": rounded(vis["sun_elevation_deg"][:, 1], 3),
            "eclipse_entry_times": [flat_in[cut_in[i]:cut_in[i + 1]] for i in range(n)],
            "eclipse_exit_times": [flat_out[cut_out[i]:cut_out[i + 1]] for i in range(n)],
            "visible": (vs >= 0).tolist(),
            "visible_start": nullable(iso(np.maximum(vs, 0)), vs < 0),
            "visible_end": nullable(iso(np.maximum(ve, 0)), ve < 0),
        })
    keys = list(cols)
    return [dict(zip(keys, values)) for values in zip(*(cols[k] for k in keys))]
