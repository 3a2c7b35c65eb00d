"""Stages 2 and 3a of conjunction screening: which pairs come near at each
sample, and which of the steps around it can hold an approach under the
threshold.  Pure (numpy, plus numba when installed).

For every sample ``k`` of a block and every pair ``(i, j)``:

* **radial shell test** (a time-resolved apogee/perigee filter):
  ``|r_i - r_j| <= B_i + B_j``, ``B`` the radial pad of each sample;
* **spatial test**: ``|x_i - x_j| <= D + (vb_i + vb_j) h/2 + 2 margin``,
  ``vb`` a bound on each object's speed during the half step;
* **chord test** on the steps ``[k-1, k]`` and ``[k, k+1]``: the relative
  path departs from the straight chord between its step-end values by at most
  ``A h^2/8`` with ``A = 4.5 mu (|d|max + 50 km) / r_min^3 + 2e-4 km/s^2``
  (gravity-gradient bound ``|a1 - a2| <= 2 mu |d| / r^3`` with a generous
  factor), so a step whose chord stays farther than ``D + A h^2/8 + pad`` from
  the origin cannot hold an approach under ``D``.

Two implementations give the same pair-steps: a compiled uniform-grid sweep
(numba; one pass over all samples of the block, cells of twice the search
radius, thin objects sorted by radius per cell), and a fallback with scipy's
k-d tree per sample (used when numba is missing).  The grid is ~4x faster on
the whole catalog; see docs/conjunctions.md.  Also here: the compiled block
sampler (Hermite between SGP4 samples, validity and pads, time-major), whose
numpy twin is ``satwatch.conjunctions._block_samples_np``.
"""
from __future__ import annotations

import numpy as np

MU_KM3_S2 = 398600.8
CHORD_FACTOR = 4.5
CHORD_EXTRA_ACCEL_KM_S2 = 2e-4

try:  # pragma: no cover - exercised when numba is installed
    import numba as _nb
    from .kernels import hermite_basis
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    _nb = None
    HAVE_NUMBA = False


def _chord_ok_np(p0, p1, rmin4, herr_sum, h, d, margin):
    seg = p1 - p0
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.clip(-np.einsum("pk,pk->p", p0, seg) / np.einsum("pk,pk->p", seg, seg), 0, 1)
    s = np.where(np.isfinite(s), s, 0.0)
    c = p0 + s[:, None] * seg
    dc = np.sqrt(np.einsum("pk,pk->p", c, c))
    far = np.maximum(np.sqrt(np.einsum("pk,pk->p", p0, p0)),
                     np.sqrt(np.einsum("pk,pk->p", p1, p1)))
    r_min = np.maximum(rmin4 - 200.0, 5700.0)
    accel = CHORD_FACTOR * MU_KM3_S2 * (far + 50.0) / r_min ** 3 + CHORD_EXTRA_ACCEL_KM_S2
    return dc - accel * h * h / 8 <= d + herr_sum + margin


# -- fallback: scipy k-d tree per sample ----------------------------------------------

def _pairs_kdtree(x, rn, pad_b, speed, valid, prim, h, d, margin, slab_km, slow_km_s):
    from scipy.spatial import cKDTree
    idx = np.flatnonzero(valid)
    empty = np.empty(0, np.int64)
    if len(idx) < 2:
        return empty, empty
    out_i, out_j = [], []
    low = (pad_b[idx] <= slab_km) & (speed[idx] <= slow_km_s)
    li = idx[low]
    if len(li) > 1:
        r_low = d + slow_km_s * h + 2 * margin
        pts = np.empty((len(li), 4))
        pts[:, :3] = x[li]
        pts[:, 3] = r_low / (2 * slab_km) * rn[li]
        pr = cKDTree(pts, balanced_tree=False, compact_nodes=False).query_pairs(
            r_low * np.sqrt(2.0), output_type="ndarray")
        out_i.append(li[pr[:, 0]])
        out_j.append(li[pr[:, 1]])
    hi = idx[~low]
    if len(hi):
        reach = d + (speed[hi].max() + speed[idx].max()) * h / 2 + 2 * margin
        m = cKDTree(x[hi], balanced_tree=False, compact_nodes=False).sparse_distance_matrix(
            cKDTree(x[idx], balanced_tree=False, compact_nodes=False), reach,
            output_type="ndarray")
        a, b = hi[m["i"]], idx[m["j"]]
        keep = (a != b) & (((pad_b[b] <= slab_km) & (speed[b] <= slow_km_s)) | (a < b))
        out_i.append(a[keep])
        out_j.append(b[keep])
    if not out_i:
        return empty, empty
    a, b = np.concatenate(out_i), np.concatenate(out_j)
    dx = x[a] - x[b]
    dist = np.sqrt(np.einsum("pk,pk->p", dx, dx))
    ok = (dist <= d + (speed[a] + speed[b]) * h / 2 + 2 * margin) & \
         (np.abs(rn[a] - rn[b]) <= pad_b[a] + pad_b[b]) & (prim[a] | prim[b])
    a, b = a[ok], b[ok]
    return np.minimum(a, b), np.maximum(a, b)


