"""Probability of collision for short encounters, with its assumptions.

TLEs carry no covariance, so every probability here rests on an *assumed*
position uncertainty (1-sigma radial / in-track / cross-track, growing with
the element set's age) and an *assumed* combined hard-body radius.  Both are
returned with every result (:attr:`PcResult.assumptions`): a probability
without them means nothing.

Methods, named after their papers (short-encounter model: straight-line
relative motion, constant covariance during the encounter, the combined
uncertainty and the hard-body disk projected on the encounter plane normal to
the relative velocity):

* :func:`foster_1992` -- J. L. Foster and H. S. Estes, "A parametric analysis
  of orbital debris collision probability and maneuver rate for space
  vehicles", NASA JSC-25898, 1992: the 2-D Gaussian integrated numerically
  over the hard-body disk.  Here the integral along the wider covariance
  axis is a difference of normal CDFs (closed form); the remaining one along
  the thinner axis is adaptive Gauss-Kronrod, vectorised over encounters, to
  a relative accuracy of ~1e-10 whatever the ratio of the sigmas to the
  hard-body radius (Alfano 2009, AAS 09-233, cases 3 and 5: sigma 0.037 m
  against a 10 m radius).
* :func:`chan_1997` -- F. K. Chan, "Collision probability analyses for
  earth-orbiting satellites", Adv. Astronaut. Sci. 96, 1997: a convergent
  series after transforming the ellipse to an equivalent circle (exact for an
  isotropic covariance), each term's Poisson tail taken directly from the
  regularised incomplete gamma function, so that small probabilities keep
  their digits (no 1e-16 floor).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .errors import SatwatchError

METHODS = ("FOSTER-1992", "CHAN-1997")
# Foster's integral: adaptive 7/15-point Gauss-Kronrod (QUADPACK's QK15
# nodes and weights, Piessens et al. 1983).  A panel is accepted when
# |K15 - G7| <= _FOSTER_RTOL x (the encounter's Pc) x (its share of the
# range), so the whole integral is within ~_FOSTER_RTOL relative (K15 is far
# more accurate than the G7 difference that bounds it); at most
# _FOSTER_LEVELS bisections (a panel 2^-40 of the range is accepted as is).
_FOSTER_RTOL = 1e-10
_FOSTER_LEVELS = 40
# The thin axis' Gaussian factor is integrated over its peak (within
# exp(-_GAUSS_SPAN) of its largest value on the disk) as its own panels, so
# the adaptive rule cannot step over a peak much narrower than the disk.
_GAUSS_SPAN = 50.0
_XGK = np.array([0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
                 0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
                 0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
                 0.207784955007898467600689403773245, 0.0])
_WGK = np.array([0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
                 0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
                 0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
                 0.204432940075298892414161999234649, 0.209482141084727828012999174891714])
_WG = np.array([0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                0.381830050505118944950369775488975, 0.417959183673469387755102040816327])
_K_NODES = np.concatenate([-_XGK[:-1], _XGK[::-1]])                   # 15, ascending
_K_WEIGHTS = np.concatenate([_WGK[:-1], _WGK[::-1]])
_G_WEIGHTS = np.zeros(15)
_G_WEIGHTS[1:7:2], _G_WEIGHTS[7], _G_WEIGHTS[9:15:2] = _WG[:3], _WG[3], _WG[:3][::-1]
# Chan's series: at most this many terms (the Poisson(v/2) weights peak at
# m ~ v/2: misses up to ~190 sigma); each encounter's series stops once a
# bound on its rest is below _CHAN_RTOL of its sum; NaN if it never does.
_CHAN_TERMS = 20_000
_CHAN_RTOL = 1e-15


class CollisionProbabilityError(SatwatchError, ValueError):
    """Bad input to a probability of collision (negative radius, singular covariance)."""


@dataclass(frozen=True)
class PcAssumptions:
    """What a TLE does not tell: object size and position uncertainty.

    ``sigma_*_km`` are 1-sigma at the element set's epoch; ``growth_*_km_day``
    add linearly per day of |age| (in-track grows fastest: drag and timing).
    The defaults are typical published TLE accuracies for LEO (about a
    kilometre at epoch, a kilometre or more per day in-track), not measurements.
    """

    hard_body_radius_km: float = 0.010
    sigma_radial_km: float = 0.2
    sigma_in_track_km: float = 1.0
    sigma_cross_track_km: float = 0.2
    growth_radial_km_day: float = 0.1
    growth_in_track_km_day: float = 1.0
    growth_cross_track_km_day: float = 0.1

    def check(self):
        if not 0 < self.hard_body_radius_km < np.inf:
            raise CollisionProbabilityError("hard_body_radius_km must be positive and finite, "
                                            f"got {self.hard_body_radius_km!r}")
        sigmas = (self.sigma_radial_km, self.sigma_in_track_km, self.sigma_cross_track_km)
        if not all(0 < s < np.inf for s in sigmas):
            raise CollisionProbabilityError("assumed sigmas must be positive and finite, got "
                                            f"{sigmas!r}")

    def sigmas_rtn_km(self, age_days) -> np.ndarray:
        """(n, 3) 1-sigma R, T, N for element sets of the given ages."""
        age = np.abs(np.asarray(age_days, float))[:, None]
        base = np.array([self.sigma_radial_km, self.sigma_in_track_km,
                         self.sigma_cross_track_km])
        growth = np.array([self.growth_radial_km_day, self.growth_in_track_km_day,
                           self.growth_cross_track_km_day])
        return base + growth * age

    def describe(self) -> dict:
        return {"covariance": "assumed (TLEs carry none): diagonal in each object's RTN "
                              "frame, 1-sigma = at-epoch value + growth x |age|",
                **asdict(self)}


@dataclass
class PcResult:
    """Probabilities (n,) with the method and assumptions that produced them."""

    pc: np.ndarray
    method: str
    assumptions: dict
    sigma_major_km: np.ndarray     # combined 1-sigma axes in the encounter plane
    sigma_minor_km: np.ndarray


def rtn_basis(r_km, v_km_s) -> np.ndarray:
    """(n, 3, 3): rows are the radial, in-track and cross-track unit vectors."""
    rhat = r_km / np.linalg.norm(r_km, axis=1, keepdims=True)
    h = np.cross(r_km, v_km_s)
    nhat = h / np.linalg.norm(h, axis=1, keepdims=True)
    that = np.cross(nhat, rhat)
    return np.stack([rhat, that, nhat], axis=1)


def covariance_from_rtn(r_km, v_km_s, sigmas_rtn_km) -> np.ndarray:
    """(n, 3, 3) inertial covariance of a diagonal RTN covariance."""
    basis = rtn_basis(r_km, v_km_s)                     # rows: R, T, N
    diag = sigmas_rtn_km ** 2
    return np.einsum("nki,nk,nkj->nij", basis, diag, basis)


def encounter_plane(miss_km, rel_velocity_km_s, cov_km2):
    """Project onto the plane normal to the relative velocity.

    Returns ``(x_km, y_km, s1_km, s2_km)``: the miss vector's components along
    the principal axes of the projected covariance, and the 1-sigma axes.
    """
    w = rel_velocity_km_s / np.linalg.norm(rel_velocity_km_s, axis=1, keepdims=True)
    # any unit vector normal to w, then the second one
    seed = np.where(np.abs(w[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]])
    e1 = np.cross(w, seed)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    e2 = np.cross(w, e1)
    p = np.stack([e1, e2], axis=1)                      # (n, 2, 3)
    c2 = np.einsum("nai,nij,nbj->nab", p, cov_km2, p)
    vals, vecs = np.linalg.eigh(c2)                     # ascending
    if (vals <= 0).any():
        raise CollisionProbabilityError("projected covariance is not positive definite")
    m2 = np.einsum("nai,ni->na", p, miss_km)
    m_principal = np.einsum("nab,na->nb", vecs, m2)     # components on eigenvectors
    return m_principal[:, 1], m_principal[:, 0], np.sqrt(vals[:, 1]), np.sqrt(vals[:, 0])


def _foster_integrand(psi, xa, xb, sa, sb, hbr):
    """Integrand in ``psi`` (``u = R sin psi`` along the thin axis ``a``): the
    thin axis' normal density times ``P(|b| <= R cos psi)`` along the wide axis
    ``b`` (a difference of normal CDFs, taken on the side of the tails so that
    small values keep their digits), times ``du/dpsi``."""
    u, half = hbr * np.sin(psi), hbr * np.cos(psi)
    dens = np.exp(-0.5 * ((u - xa) / sa) ** 2) / (np.sqrt(2 * np.pi) * sa)
    return dens * _normal_mass(-xb / sb, 2 * half / sb) * half


def _normal_mass(c, width):
    """Standard normal probability of ``[c - width/2, c + width/2]``, without
    the cancellation of ``Phi(hi) - Phi(lo)``: from the upper tails where the
    interval lies above 0, and for a narrow interval as ``phi(c) width`` times
    the series of ``exp(-c s - s^2/2)`` (probabilists' Hermite polynomials:
    ``1 + He2 w^2/24 + He4 w^4/1920 + He6 w^6/322560``, the next term below
    1e-14 relative where ``w (|c| + 3) <= 0.1``)."""
    from scipy.special import ndtr
    lo, hi = c - width / 2, c + width / 2
    with np.errstate(invalid="ignore", over="ignore"):
        wide = np.where(lo > 0, ndtr(-lo) - ndtr(-hi),
                        np.where(hi < 0, ndtr(hi) - ndtr(lo), 1 - ndtr(lo) - ndtr(-hi)))
        c2, w2 = c * c, width * width
        series = np.exp(-0.5 * c2) / np.sqrt(2 * np.pi) * width * (
            1 + (c2 - 1) * w2 / 24 + (c2 * c2 - 6 * c2 + 3) * w2 * w2 / 1920
            + (c2 * c2 * c2 - 15 * c2 * c2 + 45 * c2 - 15) * w2 * w2 * w2 / 322560)
    return np.maximum(np.where(width * (np.abs(c) + 3) <= 0.1, series, wide), 0.0)


def foster_1992(x_km, y_km, sx_km, sy_km, hbr_km) -> np.ndarray:
    """Foster & Estes (1992): integral of the 2-D Gaussian centred at the miss
    ``(x, y)`` with axes ``(sx, sy)`` over the disk of radius ``hbr`` at the
    origin.

    Along the wider axis the integral is closed form (normal CDFs); along the
    thinner one (``u = R sin psi``, which removes the disk edge's square-root
    singularity) adaptive Gauss-Kronrod, all encounters at once, with panel
    edges at the thin Gaussian's peak (where it is within ``exp(-50)`` of its
    largest value on the disk), at the disk's centre line and where the disk
    edge crosses the wide axis' mean, so that no peak narrower than the disk
    is stepped over.  Relative accuracy ~1e-10 for any sigma-to-radius ratio
    (tested against Alfano 2009 cases 3 and 5 and the closed forms)."""
    x, y, sx, sy = np.broadcast_arrays(*(np.asarray(a, float).ravel()
                                         for a in (x_km, y_km, sx_km, sy_km)))
    n = len(x)
    hbr = np.broadcast_to(np.asarray(hbr_km, float).ravel(), (n,)).astype(float)
    thin_x = sx <= sy
    xa, xb = np.where(thin_x, x, y), np.where(thin_x, y, x)
    sa, sb = np.where(thin_x, sx, sy), np.where(thin_x, sy, sx)
    # panel edges in psi: the disk's ends and centre line, the thin Gaussian's
    # peak on the disk, the chords where the disk edge is at |xb|
    u_star = np.clip(xa, -hbr, hbr)
    w = np.sqrt((u_star - xa) ** 2 + 2 * _GAUSS_SPAN * sa * sa)
    chord = np.sqrt(np.maximum(hbr * hbr - xb * xb, 0.0))
    edges_u = np.stack([-hbr, hbr, 0 * hbr, xa - w, xa + w, u_star, -chord, chord], axis=1)
    edges = np.sort(np.arcsin(np.clip(edges_u / hbr[:, None], -1.0, 1.0)), axis=1)
    ev = np.repeat(np.arange(n), edges.shape[1] - 1)
    a, b = edges[:, :-1].ravel(), edges[:, 1:].ravel()
    keep = b > a
    ev, a, b = ev[keep], a[keep], b[keep]
    # each panel's share of the error allowance: equal among an encounter's
    # first panels (placed on its features), halved at every split
    share = 1.0 / np.bincount(ev, minlength=n)[ev]
    total = np.zeros(n)
    estimate = None
    for level in range(_FOSTER_LEVELS + 1):
        mid, half = (a + b) / 2, (b - a) / 2
        f = _foster_integrand(mid[:, None] + half[:, None] * _K_NODES, xa[ev, None],
                              xb[ev, None], sa[ev, None], sb[ev, None], hbr[ev, None])
        k15 = (f * _K_WEIGHTS).sum(axis=1) * half
        g7 = (f * _G_WEIGHTS).sum(axis=1) * half
        if estimate is None:                  # first pass: the scale of each Pc
            estimate = np.bincount(ev, k15, n)
        else:
            estimate = total + np.bincount(ev, k15, n)
        # round-off of the K15 sum itself is the floor of what can be resolved
        floor = 50 * np.finfo(float).eps * (np.abs(f) * _K_WEIGHTS).sum(axis=1) * half
        tol = np.maximum(_FOSTER_RTOL * np.abs(estimate[ev]) * share, floor)
        done = (np.abs(k15 - g7) <= tol) | (level == _FOSTER_LEVELS)
        total += np.bincount(ev[done], k15[done], n)
        if done.all():
            break
        go = ~done
        ev, a, b, mid, share = ev[go], a[go], b[go], mid[go], share[go] / 2
        ev, share = np.repeat(ev, 2), np.repeat(share, 2)
        a, b = np.stack([a, mid], 1).ravel(), np.stack([mid, b], 1).ravel()
    return total


def chan_1997(x_km, y_km, sx_km, sy_km, hbr_km) -> np.ndarray:
    """Chan (1997) series: with ``u = R^2/(sx sy)`` and
    ``v = x^2/sx^2 + y^2/sy^2``,
    ``Pc = sum_m [exp(-v/2) (v/2)^m/m!] [1 - exp(-u/2) sum_{k<=m} (u/2)^k/k!]``.

    The bracket is the Poisson(u/2) survival beyond ``m``, i.e. the regularised
    lower incomplete gamma ``P(m + 1, u/2)`` (scipy's ``gammainc``), taken
    directly rather than as ``1 - cdf``, so that probabilities far below 1e-16
    keep their digits (Chan's case 10: 9.645e-28).  The series stops once the
    rest of it, at most ``P(m + 2, u/2) x P(N_v > m)`` (``N_v`` Poisson(v/2);
    both factors decrease with m), is under 1e-15 of the sum; NaN where that
    takes more than 20,000 terms (a miss beyond ~190 sigma with a hard-body
    radius comparable to sigma)."""
    from scipy.special import gammainc, gammaln, xlogy
    x, y, sx, sy = (np.asarray(a, float) for a in (x_km, y_km, sx_km, sy_km))
    hbr = np.broadcast_to(np.asarray(hbr_km, float), x.shape)
    u = hbr ** 2 / (sx * sy)
    v = (x / sx) ** 2 + (y / sy) ** 2
    u, v = np.broadcast_arrays(u, v)
    total = np.zeros(u.shape)
    flat_u, flat_v, flat_t = u.ravel(), v.ravel(), total.ravel()
    act = np.arange(flat_t.size)              # encounters whose series goes on
    for m in range(_CHAN_TERMS):
        if not act.size:
            break
        hu, hv = flat_u[act] / 2, flat_v[act] / 2
        # Poisson(v/2) probability of m, in logs (no underflow of exp(-v/2) alone)
        p_v = np.exp(xlogy(m, hv) - hv - gammaln(m + 1))
        flat_t[act] += p_v * gammainc(m + 1, hu)
        rest = gammainc(m + 2, hu) * gammainc(m + 1, hv)     # P(N_v > m) = P(m+1, v/2)
        if m > 5:
            act = act[~(rest <= _CHAN_RTOL * flat_t[act])]
    flat_t[act] = np.nan                      # not converged in _CHAN_TERMS terms
    return flat_t.reshape(total.shape)


def collision_probability(miss_km, rel_velocity_km_s, r1_km, v1_km_s, r2_km, v2_km_s,
                          age_1_days, age_2_days, assumptions: PcAssumptions | None = None,
                          method: str = "FOSTER-1992") -> PcResult:
    """Pc of n encounters (arrays (n, 3) and (n,)) under the assumed covariance."""
    assumptions = assumptions or PcAssumptions()
    assumptions.check()
    method = method.upper()
    if method not in METHODS:
        raise CollisionProbabilityError(f"unknown method {method!r}: use one of {METHODS}")
    miss_km = np.atleast_2d(np.asarray(miss_km, float))
    if not len(miss_km):
        return PcResult(np.empty(0), method, assumptions.describe(), np.empty(0), np.empty(0))
    cov = (covariance_from_rtn(r1_km, v1_km_s, assumptions.sigmas_rtn_km(age_1_days))
           + covariance_from_rtn(r2_km, v2_km_s, assumptions.sigmas_rtn_km(age_2_days)))
    x, y, s1, s2 = encounter_plane(miss_km, np.atleast_2d(rel_velocity_km_s), cov)
    fn = foster_1992 if method == "FOSTER-1992" else chan_1997
    pc = fn(x, y, s1, s2, assumptions.hard_body_radius_km)
    return PcResult(np.clip(pc, 0.0, 1.0), method, assumptions.describe(), s1, s2)


def conjunction_probability(conj, assumptions: PcAssumptions | None = None,
                            method: str = "FOSTER-1992") -> PcResult:
    """Pc of every event of a :class:`satwatch.conjunctions.Conjunctions`."""
    t = lambda a: np.asarray(a).T  # noqa: E731  (3, n) -> (n, 3)
    return collision_probability(t(conj.r2_teme_km) - t(conj.r1_teme_km),
                                 t(conj.v2_teme_km_s) - t(conj.v1_teme_km_s),
                                 t(conj.r1_teme_km), t(conj.v1_teme_km_s),
                                 t(conj.r2_teme_km), t(conj.v2_teme_km_s),
                                 conj.age_1_days, conj.age_2_days, assumptions, method)
