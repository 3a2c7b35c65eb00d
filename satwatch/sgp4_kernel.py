"""Compiled SGP4 for near-Earth element sets: any mix of (satellite, time)
samples in one call (numba).  Pure: arrays in, arrays out.

Why: python-sgp4 evaluates one satellite per call (``Satrec._sgp4``) or a
dense satellites x times grid (``SatrecArray._sgp4``).  Sparse samples
(refinement points, per-satellite time lists) therefore cost one Python
call per satellite, about a microsecond each before any SGP4 work.  Here
one call takes flat arrays ``sat_idx``, ``jd``, ``fr`` of any length and
order.  Measured in ``benchmarks/sgp4_kernel.py``.

What is ported: the near-Earth branch (``method == 'n'``) of Vallado's
C++ ``SGP4Funcs::sgp4init`` and ``SGP4Funcs::sgp4`` (SGP4.cpp, 2020
version, as compiled into python-sgp4's ``sgp4.vallado_cpp``), statement
by statement and in the same operation order, so that results are the
C++ results bit for bit on this platform (tested against the C++ itself:
tests/test_sgp4_kernel.py).  The compiled Satrec does not expose its
initialised coefficients, so ``pack_near_earth`` re-runs the near-Earth
part of sgp4init from the elements and gravity constants the Satrec does
expose (bstar, ecco, argpo, inclo, mo, no_kozai, nodeo; radiusearthkm,
xke, j2, j3oj2, j4); the epoch only feeds sidereal time, which the
near-Earth model does not use.  Deep-space sets (``method == 'd'``,
period >= 225 min) are refused: use python-sgp4 for those.

``trig_by_series`` (the scatter entry point; what satwatch.passes runs):
where an angle lies within SERIES_MAX_RAD of one whose sine and cosine are
known (Kepler's later iterates, the argument of latitude and inclination
after the short-period terms, the mean anomaly after the drag terms), its
sine and cosine come from rotating those through the difference, whose own
come from their series; ``am ** 1.5`` becomes ``am * sqrt(am)``; the other
sines and cosines come from a table (``cos_sin_table``, within 1e-15 of
libm's).  About 35% faster (benchmarks/sgp4_kernel.py), the C++
numbers to rounding, except that the C++'s Kepler loop stops with up to
1e-12 rad of eccentric anomaly unapplied and a last-bit difference can make
this path take or skip that step: within 1e-9 km + 1e-11 of |r| (and of |v|)
wherever SGP4's state is an orbit, measured at most 2.7e-8 km over 12.9
million catalog states (tests/test_sgp4_series.py, review round 24); the same
error codes and NaNs everywhere.  SGP4's runaway states past a decay amplify
any difference without bound; the pass engine rejects them (code 7).

Conventions copied from python-sgp4's C++ wrapper (wrapper.cpp,
``_vectorized_sgp4``):

* ``tsince_min = (jd - jdsatepoch) * 1440.0 + (fr - jdsatepochF) * 1440.0``;
* error codes: 0 ok, 1 mean eccentricity out of range, 2 mean motion <= 0,
  4 semi-latus rectum < 0, 6 decayed (mrt < 1 Earth radius).  Code 3
  (perturbed eccentricity) only arises in the deep-space branch;
* codes 1-5 give NaN position and velocity; code 6 keeps the computed
  (below-surface) state, as the C++ does.
"""
from __future__ import annotations

from decimal import Decimal

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .time import NS_PER_DAY

JD_UNIX_EPOCH = 2440587.5            # Julian date of 1970-01-01T00:00:00 UTC

# -- parameter rows -------------------------------------------------------------
# One row per satellite: what the C++ elsetrec holds after sgp4init that the
# near-Earth sgp4() reads, plus the epoch split.  Column indices:
(P_JD, P_JDF, P_ISIMP, P_MO, P_MDOT, P_ARGPO, P_ARGPDOT, P_NODEO, P_NODEDOT,
 P_NODECF, P_CC1, P_BSTAR, P_CC4, P_T2COF, P_OMGCOF, P_ETA, P_XMCOF, P_DELMO,
 P_D2, P_D3, P_D4, P_CC5, P_SINMAO, P_T3COF, P_T4COF, P_T5COF, P_NO_UNKOZAI,
 P_ECCO, P_INCLO, P_XKE, P_AYCOF, P_XLCOF, P_J2, P_CON41, P_X1MTH2, P_X7THM1,
 P_RADIUS_KM, P_VKMPERSEC, P_AO, P_SINIO, P_COSIO) = range(41)
N_PARAMS = 41