def _pair_steps_kdtree(r, rn, pad_b, speed, valid, prim, herr, h, d, margin, slab_km,
                       slow_km_s):
    m, n = rn.shape
    found = [(*_pairs_kdtree(np.ascontiguousarray(r[k]), rn[k], pad_b[k], speed[k], valid[k],
                             prim, h, d, margin, slab_km, slow_km_s), k)
             for k in range(m)]   # one k-d tree per instant
    pi = np.concatenate([f[0] for f in found])
    pj = np.concatenate([f[1] for f in found])
    pk = np.concatenate([np.full(len(f[0]), f[2], np.int64) for f in found])
    n_pair_samples = len(pi)
    left, right = pk > 0, pk < m - 1
    ci = np.concatenate([pi[left], pi[right]])
    cj = np.concatenate([pj[left], pj[right]])
    ck = np.concatenate([pk[left] - 1, pk[right]])
    ok_ends = valid[ck, ci] & valid[ck + 1, ci] & valid[ck, cj] & valid[ck + 1, cj]
    partial = ~ok_ends & (valid[ck, ci] | valid[ck + 1, ci]) & \
        (valid[ck, cj] | valid[ck + 1, cj])
    keep = partial.copy()
    if ok_ends.any():
        a, b, k = ci[ok_ends], cj[ok_ends], ck[ok_ends]
        rmin4 = np.minimum(np.minimum(rn[k, a], rn[k + 1, a]), np.minimum(rn[k, b], rn[k + 1, b]))
        keep[ok_ends] = _chord_ok_np(r[k, b] - r[k, a], r[k + 1, b] - r[k + 1, a], rmin4,
                                     herr[a] + herr[b], h, d, margin)
    return ci[keep], cj[keep], ck[keep], partial[keep], n_pair_samples


# -- compiled uniform grid ----------------------------------------------------------

