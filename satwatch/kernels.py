"""Compiled inner loops of the event engine and of the satellite-site
g-functions (numba).  Pure: arrays in, arrays out.

Why compiled: these steps each make one pass over every sample of a chunk
(satellites x sites x times) or over every refinement point; in numpy each
is a chain of temporaries the size of the chunk.  Measured on the whole
2023-10-13 catalog over one site for 24 h (``benchmarks/passes.py``) and on
the active catalog against 100 targets (``benchmarks/access.py``): see
docs/passes.md, "Speed".  Each kernel is the numpy expression it replaces,
written as a loop; tests compare the two (tests/test_kernels.py).
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .sgp4_kernel import cos_sin_table

# -- the engine: sign changes and sampled extrema in one pass --------------------

# Modes for extrema: 0 = not wanted, 1 = only those on the "wrong" side that
# may cross zero (hidden root pairs), 2 = every one that may reach ``level``,
# 3 = every one.
EXTREMA_NONE, EXTREMA_HIDDEN, EXTREMA_REACH, EXTREMA_ALL = 0, 1, 2, 3


@nb.njit(cache=True, nogil=True, error_model="numpy")
def sample_features(v, max_mode, max_level, min_mode, min_level, overshoot):
    """One pass over sampled values ``v`` (n, m) (non-finite = out):

    * sign changes between columns j and j+1: ``(row, j)``;
    * interior sampled maxima (``v[j] >= v[j-1]``, ``v[j] > v[j+1]``, all
      three finite) and minima (mirror), kept by mode (see above) where the
      true extremum may reach the level: ``b + overshoot * var >= level``
      (maxima) or ``b - overshoot * var <= level`` (minima), ``var`` being
      ``|b - a| + |b - c|``.

    Returns ``(br_r, br_c, mx_r, mx_c, mn_r, mn_c)``.
    """
    n, m = v.shape
    cap = max(n * max(m - 1, 1), 1)
    br_r = np.empty(cap, np.int64)
    br_c = np.empty(cap, np.int64)
    mx_r = np.empty(cap, np.int64)
    mx_c = np.empty(cap, np.int64)
    mn_r = np.empty(cap, np.int64)
    mn_c = np.empty(cap, np.int64)
    nbr = nmx = nmn = 0
    for i in range(n):
        prev = v[i, 0] >= 0
        for j in range(1, m):
            cur = v[i, j] >= 0
            if cur != prev:
                br_r[nbr] = i
                br_c[nbr] = j - 1
                nbr += 1
            prev = cur
        if max_mode == 0 and min_mode == 0:
            continue
        for j in range(1, m - 1):
            a = v[i, j - 1]
            b = v[i, j]
            c = v[i, j + 1]
            if not (np.isfinite(a) and np.isfinite(b) and np.isfinite(c)):
                continue
            var = abs(b - a) + abs(b - c)
            if b >= a and b > c:
                if max_mode == 3 or (max_mode == 2 and b + overshoot * var >= max_level) or \
                        (max_mode == 1 and b < 0 and b + overshoot * var >= 0.0):
                    mx_r[nmx] = i
                    mx_c[nmx] = j
                    nmx += 1
            elif b <= a and b < c:
                if min_mode == 3 or (min_mode == 2 and b - overshoot * var <= min_level) or \
                        (min_mode == 1 and b >= 0 and b - overshoot * var <= 0.0):
                    mn_r[nmn] = i
                    mn_c[nmn] = j
                    nmn += 1
    return (br_r[:nbr].copy(), br_c[:nbr].copy(), mx_r[:nmx].copy(), mx_c[:nmx].copy(),
            mn_r[:nmn].copy(), mn_c[:nmn].copy())


# -- satellite-site screening on a common grid -----------------------------------

@nb.njit(cache=True, nogil=True, error_model="numpy")
def screen_pairs(r, m, rn, thr, sx, sy, uz, sat_row, site):
    """Geocentric screen of (satellite, site) pairs on a common grid.

    ``r``: TEME positions ``(U * m, 3)`` (satellite-major, sgp4's layout);
    ``rn``, ``thr``: radius and screening cosine per satellite sample
    ``(U, m)``; ``sx``, ``sy`` ``(S, m)``, ``uz`` ``(S,)``: each site's unit
    vector rotated into TEME per time; ``sat_row``, ``site`` ``(n,)``: the
    pairs.  Returns ``g (n, m)`` = ``cos theta - thr - 2`` (below -2 outside
    the screen; NaN where the state is NaN, whatever ``rn`` and ``thr`` hold
    there) and the ``(row, col)`` of the
    samples inside the screen, which the caller replaces with exact values.
    """
    n = sat_row.shape[0]
    g = np.empty((n, m))
    ii = np.empty(n * m, np.int64)
    jj = np.empty(n * m, np.int64)
    k = 0
    for p in range(n):
        u = sat_row[p]
        s = site[p]
        zs = uz[s]
        for j in range(m):
            q = u * m + j
            if np.isnan(r[q, 0]):          # not propagated (rn, thr unset there)
                g[p, j] = np.nan
                continue
            ct = (r[q, 0] * sx[s, j] + r[q, 1] * sy[s, j] + r[q, 2] * zs) / rn[u, j]
            val = ct - thr[u, j] - 2.0
            g[p, j] = val
            if val >= -2.0:
                ii[k] = p
                jj[k] = j
                k += 1
    return g, ii[:k].copy(), jj[:k].copy()


@nb.njit(cache=True, nogil=True, error_model="numpy")
def screen_elevation(r, m, extra_rad, r_cos_eps, eps, margin_rad, sx, sy, uz, sat_row, site,
                     cos_th, sin_th, polar, pcx, psx, pcy, psy, r_site, up, sin_mask):
    """``screen_pairs`` with passes.ElevationG's screen and exact value
    fused, the same arithmetic in the same order: per pair sample, the
    screening cosine at the sample's radius ``rn`` (``ElevationG.screen_cos``:
    ``cos(min(acos(clip(r_cos_eps / rn, -1, 1)) - eps + margin_rad +
    extra_rad[sat], pi))``), the screen value ``cos theta - that - 2``, and
    inside the screen (value >= -2) the exact ``sin(elevation) - sin_mask``
    instead: the TEME position turned by GMST (``cos_th``, ``sin_th`` per
    grid column) and, with ``polar``, by polar motion (``pcx, psx, pcy,
    psy`` per column: frames.polar_cos_sin), seen from the site (``r_site``,
    ``up`` (S, 3)).  NaN where the state is NaN (not propagated, failed).
    Returns ``g (n, m)``.  The radius and screening cosine are computed once
    per satellite sample, whatever the number of sites."""
    n = sat_row.shape[0]
    n_sat = extra_rad.shape[0]
    rn_all = np.empty((n_sat, m))
    thr_all = np.empty((n_sat, m))
    for u in range(n_sat):
        ex = extra_rad[u]
        for j in range(m):
            q = u * m + j
            x, y, z = r[q, 0], r[q, 1], r[q, 2]
            if np.isnan(x):
                rn_all[u, j] = np.nan
                continue
            rn = np.sqrt(x * x + y * y + z * z)
            c = r_cos_eps / rn
            if c < -1.0:
                c = -1.0
            elif c > 1.0:
                c = 1.0
            rn_all[u, j] = rn
            thr_all[u, j] = np.cos(min(np.arccos(c) - eps + margin_rad + ex, np.pi))
    g = np.empty((n, m))
    for p in range(n):
        u = sat_row[p]
        s = site[p]
        zs = uz[s]
        rx, ry, rz = r_site[s, 0], r_site[s, 1], r_site[s, 2]
        ux, uy, uzz = up[s, 0], up[s, 1], up[s, 2]
        for j in range(m):
            q = u * m + j
            rn = rn_all[u, j]
            if np.isnan(rn):
                g[p, j] = np.nan
                continue
            x, y, z = r[q, 0], r[q, 1], r[q, 2]
            val = (x * sx[s, j] + y * sy[s, j] + z * zs) / rn - thr_all[u, j] - 2.0
            if val >= -2.0:
                ct, st = cos_th[j], sin_th[j]
                xe = ct * x + st * y
                ye = ct * y - st * x
                ze = z
                if polar:
                    x1 = pcx[j] * xe + psx[j] * ze
                    z1 = pcx[j] * ze - psx[j] * xe
                    xe, ye, ze = x1, pcy[j] * ye - psy[j] * z1, psy[j] * ye + pcy[j] * z1
                dx, dy, dz = xe - rx, ye - ry, ze - rz
                val = (dx * ux + dy * uy + dz * uzz) / np.sqrt(dx * dx + dy * dy + dz * dz) \
                    - sin_mask
            g[p, j] = val
    return g


# -- refinement: Hermite state -> ITRS -> look geometry, fused --------------------

@nb.njit(cache=True, nogil=True, error_model="numpy")
def hermite_basis(s, h):
    """Cubic Hermite weights at fraction ``s`` of a span ``h`` (s):
    position ``p = h00 p0 + h10 v0 + h01 p1 + h11 v1`` and its derivative
    ``v = d00 (p0 - p1) + d10 v0 + d11 v1``."""
    s2 = s * s
    s3 = s2 * s
    return ((2 * s3 - 3 * s2 + 1, (s3 - 2 * s2 + s) * h, -2 * s3 + 3 * s2, (s3 - s2) * h),
            ((6 * s2 - 6 * s) / h, 3 * s2 - 4 * s + 1, 3 * s2 - 2 * s))


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _locate(grid, t, hint):
    """Grid interval of ``t`` (``np.searchsorted(grid, t, "right") - 1``,
    clipped to the intervals): ``hint`` when ``t`` lies in it (a refinement
    stays in one or two intervals of its bracket), else a binary search."""
    last = grid.shape[0] - 2
    if 0 <= hint <= last and grid[hint] <= t < grid[hint + 1]:
        return hint
    k = np.searchsorted(grid, t, side="right") - 1
    if k < 0:
        k = 0
    elif k > last:
        k = last
    return k


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _hermite_pv(grid, r, v, row, t, with_velocity, hint=-1):
    """Cubic Hermite position (and velocity: the cubic's derivative) of
    cached row ``row`` (states ``(U * m, 3)`` on ``grid``) at ``t`` (ns):
    the arithmetic of ``passes._hermite``.  ``hint``: a guess of the grid
    interval (``_locate``)."""
    k = _locate(grid, t, hint)
    t0 = grid[k]
    a = row * grid.shape[0] + k
    if t == t0:
        # at a grid sample the cubic is that sample's state (its weights are
        # exactly 1 and 0): read nothing of the next one, which a sparse grid
        # may not have propagated (NaN)
        return (r[a, 0], r[a, 1], r[a, 2]), (v[a, 0], v[a, 1], v[a, 2])
    h = (grid[k + 1] - t0) / 1e9
    (h00, h10, h01, h11), (d00, d10, d11) = hermite_basis((t - t0) / 1e9 / h, h)
    x = h00 * r[a, 0] + h10 * v[a, 0] + h01 * r[a + 1, 0] + h11 * v[a + 1, 0]
    y = h00 * r[a, 1] + h10 * v[a, 1] + h01 * r[a + 1, 1] + h11 * v[a + 1, 1]
    z = h00 * r[a, 2] + h10 * v[a, 2] + h01 * r[a + 1, 2] + h11 * v[a + 1, 2]
    if not with_velocity:
        return (x, y, z), (0.0, 0.0, 0.0)
    vx = d00 * (r[a, 0] - r[a + 1, 0]) + d10 * v[a, 0] + d11 * v[a + 1, 0]
    vy = d00 * (r[a, 1] - r[a + 1, 1]) + d10 * v[a, 1] + d11 * v[a + 1, 1]
    vz = d00 * (r[a, 2] - r[a + 1, 2]) + d10 * v[a, 2] + d11 * v[a + 1, 2]
    return (x, y, z), (vx, vy, vz)


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _small_cos_sin(x):
    """cos and sin of an angle under 1e-4 rad (polar motion) from their
    series; np.cos / np.sin otherwise."""
    if abs(x) < 1e-4:
        x2 = x * x
        return 1.0 - 0.5 * x2 + x2 * x2 / 24.0, x - x * x2 / 6.0
    return np.cos(x), np.sin(x)


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _teme_to_itrs(p, v, dt, th_ref, th_rate, px0, px_rate, py0, py_rate):
    """``frames.teme_to_itrs`` for one state, with GMST and polar motion
    linear in time (``dt`` s from the reference): position and Earth-fixed
    velocity (the Earth-rotation term included)."""
    th = th_ref + th_rate * dt
    c, sn = cos_sin_table(th)
    xp = c * p[0] + sn * p[1]
    yp = c * p[1] - sn * p[0]
    vxp = c * v[0] + sn * v[1] + th_rate * yp
    vyp = c * v[1] - sn * v[0] - th_rate * xp
    # polar motion (frames._polar: IERS 2010 eq. 5.3).  Its angles are under
    # 1e-5 rad: cos and sin from their series, 1 - x^2/2 and x - x^3/6, are
    # then exact in double precision (the next terms are below 1e-21), and
    # four fewer transcendental calls per point
    pxv = px0 + px_rate * dt
    pyv = py0 + py_rate * dt
    cx, sx, cy, sy = _small_cos_sin(pxv) + _small_cos_sin(pyv)
    z1 = cx * p[2] - sx * xp
    vz1 = cx * v[2] - sx * vxp
    return ((cx * xp + sx * p[2], cy * yp - sy * z1, sy * yp + cy * z1),
            (cx * vxp + sx * v[2], cy * vyp - sy * vz1, sy * vyp + cy * vz1))


@nb.njit(cache=True, nogil=True, error_model="numpy")
def rotate_linear(r, t_ns, which, t_ref_ns, models):
    """TEME positions ``r`` (3, k) at ``t_ns`` (k,) to ITRS with GMST and
    polar motion linear in time (``_teme_to_itrs``), sample i by the model
    ``t_ref_ns[which[i]]``, ``models[which[i]]`` = ``(th_ref, th_rate, px0,
    px_rate, py0, py_rate)``: ``frames.teme_to_itrs`` for exact states, one model per UTC
    day (the caller checks that each holds: passes._PairG._rotation_model)."""
    k = t_ns.shape[0]
    out = np.empty((3, k))
    zero = (0.0, 0.0, 0.0)
    for i in range(k):
        q = which[i]
        p, _ = _teme_to_itrs((r[0, i], r[1, i], r[2, i]), zero,
                             (t_ns[i] - t_ref_ns[q]) / 1e9, models[q, 0], models[q, 1],
                             models[q, 2], models[q, 3], models[q, 4], models[q, 5])
        out[0, i], out[1, i], out[2, i] = p
    return out


@nb.njit(cache=True, nogil=True, error_model="numpy")
def hermite_geometry(rows, t_ns, grid, r, v, t_ref_ns, th_ref, th_rate,
                     px0, px_rate, py0, py_rate, site, r_site, up):
    """Cubic Hermite interpolation of cached TEME states (``r``, ``v``:
    ``(U * m, 3)`` on ``grid`` (m,) int ns), rotated to ITRS by GMST linear in
    time (``th_ref + th_rate * dt``) and polar motion linear in time, then
    seen from each row's site: returns ``sin(elevation)`` and
    ``cos(off-nadir)`` ``(n, k)`` for ``rows`` (n,) at ``t_ns`` (n, k).

    The same arithmetic as ``passes._hermite`` + ``frames.teme_to_itrs`` +
    the sites' up vectors, one point at a time.
    """
    n, kk = t_ns.shape
    sin_el = np.empty((n, kk))
    cos_nadir = np.empty((n, kk))
    for i in range(n):
        s_i = site[i]
        for j in range(kk):
            t = t_ns[i, j]
            pos, vel = _hermite_pv(grid, r, v, rows[i], t, False)
            p, _ = _teme_to_itrs(pos, vel, (t - t_ref_ns) / 1e9, th_ref, th_rate,
                                 px0, px_rate, py0, py_rate)
            dx, dy, dz = p[0] - r_site[s_i, 0], p[1] - r_site[s_i, 1], p[2] - r_site[s_i, 2]
            rng = np.sqrt(dx * dx + dy * dy + dz * dz)
            sin_el[i, j] = (dx * up[s_i, 0] + dy * up[s_i, 1] + dz * up[s_i, 2]) / rng
            rr = np.sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2])
            cos_nadir[i, j] = (dx * p[0] + dy * p[1] + dz * p[2]) / (rng * rr)
    return sin_el, cos_nadir


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _elevation_at(grid, r, v, row, t, t_ref_ns, th_ref, th_rate, px0, px_rate, py0, py_rate,
                  s_i, r_site, up, with_rate, hint=-1):
    """``sin(elevation)`` of cached row ``row`` from site ``s_i`` at ``t``
    (ns), and (``with_rate``) its time derivative (1/s): the arithmetic of
    :func:`hermite_geometry` for one point."""
    pos, vel = _hermite_pv(grid, r, v, row, t, with_rate, hint)
    p, w = _teme_to_itrs(pos, vel, (t - t_ref_ns) / 1e9, th_ref, th_rate,
                         px0, px_rate, py0, py_rate)
    dx, dy, dz = p[0] - r_site[s_i, 0], p[1] - r_site[s_i, 1], p[2] - r_site[s_i, 2]
    ux, uy, uz = up[s_i, 0], up[s_i, 1], up[s_i, 2]
    rng = np.sqrt(dx * dx + dy * dy + dz * dz)
    du = dx * ux + dy * uy + dz * uz
    if not with_rate:
        return du / rng, 0.0
    rate = (w[0] * ux + w[1] * uy + w[2] * uz) / rng \
        - du * (dx * w[0] + dy * w[1] + dz * w[2]) / (rng * rng * rng)
    return du / rng, rate


@nb.njit(cache=True, nogil=True, error_model="numpy")
def hermite_elevation_rate(rows, t_ns, grid, r, v, t_ref_ns, th_ref, th_rate,
                           px0, px_rate, py0, py_rate, site, r_site, up):
    """As :func:`hermite_geometry`, for ``t_ns`` (n,): ``sin(elevation)`` and
    its time derivative (1/s), from the Hermite position and velocity
    rotated to ITRS with the Earth-rotation term."""
    n = t_ns.shape[0]
    sin_el = np.empty(n)
    rate = np.empty(n)
    for i in range(n):
        sin_el[i], rate[i] = _elevation_at(grid, r, v, rows[i], t_ns[i], t_ref_ns, th_ref,
                                           th_rate, px0, px_rate, py0, py_rate, site[i],
                                           r_site, up, True)
    return sin_el, rate


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _illinois_bracket(mode, offset, row, ai, bi, fai, fbi, tol, grid, r, v, t_ref_ns, th_ref,
                      th_rate, px0, px_rate, py0, py_rate, s_i, r_site, up):
    """One bracket of :func:`hermite_elevation_illinois`: ``(a, b, ga, gb,
    mid)``."""
    gai = gbi = np.nan
    side = 0
    hint = _locate(grid, np.int64(np.rint(ai)), -1)
    for _ in range(100):
        if not (bi - ai > tol):
            break
        if np.isfinite(fai) and np.isfinite(fbi) and fbi != fai:
            x = (ai * fbi - bi * fai) / (fbi - fai)
        else:
            x = 0.5 * (ai + bi)
        w = bi - ai
        x = min(max(x, ai + 0.01 * w), bi - 0.01 * w)
        tx = np.int64(np.rint(x))
        hint = _locate(grid, tx, hint)
        se, rt = _elevation_at(grid, r, v, row, tx, t_ref_ns, th_ref, th_rate, px0, px_rate,
                               py0, py_rate, s_i, r_site, up, mode != 0, hint)
        fx = se - offset if mode == 0 else mode * rt
        if not np.isfinite(fx):
            fx = -np.inf
        same_as_a = (fx >= 0) == (fai >= 0)
        new_side = 1 if same_as_a else -1
        stay = side == new_side
        if same_as_a:
            ai = x
            fai = fx
            gai = fx
            if stay:
                fbi = fbi * 0.5
        else:
            bi = x
            fbi = fx
            gbi = fx
            if stay:
                fai = fai * 0.5
        side = new_side
    mid = np.nan
    if mode != 0:
        tm = np.int64(np.rint(0.5 * (ai + bi)))
        hint = _locate(grid, tm, hint)
        se, _ = _elevation_at(grid, r, v, row, tm, t_ref_ns, th_ref, th_rate, px0, px_rate,
                              py0, py_rate, s_i, r_site, up, True, hint)
        mid = se - offset
    return ai, bi, gai, gbi, mid


@nb.njit(cache=True, nogil=True, error_model="numpy")
def hermite_elevation_illinois(mode, offset, rows, a, b, fa, fb, tol, grid, r, v, t_ref_ns,
                               th_ref, th_rate, px0, px_rate, py0, py_rate, site, r_site, up):
    """``events._illinois`` on every bracket ``[a, b]`` (float ns) at once,
    for the Hermite elevation of rows ``rows`` seen from ``site``: mode 0
    solves ``sin(elevation) - offset = 0``, mode +1 / -1 solves ``+-`` its
    time derivative ``= 0`` (a maximum / minimum).  The same steps as the
    numpy loop (regula falsi kept strictly inside, Illinois halving,
    non-finite values negative), one bracket at a time, so that a bracket's
    grid segment stays in cache.  Returns the final ``(a, b)``, the
    function's own values there (``ga``, ``gb``: NaN at an end never moved,
    as ``events._illinois``) and, for modes +-1, ``sin(elevation) - offset``
    at ``rint((a + b) / 2)`` (the extremum's value; NaN for mode 0)."""
    n = rows.shape[0]
    a_out = a.copy()
    b_out = b.copy()
    ga_out = np.full(n, np.nan)
    gb_out = np.full(n, np.nan)
    mid_out = np.full(n, np.nan)
    for i in range(n):
        a_out[i], b_out[i], ga_out[i], gb_out[i], mid_out[i] = _illinois_bracket(
            mode, offset, rows[i], a[i], b[i], fa[i], fb[i], tol, grid, r, v, t_ref_ns, th_ref,
            th_rate, px0, px_rate, py0, py_rate, site[i], r_site, up)
    return a_out, b_out, ga_out, gb_out, mid_out


@nb.njit(cache=True, nogil=True, error_model="numpy")
def hermite_extremum_illinois(mode, offset, rows, lo, hi, tol, grid, r, v, t_ref_ns, th_ref,
                              th_rate, px0, px_rate, py0, py_rate, site, r_site, up):
    """``events._extremum``'s bracketing and Illinois in one pass: the rates
    at ``lo`` and ``hi`` (int ns, as :func:`hermite_elevation_rate` gives
    them), ``fa, fb = mode * rate``; where ``fa > 0 > fb`` (both finite;
    ``ok``) :func:`hermite_elevation_illinois`'s iteration on ``[lo, hi]``
    while the bracket's states are in cache.  Returns ``(ok, a, b, ga, gb,
    mid)`` (NaN where not ok)."""
    n = rows.shape[0]
    ok = np.zeros(n, np.bool_)
    a_out = np.full(n, np.nan)
    b_out = np.full(n, np.nan)
    ga_out = np.full(n, np.nan)
    gb_out = np.full(n, np.nan)
    mid_out = np.full(n, np.nan)
    for i in range(n):
        _, r_lo = _elevation_at(grid, r, v, rows[i], lo[i], t_ref_ns, th_ref, th_rate, px0,
                                px_rate, py0, py_rate, site[i], r_site, up, True)
        _, r_hi = _elevation_at(grid, r, v, rows[i], hi[i], t_ref_ns, th_ref, th_rate, px0,
                                px_rate, py0, py_rate, site[i], r_site, up, True)
        fa = mode * r_lo
        fb = mode * r_hi
        if not (np.isfinite(fa) and np.isfinite(fb) and fa > 0 and fb < 0):
            continue
        ok[i] = True
        a_out[i], b_out[i], ga_out[i], gb_out[i], mid_out[i] = _illinois_bracket(
            mode, offset, rows[i], float(lo[i]), float(hi[i]), fa, fb, tol, grid, r, v,
            t_ref_ns, th_ref, th_rate, px0, px_rate, py0, py_rate, site[i], r_site, up)
    return ok, a_out, b_out, ga_out, gb_out, mid_out


# -- which grid samples can matter: predicted direction vs the sites --------------

@nb.njit(cache=True, nogil=True, error_model="numpy")
def _track_direction(cn, sn, ci, si, cu, su):
    """Unit vector of argument of latitude ``u`` in the plane of node
    ``n`` and inclination ``i`` (cosines and sines given)."""
    return cn * cu - sn * su * ci, sn * cu + cn * su * ci, su * si


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _interval_hits(cu, su, cn, sn, cdu, sdu, cdn, sdn, cdt, sdt, ci, si, sx, sy, uz, j,
                   cos_fine, n_sub):
    """Does the predicted direction come within ``acos(cos_fine)`` of a
    site anywhere over grid interval ``j`` (checked at ``n_sub + 1``
    points; ``cos_fine`` carries half a sub-step of motion)?  From the
    interval's start (cosines and sines of the argument of latitude and
    the node), the argument of latitude and the node advance by a sub-step's
    ``du / n_sub``, ``dn / n_sub`` and the sites turn with the Earth by
    ``dtheta / n_sub`` (their cosines and sines given), all linearly:
    rotation recurrences, no trigonometry per point."""
    for k in range(uz.shape[0]):
        qx, qy = sx[k, j], sy[k, j]
        cu_k, su_k, cn_k, sn_k = cu, su, cn, sn
        for _ in range(n_sub + 1):
            dx, dy, dz = _track_direction(cn_k, sn_k, ci, si, cu_k, su_k)
            if dx * qx + dy * qy + dz * uz[k] >= cos_fine:
                return True
            cu_k, su_k = cu_k * cdu - su_k * sdu, su_k * cdu + cu_k * sdu
            cn_k, sn_k = cn_k * cdn - sn_k * sdn, sn_k * cdn + cn_k * sdn
            qx, qy = qx * cdt - qy * sdt, qy * cdt + qx * sdt
    return False


@nb.njit(cache=True, nogil=True, error_model="numpy")
def track_need(t_ns, anchors, incl, node0, node_rate, epoch_ns, u0, u_rate, du_anchor,
               use_track, cos_track, cos_fine, sin_plane, sx, sy, uz, gmst_rate, n_sub):
    """For each satellite (rows) and grid time ``t_ns`` (m,): may it be
    within its screening angle of any site?  The direction comes from mean
    elements -- node ``node0 + node_rate dt``, argument of latitude ``u0 +
    u_rate dt`` corrected by ``du_anchor`` (SGP4 minus mean at the grid
    columns ``anchors``, unwrapped, interpolated linearly) -- and is compared
    with each site's TEME unit vector (``sx``, ``sy`` (S, m), ``uz`` (S,);
    the sites turn at ``gmst_rate`` rad/s).

    Where ``use_track``: a sample is a candidate when ``cos theta >=
    cos_track`` (the screening angle plus one step of motion: every sample
    next to a visible moment is one).  Between consecutive candidates, an
    interval is needed (both its ends) if over it the direction comes
    within ``acos(cos_fine)`` of a site (checked at ``n_sub + 1`` points;
    ``cos_fine`` carries half a sub-step of the direction's motion); such
    an interval has candidates at both ends, so the candidates only spare
    the fine test elsewhere.  Elsewhere the site's angle to the orbital plane
    alone decides, ``|sin beta| <= sin_plane``, per sample.  Needed samples
    are then widened by one column either side."""
    n = incl.shape[0]
    m = t_ns.shape[0]
    n_sites = uz.shape[0]
    need = np.zeros((n, m), np.bool_)
    cand = np.zeros(m, np.bool_)
    u_j = np.empty(m)
    node_j = np.empty(m)
    seg = np.empty(m, np.int64)      # anchor segment per column
    trig = np.empty((m, 4))          # cos u, sin u, cos node, sin node per column
    for i in range(n):
        ci = np.cos(incl[i])
        si = np.sin(incl[i])
        a = 0
        prev_a = -1
        prev_h = -1
        have_rot = False
        cu = su = cn = sn = cdu = sdu = cdn = sdn = 0.0
        for j in range(m):
            dt = (t_ns[j] - epoch_ns[i]) / 1e9
            node = node0[i] + node_rate[i] * dt
            hit = False
            if use_track[i]:
                while a < anchors.shape[0] - 2 and anchors[a + 1] <= j:
                    a += 1
                j0 = anchors[a]
                j1 = anchors[a + 1]
                w = (j - j0) / (j1 - j0)
                u = u0[i] + u_rate[i] * dt + du_anchor[i, a] * (1 - w) + du_anchor[i, a + 1] * w
                # u and the node are linear within an anchor segment: rotate
                # the cosines and sines by the (constant) step, recomputed at
                # each segment and wherever the grid step changes
                h = t_ns[j] - t_ns[j - 1] if j > 0 else -1
                same = j > 0 and a == prev_a and h == prev_h
                if same and have_rot:
                    cu, su = cu * cdu - su * sdu, su * cdu + cu * sdu
                    cn, sn = cn * cdn - sn * sdn, sn * cdn + cn * sdn
                else:
                    cu, su = np.cos(u), np.sin(u)
                    cn, sn = np.cos(node), np.sin(node)
                    have_rot = j > 0 and a == prev_a
                    if have_rot:
                        cdu, sdu = np.cos(u - u_j[j - 1]), np.sin(u - u_j[j - 1])
                        cdn, sdn = np.cos(node - node_j[j - 1]), np.sin(node - node_j[j - 1])
                prev_a = a
                prev_h = h
                u_j[j] = u
                node_j[j] = node
                seg[j] = a
                trig[j, 0], trig[j, 1], trig[j, 2], trig[j, 3] = cu, su, cn, sn
                px, py, pz = _track_direction(cn, sn, ci, si, cu, su)
                for k in range(n_sites):
                    if px * sx[k, j] + py * sy[k, j] + pz * uz[k] >= cos_track[i]:
                        hit = True
                        break
                cand[j] = hit
            else:
                cn = np.cos(node)
                sn = np.sin(node)
                nx = si * sn
                ny = -si * cn
                for k in range(n_sites):
                    if abs(nx * sx[k, j] + ny * sy[k, j] + ci * uz[k]) <= sin_plane[i]:
                        hit = True
                        break
                need[i, j] = hit
        if not use_track[i]:
            continue
        # the sub-step rotations: u and the node advance linearly within an
        # anchor segment, so their cosines and sines are the same for every
        # interval of one segment and step (taken at its first)
        key_a = -1
        key_h = -1
        cdu = sdu = cdn = sdn = cdt = sdt = 0.0
        j = 0
        while j < m:
            if not cand[j]:
                j += 1
                continue
            b = j
            while b + 1 < m and cand[b + 1]:
                b += 1
            for q in range(j, b):
                h = t_ns[q + 1] - t_ns[q]
                if not (seg[q] == key_a and seg[q + 1] == key_a and h == key_h):
                    du = (u_j[q + 1] - u_j[q]) / n_sub
                    dn = (node_j[q + 1] - node_j[q]) / n_sub
                    dth = gmst_rate * h / 1e9 / n_sub
                    cdu, sdu = np.cos(du), np.sin(du)
                    cdn, sdn = np.cos(dn), np.sin(dn)
                    cdt, sdt = np.cos(dth), np.sin(dth)
                    key_a = seg[q] if seg[q] == seg[q + 1] else -1
                    key_h = h
                if _interval_hits(trig[q, 0], trig[q, 1], trig[q, 2], trig[q, 3], cdu, sdu,
                                  cdn, sdn, cdt, sdt, ci, si, sx, sy, uz, q, cos_fine[i], n_sub):
                    need[i, q] = True
                    need[i, q + 1] = True
            j = b + 1
    out = need.copy()
    for i in range(n):
        for j in range(m):
            if need[i, j]:
                if j > 0:
                    out[i, j - 1] = True
                if j < m - 1:
                    out[i, j + 1] = True
    return out


# -- SGP4 samples: accept or reject ------------------------------------------------

@nb.njit(cache=True, nogil=True, error_model="numpy")
def accept_states(sat, t_ns, rows, err, r, v, epoch_ns, r_fwd_km, r_bwd_km, mu_km3_s2,
                  min_perigee_radius_km, min_radius_km):
    """``propagation.physical_state`` (with each satellite's radius bound,
    ``Ephemeris.radius_limit_km``: ``r_fwd_km`` at or after its epoch,
    ``r_bwd_km`` before) and SGP4's error code, for samples ``i`` of
    satellite ``sat[i]`` at ``t_ns[i]`` stored in row ``rows[i]`` of ``err``,
    ``r``, ``v``, in one pass: returns ``ok`` (k,) and sets ``r``'s row to
    NaN where not ok.  The same tests in the same arithmetic order as the
    numpy function (tests/test_kernels.py)."""
    k = sat.shape[0]
    ok = np.empty(k, np.bool_)
    for i in range(k):
        q = rows[i]
        good = err[q] == 0
        if good:
            x, y, z = r[q, 0], r[q, 1], r[q, 2]
            rr = x * x + y * y + z * z
            vv = v[q, 0] * v[q, 0] + v[q, 1] * v[q, 1] + v[q, 2] * v[q, 2]
            good = np.isfinite(rr) and rr > min_radius_km * min_radius_km
            if good:
                rn = np.sqrt(rr)
                s = sat[i]
                limit = r_fwd_km[s] if float(t_ns[i]) >= epoch_ns[s] else r_bwd_km[s]
                low = 2 * mu_km3_s2 * min_perigee_radius_km / (rn * (rn + min_perigee_radius_km))
                good = vv * rn < 2 * mu_km3_s2 and vv >= low and rn <= limit
        ok[i] = good
        if not good:
            r[q, 0] = np.nan
            r[q, 1] = np.nan
            r[q, 2] = np.nan
    return ok


# -- eccentric orbits: SGP4 at knots spaced in true anomaly, Hermite between ------

@nb.njit(cache=True, nogil=True, error_model="numpy")
def _eccentric_from_mean(m, e):
    """Eccentric anomaly of mean anomaly ``m`` in [0, 2 pi) (Kepler's
    equation by Newton's method)."""
    big_e = m if e < 0.8 else np.pi
    for _ in range(50):
        d = (big_e - e * np.sin(big_e) - m) / (1.0 - e * np.cos(big_e))
        big_e -= d
        if abs(d) < 1e-13:
            break
    return big_e


@nb.njit(cache=True, nogil=True, error_model="numpy")
def anomaly_knots(anchor_ns, m_cum, ecc, d_anom, max_step_ns, min_step_ns, cap):
    """Knot times (int ns) for each satellite over ``[anchor_ns[0],
    anchor_ns[-1]]``: both ends, and every ``d_anom[i]`` (rad) of eccentric
    anomaly in between (a step in time proportional to the radius), the mean
    anomaly taken as linear between the anchors (``m_cum`` (n, na): each
    satellite's unwrapped mean anomaly there, rad, increasing), through
    Kepler's equation at eccentricity ``ecc``; gaps over ``max_step_ns``
    split evenly, knots under ``min_step_ns`` after the previous one
    dropped.  Returns ``(start (n + 1,), times (start[-1],))``: satellite
    i's knots are ``times[start[i]:start[i + 1]]``, increasing."""
    n, na = m_cum.shape
    t_lo_ns, t_hi_ns = anchor_ns[0], anchor_ns[na - 1]
    out = np.empty(n * cap, dtype=np.int64)
    start = np.zeros(n + 1, dtype=np.int64)
    two_pi = 2.0 * np.pi
    # room kept for the last gap's split (cap: the caller's bound per satellite)
    tail = (t_hi_ns - t_lo_ns) // max_step_ns + 4
    w = 0
    for i in range(n):
        e = ecc[i]
        step = d_anom[i]
        first = w
        out[w] = t_lo_ns
        w += 1
        for a in range(na - 1):
            m_a, m_b = m_cum[i, a], m_cum[i, a + 1]
            rev_a, rev_b = np.floor(m_a / two_pi), np.floor(m_b / two_pi)
            ea = rev_a * two_pi + _eccentric_from_mean(m_a - rev_a * two_pi, e)
            eb = rev_b * two_pi + _eccentric_from_mean(m_b - rev_b * two_pi, e)
            j = np.floor(ea / step) + 1.0
            while j * step < eb and w - first < cap - tail:
                big_e = j * step
                j += 1.0
                m = big_e - e * np.sin(big_e)
                f = (m - m_a) / (m_b - m_a)
                t = anchor_ns[a] + np.int64(np.rint(f * (anchor_ns[a + 1] - anchor_ns[a])))
                prev = out[w - 1]
                if t <= prev or t >= t_hi_ns or t - prev < min_step_ns:
                    continue
                k = (t - prev + max_step_ns - 1) // max_step_ns     # pieces of the gap
                for q in range(1, k):
                    out[w] = prev + (t - prev) * q // k
                    w += 1
                out[w] = t
                w += 1
        prev = out[w - 1]
        if w - first > 1 and t_hi_ns - prev < min_step_ns:
            w -= 1
            prev = out[w - 1]
        k = (t_hi_ns - prev + max_step_ns - 1) // max_step_ns
        for q in range(1, k):
            out[w] = prev + (t_hi_ns - prev) * q // k
            w += 1
        out[w] = t_hi_ns
        w += 1
        start[i + 1] = w
    return start, out[:w]


@nb.njit(cache=True, nogil=True, error_model="numpy")
def knot_fill(start, knot_t, kr, kv, t_ns, row_base, r_out, v_out):
    """Cubic Hermite (``hermite_basis``) of each satellite's knot states
    (``kr``, ``kv`` (K, 3) at ``knot_t``, satellite i's in
    ``start[i]:start[i + 1]``) at the grid times ``t_ns`` (m,), increasing
    and within the knots: position and velocity written to rows
    ``row_base[i] + j`` of ``r_out`` and ``v_out``.  At a knot, its state."""
    m = t_ns.shape[0]
    for i in range(row_base.shape[0]):
        a, b = start[i], start[i + 1]
        k = a
        for j in range(m):
            t = t_ns[j]
            while k < b - 2 and knot_t[k + 1] <= t:
                k += 1
            row = row_base[i] + j
            if t == knot_t[k]:
                for c in range(3):
                    r_out[row, c] = kr[k, c]
                    v_out[row, c] = kv[k, c]
                continue
            if t == knot_t[k + 1]:
                for c in range(3):
                    r_out[row, c] = kr[k + 1, c]
                    v_out[row, c] = kv[k + 1, c]
                continue
            h = (knot_t[k + 1] - knot_t[k]) / 1e9
            (h00, h10, h01, h11), (d00, d10, d11) = hermite_basis((t - knot_t[k]) / 1e9 / h, h)
            for c in range(3):
                r_out[row, c] = h00 * kr[k, c] + h10 * kv[k, c] + h01 * kr[k + 1, c] \
                    + h11 * kv[k + 1, c]
                v_out[row, c] = d00 * (kr[k, c] - kr[k + 1, c]) + d10 * kv[k, c] \
                    + d11 * kv[k + 1, c]


# -- merges of sorted event lists (no sorting where the inputs are sorted) --------

@nb.njit(cache=True, nogil=True, error_model="numpy")
def _sorted_by_obj_time(obj, t_ns):
    """Whether ``(obj, t_ns)`` is non-decreasing, object first."""
    for i in range(1, obj.shape[0]):
        if obj[i] < obj[i - 1] or (obj[i] == obj[i - 1] and t_ns[i] < t_ns[i - 1]):
            return False
    return True


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _put_event(out, w, obj, t, direction, edge, src):
    """Write event ``w`` of ``merge_edge_events``' outputs ``out``; ``w + 1``."""
    o_out, t_out, d_out, e_out, s_out = out
    o_out[w], t_out[w], d_out[w], e_out[w], s_out[w] = obj, t, direction, edge, src
    return w + 1


@nb.njit(cache=True, nogil=True, error_model="numpy")
def merge_edge_events(obj, t_ns, direction, in_start, in_end, t0, t1):
    """``events.to_intervals``'s event list without its sort: crossings
    ``(obj, t_ns, direction)`` sorted by object then time (objects in
    ``[0, n_obj)``, ``n_obj = len(in_start)``), a rise at ``t0`` added for
    every object in at the start, a set at ``t1`` for every object in at the
    end, in the order of ``np.lexsort((prio, t, obj))`` over [starts,
    crossings, ends] (prio 0, 1, 2; equal keys in input order).  Returns
    ``(ok, obj, t, direction, edge, src)``, ``src`` the crossing each event
    is (-1: an edge's); ``ok`` False (nothing else meaningful) where the
    crossings are not sorted or an object is out of range: the caller sorts
    instead."""
    n = obj.shape[0]
    n_obj = in_start.shape[0]
    total = n
    for k in range(n_obj):
        total += np.int64(in_start[k]) + np.int64(in_end[k])
    out = (np.empty(total, np.int64), np.empty(total, np.int64), np.empty(total, np.int8),
           np.empty(total, np.bool_), np.empty(total, np.int64))
    for i in range(n):
        if obj[i] < 0 or obj[i] >= n_obj:
            return (False,) + out
    if not _sorted_by_obj_time(obj, t_ns):
        return (False,) + out
    w = 0
    i = 0
    for k in range(n_obj):
        # crossings of object k: [i, j); the start rise goes before those
        # at or after t0 (prio 0), the end set after those at or before t1
        j = i
        while j < n and obj[j] == k:
            j += 1
        c = i
        if in_start[k]:
            while c < j and t_ns[c] < t0:
                w = _put_event(out, w, k, t_ns[c], direction[c], False, c)
                c += 1
            w = _put_event(out, w, k, t0, 1, True, -1)
        if in_end[k]:
            while c < j and t_ns[c] <= t1:
                w = _put_event(out, w, k, t_ns[c], direction[c], False, c)
                c += 1
            w = _put_event(out, w, k, t1, -1, True, -1)
        while c < j:
            w = _put_event(out, w, k, t_ns[c], direction[c], False, c)
            c += 1
        i = j
    return (True,) + out


@nb.njit(cache=True, nogil=True, error_model="numpy")
def merge_latest_at_or_before(obj, t_ns, q_obj, q_t_ns):
    """``events.latest_at_or_before`` by one merge, where both the entries
    ``(obj, t_ns)`` and the queries ``(q_obj, q_t_ns)`` are sorted by object
    then time: for each query the index of the last entry (in that order,
    equal entries in input order) with the same object at or before its
    time, else -1.  Returns ``(ok, index)``; ``ok`` False where either list
    is not sorted: the caller sorts instead."""
    nq = q_obj.shape[0]
    out = np.full(nq, -1, np.int64)
    if not (_sorted_by_obj_time(obj, t_ns) and _sorted_by_obj_time(q_obj, q_t_ns)):
        return False, out
    n = obj.shape[0]
    e = 0
    for q in range(nq):
        # every entry (obj, t) <= (q_obj, q_t) lies before e
        while e < n and (obj[e] < q_obj[q] or (obj[e] == q_obj[q] and t_ns[e] <= q_t_ns[q])):
            e += 1
        if e > 0 and obj[e - 1] == q_obj[q]:
            out[q] = e - 1
    return True, out


# -- look angles from the polish's exact states ------------------------------------

@nb.njit(cache=True, nogil=True, error_model="numpy")
def carry_logged_states(t_log, r_log, v_log, refs, t_ns, mu_km3_s2, max_carry_ns):
    """``passes._states_from_log`` in one pass: TEME positions ``(3, n, 3)``
    at ``t_ns`` (n, 3) (rise, culmination, set) from logged exact states
    (``t_log`` (N,), ``r_log``, ``v_log`` (3, N)) at rows ``refs`` (n, 3; -1:
    none), and where found ``(n, 3)`` bool.  Columns 0 and 2: the logged
    state carried over ``dt`` (at most ``max_carry_ns``) by its velocity
    and two-body gravity, ``r + v dt + a dt^2 / 2``.  Column 1: rows ``ref``
    and ``ref + 1`` bracket the time; the chord plus two-body gravity at
    their mean, ``r_a + (r_b - r_a) s + a (t - t_a)(t - t_b) / 2``."""
    n = t_ns.shape[0]
    n_log = t_log.shape[0]
    out = np.full((3, n, 3), np.nan)
    have = np.zeros((n, 3), np.bool_)
    for i in range(n):
        for col in range(3):
            k = refs[i, col]
            t = t_ns[i, col]
            if k < 0:
                continue
            if col == 1:
                if k + 1 >= n_log:
                    continue
                ta = t_log[k]
                tb = t_log[k + 1]
                if not (ta <= t <= tb and tb > ta):
                    continue
                frac = (t - ta) / (tb - ta)
                dta = (t - ta) / 1e9
                dtb = (t - tb) / 1e9
                mx = 0.5 * (r_log[0, k] + r_log[0, k + 1])
                my = 0.5 * (r_log[1, k] + r_log[1, k + 1])
                mz = 0.5 * (r_log[2, k] + r_log[2, k + 1])
                rr = np.sqrt(mx * mx + my * my + mz * mz)
                g = -mu_km3_s2 / (rr * rr * rr) * 0.5 * dta * dtb
                x = r_log[0, k] + (r_log[0, k + 1] - r_log[0, k]) * frac + g * mx
                y = r_log[1, k] + (r_log[1, k + 1] - r_log[1, k]) * frac + g * my
                z = r_log[2, k] + (r_log[2, k + 1] - r_log[2, k]) * frac + g * mz
            else:
                if k >= n_log or abs(t - t_log[k]) > max_carry_ns:
                    continue
                dt = (t - t_log[k]) / 1e9
                px, py, pz = r_log[0, k], r_log[1, k], r_log[2, k]
                rr = np.sqrt(px * px + py * py + pz * pz)
                g = -mu_km3_s2 / (rr * rr * rr) * 0.5 * dt * dt
                x = px + v_log[0, k] * dt + g * px
                y = py + v_log[1, k] * dt + g * py
                z = pz + v_log[2, k] * dt + g * pz
            if np.isfinite(x) and np.isfinite(y) and np.isfinite(z):
                out[0, i, col] = x
                out[1, i, col] = y
                out[2, i, col] = z
                have[i, col] = True
    return out, have