# Inputs read from each Satrec, in the order _init_rows takes them.
_ELEMENT_ATTRS = ("jdsatepoch", "jdsatepochF", "bstar", "ecco", "argpo", "inclo", "mo",
                  "no_kozai", "nodeo", "radiusearthkm", "xke", "j2", "j3oj2", "j4")

PI = 3.14159265358979323846          # SGP4.cpp's #define pi
TWOPI = 2.0 * PI
X2O3 = 2.0 / 3.0
# ``trig_by_series``: an angle within this (rad) of one whose sine and cosine
# are already known gets its own by rotating those by the difference, whose
# cosine and sine come from their series (terms to d^8 and d^9: the next are
# under 3e-17 at 0.1 rad), not from libm (see the module docstring for what
# that does to the states: tests/test_sgp4_series.py).
SERIES_MAX_RAD = 0.1


@nb.njit(cache=True, nogil=True, error_model="numpy")
def initl(ecco, inclo, no_kozai, xke, j2):
    """SGP4.cpp ``initl`` (the part both branches use; the sidereal time at
    epoch is the deep-space kernel's): the un-Kozai'd mean motion and the
    inclination and eccentricity functions of ``sgp4init``.  Returns
    ``(eccsq, omeosq, rteosq, cosio, cosio2, no_unkozai, ao, con42, con41,
    posq, rp)``, in the C++ operation order."""
    eccsq = ecco * ecco
    omeosq = 1.0 - eccsq
    rteosq = np.sqrt(omeosq)
    cosio = np.cos(inclo)
    cosio2 = cosio * cosio
    ak = (xke / no_kozai) ** X2O3
    d1 = 0.75 * j2 * (3.0 * cosio2 - 1.0) / (rteosq * omeosq)
    dl = d1 / (ak * ak)
    adel = ak * (1.0 - dl * dl - dl * (1.0 / 3.0 + 134.0 * dl * dl / 81.0))
    dl = d1 / (adel * adel)
    no_unkozai = no_kozai / (1.0 + dl)
    ao = (xke / no_unkozai) ** X2O3
    po = ao * omeosq
    con42 = 1.0 - 5.0 * cosio2
    con41 = -con42 - cosio2 - cosio2
    posq = po * po
    rp = ao * (1.0 - ecco)
    return eccsq, omeosq, rteosq, cosio, cosio2, no_unkozai, ao, con42, con41, posq, rp


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _init_row(el, out):
    """Near-Earth part of SGP4.cpp ``initl`` + ``sgp4init`` for one element
    row ``el`` (see _ELEMENT_ATTRS); writes the parameter row ``out``.
    Returns False for a deep-space orbit (period >= 225 min)."""
    bstar = el[2]
    ecco = el[3]
    argpo = el[4]
    inclo = el[5]
    mo = el[6]
    no_kozai = el[7]
    radiusearthkm = el[9]
    xke = el[10]
    j2 = el[11]
    j3oj2 = el[12]
    j4 = el[13]
    temp4 = 1.5e-12
    for c in range(N_PARAMS):
        out[c] = 0.0
    out[P_JD] = el[0]
    out[P_JDF] = el[1]
    out[P_BSTAR] = bstar
    out[P_ECCO] = ecco
    out[P_ARGPO] = argpo
    out[P_INCLO] = inclo
    out[P_MO] = mo
    out[P_NODEO] = el[8]
    out[P_XKE] = xke
    out[P_J2] = j2
    out[P_RADIUS_KM] = radiusearthkm
    out[P_VKMPERSEC] = radiusearthkm * xke / 60.0

    ss = 78.0 / radiusearthkm + 1.0
    qzms2ttemp = (120.0 - 78.0) / radiusearthkm
    qzms2t = qzms2ttemp * qzms2ttemp * qzms2ttemp * qzms2ttemp

    eccsq, omeosq, rteosq, cosio, cosio2, no_unkozai, ao, con42, con41, posq, rp = initl(
        ecco, inclo, no_kozai, xke, j2)
    sinio = np.sin(inclo)
    out[P_NO_UNKOZAI] = no_unkozai
    out[P_CON41] = con41
    # per-satellite constants that sgp4() recomputes at every call from
    # the same inputs with the same operations (so the same bits):
    # pow(xke / no_unkozai, x2o3), sin(inclo), cos(inclo)
    out[P_AO] = ao
    out[P_SINIO] = sinio
    out[P_COSIO] = cosio

    if omeosq >= 0.0 or no_unkozai >= 0.0:
        isimp = 0
        if rp < (220.0 / radiusearthkm + 1.0):
            isimp = 1
        sfour = ss
        qzms24 = qzms2t
        perige = (rp - 1.0) * radiusearthkm
        if perige < 156.0:
            sfour = perige - 78.0
            if perige < 98.0:
                sfour = 20.0
            qzms24temp = (120.0 - sfour) / radiusearthkm
            qzms24 = qzms24temp * qzms24temp * qzms24temp * qzms24temp
            sfour = sfour / radiusearthkm + 1.0
        pinvsq = 1.0 / posq
        tsi = 1.0 / (ao - sfour)
        eta = ao * ecco * tsi
        etasq = eta * eta
        eeta = ecco * eta
        psisq = abs(1.0 - etasq)
        coef = qzms24 * tsi ** 4.0
        coef1 = coef / psisq ** 3.5
        cc2 = coef1 * no_unkozai * (ao * (1.0 + 1.5 * etasq + eeta *
                                          (4.0 + etasq)) + 0.375 * j2 * tsi / psisq * con41 *
                                    (8.0 + 3.0 * etasq * (8.0 + etasq)))
        cc1 = bstar * cc2
        cc3 = 0.0
        if ecco > 1.0e-4:
            cc3 = -2.0 * coef * tsi * j3oj2 * no_unkozai * sinio / ecco
        x1mth2 = 1.0 - cosio2
        cc4 = 2.0 * no_unkozai * coef1 * ao * omeosq * \
            (eta * (2.0 + 0.5 * etasq) + ecco *
             (0.5 + 2.0 * etasq) - j2 * tsi / (ao * psisq) *
             (-3.0 * con41 * (1.0 - 2.0 * eeta + etasq *
                              (1.5 - 0.5 * eeta)) + 0.75 * x1mth2 *
              (2.0 * etasq - eeta * (1.0 + etasq)) * np.cos(2.0 * argpo)))
        cc5 = 2.0 * coef1 * ao * omeosq * (1.0 + 2.75 * (etasq + eeta) + eeta * etasq)
        cosio4 = cosio2 * cosio2
        temp1 = 1.5 * j2 * pinvsq * no_unkozai
        temp2 = 0.5 * temp1 * j2 * pinvsq
        temp3 = -0.46875 * j4 * pinvsq * pinvsq * no_unkozai
        mdot = no_unkozai + 0.5 * temp1 * rteosq * con41 + 0.0625 * \
            temp2 * rteosq * (13.0 - 78.0 * cosio2 + 137.0 * cosio4)
        argpdot = -0.5 * temp1 * con42 + 0.0625 * temp2 * \
            (7.0 - 114.0 * cosio2 + 395.0 * cosio4) + \
            temp3 * (3.0 - 36.0 * cosio2 + 49.0 * cosio4)
        xhdot1 = -temp1 * cosio
        nodedot = xhdot1 + (0.5 * temp2 * (4.0 - 19.0 * cosio2) +
                            2.0 * temp3 * (3.0 - 7.0 * cosio2)) * cosio
        omgcof = bstar * cc3 * np.cos(argpo)
        xmcof = 0.0
        if ecco > 1.0e-4:
            xmcof = -X2O3 * coef * bstar / eeta
        nodecf = 3.5 * omeosq * xhdot1 * cc1
        t2cof = 1.5 * cc1
        if abs(cosio + 1.0) > 1.5e-12:
            xlcof = -0.25 * j3oj2 * sinio * (3.0 + 5.0 * cosio) / (1.0 + cosio)
        else:
            xlcof = -0.25 * j3oj2 * sinio * (3.0 + 5.0 * cosio) / temp4
        aycof = -0.5 * j3oj2 * sinio
        delmotemp = 1.0 + eta * np.cos(mo)
        delmo = delmotemp * delmotemp * delmotemp
        sinmao = np.sin(mo)
        x7thm1 = 7.0 * cosio2 - 1.0

        if (2 * PI / no_unkozai) >= 225.0:
            return False                      # deep space: not ported

        out[P_ETA] = eta
        out[P_CC1] = cc1
        out[P_CC4] = cc4
        out[P_CC5] = cc5
        out[P_X1MTH2] = x1mth2
        out[P_MDOT] = mdot
        out[P_ARGPDOT] = argpdot
        out[P_NODEDOT] = nodedot
        out[P_OMGCOF] = omgcof
        out[P_XMCOF] = xmcof
        out[P_NODECF] = nodecf
        out[P_T2COF] = t2cof
        out[P_XLCOF] = xlcof
        out[P_AYCOF] = aycof
        out[P_DELMO] = delmo
        out[P_SINMAO] = sinmao
        out[P_X7THM1] = x7thm1
        out[P_ISIMP] = isimp
        if isimp != 1:
            cc1sq = cc1 * cc1
            d2 = 4.0 * ao * tsi * cc1sq
            temp = d2 * tsi * cc1 / 3.0
            d3 = (17.0 * ao + sfour) * temp
            d4 = 0.5 * temp * ao * tsi * (221.0 * ao + 31.0 * sfour) * cc1
            out[P_D2] = d2
            out[P_D3] = d3
            out[P_D4] = d4
            out[P_T3COF] = d2 + 2.0 * cc1sq
            out[P_T4COF] = 0.25 * (3.0 * d3 + cc1 * (12.0 * d2 + 10.0 * cc1sq))
            out[P_T5COF] = 0.2 * (3.0 * d4 + 12.0 * cc1 * d3 + 6.0 * d2 * d2 +
                                  15.0 * cc1sq * (2.0 * d2 + cc1sq))
    return True


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _init_rows(elements, params):
    """Rows of ``params`` from ``elements``; returns the first deep-space
    row index, or -1."""
    for i in range(elements.shape[0]):
        if not _init_row(elements[i], params[i]):
            return i
    return -1