if HAVE_NUMBA:  # pragma: no branch
    _OFF = 1 << 19
    _K = 1 << 20

    @_nb.njit(cache=True, nogil=True)
    def _chord_ok_nb(r, rn, i, j, kk, herr_sum, h, d, margin):
        p0x = r[kk, j, 0] - r[kk, i, 0]
        p0y = r[kk, j, 1] - r[kk, i, 1]
        p0z = r[kk, j, 2] - r[kk, i, 2]
        p1x = r[kk + 1, j, 0] - r[kk + 1, i, 0]
        p1y = r[kk + 1, j, 1] - r[kk + 1, i, 1]
        p1z = r[kk + 1, j, 2] - r[kk + 1, i, 2]
        sx, sy, sz = p1x - p0x, p1y - p0y, p1z - p0z
        ss = sx * sx + sy * sy + sz * sz
        s = 0.0
        if ss > 0.0:
            s = -(p0x * sx + p0y * sy + p0z * sz) / ss
            s = min(max(s, 0.0), 1.0)
        cx, cy, cz = p0x + s * sx, p0y + s * sy, p0z + s * sz
        dc = np.sqrt(cx * cx + cy * cy + cz * cz)
        far = max(np.sqrt(p0x * p0x + p0y * p0y + p0z * p0z),
                  np.sqrt(p1x * p1x + p1y * p1y + p1z * p1z))
        rmin4 = min(min(rn[kk, i], rn[kk + 1, i]), min(rn[kk, j], rn[kk + 1, j]))
        r_min = max(rmin4 - 200.0, 5700.0)
        accel = CHORD_FACTOR * MU_KM3_S2 * (far + 50.0) / r_min ** 3 + CHORD_EXTRA_ACCEL_KM_S2
        return dc - accel * h * h / 8 <= d + herr_sum + margin

    @_nb.njit(cache=True, nogil=True)
    def _lower_bound(arr, lo, hi, value):
        """First index in [lo, hi) with arr >= value (branch-free halving:
        the compare becomes a conditional move, no mispredicted jumps)."""
        n = hi - lo
        if n <= 0:
            return lo
        base = lo
        while n > 1:
            half = n >> 1
            base = base + half if arr[base + half] < value else base
            n -= half
        return base + (1 if arr[base] < value else 0)

    @_nb.njit(cache=True, nogil=True, inline="always")
    def _gap(frac, off, cell):
        """Distance along one axis from a point (at ``frac`` of its cell;
        negative: clipped, position unknown) to the cell ``off`` cells away."""
        if frac < 0.0 or off == 0:
            return 0.0
        if off < 0:
            return (frac - 1.0 - off) * cell
        return (off - frac) * cell

    @_nb.njit(cache=True, nogil=True)
    def _scan_thin(t_id, t_rn, t_x, t_sp, t_pb, t_pr, b, s1, top, i, k, ri, bi, pi, vi,
                   xi0, xi1, xi2, owner_thin, d, h, margin, oi, oj, ok_, nout):
        """Object ``i`` at sample ``k`` against one cell's thin partners
        ``[b, s1)`` (sorted by radius) up to radius ``top``: the radial shell
        and spatial tests, branch-free (most candidates fail one: no
        mispredicted jumps), written from ``nout`` on (the caller makes room
        for ``s1 - b`` more).  A thin owner leaves a pair at the same radius
        to the lower id.  Returns the new count."""
        while b < s1 and t_rn[b] <= top:
            a = b
            b += 1
            j = t_id[a]
            dr = ri - t_rn[a]
            ex = xi0 - t_x[a, 0]
            ey = xi1 - t_x[a, 1]
            ez = xi2 - t_x[a, 2]
            lim = d + (vi + t_sp[a]) * h / 2 + 2 * margin
            keep = (j != i) & (not (owner_thin & (dr == 0.0) & (j < i))) \
                & (abs(dr) <= bi + t_pb[a]) & (pi | t_pr[a]) \
                & (ex * ex + ey * ey + ez * ez <= lim * lim)
            oi[nout], oj[nout], ok_[nout] = i, j, k
            nout += np.int64(keep)
        return nout

    @_nb.njit(cache=True, nogil=True)
    def _pair_steps_grid(r, rn, pad_b, speed, valid, prim, herr, h, d, margin, cell,
                         slab, slow):
        """Dense uniform grid (G^3 cells of size ``cell``, coordinates clipped
        into it: clipping never separates two points by more than one cell),
        rebuilt at each sample.  *Thin* objects (radial pad <= slab, speed <=
        slow) are kept per cell sorted by radius, so a thin object only looks
        at partners inside its radial window; *thick* ones (eccentric, fast)
        scan their neighbourhood in full and own all their pairs."""
        m, n = rn.shape
        G = 24
        half = G // 2
        ncell = G * G * G
        oi = np.empty(1 << 14, np.int64)
        oj = np.empty(1 << 14, np.int64)
        ok_ = np.empty(1 << 14, np.int64)
        nout = 0
        cnt = np.zeros(ncell + 1, np.int64)      # thin, then thick, counts per cell
        start_t = np.zeros(ncell + 1, np.int64)
        start_k = np.zeros(ncell + 1, np.int64)
        cnt_k = np.zeros(ncell + 1, np.int64)
        cell_of = np.empty(n, np.int64)
        cc = np.empty((n, 3), np.int64)
        lo_off = np.empty((n, 3), np.int64)   # neighbour cells to visit per axis
        frac = np.empty((n, 3))               # position inside the cell (-1: clipped)
        o_fr = np.empty((n, 3))
        o_oct = np.empty(n, np.int64)         # thin owner's octant of its cell (8: clipped)
        nb_c = np.empty(8, np.int64)          # one octant group's neighbour cells
        nb_d = np.empty((8, 3), np.int64)
        nb_p = np.empty(8, np.int64)
        hi_off = np.empty((n, 3), np.int64)
        thin = np.empty(n, np.bool_)
        t_id = np.empty(n, np.int64)
        k_id = np.empty(n, np.int64)
        t_rn = np.empty(n)
        cell_pb = np.zeros(ncell + 1)
        fill = np.empty(ncell + 1, np.int64)
        t_x = np.empty((n, 3))
        t_pb = np.empty(n)
        t_sp = np.empty(n)
        t_pr = np.empty(n, np.bool_)
        k_x = np.empty((n, 3))
        k_rn = np.empty(n)
        k_pb = np.empty(n)
        k_sp = np.empty(n)
        k_pr = np.empty(n, np.bool_)
        o_cc = np.empty((n, 3), np.int64)      # owners' cells and offsets, in owner order
        o_lo = np.empty((n, 3), np.int64)
        o_hi = np.empty((n, 3), np.int64)
        for k in range(m):
            cnt[:] = 0
            cnt_k[:] = 0
            for i in range(n):
                if not valid[k, i]:
                    continue
                for ax in range(3):
                    q = r[k, i, ax] / cell
                    fl = np.floor(q)
                    c = np.int64(fl) + half
                    cc[i, ax] = min(max(c, 0), G - 1)
                    # cells are at least twice the thin search radius: a thin
                    # object only needs the neighbour on its nearer side (both
                    # where clipped, whose in-cell position means nothing)
                    frac[i, ax] = q - fl
                    if c < 0 or c >= G:
                        lo_off[i, ax], hi_off[i, ax] = -1, 1
                        frac[i, ax] = -1.0
                    elif q - fl < 0.5:
                        lo_off[i, ax], hi_off[i, ax] = -1, 0
                    else:
                        lo_off[i, ax], hi_off[i, ax] = 0, 1
                cell_of[i] = (cc[i, 0] * G + cc[i, 1]) * G + cc[i, 2]
                thin[i] = pad_b[k, i] <= slab and speed[k, i] <= slow
                if thin[i]:
                    cnt[cell_of[i]] += 1
                else:
                    cnt_k[cell_of[i]] += 1
            acc = 0
            acc_k = 0
            for c in range(ncell):
                start_t[c] = acc
                acc += cnt[c]
                start_k[c] = acc_k
                acc_k += cnt_k[c]
            start_t[ncell] = acc
            start_k[ncell] = acc_k
            fill[:ncell] = start_t[:ncell]
            for i in range(n):
                if valid[k, i] and thin[i]:
                    c = cell_of[i]
                    t_id[fill[c]] = i
                    fill[c] += 1
            fill[:ncell] = start_k[:ncell]
            for i in range(n):
                if valid[k, i] and not thin[i]:
                    c = cell_of[i]
                    k_id[fill[c]] = i
                    fill[c] += 1
            # sort each cell's thin members by radius (insertion sort: cells are small)
            for c in range(ncell):
                s0, s1 = start_t[c], start_t[c] + cnt[c]
                pbmax = 0.0
                for a in range(s0, s1):
                    t_rn[a] = rn[k, t_id[a]]
                    pbmax = max(pbmax, pad_b[k, t_id[a]])
                cell_pb[c] = pbmax
                for a in range(s0 + 1, s1):
                    va, ia = t_rn[a], t_id[a]
                    b = a - 1
                    while b >= s0 and t_rn[b] > va:
                        t_rn[b + 1], t_id[b + 1] = t_rn[b], t_id[b]
                        b -= 1
                    t_rn[b + 1], t_id[b + 1] = va, ia
            # this instant's data in cell order, so that scans read memory in sequence
            for a in range(acc):
                j = t_id[a]
                t_x[a, 0], t_x[a, 1], t_x[a, 2] = r[k, j, 0], r[k, j, 1], r[k, j, 2]
                t_pb[a], t_sp[a], t_pr[a] = pad_b[k, j], speed[k, j], prim[j]
                code = 0
                clipped = False
                for ax in range(3):
                    o_cc[a, ax], o_lo[a, ax], o_hi[a, ax] = cc[j, ax], lo_off[j, ax], hi_off[j, ax]
                    o_fr[a, ax] = frac[j, ax]
                    if hi_off[j, ax] == 1:
                        code |= 4 >> ax
                    clipped |= lo_off[j, ax] == -1 and hi_off[j, ax] == 1
                o_oct[a] = 8 if clipped else code
            for a in range(acc_k):
                j = k_id[a]
                k_x[a, 0], k_x[a, 1], k_x[a, 2] = r[k, j, 0], r[k, j, 1], r[k, j, 2]
                k_rn[a], k_pb[a], k_sp[a], k_pr[a] = rn[k, j], pad_b[k, j], speed[k, j], prim[j]
                for ax in range(3):
                    o_cc[acc + a, ax] = cc[j, ax]
                    o_fr[acc + a, ax] = frac[j, ax]
            vmax = 0.0
            for i in range(n):
                if valid[k, i] and speed[k, i] > vmax:
                    vmax = speed[k, i]
            # thin owners, per cell and octant of the cell: one group's owners
            # share their 8 neighbour cells and come in increasing radius, so
            # in each neighbour the start of the radial window only moves up
            # (one binary search per group and neighbour, then steps forward)
            for c0 in range(ncell):
                n_c = cnt[c0]
                if n_c == 0:
                    continue
                s0c = start_t[c0]
                c0x, c0y, c0z = c0 // (G * G), (c0 // G) % G, c0 % G
                for octant in range(8):
                    nn = 0
                    for e in range(8):
                        ix = (1 if octant & 4 else -1) if e & 4 else 0
                        iy = (1 if octant & 2 else -1) if e & 2 else 0
                        iz = (1 if octant & 1 else -1) if e & 1 else 0
                        cx, cy, cz = c0x + ix, c0y + iy, c0z + iz
                        if cx < 0 or cx >= G or cy < 0 or cy >= G or cz < 0 or cz >= G:
                            continue
                        c2 = (cx * G + cy) * G + cz
                        if cnt[c2] == 0:
                            continue
                        nb_c[nn] = c2
                        nb_d[nn, 0], nb_d[nn, 1], nb_d[nn, 2] = ix, iy, iz
                        nb_p[nn] = -1
                        nn += 1
                    if nn == 0:
                        continue
                    for q in range(s0c, s0c + n_c):
                        if o_oct[q] != octant:
                            continue
                        i = t_id[q]
                        vi, ri, bi, pi = t_sp[q], t_rn[q], t_pb[q], t_pr[q]
                        xi0, xi1, xi2 = t_x[q, 0], t_x[q, 1], t_x[q, 2]
                        reach = d + (vi + slow) * h / 2 + 2 * margin   # thin partners only
                        reach2 = (reach * (1.0 + 1e-9) + 1e-6) ** 2
                        fx, fy, fz = o_fr[q, 0], o_fr[q, 1], o_fr[q, 2]
                        for e in range(nn):
                            gx = _gap(fx, nb_d[e, 0], cell)
                            gy = _gap(fy, nb_d[e, 1], cell)
                            gz = _gap(fz, nb_d[e, 2], cell)
                            if gx * gx + gy * gy + gz * gz > reach2:
                                continue
                            c = nb_c[e]
                            s0 = start_t[c]
                            s1 = s0 + cnt[c]
                            b = nb_p[e]
                            if b < 0:
                                b = _lower_bound(t_rn, s0, s1, ri)
                            else:
                                while b < s1 and t_rn[b] < ri:
                                    b += 1
                            nb_p[e] = b
                            while nout + s1 - b > len(oi):
                                oi, oj, ok_ = _grow(oi, oj, ok_)
                            nout = _scan_thin(
                                t_id, t_rn, t_x, t_sp, t_pb, t_pr, b, s1, ri + bi + cell_pb[c],
                                i, k, ri, bi, pi, vi, xi0, xi1, xi2, True, d, h, margin,
                                oi, oj, ok_, nout)
            # thick owners, and thin ones clipped into the boundary cells
            for q in range(acc + acc_k):
                thin_i = q < acc
                if thin_i and o_oct[q] != 8:
                    continue
                if thin_i:
                    i = t_id[q]
                    vi, ri, bi, pi = t_sp[q], t_rn[q], t_pb[q], t_pr[q]
                    xi0, xi1, xi2 = t_x[q, 0], t_x[q, 1], t_x[q, 2]
                    x0, x1 = o_lo[q, 0], o_hi[q, 0]
                    y0, y1 = o_lo[q, 1], o_hi[q, 1]
                    z0, z1 = o_lo[q, 2], o_hi[q, 2]
                    reach = d + (vi + slow) * h / 2 + 2 * margin   # thin partners only
                else:
                    qa = q - acc
                    i = k_id[qa]
                    vi, ri, bi, pi = k_sp[qa], k_rn[qa], k_pb[qa], k_pr[qa]
                    xi0, xi1, xi2 = k_x[qa, 0], k_x[qa, 1], k_x[qa, 2]
                    rc = min(np.int64(np.ceil((d + (vi + vmax) * h / 2 + 2 * margin) / cell)), G)
                    x0, x1, y0, y1, z0, z1 = -rc, rc, -rc, rc, -rc, rc
                    reach = d + (vi + vmax) * h / 2 + 2 * margin
                # cells farther than the reach (box distance) cannot hold a
                # partner that passes the spatial test: skipped
                reach2 = (reach * (1.0 + 1e-9) + 1e-6) ** 2
                fx, fy, fz = o_fr[q, 0], o_fr[q, 1], o_fr[q, 2]
                for dx in range(x0, x1 + 1):
                    cx = o_cc[q, 0] + dx
                    if cx < 0 or cx >= G:
                        continue
                    gx = _gap(fx, dx, cell)
                    gx2 = gx * gx
                    if gx2 > reach2:
                        continue
                    for dy in range(y0, y1 + 1):
                        cy = o_cc[q, 1] + dy
                        if cy < 0 or cy >= G:
                            continue
                        gy = _gap(fy, dy, cell)
                        gxy2 = gx2 + gy * gy
                        if gxy2 > reach2:
                            continue
                        for dz in range(z0, z1 + 1):
                            cz = o_cc[q, 2] + dz
                            if cz < 0 or cz >= G:
                                continue
                            gz = _gap(fz, dz, cell)
                            if gxy2 + gz * gz > reach2:
                                continue
                            c = (cx * G + cy) * G + cz
                            # thin partners inside the radial window
                            s0 = start_t[c]
                            s1 = s0 + cnt[c]
                            if s1 > s0:
                                # partners' pads are at most this cell's largest.
                                # thin-thin pairs: either one's reach covers the
                                # pair, so the lower one (in radius) owns it and
                                # looks upwards only
                                b = _lower_bound(t_rn, s0, s1,
                                                 ri if thin_i else ri - bi - cell_pb[c])
                                while nout + s1 - b > len(oi):
                                    oi, oj, ok_ = _grow(oi, oj, ok_)
                                nout = _scan_thin(
                                    t_id, t_rn, t_x, t_sp, t_pb, t_pr, b, s1,
                                    ri + bi + cell_pb[c], i, k, ri, bi, pi, vi, xi0, xi1, xi2,
                                    thin_i, d, h, margin, oi, oj, ok_, nout)
                            if thin_i:
                                continue
                            # thick object: thick partners too (each pair once)
                            k0_, k1_ = start_k[c], start_k[c] + cnt_k[c]
                            while nout + k1_ - k0_ > len(oi):
                                oi, oj, ok_ = _grow(oi, oj, ok_)
                            for a in range(k0_, k1_):
                                j = k_id[a]
                                ex = xi0 - k_x[a, 0]
                                ey = xi1 - k_x[a, 1]
                                ez = xi2 - k_x[a, 2]
                                lim = d + (vi + k_sp[a]) * h / 2 + 2 * margin
                                keep = (j > i) & (abs(ri - k_rn[a]) <= bi + k_pb[a]) \
                                    & (pi | k_pr[a]) & (ex * ex + ey * ey + ez * ez <= lim * lim)
                                oi[nout], oj[nout], ok_[nout] = i, j, k
                                nout += np.int64(keep)
        return _steps(r, rn, valid, herr, h, d, margin, oi[:nout], oj[:nout], ok_[:nout])

    @_nb.njit(cache=True, nogil=True)
    def _grow(a, b, c):
        return (np.concatenate((a, np.empty(len(a), np.int64))),
                np.concatenate((b, np.empty(len(b), np.int64))),
                np.concatenate((c, np.empty(len(c), np.int64))))

    @_nb.njit(cache=True, nogil=True)
    def _steps(r, rn, valid, herr, h, d, margin, pi, pj, pk):
        """Chord test of the steps on both sides of each pair-sample."""
        m = rn.shape[0]
        npair = len(pi)
        oi = np.empty(2 * npair, np.int64)
        oj = np.empty(2 * npair, np.int64)
        ok_ = np.empty(2 * npair, np.int64)
        op = np.empty(2 * npair, np.bool_)
        nout = 0
        for q in range(npair):
            i, j, k = pi[q], pj[q], pk[q]
            lo_, hi_ = min(i, j), max(i, j)
            for kk in range(k - 1, k + 1):
                if kk < 0 or kk + 1 >= m:
                    continue
                full = valid[kk, i] and valid[kk + 1, i] and valid[kk, j] and valid[kk + 1, j]
                if full:
                    if not _chord_ok_nb(r, rn, lo_, hi_, kk, herr[i] + herr[j], h, d, margin):
                        continue
                elif not ((valid[kk, i] or valid[kk + 1, i]) and
                          (valid[kk, j] or valid[kk + 1, j])):
                    continue
                oi[nout], oj[nout], ok_[nout], op[nout] = lo_, hi_, kk, not full
                nout += 1
        return oi[:nout], oj[:nout], ok_[:nout], op[:nout], npair


