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
  over the hard-body disk (here Gauss-Legendre in polar coordinates).
* :func:`chan_1997` -- F. K. Chan, "Collision probability analyses for
  earth-orbiting satellites", Adv. Astronaut. Sci. 96, 1997: a convergent
  series after transforming the ellipse to an equivalent circle (exact for an
  isotropic covariance).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .errors import SatwatchError

METHODS = ("FOSTER-1992", "CHAN-1997")
# Quadrature nodes (radial x angular) of Foster's integral: with 48 x 96 the
# integral of a 2-D Gaussian over a disk is accurate to ~1e-10 relative for
# disk radii up to a few sigma (checked against scipy's non-central chi-square).
_N_RADIAL, _N_ANGULAR = 48, 96
# Chan's series: terms until they fall below this fraction of the sum.
_CHAN_TERMS = 200


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
        if not self.hard_body_radius_km > 0:
            raise CollisionProbabilityError("hard_body_radius_km must be positive")
        if min(self.sigma_radial_km, self.sigma_in_track_km, self.sigma_cross_track_km) <= 0:
            raise CollisionProbabilityError("assumed sigmas must be positive")

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


def foster_1992(x_km, y_km, sx_km, sy_km, hbr_km) -> np.ndarray:
    """Foster & Estes (1992): integral of the 2-D Gaussian centred at the miss
    ``(x, y)`` with axes ``(sx, sy)`` over the disk of radius ``hbr`` at the
    origin, by Gauss-Legendre quadrature in polar coordinates."""
    x, y, sx, sy = (np.asarray(a, float)[:, None, None] for a in (x_km, y_km, sx_km, sy_km))
    hbr = np.broadcast_to(np.asarray(hbr_km, float), np.shape(x_km))[:, None, None]
    rn, rw = np.polynomial.legendre.leggauss(_N_RADIAL)
    tn, tw = np.polynomial.legendre.leggauss(_N_ANGULAR)
    rho = (rn[None, :, None] + 1) / 2 * hbr             # (n, R, 1)
    theta = (tn[None, None, :] + 1) * np.pi             # (1, 1, A)
    px, py = rho * np.cos(theta), rho * np.sin(theta)
    dens = np.exp(-0.5 * (((px - x) / sx) ** 2 + ((py - y) / sy) ** 2)) / (2 * np.pi * sx * sy)
    weights = (rw[None, :, None] * hbr / 2) * (tw[None, None, :] * np.pi) * rho
    return (dens * weights).sum(axis=(1, 2))


def chan_1997(x_km, y_km, sx_km, sy_km, hbr_km) -> np.ndarray:
    """Chan (1997) series: with ``u = R^2/(sx sy)`` and
    ``v = x^2/sx^2 + y^2/sy^2``,
    ``Pc = exp(-v/2) sum_m (v/2)^m/m! [1 - exp(-u/2) sum_{k<=m} (u/2)^k/k!]``."""
    x, y, sx, sy = (np.asarray(a, float) for a in (x_km, y_km, sx_km, sy_km))
    hbr = np.broadcast_to(np.asarray(hbr_km, float), x.shape)
    u = hbr ** 2 / (sx * sy)
    v = (x / sx) ** 2 + (y / sy) ** 2
    total = np.zeros_like(u)
    term_v = np.exp(-v / 2)            # exp(-v/2) (v/2)^m / m!
    term_u = np.exp(-u / 2)            # exp(-u/2) (u/2)^k / k!
    cum_u = term_u.copy()              # exp(-u/2) sum_{k<=m} (u/2)^k/k!
    for m in range(_CHAN_TERMS):
        total += term_v * (1.0 - cum_u)
        term_v = term_v * (v / 2) / (m + 1)
        term_u = term_u * (u / 2) / (m + 1)
        cum_u = cum_u + term_u
        if (term_v < 1e-18 * np.maximum(total, 1e-300)).all() and m > 5:
            break
    return total


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
