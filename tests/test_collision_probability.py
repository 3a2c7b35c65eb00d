"""Probability of collision against outside references.

References: the isotropic short-encounter Pc is the CDF of a non-central
chi-square with 2 degrees of freedom (scipy.stats.ncx2), a closed form;
for anisotropic cases scipy's adaptive dblquad of the Gaussian density over
the disk, and a seeded Monte Carlo count.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from satwatch.collision_probability import (CollisionProbabilityError, PcAssumptions,
                                            chan_1997, collision_probability,
                                            covariance_from_rtn, encounter_plane,
                                            foster_1992)

# Foster's quadrature is adaptive to ~1e-10 relative: 1e-8 covers it.
QUAD_RTOL = 1e-8
# Chan's series is exact for isotropic covariance; for an ellipse it is an
# approximation (equivalent circle), good to a few per cent for axis ratios
# up to ~3 when the hard body is small against sigma (Chan 1997, Alfano 2007).
CHAN_ANISO_RTOL = 0.05

ISOTROPIC = [  # (miss km, sigma km, hard-body radius km)
    (0.0, 1.0, 0.01), (0.5, 1.0, 0.02), (2.0, 0.7, 0.05), (3.0, 1.0, 0.5), (0.1, 0.05, 0.02),
    # far misses (Pc 1e-22 to 1e-40: no round-off floor) and a disk much
    # larger than sigma, the miss at its edge
    (10.0, 1.0, 0.01), (13.0, 1.0, 0.002), (0.0098, 0.0001, 0.01),
]


@pytest.mark.parametrize("miss,sigma,hbr", ISOTROPIC)
def test_isotropic_matches_noncentral_chi_square(miss, sigma, hbr):
    ref = stats.ncx2.cdf((hbr / sigma) ** 2, 2, (miss / sigma) ** 2)
    args = (np.array([miss]), np.array([0.0]), np.array([sigma]), np.array([sigma]), hbr)
    assert foster_1992(*args)[0] == pytest.approx(ref, rel=QUAD_RTOL)
    assert chan_1997(*args)[0] == pytest.approx(ref, rel=QUAD_RTOL)


ANISO = [(0.3, 0.4, 0.2, 1.5, 0.05), (1.0, -0.2, 0.3, 2.0, 0.02), (0.0, 0.0, 0.1, 0.3, 0.01)]


@pytest.mark.parametrize("x,y,sx,sy,hbr", ANISO)
def test_foster_matches_dblquad(x, y, sx, sy, hbr):
    def dens(py, px):
        return np.exp(-0.5 * (((px - x) / sx) ** 2 + ((py - y) / sy) ** 2)) / (2 * np.pi * sx * sy)
    ref, _ = integrate.dblquad(dens, -hbr, hbr, lambda px: -np.sqrt(hbr ** 2 - px ** 2),
                               lambda px: np.sqrt(hbr ** 2 - px ** 2), epsabs=0, epsrel=1e-11)
    got = foster_1992(np.array([x]), np.array([y]), np.array([sx]), np.array([sy]), hbr)[0]
    assert got == pytest.approx(ref, rel=QUAD_RTOL)
    chan = chan_1997(np.array([x]), np.array([y]), np.array([sx]), np.array([sy]), hbr)[0]
    assert chan == pytest.approx(ref, rel=CHAN_ANISO_RTOL)


# Covariances far thinner or wider than the hard-body disk, misses inside,
# at and beyond its edge, far in the tails (R = 1): where a fixed grid fails.
EXTREME = [(0.0, 0.0, 1e-4, 1e-4), (0.3, -0.2, 1e-4, 3.0), (0.999, 0.0, 1e-3, 2e-3),
           (1.02, 0.1, 2e-3, 0.5), (-1.22, 2.12, 0.0373, 177.8), (0.2, 30.0, 1e-3, 2.0),
           (40.0, 0.0, 3.0, 1e3), (0.5, 0.5, 1e-4, 1e-3), (0.0, 0.9, 5.0, 0.01)]


@pytest.mark.parametrize("x,y,sx,sy", EXTREME)
def test_foster_extreme_covariances_match_exact_integral(x, y, sx, sy):
    """Reference: the disk integral as a 1-D adaptive quadrature (scipy's
    quad, breakpoints at the thin Gaussian's centre and +-12 sigma) of a
    difference of normal CDFs along the other axis (closed form)."""
    hbr = 1.0
    a, b, sa, sb = (x, y, sx, sy) if sx <= sy else (y, x, sy, sx)

    def f(u):
        half = np.sqrt(max(hbr * hbr - u * u, 0.0))
        lo, hi = (-half - b) / sb, (half - b) / sb
        inner = stats.norm.sf(lo) - stats.norm.sf(hi) if lo > 0 else \
            stats.norm.cdf(hi) - stats.norm.cdf(lo)
        return stats.norm.pdf(u, a, sa) * inner
    pts = sorted({-hbr, hbr, *(min(max(p, -hbr), hbr) for p in (a - 12 * sa, a, a + 12 * sa))})
    ref = sum(integrate.quad(f, p, q, epsabs=0, epsrel=1e-11, limit=500)[0]
              for p, q in zip(pts[:-1], pts[1:]) if q > p)
    assert ref > 1e-300
    got = foster_1992(np.array([x]), np.array([y]), np.array([sx]), np.array([sy]), hbr)[0]
    assert got == pytest.approx(ref, rel=QUAD_RTOL, abs=0)


def test_full_3d_pipeline_matches_monte_carlo():
    """Sample both objects' assumed Gaussian errors, move along straight
    lines, count closest approaches inside the hard-body radius."""
    rng = np.random.default_rng(7)
    r1 = np.array([[7000.0, 0, 0]])
    v1 = np.array([[0, 7.5, 0.5]])
    r2 = r1 + np.array([[0.05, 0.1, 0.02]])
    v2 = np.array([[0, -3.0, 7.0]])
    assumptions = PcAssumptions(hard_body_radius_km=0.05, sigma_radial_km=0.05,
                                sigma_in_track_km=0.15, sigma_cross_track_km=0.05,
                                growth_radial_km_day=0, growth_in_track_km_day=0,
                                growth_cross_track_km_day=0)
    res = collision_probability(r2 - r1, v2 - v1, r1, v1, r2, v2, [0.0], [0.0], assumptions)
    n = 2_000_000
    c = (covariance_from_rtn(r1, v1, assumptions.sigmas_rtn_km([0.0]))
         + covariance_from_rtn(r2, v2, assumptions.sigmas_rtn_km([0.0])))[0]
    d = (r2 - r1)[0] + rng.multivariate_normal(np.zeros(3), c, size=n)
    w = (v2 - v1)[0]
    closest = d - np.outer(d @ w / (w @ w), w)          # straight-line miss
    hits = (np.linalg.norm(closest, axis=1) <= assumptions.hard_body_radius_km).mean()
    se = np.sqrt(hits * (1 - hits) / n)
    assert hits > 0.01
    assert abs(res.pc[0] - hits) < 4 * se


def test_assumptions_travel_with_result():
    r1 = np.array([[7000.0, 0, 0]])
    v1 = np.array([[0, 7.5, 0]])
    r2 = r1 + [[0.1, 0, 0]]
    v2 = np.array([[0, 0, 7.5]])
    res = collision_probability(r2 - r1, v2 - v1, r1, v1, r2, v2, [1.0], [2.0])
    assert res.method == "FOSTER-1992"
    assert res.assumptions["hard_body_radius_km"] == PcAssumptions().hard_body_radius_km
    assert "assumed" in res.assumptions["covariance"]
    # older element sets: larger assumed sigma, so a direct hit gets less likely
    old = collision_probability(r2 - r1, v2 - v1, r1, v1, r2, v2, [10.0], [10.0])
    assert old.pc[0] < res.pc[0]


def test_encounter_plane_drops_the_along_velocity_component():
    miss = np.array([[1.0, 2.0, 3.0]])
    w = np.array([[0.0, 0.0, 5.0]])
    cov = np.eye(3)[None] * 0.04
    x, y, s1, s2 = encounter_plane(miss, w, cov)
    assert np.hypot(x, y)[0] == pytest.approx(np.hypot(1.0, 2.0))
    assert s1[0] == pytest.approx(0.2) and s2[0] == pytest.approx(0.2)


def test_bad_assumptions_raise():
    with pytest.raises(CollisionProbabilityError, match="hard_body"):
        PcAssumptions(hard_body_radius_km=0).check()
    r = np.array([[7000.0, 0, 0]])
    v = np.array([[0, 7.5, 0]])
    with pytest.raises(CollisionProbabilityError, match="method"):
        collision_probability(r, v, r, v, r, v, [0.0], [0.0], method="ALFANO-2005")