# -- block samples: SGP4 states (exact or Hermite), validity and pads ----------------

if HAVE_NUMBA:  # pragma: no branch
    @_nb.njit(cache=True, nogil=True)
    def _block_samples_nb(r_e, v_e, err_e, ke, t_s, coef, accel_r, h, d, margin, max_acc,
                          r_earth, mu, unphysical, dv_factor, r_max, rp_min):
        n, me = err_e.shape
        m = len(t_s)
        r = np.empty((m, n, 3))
        v = np.empty((m, n, 3))
        err = np.empty((m, n), np.int16)
        rn = np.empty((m, n))
        pad = np.empty((m, n))
        speed = np.empty((m, n))
        valid = np.empty((m, n), np.bool_)
        eps_max = np.zeros(n)
        dv_max = np.zeros(n)
        eps = np.zeros(m)
        dv = np.zeros(m)
        for i in range(n):
            for q in range(me):
                k = ke[q]
                e = np.int16(err_e[i, q])
                for ax in range(3):
                    r[k, i, ax] = r_e[i, q, ax]
                    v[k, i, ax] = v_e[i, q, ax]
                err[k, i] = e
                eps[k] = 0.0
                dv[k] = 0.0
            for q in range(me - 1):
                ka, kb = ke[q], ke[q + 1]
                if kb - ka < 2:
                    continue
                span = t_s[kb] - t_s[ka]
                e_pos = coef[i] * span ** 4 + 1e-6
                e_vel = dv_factor * e_pos / span
                eps_max[i] = max(eps_max[i], e_pos)
                dv_max[i] = max(dv_max[i], e_vel)
                for k in range(ka + 1, kb):
                    (h00, h10, h01, h11), (g00, g10, g11) = hermite_basis(
                        (t_s[k] - t_s[ka]) / span, span)
                    for ax in range(3):
                        p0, p1 = r[ka, i, ax], r[kb, i, ax]
                        w0, w1 = v[ka, i, ax], v[kb, i, ax]
                        r[k, i, ax] = h00 * p0 + h10 * w0 + h01 * p1 + h11 * w1
                        v[k, i, ax] = g00 * (p0 - p1) + g10 * w0 + g11 * w1
                    eps[k] = e_pos
                    dv[k] = e_vel
            # exact samples first (interpolated ones inherit their ends' codes)
            for pass_ in range(2):
                for k in range(m):
                    exact = eps[k] == 0.0
                    if exact != (pass_ == 0):
                        continue
                    if not exact:
                        ka = k
                        while eps[ka] != 0.0:
                            ka -= 1
                        kb = k
                        while eps[kb] != 0.0:
                            kb += 1
                        err[k, i] = max(err[ka, i], err[kb, i])
                    x, y, z = r[k, i, 0], r[k, i, 1], r[k, i, 2]
                    vx, vy, vz = v[k, i, 0], v[k, i, 1], v[k, i, 2]
                    rr = x * x + y * y + z * z
                    vv = vx * vx + vy * vy + vz * vz
                    # propagation.physical_state: surface, escape speed, the
                    # slowest orbit through this radius, the element set's reach
                    rk0 = np.sqrt(rr)
                    ok = np.isfinite(rr) and rr > r_earth * r_earth and \
                        vv * rk0 < 2 * mu and \
                        vv >= 2 * mu * rp_min / (rk0 * (rk0 + rp_min)) and rk0 <= r_max[i]
                    # only SGP4 states are tested: an interpolated one is
                    # within eps of SGP4 and as valid as its two ends
                    if exact and err[k, i] == 0 and not ok:
                        err[k, i] = unphysical
                    good = err[k, i] == 0 and np.isfinite(x) and np.isfinite(y) and \
                        np.isfinite(z)
                    valid[k, i] = good
                    rk = np.sqrt(rr)
                    rn[k, i] = rk
                    rdot = (x * vx + y * vy + z * vz) / rk if good else 0.0
                    if good:
                        pad[k, i] = (d / 2 + abs(rdot) * h / 2 + accel_r[i] * h * h / 8
                                     + margin + eps[k] + dv[k] * h / 2)
                    else:
                        pad[k, i] = np.inf
                    speed[k, i] = np.sqrt(vv) + max_acc * h / 2 + 2 * eps[k] / h + dv[k]
        return r, v, err, rn, pad, speed, valid, eps_max, dv_max


