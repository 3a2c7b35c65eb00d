"""All-vs-all conjunction screening: what passes within a threshold of what.

Pure core (numpy + sgp4; numba, else scipy, for the spatial index); no I/O.
The window is cut into time *blocks* (the unit of work, also the unit that
:mod:`satwatch.distributed` sends to Dask workers); each block runs the same
four stages, and :func:`merge_blocks` joins them, so a run on one machine and
a run on a cluster produce the same events, bit for bit.

Stages (see docs/conjunctions.md for the reasoning and measured numbers):

1. **Apogee/perigee filter, time-resolved.**  Every object is sampled with
   SGP4 every ``h`` seconds (``step_s``).  Around each sample its radius can
   move by at most ``B = D/2 + |rdot| h/2 + A h^2/8`` (``A`` bounds the radial
   acceleration), so two objects can only come within ``D`` during the half
   step around a sample if their radii there differ by at most
   ``B_i + B_j``: a per-sample apogee/perigee (radial shell) test.  The
   classic whole-orbit apogee/perigee pair count is reported for reference.
2. **Spatial index (orbit path and time filter in one).**  At each sample a
   uniform grid (:mod:`satwatch.screening_grid`) finds the pairs whose
   positions lie within ``R = D + (vb_i + vb_j) h/2`` (the farthest two
   objects can close in half a step) *and* whose radial shells overlap; a
   chord test then keeps the steps around the sample whose straight-line
   relative path, padded by a gravity-gradient bound, comes under ``D``.
3. **Candidate detection.**  For every surviving pair and the two steps
   around the sample, the relative motion is a cubic Hermite polynomial of
   the two SGP4 states at the step ends; its minimum (9 samples + Newton) is
   compared with ``D`` plus the interpolation error bound.  (SGP4 runs at
   every third sample, ``ScreeningSettings.sgp4_every``; the samples between
   are cubic Hermite values, and their error bounds are added to every pad.)
4. **TCA refinement.**  Vectorised Newton iteration on the range-rate
   ``f(t) = d . w`` with exact SGP4 states at each candidate's own time, to
   a microsecond; events with miss distance <= ``D`` are kept.

Objects that SGP4 cannot propagate (decayed, bad elements) are data: their
samples are left out and their error codes are reported in
:attr:`Conjunctions.failed`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import SatwatchError
from .propagation import (MIN_PERIGEE_RADIUS_KM, MU_KM3_S2, UNPHYSICAL_STATE, max_radius_km,
                          physical_state, warn_if_stale)
from .screening_grid import find_pair_steps
from .time import NS_PER_DAY, NS_PER_S, Time

# Bound on the acceleration of any Earth orbiter (surface gravity, km/s^2):
# used to bound how much a speed can grow within half a step.
MAX_ACCEL_KM_S2 = 0.0100
# Radial acceleration beyond two-body (J2 short-period terms ~5e-5 km/s^2,
# drag far less); a generous allowance.
EXTRA_RADIAL_ACCEL_KM_S2 = 2e-4
# Osculating eccentricity can exceed the TLE's mean one by ~1e-3 (J2 short
# period terms); added before bounding the radial acceleration.
ECC_ALLOWANCE = 0.002
# Slack on every bound (float rounding, SGP4 velocity vs position derivative).
MARGIN_KM = 0.5
# Velocity error of a cubic Hermite sample per unit of its position error
# bound over the span (see _block_samples: the true ratio is <= 0.31).
HERMITE_DV_FACTOR = 2.0
# Longest span H between two SGP4 samples that are cubic Hermite
# interpolated (ScreeningSettings.sgp4_every is reduced to fit:
# every = floor(MAX_HERMITE_SPAN_S / h), at least 1).  The position error
# bound eps = 10 H^4/384 n_p^4 r_p grows as H^4: 0.27 km for LEO at the
# default H = 3 x 60 s, 2.1 km at 300 s, but 2,700 km at 3 x 600 s, where
# the cubic spans a third of a LEO orbit and is no orbit at all (at
# step_s 570-600 s such samples failed the physical-state test and healthy
# objects were reported as decayed, their events lost).  Beyond 300 s the
# wider pads cost more than the SGP4 calls saved (measured, 4,000 random
# objects of the 2023-10-13 catalog over 6 h, same events: step 200 s
# 0.57 s with this cap vs 1.22 s with SGP4 every 3rd sample; 300 s: 0.61
# vs 8.0 s, 919 vs 784,096 candidates).
MAX_HERMITE_SPAN_S = 300.0
# Shortest sampling step accepted (ScreeningSettings.check).
MIN_STEP_S = 1.0
# Newton stops when the last correction is below this (far under the 10 ms
# to which TCAs are required).
TCA_TOL_S = 1e-6
NEWTON_ITERATIONS = 40
# Two minima of the same pair closer than this are one event seen from two
# steps (physically two minima of one pair are >= ~15 min apart).
SAME_EVENT_S = 1.0
# Below this relative speed (1 mm/s) two objects share one trajectory (the
# ISS and the vehicles docked to it carry the same elements): no TCA exists.
MIN_RELATIVE_SPEED_KM_S = 1e-6
# Vehicles docked to a station carry a copy of the station's element set,
# several of them the same one (a shared set: identical epoch and mean
# elements).  Where the station's own set is newer, each copy is seen a few
# km off the station, creeping at m/s, with a "closest approach" every orbit
# (the ISS of 2023-10-13: Nauka, Soyuz MS-24, Progress MS-23/24, Cygnus
# NG-19 and Dragon share its set of 1.2 days before, 3.2-4.3 km off at 3.8
# m/s: 72 of its 141 events that day).  A pair of such a shared set and
# another object whose every event lies within ATTACHED_MISS_KM at under
# ATTACHED_SPEED_KM_S is one body seen through two element sets: listed with
# the coincident pairs, never as events.  (Formation flyers, TerraSAR-X and
# TanDEM-X, each have their own set: their approaches stay events.)
ATTACHED_MISS_KM = 10.0
ATTACHED_SPEED_KM_S = 0.010
EARTH_RADIUS_KM = 6378.135
# UNPHYSICAL_STATE (propagation.physical_state): states SGP4 returns without
# an error code that no orbiter can have (sgp4's own codes are 1-6).
ERRORS = {UNPHYSICAL_STATE: "unphysical SGP4 state (below the surface, at escape speed, too "
                            "slow for any orbit through that radius, or beyond the element "
                            "set's reach): treated as decayed"}


class ConjunctionError(SatwatchError, ValueError):
    """Screening could not be set up (bad window, threshold or step)."""


@dataclass(frozen=True)
class ScreeningSettings:
    """Tuning of the screener; the defaults suit a 5 km, whole-catalog day.

    ``step_s``: SGP4 sampling step ``h``.  ``block_steps``: steps per block
    (the unit of work and of memory: ~n_obj x block_steps x 48 bytes).
    ``radial_slab_km``: objects whose radial pad ``B`` stays below this are
    "thin" (sorted by radius in the grid); ``slow_speed_km_s``: speed cap for
    thin objects.  ``sgp4_every``: SGP4 at every ``sgp4_every``-th sample
    (and the block's last), cubic Hermite in between (its error bounds are
    added to every pad; TCAs are always refined with exact SGP4); 1: SGP4 at
    every sample; reduced so that SGP4 samples are at most
    ``MAX_HERMITE_SPAN_S`` apart (:func:`sgp4_stride`).  ``use_numba``:
    None = when installed.
    """

    threshold_km: float = 5.0
    step_s: float = 60.0
    block_steps: int = 60
    radial_slab_km: float = 10.0
    slow_speed_km_s: float = 8.0
    use_numba: bool | None = None
    sgp4_every: int = 3

    def check(self):
        if not 0 < self.threshold_km < np.inf:
            raise ConjunctionError(f"threshold_km must be a positive finite distance, got "
                                   f"{self.threshold_km!r}")
        # below a second the sampling only multiplies the work (approaches
        # are refined to the millisecond whatever the step); a 1e-6 s step
        # over a day was 8.6e10 samples per object
        if not MIN_STEP_S <= self.step_s <= 600:
            raise ConjunctionError(f"step_s must be in [{MIN_STEP_S:g}, 600] s, "
                                   f"got {self.step_s!r}")
        if int(self.block_steps) < 2:
            raise ConjunctionError("block_steps must be at least 2")
        if int(self.sgp4_every) < 1:
            raise ConjunctionError(f"sgp4_every must be 1 or more, got {self.sgp4_every!r}")


@dataclass(frozen=True)
class ObjectTable:
    """What the screener needs of each object, as arrays, with its SGP4
    satellites (workers rebuild it from the element sets: see
    :mod:`satwatch.distributed`)."""

    norad_ids: np.ndarray
    epochs_ns: np.ndarray
    eccentricity: np.ndarray
    perigee_radius_km: np.ndarray
    satrecs: list = field(repr=False, compare=False)
    # farthest a physical state may be, after and before each epoch
    # (propagation.max_radius_km)
    max_radius_fwd_km: np.ndarray = field(repr=False, compare=False)
    max_radius_bwd_km: np.ndarray = field(repr=False, compare=False)

    @classmethod
    def from_catalog(cls, catalog) -> "ObjectTable":
        sets = list(catalog)
        ecc = np.array([es.eccentricity for es in sets], float)
        a = np.array([es.semi_major_axis_km for es in sets], float)
        satrecs = list(catalog.satrecs)
        return cls(norad_ids=np.array([es.norad_id for es in sets], np.int64),
                   epochs_ns=np.array([es.epoch_ns for es in sets], np.int64),
                   eccentricity=ecc, perigee_radius_km=a * (1.0 - ecc), satrecs=satrecs,
                   max_radius_fwd_km=max_radius_km(satrecs),
                   max_radius_bwd_km=max_radius_km(satrecs, backward=True))

    def max_radius_at(self, t_ns: int) -> np.ndarray:
        """Radius bound of every object over a block starting at ``t_ns``:
        the forward one where the block starts after the epoch, else the
        wider backward one."""
        return np.where(t_ns >= self.epochs_ns, self.max_radius_fwd_km, self.max_radius_bwd_km)

    def __len__(self):
        return len(self.norad_ids)


@dataclass(frozen=True)
class Grid:
    """Sample times: ``start_ns + round(k * step_ns)`` for k = 0..n_steps."""

    start_ns: int
    end_ns: int
    n_steps: int
    block_steps: int

    @property
    def step_s(self) -> float:
        return (self.end_ns - self.start_ns) / self.n_steps / NS_PER_S

    def times_ns(self, k0: int, k1: int) -> np.ndarray:
        # k * span // n, split as k * (span // n) + k * (span % n) // n (the
        # same integers): k * span overflows int64 beyond n * span = 9.2e18
        # ns^2 (8.6 days at 60 s steps), k * (span % n) < n^2 never does
        k = np.arange(k0, k1 + 1, dtype=np.int64)
        step_ns, rest_ns = divmod(self.end_ns - self.start_ns, self.n_steps)
        return self.start_ns + k * step_ns + (k * rest_ns) // self.n_steps

    def blocks(self) -> list[tuple[int, int]]:
        """Sample ranges ``[k0, k1]`` (inclusive, sharing their end samples)."""
        edges = list(range(0, self.n_steps, self.block_steps)) + [self.n_steps]
        return [(edges[b], edges[b + 1]) for b in range(len(edges) - 1)]


def make_grid(start: Time, end: Time, settings: ScreeningSettings) -> Grid:
    settings.check()
    s, e = int(start.ns), int(end.ns)
    if e <= s:
        raise ConjunctionError(f"end {end.iso()} must be after start {start.iso()}")
    n = max(2, int(np.ceil((e - s) / (settings.step_s * NS_PER_S))))
    return Grid(s, e, n, int(settings.block_steps))


@dataclass
class BlockResult:
    """Events found in one block, plus its stage counts and per-object data."""

    i1: np.ndarray
    i2: np.ndarray
    tca_ns: np.ndarray
    r1: np.ndarray          # (n, 3) TEME km
    v1: np.ndarray
    r2: np.ndarray
    v2: np.ndarray
    counts: dict
    radius_lo_km: np.ndarray  # per object, over the block's samples (NaN: never valid)
    radius_hi_km: np.ndarray
    error_code: np.ndarray    # per object: first non-zero SGP4 code in the block
    coincident: np.ndarray = field(default_factory=lambda: np.empty((0, 2), np.int64))
    # index pairs with a candidate whose TCA did not converge (slow drift)
    unconverged: np.ndarray = field(default_factory=lambda: np.empty((0, 2), np.int64))


@dataclass
class Conjunctions:
    """Close approaches, one per element of each array, sorted by TCA.

    Object 1 is the primary (the lower NORAD id in all-vs-all runs).  The miss
    vector is object 2 minus object 1 in object 1's radial / in-track /
    cross-track frame.  ``stats`` holds the pass-through of every stage;
    ``failed`` maps NORAD id -> SGP4 error code for objects that could not be
    propagated over part or all of the window.  ``coincident`` lists the
    NORAD id pairs that share one trajectory (zero relative speed: docked
    vehicles, duplicated element sets) within the threshold: no TCA, no event.
    ``unresolved`` lists the NORAD id pairs with no event whose closest
    approach the refinement could not pin down in the window (pairs drifting
    apart or together at metres per second: objects of one launch, formation
    flyers): reported, not dropped.
    """

    norad_id_1: np.ndarray
    norad_id_2: np.ndarray
    index_1: np.ndarray
    index_2: np.ndarray
    tca: Time
    miss_km: np.ndarray
    relative_speed_km_s: np.ndarray
    miss_rtn_km: np.ndarray      # (3, n)
    r1_teme_km: np.ndarray       # (3, n)
    v1_teme_km_s: np.ndarray
    r2_teme_km: np.ndarray
    v2_teme_km_s: np.ndarray
    age_1_days: np.ndarray
    age_2_days: np.ndarray
    threshold_km: float
    start: Time
    end: Time
    stats: dict
    failed: dict
    coincident: list = field(default_factory=list)
    unresolved: list = field(default_factory=list)

    def __len__(self):
        return len(self.miss_km)

    def order(self, by: str = "tca") -> np.ndarray:
        if by == "tca":
            return np.lexsort((self.norad_id_2, self.norad_id_1, self.tca.ns))
        if by == "miss":
            return np.lexsort((self.tca.ns, self.miss_km))
        raise ConjunctionError(f"cannot sort by {by!r}: use 'tca' or 'miss'")

    def rows(self, names=None, sort: str = "tca") -> list[dict]:
        """Plain rows for output (``names``: NORAD id -> name)."""
        names = names or {}
        iso = self.tca.iso(3)
        iso = [iso] if isinstance(iso, str) else iso
        out = []
        for k in self.order(sort):
            n1, n2 = int(self.norad_id_1[k]), int(self.norad_id_2[k])
            out.append({
                "norad_id_1": n1, "name_1": names.get(n1, ""),
                "norad_id_2": n2, "name_2": names.get(n2, ""),
                "tca": iso[k],
                "miss_km": float(self.miss_km[k]),
                "relative_speed_km_s": float(self.relative_speed_km_s[k]),
                "radial_km": float(self.miss_rtn_km[0, k]),
                "in_track_km": float(self.miss_rtn_km[1, k]),
                "cross_track_km": float(self.miss_rtn_km[2, k]),
                "age_1_days": float(self.age_1_days[k]),
                "age_2_days": float(self.age_2_days[k]),
            })
        return out


# -- per-sample bounds --------------------------------------------------------------

def sgp4_stride(every: int, step_s: float) -> int:
    """SGP4 at every ``every``-th sample, reduced so that two SGP4 samples
    are at most ``MAX_HERMITE_SPAN_S`` apart (at least 1: SGP4 everywhere)."""
    return max(1, min(int(every), int(MAX_HERMITE_SPAN_S // step_s)))


def _hermite_coef(objects: ObjectTable) -> np.ndarray:
    """Cubic Hermite error over a span ``H`` is at most ``coef H^4``:
    ``H^4/384 |r^(4)|`` with ``|r^(4)| ~ n_p^4 r_p`` at perigee, times 10."""
    rp = np.maximum(objects.perigee_radius_km, 6378.0 * 0.9)
    e = np.clip(objects.eccentricity, 0, 0.999)
    a = rp / (1 - e)
    n_p = np.sqrt(MU_KM3_S2 / a ** 3) * (1 + e) ** 2 / (1 - e * e) ** 1.5
    return 10.0 / 384.0 * n_p ** 4 * rp


def _radial_accel(objects: ObjectTable) -> np.ndarray:
    """Bound on each object's radial acceleration (km/s^2): two-body
    ``mu (e + 0.002) / r_p^2`` plus J2 and drag."""
    rp = np.maximum(objects.perigee_radius_km, 6378.0 * 0.9)
    return MU_KM3_S2 * (objects.eccentricity + ECC_ALLOWANCE) / rp ** 2 \
        + EXTRA_RADIAL_ACCEL_KM_S2


def _block_samples(sa, t_ns, objects: ObjectTable, h: float, d_km: float, every: int):
    """States and per-sample bounds of one block, time-major.

    SGP4 runs at samples ``0, every, 2 every, ...`` and the last; the samples
    between are the cubic Hermite of their two SGP4 neighbours (span ``H``),
    with position error ``eps = coef H^4`` (:func:`_hermite_coef`) and
    velocity error ``dv = HERMITE_DV_FACTOR eps / H`` (the cubic Hermite
    derivative error is at most ``sqrt(3)/216 H^3 |r^(4)|`` (Birkhoff and
    Priver 1967), i.e. ``0.31 eps / H`` for this eps: a factor of 6.5 to
    spare, on top of eps's own factor 10).  An interpolated sample inherits its ends'
    error codes.  Per sample: radius ``rn``, radial pad
    ``B = D/2 + |rdot| h/2 + A h^2/8 + margin + eps + dv h/2``, speed bound
    ``|v| + a_max h/2 + 2 eps/h + dv`` (so the spatial test grows by
    ``eps_i + eps_j``), validity (SGP4 code 0 and, at SGP4 samples, a
    physical state; others get UNPHYSICAL_STATE; an interpolated sample is
    only as valid as its two ends: it is within eps of SGP4, not itself an
    SGP4 state to test).  ``every`` is used as given (callers cap it with
    :func:`sgp4_stride`).  Returns ``(r, v, err, rn, pad_b, speed, valid,
    eps_max, dv_max)``: r, v (m, n, 3), the others (m, n), and per object
    the largest eps and dv."""
    m = len(t_ns)
    every = max(1, min(int(every), m - 1))
    ke = np.arange(0, m, every)
    if ke[-1] != m - 1:
        ke = np.append(ke, m - 1)
    jd, fr = Time(t_ns[ke]).jd_utc()
    err_e, r_e, v_e = sa.sgp4(np.ascontiguousarray(jd, float), np.ascontiguousarray(fr, float))
    t_s = (t_ns - t_ns[0]) / NS_PER_S
    coef, accel_r = _hermite_coef(objects), _radial_accel(objects)
    from .screening_grid import HAVE_NUMBA
    r_max = objects.max_radius_at(int(t_ns[0]))
    if HAVE_NUMBA:
        from .screening_grid import _block_samples_nb
        return _block_samples_nb(r_e, v_e, err_e, ke.astype(np.int64), t_s, coef, accel_r,
                                 float(h), float(d_km), MARGIN_KM, MAX_ACCEL_KM_S2,
                                 EARTH_RADIUS_KM, MU_KM3_S2, UNPHYSICAL_STATE,
                                 HERMITE_DV_FACTOR, r_max, MIN_PERIGEE_RADIUS_KM)
    return _block_samples_np(r_e, v_e, err_e, ke, t_s, coef, accel_r, h, d_km, r_max)


def _block_samples_np(r_e, v_e, err_e, ke, t_s, coef, accel_r, h, d_km, r_max):
    """numpy twin of ``screening_grid._block_samples_nb`` (same formulas)."""
    n, m = err_e.shape[0], len(t_s)
    err_e = err_e.astype(np.int16)
    err_e[(err_e == 0) & ~physical_state(r_e, v_e, r_max[:, None])] = UNPHYSICAL_STATE
    r = np.empty((m, n, 3))
    v = np.empty((m, n, 3))
    err = np.empty((m, n), np.int16)
    r[ke], v[ke], err[ke] = r_e.transpose(1, 0, 2), v_e.transpose(1, 0, 2), err_e.T
    eps = np.zeros((m, n))
    dv = np.zeros((m, n))
    eps_max, dv_max = np.zeros(n), np.zeros(n)
    ka, kb = ke[:-1], ke[1:]
    for j in range(1, int(np.max(kb - ka, initial=1))):   # offsets inside a span (< every)
        sel = ka + j < kb
        a, b = ka[sel], kb[sel]
        k = a + j
        span = (t_s[b] - t_s[a])[:, None, None]
        u = (t_s[k] - t_s[a])[:, None, None] / span
        u2, u3 = u * u, u * u * u
        p0, p1, w0, w1 = r[a], r[b], v[a], v[b]
        r[k] = (2 * u3 - 3 * u2 + 1) * p0 + (u3 - 2 * u2 + u) * span * w0 \
            + (-2 * u3 + 3 * u2) * p1 + (u3 - u2) * span * w1
        v[k] = (6 * u2 - 6 * u) / span * p0 + (3 * u2 - 4 * u + 1) * w0 \
            + (-6 * u2 + 6 * u) / span * p1 + (3 * u2 - 2 * u) * w1
        err[k] = np.maximum(err[a], err[b])
        e_pos = coef[None, :] * span[:, :, 0] ** 4 + 1e-6
        eps[k], dv[k] = e_pos, HERMITE_DV_FACTOR * e_pos / span[:, :, 0]
        eps_max = np.maximum(eps_max, eps[k].max(axis=0))
        dv_max = np.maximum(dv_max, dv[k].max(axis=0))
    valid = (err == 0) & np.isfinite(r).all(axis=2)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        rn = np.sqrt(np.einsum("mnk,mnk->mn", r, r))
        rdot = np.where(valid, np.einsum("mnk,mnk->mn", r, v) / rn, 0.0)
        pad_b = d_km / 2 + np.abs(rdot) * h / 2 + accel_r[None, :] * h * h / 8 + MARGIN_KM \
            + eps + dv * h / 2
        speed = np.sqrt(np.einsum("mnk,mnk->mn", v, v)) + MAX_ACCEL_KM_S2 * h / 2 \
            + 2 * eps / h + dv
    pad_b = np.where(valid, pad_b, np.inf)
    return r, v, err, rn, pad_b, speed, valid, eps_max, dv_max


# -- stage 3: cubic Hermite minimum over a step -------------------------------------

_S = np.linspace(0.0, 1.0, 9)


def _hermite(s, p0, v0, p1, v1, h):
    """Position, velocity (per unit s) and acceleration (per unit s^2) of the
    cubic Hermite through (p0, h v0) and (p1, h v1); s (P,), arrays (P, 3)."""
    s = s[:, None]
    s2, s3 = s * s, s * s * s
    m0, m1 = h * v0, h * v1
    p = (2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * m0 + (-2 * s3 + 3 * s2) * p1 \
        + (s3 - s2) * m1
    dp = (6 * s2 - 6 * s) * p0 + (3 * s2 - 4 * s + 1) * m0 + (-6 * s2 + 6 * s) * p1 \
        + (3 * s2 - 2 * s) * m1
    ddp = (12 * s - 6) * p0 + (6 * s - 4) * m0 + (-12 * s + 6) * p1 + (6 * s - 2) * m1
    return p, dp, ddp


def _hermite_minimum(p0, v0, p1, v1, h):
    """Approximate (s, distance) of the minimum of |p(s)| on [0, 1]."""
    n = len(p0)
    best_d = np.full(n, np.inf)
    best_s = np.zeros(n)
    for s in _S:                           # 9 fixed sample points, vectorised over pairs
        p, _, _ = _hermite(np.full(n, s), p0, v0, p1, v1, h)
        dist = np.sqrt(np.einsum("pk,pk->p", p, p))
        better = dist < best_d
        best_d[better], best_s[better] = dist[better], s
    s = best_s.copy()
    for _ in range(4):                     # Newton on g(s) = p . p'
        p, dp, ddp = _hermite(s, p0, v0, p1, v1, h)
        g = np.einsum("pk,pk->p", p, dp)
        dg = np.einsum("pk,pk->p", dp, dp) + np.einsum("pk,pk->p", p, ddp)
        step = np.where(dg > 0, -g / np.where(dg > 0, dg, 1.0), 0.0)
        s = np.clip(s + step, 0.0, 1.0)
    p, _, _ = _hermite(s, p0, v0, p1, v1, h)
    dist = np.sqrt(np.einsum("pk,pk->p", p, p))
    use = dist < best_d
    return np.where(use, s, best_s), np.where(use, dist, best_d)


# -- stage 4: Newton on range-rate with exact SGP4 ------------------------------------

def states_at(satrecs, index: np.ndarray, t_ns_ref: int, t_s: np.ndarray):
    """SGP4 states of objects ``index`` (P,) at their own times ``t_ref + t_s``.

    Returns ``(r, v, err)`` with r, v (P, 3).  One ``sgp4_array`` call per
    distinct object (vectorised over its times).
    """
    days, rem = divmod(int(t_ns_ref), NS_PER_DAY)
    jd0 = days + 2440587.5
    fr = rem / NS_PER_DAY + np.asarray(t_s, float) / 86400.0
    jd = np.full(len(index), jd0)
    r = np.full((len(index), 3), np.nan)
    v = np.full((len(index), 3), np.nan)
    err = np.zeros(len(index), np.int16)
    if not len(index):
        return r, v, err
    order = np.argsort(index, kind="stable")
    uniq, starts = np.unique(index[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    for u, s0, s1 in zip(uniq.tolist(), starts.tolist(), ends.tolist()):
        rows = order[s0:s1]
        e, rr, vv = satrecs[u].sgp4_array(jd[rows], fr[rows])
        r[rows], v[rows], err[rows] = rr, vv, e
    return r, v, err


def refine_tca(satrecs, i1, i2, t_ref_ns: int, t_guess_s, max_step_s: float):
    """Vectorised Newton iteration on the range-rate ``f = d . w`` of pairs
    ``(i1, i2)`` from ``t_guess_s`` (seconds after ``t_ref_ns``).

    A candidate stops when its next correction is under ``TCA_TOL_S``: its
    TCA and states are those of that last evaluation (no further SGP4 call;
    the TCA is then within a microsecond).  Returns ``(t_s, r1, v1, r2, v2,
    ok, unconverged)``; ``ok`` is False where SGP4 failed or the iteration
    did not converge (their states are NaN); ``unconverged`` marks the
    latter (counted in the statistics and reported, never dropped silently).
    """
    t = np.asarray(t_guess_s, float).copy()
    n = len(t)
    active = np.ones(n, bool)
    out = [np.full((n, 3), np.nan) for _ in range(4)]
    err = np.zeros(n, np.int16)
    # the last evaluation of each candidate, for a secant slope where the
    # Newton slope is unreliable (pairs with little relative speed, whose
    # tidal term d . acc rivals |w|^2: formation flyers)
    t_prev = np.full(n, np.nan)
    f_prev = np.full(n, np.nan)
    for _ in range(NEWTON_ITERATIONS):
        if not active.any():
            break
        a_idx = np.flatnonzero(active)
        r1, v1, e1 = states_at(satrecs, i1[a_idx], t_ref_ns, t[a_idx])
        r2, v2, e2 = states_at(satrecs, i2[a_idx], t_ref_ns, t[a_idx])
        d, w = r2 - r1, v2 - v1
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            acc = (-MU_KM3_S2 * r2 / np.linalg.norm(r2, axis=1, keepdims=True) ** 3
                   + MU_KM3_S2 * r1 / np.linalg.norm(r1, axis=1, keepdims=True) ** 3)
            f = np.einsum("pk,pk->p", d, w)
            ww = np.einsum("pk,pk->p", w, w)
            df = ww + np.einsum("pk,pk->p", d, acc)
            secant = (f - f_prev[a_idx]) / (t[a_idx] - t_prev[a_idx])
            df = np.where(df > 0.1 * ww, df,
                          np.where(np.isfinite(secant) & (secant > 0), secant, ww))
            step = np.clip(-f / df, -max_step_s, max_step_s)
        t_prev[a_idx], f_prev[a_idx] = t[a_idx], f
        bad = ~np.isfinite(step) | (e1 != 0) | (e2 != 0)
        done = bad | (np.abs(step) < TCA_TOL_S)
        for arr, val in zip(out, (r1, v1, r2, v2)):
            arr[a_idx[done]] = val[done]
        err[a_idx[done]] = np.where(e1[done] != 0, e1[done], e2[done])
        go = ~done
        t[a_idx[go]] += step[go]
        active[a_idx[done]] = False
    r1, v1, r2, v2 = out
    ok = (err == 0) & ~active & physical_state(r1, v1) & physical_state(r2, v2)
    return t, r1, v1, r2, v2, ok, active


# -- one block ---------------------------------------------------------------------

def screen_block(objects: ObjectTable, grid: Grid, k0: int, k1: int,
                 settings: ScreeningSettings, primary: np.ndarray | None = None,
                 satrec_array=None) -> BlockResult:
    """Run all four stages on samples ``k0..k1`` of ``grid``."""
    from sgp4.api import SatrecArray
    n = len(objects)
    h = grid.step_s
    d = settings.threshold_km
    t_ns = grid.times_ns(k0, k1)
    sa = satrec_array if satrec_array is not None else SatrecArray(objects.satrecs)
    r, v, err, rn, pad_b, speed, valid, eps_max, dv_max = _block_samples(
        sa, t_ns, objects, h, d, sgp4_stride(settings.sgp4_every, h))
    m = len(t_ns)
    counts = {"samples": int(n * m), "samples_valid": int(valid.sum())}

    # stages 2 and 3a: radial shell + spatial tests at every sample, chord test
    # on the steps around it (satwatch.screening_grid).  Candidate pads: the
    # Hermite error over a step, plus the interpolated samples' own errors
    # (position eps and velocity error dv, which moves a cubic Hermite over
    # one step by at most h dv / 4).
    herr = _hermite_coef(objects) * h ** 4 + eps_max + h * dv_max / 4
    ci, cj, ck, partial, n_ps = find_pair_steps(
        r, rn, pad_b, speed, valid, primary, herr, h, d, MARGIN_KM,
        slab_km=settings.radial_slab_km,
        slow_km_s=settings.slow_speed_km_s + MAX_ACCEL_KM_S2 * h / 2,
        use_numba=settings.use_numba)
    counts["pair_samples_spatial"] = n_ps
    counts["pair_steps_chord"] = int(len(ci))
    # stage 3b: cubic Hermite minimum on the surviving steps
    s_min = np.full(len(ci), 0.5)
    if len(ci):
        full = ~partial
        dmin = np.full(len(ci), np.inf)
        if full.any():
            a, b, k = ci[full], cj[full], ck[full]
            s_min[full], dmin[full] = _hermite_minimum(
                r[k, b] - r[k, a], v[k, b] - v[k, a], r[k + 1, b] - r[k + 1, a],
                v[k + 1, b] - v[k + 1, a], h)
        # A step with an end sample missing (decay inside the block) is refined
        # from its middle, so a last approach before decay is not lost silently.
        cand = partial | (dmin <= d + herr[ci] + herr[cj] + MARGIN_KM)
        ci, cj, ck, s_min = ci[cand], cj[cand], ck[cand], s_min[cand]
    counts["candidates"] = int(len(ci))

    # stage 4: refinement
    t_guess = (t_ns[ck] - t_ns[0]) / NS_PER_S + s_min * h if len(ci) else np.empty(0)
    t, r1, v1, r2, v2, ok, unconverged = refine_tca(objects.satrecs, ci, cj, int(t_ns[0]),
                                                    t_guess, h)
    tca_ns = t_ns[0] + np.rint(t * NS_PER_S).astype(np.int64) if len(ci) else \
        np.empty(0, np.int64)
    dd = r2 - r1
    miss = np.sqrt(np.einsum("pk,pk->p", dd, dd)) if len(ci) else np.empty(0)
    # keep minima inside this block's span (the neighbour owns the rest) and the window
    lo_ns = t_ns[0] if k0 > 0 else grid.start_ns
    inside = (tca_ns >= lo_ns) & (tca_ns < t_ns[-1]) if k1 < grid.n_steps else \
        (tca_ns >= lo_ns) & (tca_ns <= t_ns[-1])
    inside &= (tca_ns > grid.start_ns) & (tca_ns < grid.end_ns)
    # Pairs that share one trajectory (docked modules, duplicated element sets:
    # relative speed zero) have no distance minimum: reported apart, no TCA.
    if len(ci):
        w = v2 - v1
        rel = np.sqrt(np.einsum("pk,pk->p", w, w))
    else:
        rel = np.empty(0)
    moving = rel > MIN_RELATIVE_SPEED_KM_S
    still = ok & ~moving & (miss <= d)
    coincident = np.unique(np.stack([ci[still], cj[still]], axis=1), axis=0) if still.any() \
        else np.empty((0, 2), np.int64)
    keep = ok & inside & (miss <= d) & moving
    counts["refined_converged"] = int(ok.sum())
    counts["refined_unconverged"] = int(unconverged.sum())
    lo = np.where(valid, rn - pad_b, np.inf).min(axis=0)
    hi = np.where(valid, rn + pad_b, -np.inf).max(axis=0)
    lo, hi = np.where(np.isfinite(lo), lo, np.nan), np.where(np.isfinite(hi), hi, np.nan)
    bad = err != 0
    first_err = np.where(bad.any(axis=0), err[np.argmax(bad, axis=0), np.arange(n)], 0)
    slow = np.unique(np.stack([ci[unconverged], cj[unconverged]], axis=1), axis=0) \
        if unconverged.any() else np.empty((0, 2), np.int64)
    return BlockResult(ci[keep], cj[keep], tca_ns[keep], r1[keep], v1[keep], r2[keep],
                       v2[keep], counts, lo, hi, first_err.astype(np.int16), coincident, slow)


# -- merge and the front door ---------------------------------------------------------

def _count_overlapping_pairs(lo, hi, primary=None) -> int:
    """Pairs of objects whose radial ranges [lo, hi] overlap."""
    ok = np.isfinite(lo) & np.isfinite(hi)
    lo, hi = lo[ok], hi[ok]
    if primary is not None:
        primary = primary[ok]
    order = np.argsort(lo, kind="stable")
    los, his = lo[order], hi[order]
    if primary is None:
        return int((np.searchsorted(los, his, side="right") - np.arange(len(los)) - 1).sum())
    total = 0
    p_lo, p_hi = lo[primary], hi[primary]
    # objects overlapping each primary (minus itself), then primary-primary pairs once
    starts = np.searchsorted(los, p_hi, side="right")
    ends_before = np.searchsorted(np.sort(hi), p_lo, side="left")
    total = int((starts - ends_before - 1).sum())
    if primary.sum() > 1:
        total -= _count_overlapping_pairs(p_lo, p_hi)
    return total


def merge_blocks(objects: ObjectTable, grid: Grid, results: list[BlockResult],
                 settings: ScreeningSettings, primary=None) -> Conjunctions:
    """Join block results: drop duplicates (one minimum seen from two steps),
    orient pairs, and compute the derived quantities."""
    n = len(objects)
    i1 = np.concatenate([b.i1 for b in results]) if results else np.empty(0, np.int64)
    i2 = np.concatenate([b.i2 for b in results]) if results else np.empty(0, np.int64)
    tca = np.concatenate([b.tca_ns for b in results]) if results else np.empty(0, np.int64)
    r1, v1, r2, v2 = (np.concatenate([getattr(b, f) for b in results]).reshape(-1, 3)
                      if results else np.empty((0, 3)) for f in ("r1", "v1", "r2", "v2"))
    # dedupe: sort by pair then time, drop events within SAME_EVENT_S of the kept one
    order = np.lexsort((tca, i2, i1))
    i1, i2, tca, r1, v1, r2, v2 = (x[order] for x in (i1, i2, tca, r1, v1, r2, v2))
    keep = np.ones(len(i1), bool)
    if len(i1) > 1:
        same = (i1[1:] == i1[:-1]) & (i2[1:] == i2[:-1]) & \
            (tca[1:] - tca[:-1] < SAME_EVENT_S * NS_PER_S)
        keep[1:] = ~same
    i1, i2, tca, r1, v1, r2, v2 = (x[keep] for x in (i1, i2, tca, r1, v1, r2, v2))
    # orientation: the primary first; otherwise the lower NORAD id first
    ids = objects.norad_ids
    if primary is not None:
        swap = ~primary[i1] & primary[i2]
    else:
        swap = ids[i1] > ids[i2]
    i1, i2 = np.where(swap, i2, i1), np.where(swap, i1, i2)
    r1, r2 = np.where(swap[:, None], r2, r1), np.where(swap[:, None], r1, r2)
    v1, v2 = np.where(swap[:, None], v2, v1), np.where(swap[:, None], v1, v2)
    d, w = r2 - r1, v2 - v1
    miss = np.linalg.norm(d, axis=1)
    rel = np.linalg.norm(w, axis=1)
    rtn = to_rtn(r1, v1, d)

    counts: dict = {}
    for b in results:
        for key, val in b.counts.items():
            counts[key] = counts.get(key, 0) + val
    lo = np.fmin.reduce([b.radius_lo_km for b in results]) if results else np.full(n, np.nan)
    hi = np.fmax.reduce([b.radius_hi_km for b in results]) if results else np.full(n, np.nan)
    n_primary = int(primary.sum()) if primary is not None else n
    pairs_total = n * (n - 1) // 2 if primary is None else \
        n_primary * (n - n_primary) + n_primary * (n_primary - 1) // 2
    errs = np.zeros(n, np.int16)
    for b in results:
        errs = np.where(errs == 0, b.error_code, errs)
    failed = {int(ids[k]): int(errs[k]) for k in np.flatnonzero(errs)}
    co = np.concatenate([b.coincident for b in results]) if results else np.empty((0, 2))
    coincident = {(int(min(ids[a], ids[b])), int(max(ids[a], ids[b])))
                  for a, b in co.astype(np.int64)}
    attached = _attached_pairs(objects, i1, i2, miss, rel)
    if attached:
        keep = np.array([(int(min(ids[a], ids[b])), int(max(ids[a], ids[b]))) not in attached
                         for a, b in zip(i1, i2)], dtype=bool)
        i1, i2, tca, miss, rel, rtn, r1, v1, r2, v2 = (
            x[keep] for x in (i1, i2, tca, miss, rel, rtn, r1, v1, r2, v2))
    coincident = sorted(coincident | attached)
    un = np.concatenate([b.unconverged for b in results]) if results else np.empty((0, 2))
    with_event = {(int(min(ids[a], ids[b])), int(max(ids[a], ids[b]))) for a, b in zip(i1, i2)}
    unresolved = sorted({(int(min(ids[a], ids[b])), int(max(ids[a], ids[b])))
                         for a, b in un.astype(np.int64)} - with_event - set(coincident))
    stats = {
        "objects": n,
        "objects_failed_propagation": len(failed),
        "step_s": grid.step_s,
        "blocks": len(results),
        "pairs_total": pairs_total,
        "pairs_apogee_perigee": _count_overlapping_pairs(lo, hi, primary),
        **counts,
        "events": int(len(i1)),
        "pairs_coincident": len(coincident),
        "pairs_unresolved": len(unresolved),
    }
    order = np.lexsort((ids[i2], ids[i1], tca))
    sel = order
    return Conjunctions(
        norad_id_1=ids[i1][sel], norad_id_2=ids[i2][sel], index_1=i1[sel], index_2=i2[sel],
        tca=Time(tca[sel]), miss_km=miss[sel], relative_speed_km_s=rel[sel],
        miss_rtn_km=rtn[sel].T.copy(), r1_teme_km=r1[sel].T.copy(),
        v1_teme_km_s=v1[sel].T.copy(), r2_teme_km=r2[sel].T.copy(),
        v2_teme_km_s=v2[sel].T.copy(),
        age_1_days=(tca[sel] - objects.epochs_ns[i1][sel]) / NS_PER_DAY,
        age_2_days=(tca[sel] - objects.epochs_ns[i2][sel]) / NS_PER_DAY,
        threshold_km=settings.threshold_km, start=Time(grid.start_ns), end=Time(grid.end_ns),
        stats=stats, failed=failed, coincident=coincident, unresolved=unresolved)


def _attached_pairs(objects: ObjectTable, i1, i2, miss_km, rel_km_s) -> set:
    """NORAD id pairs (low, high) of a shared element set (docked copies of a
    station's set, see ATTACHED_MISS_KM) and another object whose every
    event lies within ATTACHED_MISS_KM at under ATTACHED_SPEED_KM_S."""
    if not len(i1):
        return set()
    recs = objects.satrecs
    key = [(s.jdsatepoch, s.jdsatepochF, s.no_kozai, s.ecco, s.inclo, s.nodeo, s.argpo, s.mo,
            s.bstar) for s in recs]
    count: dict = {}
    for k in key:
        count[k] = count.get(k, 0) + 1
    shared = np.array([count[k] > 1 for k in key], dtype=bool)
    one = shared[i1] != shared[i2]                 # a copy and another object
    if not one.any():
        return set()
    ids = objects.norad_ids
    lo, hi = np.minimum(ids[i1], ids[i2]), np.maximum(ids[i1], ids[i2])
    close = (miss_km < ATTACHED_MISS_KM) & (rel_km_s < ATTACHED_SPEED_KM_S)
    pairs: dict = {}
    for a, b, ok, c in zip(lo.tolist(), hi.tolist(), one.tolist(), close.tolist()):
        if ok:
            pairs[(a, b)] = pairs.get((a, b), True) and c
    return {p for p, all_close in pairs.items() if all_close}


def to_rtn(r_km, v_km_s, vec):
    """Components of ``vec`` (P, 3) in the radial / in-track / cross-track frame
    of the orbit state ``(r, v)`` (each (P, 3)); returns (P, 3)."""
    rhat = r_km / np.linalg.norm(r_km, axis=1, keepdims=True)
    hvec = np.cross(r_km, v_km_s)
    nhat = hvec / np.linalg.norm(hvec, axis=1, keepdims=True)
    that = np.cross(nhat, rhat)
    return np.stack([np.einsum("pk,pk->p", vec, rhat), np.einsum("pk,pk->p", vec, that),
                     np.einsum("pk,pk->p", vec, nhat)], axis=1)


def primary_mask(catalog_or_table, norad_ids) -> np.ndarray | None:
    if norad_ids is None:
        return None
    ids = catalog_or_table.norad_ids
    mask = np.isin(ids, np.asarray(list(norad_ids), np.int64))
    if not mask.any():
        raise ConjunctionError("none of the primaries is in the catalog")
    return mask


_POOL_JOB = None   # (objects, grid, settings, primary, SatrecArray) for forked workers


def _pool_block(bounds):
    objects, grid, settings, primary, sa = _POOL_JOB
    return screen_block(objects, grid, bounds[0], bounds[1], settings, primary, sa)


def _blocks_in_pool(objects, grid, settings, primary, sa, workers, progress):
    """The blocks in ``workers`` forked processes, results in block order (the
    same list a loop gives, so the merge and the events are identical)."""
    import multiprocessing as mp
    global _POOL_JOB
    _POOL_JOB = (objects, grid, settings, primary, sa)
    results = []
    try:
        with mp.get_context("fork").Pool(workers) as pool:
            for res in pool.imap(_pool_block, grid.blocks(), chunksize=1):
                results.append(res)
                if progress is not None:
                    progress(1)
    finally:
        _POOL_JOB = None
    return results


def screen_conjunctions(catalog, start: Time, end: Time, threshold_km: float = 5.0, *,
                        primaries=None, settings: ScreeningSettings | None = None,
                        progress=None, workers: int = 1) -> Conjunctions:
    """Every close approach under ``threshold_km`` between ``start`` and ``end``.

    ``catalog``: a :class:`satwatch.catalog.Catalog`.  ``primaries``: NORAD ids
    to screen against the whole catalog (``None``: all vs all).
    ``progress``: optional callable ``advance(n)`` called once per block.
    ``workers > 1`` runs the blocks in that many forked processes (where the
    platform can fork; else one process): the same blocks and merge, so the
    same events, bit for bit.  The caller chooses (the core reads no CPU
    count); each process holds one block's states (~0.5 GB, full catalog).
    """
    settings = settings or ScreeningSettings(threshold_km=threshold_km)
    if settings.threshold_km != threshold_km:
        settings = ScreeningSettings(**{**settings.__dict__, "threshold_km": threshold_km})
    if len(catalog) < 2:
        raise ConjunctionError("screening needs at least two objects in the catalog")
    warn_if_stale(catalog.epochs.ns, start.ns, end.ns)
    objects = ObjectTable.from_catalog(catalog)
    grid = make_grid(start, end, settings)
    primary = primary_mask(objects, primaries)
    from sgp4.api import SatrecArray
    sa = SatrecArray(objects.satrecs)
    import multiprocessing as mp
    workers = min(int(workers), len(grid.blocks()))
    if workers > 1 and "fork" in mp.get_all_start_methods():
        results = _blocks_in_pool(objects, grid, settings, primary, sa, workers, progress)
    else:
        results = []
        for k0, k1 in grid.blocks():
            results.append(screen_block(objects, grid, k0, k1, settings, primary, sa))
            if progress is not None:
                progress(1)
    return merge_blocks(objects, grid, results, settings, primary)