def pack_near_earth(satrecs) -> np.ndarray:
    """Parameter rows ``(n, N_PARAMS)`` float64 for ``sgp4_near``, one per
    ``sgp4.api.Satrec`` (any gravity model; the constants are read from
    each Satrec).  Raises ValueError naming the first deep-space satrec."""
    satrecs = list(satrecs)
    n = len(satrecs)
    elements = np.empty((n, len(_ELEMENT_ATTRS)))
    for i, s in enumerate(satrecs):
        if s.method != "n":
            raise ValueError(f"satrec {i} (NORAD {s.satnum}) is deep space (method "
                             f"{s.method!r}); sgp4_kernel ports near-Earth SGP4 only")
        elements[i] = [getattr(s, a) for a in _ELEMENT_ATTRS]
    params = np.empty((n, N_PARAMS))
    bad = _init_rows(elements, params)
    if bad >= 0:          # method said 'n' but the period test says deep space
        raise ValueError(f"satrec {bad} (NORAD {satrecs[bad].satnum}) is deep space; "
                         "sgp4_kernel ports near-Earth SGP4 only")
    return params


# -- propagation ------------------------------------------------------------------

@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (LLVM's ``llvm.fma.f64``: the FMA
    instruction, or libm's ``fma`` on a CPU without one)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        d = ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [d], ir.FunctionType(d, [d, d, d]))
        return builder.call(fn, args)
    return sig, codegen


# fmod_twopi's fused multiply-add needs the rounded quotient x / TWOPI within
# one of the true one: true below 2**53 turns (review round 24: 1e20 rad gave
# 3149.77 instead of 1.8956 without this bound).
FMA_FMOD_MAX = 2.0 ** 53 * TWOPI


@nb.njit(cache=True, nogil=True, error_model="numpy")
def fmod_twopi(x):
    """``fmod(x, TWOPI)`` bit for bit, about 8 times faster than libm's
    (which reduces bit by bit): ``x - n TWOPI`` (n the quotient truncated)
    is exact in double precision, so one fused multiply-add gives it; where
    the rounded quotient is one off (x near a multiple of TWOPI) the result
    falls outside ``[0, TWOPI)`` (``(-TWOPI, 0]`` for negative x) and is
    taken again with the next quotient.  That holds below 2**53 turns
    (FMA_FMOD_MAX); beyond, and for non-finite x, libm's fmod.  A zero is
    signed as x, as fmod's.
    (tests/test_sgp4_kernel.py: against np.fmod on multiples and their
    neighbours.)"""
    if not abs(x) < FMA_FMOD_MAX:
        return np.fmod(x, TWOPI)      # huge or non-finite (review round 24)
    k = np.trunc(x / TWOPI)
    r = _fma(-k, TWOPI, x)
    if x >= 0.0:
        if r < 0.0:
            r = _fma(-(k - 1.0), TWOPI, x)
        elif r >= TWOPI:
            r = _fma(-(k + 1.0), TWOPI, x)
    elif r > 0.0:
        r = _fma(-(k + 1.0), TWOPI, x)
    elif r <= -TWOPI:
        r = _fma(-(k - 1.0), TWOPI, x)
    if r == 0.0:
        return 0.0 * x            # fmod's zero has the sign of x
    return r


# Cosines and sines by table and series (cos_sin_table): TABLE_SIZE
# angles k 2 pi / TABLE_SIZE, the remainder (at most pi / TABLE_SIZE = 3.1e-3
# rad) by its series to d^5 (the next terms are under 1e-18).  The step in two
# parts (Cody and Waite): ``_STEP_HI`` has 28 significant bits, so that ``k
# _STEP_HI`` is exact for the ``|k| < 2**24`` of ``|x| < TABLE_MAX_RAD``, and
# ``_STEP_LO`` the rest of 2 pi / TABLE_SIZE (from 40 digits of pi).
TABLE_SIZE = 1024
TABLE_MAX_RAD = 1e4
_STEP = float(Decimal("6.283185307179586476925286766559005768394") / TABLE_SIZE)
_STEP_HI = float(np.ldexp(np.floor(np.ldexp(_STEP, 35)), -35))
_STEP_LO = float(Decimal("6.283185307179586476925286766559005768394") / TABLE_SIZE
                 - Decimal(_STEP_HI))
_TABLE_COS = np.array([float(x) for x in np.cos(np.arange(TABLE_SIZE) * _STEP)])
_TABLE_SIN = np.array([float(x) for x in np.sin(np.arange(TABLE_SIZE) * _STEP)])


@nb.njit(cache=True, nogil=True, error_model="numpy")
def cos_sin_table(x):
    """``(cos x, sin x)`` for ``|x| < TABLE_MAX_RAD``: the nearest table
    angle ``k 2 pi / TABLE_SIZE`` and the remainder's series, rotated
    together; within 1e-15 of libm's (tests/test_kernels.py), a sixth of its
    time.  libm's beyond (and for NaN).  GMST's in every rotation
    (kernels._teme_to_itrs), and the propagation's with ``trig_by_series``
    (cos_sin)."""
    if not abs(x) < TABLE_MAX_RAD:
        return np.cos(x), np.sin(x)
    k = np.rint(x / _STEP)
    d = (x - k * _STEP_HI) - k * _STEP_LO
    j = np.int64(k) % TABLE_SIZE
    # rotate_by_small's rotation with the short series this remainder needs:
    # its own (to d^9, for 0.1 rad) measured 20% slower here
    d2 = d * d
    cd = 1.0 - d2 * (0.5 - d2 * (1.0 / 24.0))
    sd = d * (1.0 - d2 * (1.0 / 6.0 - d2 * (1.0 / 120.0)))
    c0 = _TABLE_COS[j]
    s0 = _TABLE_SIN[j]
    return c0 * cd - s0 * sd, s0 * cd + c0 * sd


@nb.njit(cache=True, nogil=True, error_model="numpy")
def cos_sin(x, by_table):
    """``(cos x, sin x)``: ``cos_sin_table`` with ``by_table``, else libm's."""
    if by_table:
        return cos_sin_table(x)
    return np.cos(x), np.sin(x)


@nb.njit(cache=True, nogil=True, error_model="numpy")
def rotate_by_small(c0, s0, d):
    """``(cos(a + d), sin(a + d))`` from ``c0 = cos a``, ``s0 = sin a`` and
    ``|d| <= SERIES_MAX_RAD``, the cosine and sine of ``d`` by series."""
    d2 = d * d
    cd = 1.0 - d2 * (0.5 - d2 * (1.0 / 24.0 - d2 * (1.0 / 720.0 - d2 * (1.0 / 40320.0))))
    sd = d * (1.0 - d2 * (1.0 / 6.0 - d2 * (1.0 / 120.0 - d2 * (1.0 / 5040.0
                                                              - d2 * (1.0 / 362880.0)))))
    return c0 * cd - s0 * sd, s0 * cd + c0 * sd


@nb.njit(cache=True, nogil=True, error_model="numpy")
def kepler_to_state(xl, nodep, axnl, aynl, am, nm, xke, j2, xincp, sinip, cosip, con41,
                    x1mth2, x7thm1, radius_km, vkmpersec, r, v, i, trig_by_series=False):
    """The end of SGP4.cpp's ``sgp4``, common to both branches: Kepler's
    equation, the short-period preliminary quantities and periodics, and
    the orientation vectors; writes position (km) and velocity (km/s) into
    row ``i`` of ``r`` and ``v``.  Returns the error code: 4 (semi-latus
    rectum < 0, nothing written), 6 (decayed: mrt < 1, state written, as
    the C++ does) or 0.  The statements and their order are the C++'s (also
    sdp4_kernel's caller).  ``trig_by_series``: the sines and cosines of
    Kepler's later iterates, of the argument of latitude and of the
    inclination by rotation from known ones (``rotate_by_small``), where the
    difference is at most SERIES_MAX_RAD: six fewer libm calls a sample
    (sinip, cosip must then be the sine and cosine of xincp), and the other
    sines and cosines by table (``cos_sin_table``, within 1e-15 of libm's)."""
    u = fmod_twopi(xl - nodep)
    eo1 = u
    tem5 = 9999.9
    ktr = 1
    coseo1, sineo1 = cos_sin(eo1, trig_by_series)
    while abs(tem5) >= 1.0e-12 and ktr <= 10:
        if ktr > 1:
            if trig_by_series and abs(tem5) <= SERIES_MAX_RAD:
                coseo1, sineo1 = rotate_by_small(coseo1, sineo1, tem5)
            else:
                coseo1, sineo1 = cos_sin(eo1, trig_by_series)
        tem5 = 1.0 - coseo1 * axnl - sineo1 * aynl
        tem5 = (u - aynl * coseo1 + axnl * sineo1 - eo1) / tem5
        if abs(tem5) >= 0.95:
            tem5 = 0.95 if tem5 > 0.0 else -0.95
        eo1 = eo1 + tem5
        ktr = ktr + 1

    ecose = axnl * coseo1 + aynl * sineo1
    esine = axnl * sineo1 - aynl * coseo1
    el2 = axnl * axnl + aynl * aynl
    pl = am * (1.0 - el2)
    if pl < 0.0:
        return 4
    rl = am * (1.0 - ecose)
    rdotl = np.sqrt(am) * esine / rl
    rvdotl = np.sqrt(pl) / rl
    betal = np.sqrt(1.0 - el2)
    temp = esine / (1.0 + betal)
    sinu = am / rl * (sineo1 - aynl - axnl * temp)
    cosu = am / rl * (coseo1 - axnl + aynl * temp)
    sin2u = (cosu + cosu) * sinu
    cos2u = 1.0 - 2.0 * sinu * sinu
    temp = 1.0 / pl
    temp1 = 0.5 * j2 * temp
    temp2 = temp1 * temp

    mrt = rl * (1.0 - 1.5 * temp2 * betal * con41) + 0.5 * temp1 * x1mth2 * cos2u
    dsu = 0.25 * temp2 * x7thm1 * sin2u
    xnode = nodep + 1.5 * temp2 * cosip * sin2u
    dinc = 1.5 * temp2 * cosip * sinip * cos2u
    mvt = rdotl - nm * temp1 * x1mth2 * sin2u / xke
    rvdot = rvdotl + nm * temp1 * (x1mth2 * cos2u + 1.5 * con41) / xke

    if trig_by_series and abs(dsu) <= SERIES_MAX_RAD and abs(dinc) <= SERIES_MAX_RAD:
        # sinu, cosu are the sine and cosine of atan2(sinu, cosu) once
        # normalised; the periodics turn it and the inclination slightly
        hu = np.sqrt(sinu * sinu + cosu * cosu)
        cossu, sinsu = rotate_by_small(cosu / hu, sinu / hu, -dsu)
        cosi, sini = rotate_by_small(cosip, sinip, dinc)
    else:
        su = np.arctan2(sinu, cosu) - dsu
        xinc = xincp + dinc
        cossu, sinsu = cos_sin(su, trig_by_series)
        cosi, sini = cos_sin(xinc, trig_by_series)
    cnod, snod = cos_sin(xnode, trig_by_series)
    xmx = -snod * cosi
    xmy = cnod * cosi
    ux = xmx * sinsu + cnod * cossu
    uy = xmy * sinsu + snod * cossu
    uz = sini * sinsu
    vx = xmx * cossu - cnod * sinsu
    vy = xmy * cossu - snod * sinsu
    vz = sini * cossu

    r[i, 0] = (mrt * ux) * radius_km
    r[i, 1] = (mrt * uy) * radius_km
    r[i, 2] = (mrt * uz) * radius_km
    v[i, 0] = (mvt * ux + rvdot * vx) * vkmpersec
    v[i, 1] = (mvt * uy + rvdot * vy) * vkmpersec
    v[i, 2] = (mvt * uz + rvdot * vz) * vkmpersec
    if mrt < 1.0:
        return 6
    return 0


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _sgp4_one(params, s, tsince, r, v, i, trig_by_series=False):
    """SGP4.cpp ``sgp4`` near-Earth branch for parameter row ``params[s]``
    at ``tsince`` minutes; writes ``r[i]`` (km), ``v[i]`` (km/s) unless the
    code is 1-4.  Returns the error code.  (Indices, not row views: no
    per-sample array views in the loop.)  ``trig_by_series``: see
    kepler_to_state; here also sin(mm) from the sine and cosine of xmdf
    (``rotate_by_small``), ``am ** 1.5`` as ``am * sqrt(am)``, and the
    sines and cosines of xmdf and of the argument of perigee by table
    (``cos_sin_table``)."""
    t = tsince
    xmdf = params[s, P_MO] + params[s, P_MDOT] * t
    argpdf = params[s, P_ARGPO] + params[s, P_ARGPDOT] * t
    nodedf = params[s, P_NODEO] + params[s, P_NODEDOT] * t
    argpm = argpdf
    mm = xmdf
    t2 = t * t
    nodem = nodedf + params[s, P_NODECF] * t2
    tempa = 1.0 - params[s, P_CC1] * t
    tempe = params[s, P_BSTAR] * params[s, P_CC4] * t
    templ = params[s, P_T2COF] * t2
    if params[s, P_ISIMP] != 1.0:
        delomg = params[s, P_OMGCOF] * t
        if trig_by_series:
            cos_xmdf, sin_xmdf = cos_sin_table(xmdf)
        else:
            sin_xmdf = 0.0
            cos_xmdf = np.cos(xmdf)
        delmtemp = 1.0 + params[s, P_ETA] * cos_xmdf
        delm = params[s, P_XMCOF] * (delmtemp * delmtemp * delmtemp - params[s, P_DELMO])
        temp = delomg + delm
        mm = xmdf + temp
        argpm = argpdf - temp
        t3 = t2 * t
        t4 = t3 * t
        tempa = tempa - params[s, P_D2] * t2 - params[s, P_D3] * t3 - params[s, P_D4] * t4
        if trig_by_series and abs(temp) <= SERIES_MAX_RAD:
            sin_mm = rotate_by_small(cos_xmdf, sin_xmdf, temp)[1]
        elif trig_by_series:
            sin_mm = cos_sin_table(mm)[1]
        else:
            sin_mm = np.sin(mm)
        tempe = tempe + params[s, P_BSTAR] * params[s, P_CC5] * (sin_mm - params[s, P_SINMAO])
        templ = templ + params[s, P_T3COF] * t3 + t4 * (params[s, P_T4COF] + t * params[s, P_T5COF])

    no_unkozai = params[s, P_NO_UNKOZAI]
    xke = params[s, P_XKE]
    nm = no_unkozai
    em = params[s, P_ECCO]
    inclm = params[s, P_INCLO]
    if nm <= 0.0:
        return 2
    am = params[s, P_AO] * tempa * tempa             # pow((xke / nm), x2o3): nm == no_unkozai
    nm = xke / (am * np.sqrt(am) if trig_by_series else am ** 1.5)
    em = em - tempe
    if em >= 1.0 or em < -0.001:
        return 1
    if em < 1.0e-6:            # noqa: PLR1730 (as SGP4.cpp writes it)
        em = 1.0e-6
    mm = mm + no_unkozai * templ
    xlm = mm + argpm + nodem

    nodem = fmod_twopi(nodem)
    argpm = fmod_twopi(argpm)
    xlm = fmod_twopi(xlm)
    mm = fmod_twopi(xlm - argpm - nodem)

    sinim = params[s, P_SINIO]                       # sin(inclm): inclm == inclo
    cosim = params[s, P_COSIO]
    ep = em
    xincp = inclm
    argpp = argpm
    nodep = nodem
    mp = mm
    sinip = sinim
    cosip = cosim

    cos_argpp, sin_argpp = cos_sin(argpp, trig_by_series)
    axnl = ep * cos_argpp
    temp = 1.0 / (am * (1.0 - ep * ep))
    aynl = ep * sin_argpp + temp * params[s, P_AYCOF]
    xl = mp + argpp + nodep + temp * params[s, P_XLCOF] * axnl

    return kepler_to_state(xl, nodep, axnl, aynl, am, nm, params[s, P_XKE], params[s, P_J2],
                           xincp, sinip, cosip, params[s, P_CON41], params[s, P_X1MTH2],
                           params[s, P_X7THM1], params[s, P_RADIUS_KM],
                           params[s, P_VKMPERSEC], r, v, i, trig_by_series)


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _sample(params, s, jd, fr, err, r, v, i, trig_by_series=False):
    """Sample ``i``: satellite row ``s`` at ``jd + fr``, with python-sgp4's
    tsince and NaN conventions (wrapper.cpp ``_vectorized_sgp4``)."""
    tsince = (jd - params[s, P_JD]) * 1440.0 + (fr - params[s, P_JDF]) * 1440.0
    e = _sgp4_one(params, s, tsince, r, v, i, trig_by_series)
    if e != 0 and e < 6:
        for c in range(3):
            r[i, c] = np.nan
            v[i, c] = np.nan
    err[i] = e


@nb.njit(cache=True, nogil=True, error_model="numpy")
def sgp4_near_into(params, sat_idx, jd, fr, err, r, v):
    """``sgp4_near`` writing into caller-provided ``err`` (k,) uint8, ``r``
    and ``v`` (k, 3) float64; ``params`` (n, N_PARAMS) float64, ``sat_idx``
    (k,) int64 in [0, n) (not checked here: an index out of range reads
    out of bounds), ``jd``, ``fr`` (k,) float64.  C-contiguous arrays of
    exactly these dtypes use the cached compilation; others compile anew.
    Releases the GIL (callers may run chunks in threads)."""
    k = sat_idx.shape[0]
    for i in range(k):
        _sample(params, sat_idx[i], jd[i], fr[i], err, r, v, i)


@nb.njit(cache=True, nogil=True, error_model="numpy")
def sgp4_near_ns_into(params, sat_idx, t_ns, err, r, v):
    """``sgp4_near_into`` at UTC times ``t_ns`` (k,) int64 ns since 1970,
    split as satwatch.passes splits them for python-sgp4:
    ``jd = t_ns // NS_PER_DAY + 2440587.5``, ``fr = (t_ns % NS_PER_DAY) /
    NS_PER_DAY`` (floor division: fr in [0, 1)), without the temporaries."""
    k = sat_idx.shape[0]
    for i in range(k):
        days = t_ns[i] // NS_PER_DAY
        _sample(params, sat_idx[i], days + JD_UNIX_EPOCH,
                (t_ns[i] - days * NS_PER_DAY) / NS_PER_DAY,
                err, r, v, i)


@nb.njit(cache=True, nogil=True, error_model="numpy")
def sgp4_near_ns_scatter(params, sat_idx, t_ns, out_idx, err, r, v, trig_by_series=False):
    """``sgp4_near_ns_into`` for the samples whose ``sat_idx`` is >= 0,
    written at row ``out_idx[i]`` of the outputs (which may be larger than
    the samples); samples with a negative index (deep-space sets, for
    python-sgp4) are skipped and their rows left untouched.
    ``trig_by_series``: fewer libm calls (``kepler_to_state``, ``_sgp4_one``):
    about 30% faster, the C++ numbers within 1e-9 km + 1e-11 of |r| on orbits
    instead of bit for bit (see the module docstring) (benchmarks/sgp4_kernel.py, tests/test_sgp4_kernel.py)."""
    k = sat_idx.shape[0]
    for i in range(k):
        s = sat_idx[i]
        if s < 0:
            continue
        days = t_ns[i] // NS_PER_DAY
        _sample(params, s, days + JD_UNIX_EPOCH, (t_ns[i] - days * NS_PER_DAY) / NS_PER_DAY,
                err, r, v, out_idx[i], trig_by_series)


def sgp4_near(params, sat_idx, jd, fr):
    """SGP4 states of satellites ``params[sat_idx]`` (rows from
    ``pack_near_earth``) at split Julian dates ``jd + fr`` (UTC, as
    python-sgp4 takes them): ``sat_idx``, ``jd``, ``fr`` (k,), any order.
    Returns ``(err (k,) uint8, r_teme_km (k, 3), v_teme_km_s (k, 3))`` with
    python-sgp4's codes and NaN conventions (see the module docstring)."""
    sat_idx = np.ascontiguousarray(sat_idx, dtype=np.int64)
    jd = np.ascontiguousarray(jd, dtype=np.float64)
    fr = np.ascontiguousarray(fr, dtype=np.float64)
    k = sat_idx.shape[0]
    if jd.shape != (k,) or fr.shape != (k,):
        raise ValueError(f"sat_idx, jd and fr must all be (k,): got {sat_idx.shape}, "
                         f"{jd.shape}, {fr.shape}")
    if k and (sat_idx.min() < 0 or sat_idx.max() >= len(params)):
        raise ValueError(f"sat_idx must lie in [0, {len(params)}): got "
                         f"{sat_idx.min()}..{sat_idx.max()}")
    err = np.empty(k, dtype=np.uint8)
    r = np.empty((k, 3))
    v = np.empty((k, 3))
    sgp4_near_into(np.ascontiguousarray(params, dtype=np.float64), sat_idx, jd, fr, err, r, v)
    return err, r, v