def find_pair_steps(r, rn, pad_b, speed, valid, primary, herr, h, d, margin, *,
                    slab_km=10.0, slow_km_s=8.3, use_numba=None):
    """Pair-steps ``(i, j, kk, partial)`` (i < j, step ``[kk, kk+1]``) that may
    hold an approach under ``d``, and the count of pair-samples passing the
    radial + spatial tests.  Time-major: ``r`` (m, n, 3), others (m, n);
    ``primary`` (n,) bool or None."""
    m, n = rn.shape
    prim = np.ones(n, bool) if primary is None else np.asarray(primary, bool)
    use = HAVE_NUMBA if use_numba is None else use_numba
    if use:
        cell = 2 * (d + slow_km_s * h + 2 * margin)
        # time-major: each instant's data contiguous in memory
        ci, cj, ck, part, nps = _pair_steps_grid(
            np.ascontiguousarray(r), np.ascontiguousarray(rn), np.ascontiguousarray(pad_b),
            np.ascontiguousarray(speed), np.ascontiguousarray(valid), prim, herr, float(h),
            float(d), float(margin), float(cell), float(slab_km), float(slow_km_s))
    else:
        ci, cj, ck, part, nps = _pair_steps_kdtree(r, rn, pad_b, speed, valid, prim, herr, h,
                                                   d, margin, slab_km, slow_km_s)
    key = (ci * n + cj) * m + ck
    _, first = np.unique(key, return_index=True)
    return ci[first], cj[first], ck[first], part[first], int(nps)
