"""Compiled SGP4 for deep-space element sets (SDP4: ``method == 'd'``,
period >= 225 min): any mix of (satellite, time) samples in one call
(numba).  Pure: arrays in, arrays out.  The deep-space twin of
``satwatch.sgp4_kernel`` (same conventions, same calling pattern).

What is ported: the deep-space branch of Vallado's C++ ``SGP4Funcs``
(SGP4.cpp, 2020 version, as compiled into python-sgp4's
``sgp4.vallado_cpp``): ``initl`` + ``sgp4init`` with ``dscom``, ``dpper``
(init) and ``dsinit``; ``sgp4`` with ``dspace`` (lunar-solar secular terms
and the 12-h / 24-h resonance integrator) and ``dpper`` (lunar-solar
periodics, Lyddane form below 0.2 rad).  Statement by statement and in the
same operation order as the C++ (not python-sgp4's pure-Python twin,
which differs in places: ``%`` for ``fmod``, the Lyddane ``xls`` sum), so
results are the C++ results bit for bit on this platform (tested against
the C++ itself: tests/test_sdp4_kernel.py).  ``sdp4_ns_scatter``'s
``trig_by_series`` (what satwatch.passes runs) solves Kepler's equation and
takes the short-period periodics as sgp4_kernel's series path does: the C++
within 1e-9 km + 1e-11 of |r| on orbits instead (tests/test_sgp4_series.py).

What ``pack_deep_space`` reads: the compiled Satrec does not expose its
deep-space coefficients (d2201, xlamo, zmol, ...), so they are recomputed
from what it does expose (jdsatepoch, jdsatepochF, bstar, ecco, argpo,
inclo, mo, no_kozai, nodeo, operationmode; radiusearthkm, xke, j2, j3oj2,
j4) exactly as sgp4init computes them.  The epoch sgp4init was given (days
since 1949 December 31 0h, which feeds the Sun and Moon positions in
dscom) is taken as ``(jdsatepoch + jdsatepochF) - 2433281.5``: the float
``Satrec.twoline2rv`` passes, and the one ``satwatch.propagation.satrec``
passes.  A satrec made by ``Satrec.sgp4init`` with any other float epoch
keeps no record of it (its split sums to a float up to an ulp away, which
moves results by up to ~1e-9 km): pass that epoch as ``epochs_days_1949``.
Each satrec's ``gsto`` (sidereal time at epoch, which sgp4init derives from
the epoch) is checked against the one recomputed from the epoch used, so
that a satrec whose epoch split was changed after initialisation is refused
(``gsto`` is too coarse to catch an ulp).

The resonance integrator: the C++ keeps ``atime``, ``xli``, ``xni`` in the
satrec between calls, continues from there when time moves away from
epoch and restarts from epoch otherwise.  Its steps are fixed 720-minute
steps from epoch, so the state at any step is the same whichever way it
was reached; the kernel keeps that state (and the resonance rates at that
step, the same function of the same state) while consecutive samples
belong to the same satellite, cheap for time-sorted runs, and restarts it
at each new run, which gives the same numbers as the C++ for any order.

Conventions copied from python-sgp4's C++ wrapper (wrapper.cpp,
``_vectorized_sgp4``), as in sgp4_kernel:

* ``tsince_min = (jd - jdsatepoch) * 1440.0 + (fr - jdsatepochF) * 1440.0``;
* error codes: 0 ok, 1 mean eccentricity out of range, 2 mean motion <= 0,
  3 perturbed eccentricity out of [0, 1] (deep space only), 4 semi-latus
  rectum < 0, 6 decayed (mrt < 1 Earth radius);
* codes 1-5 give NaN position and velocity; code 6 keeps the computed state.

One deliberate difference: at an infinite time the C++ integrator of a
resonant orbit never returns (it steps 720 minutes at a time towards
infinity); the kernel skips the steps and returns what the formulas give
(non-finite states).  Finite times, however far, are stepped as the C++
steps them.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .sgp4_kernel import (JD_UNIX_EPOCH, PI, TWOPI, X2O3, cos_sin, fmod_twopi, initl,
                          kepler_to_state)
from .time import NS_PER_DAY

JD_1949 = 2433281.5                  # sgp4init's epoch origin, 1949-12-31T00:00:00

# -- parameter rows -------------------------------------------------------------
# One row per satellite: what the C++ elsetrec holds after sgp4init that the
# deep-space sgp4() reads, plus the epoch split.  Column indices:
_COLUMNS = (
    "JD", "JDF", "OPSMODE_A", "IREZ", "MO", "MDOT", "ARGPO", "ARGPDOT", "NODEO", "NODEDOT",
    "NODECF", "CC1", "BSTAR", "CC4", "T2COF", "NO_UNKOZAI", "ECCO", "INCLO", "XKE", "J2",
    "J3OJ2", "RADIUS_KM", "VKMPERSEC", "AO", "GSTO",
    "D2201", "D2211", "D3210", "D3222", "D4410", "D4422", "D5220", "D5232", "D5421", "D5433",
    "DEDT", "DIDT", "DMDT", "DNODT", "DOMDT", "DEL1", "DEL2", "DEL3", "XFACT", "XLAMO",
    "E3", "EE2", "SE2", "SE3", "SGH2", "SGH3", "SGH4", "SH2", "SH3", "SI2", "SI3", "SL2",
    "SL3", "SL4", "XGH2", "XGH3", "XGH4", "XH2", "XH3", "XI2", "XI3", "XL2", "XL3", "XL4",
    "ZMOL", "ZMOS",
)
(P_JD, P_JDF, P_OPSMODE_A, P_IREZ, P_MO, P_MDOT, P_ARGPO, P_ARGPDOT, P_NODEO, P_NODEDOT,
 P_NODECF, P_CC1, P_BSTAR, P_CC4, P_T2COF, P_NO_UNKOZAI, P_ECCO, P_INCLO, P_XKE, P_J2,
 P_J3OJ2, P_RADIUS_KM, P_VKMPERSEC, P_AO, P_GSTO,
 P_D2201, P_D2211, P_D3210, P_D3222, P_D4410, P_D4422, P_D5220, P_D5232, P_D5421, P_D5433,
 P_DEDT, P_DIDT, P_DMDT, P_DNODT, P_DOMDT, P_DEL1, P_DEL2, P_DEL3, P_XFACT, P_XLAMO,
 P_E3, P_EE2, P_SE2, P_SE3, P_SGH2, P_SGH3, P_SGH4, P_SH2, P_SH3, P_SI2, P_SI3, P_SL2,
 P_SL3, P_SL4, P_XGH2, P_XGH3, P_XGH4, P_XH2, P_XH3, P_XI2, P_XI3, P_XL2, P_XL3, P_XL4,
 P_ZMOL, P_ZMOS) = range(len(_COLUMNS))
N_DEEP_PARAMS = len(_COLUMNS)

# Inputs read from each Satrec, in the order _init_row takes them (then
# the operation mode, 1.0 for 'a' and 0.0 for 'i', and the epoch sgp4init
# was given, days since 1949 December 31 0h).
_ELEMENT_ATTRS = ("jdsatepoch", "jdsatepochF", "bstar", "ecco", "argpo", "inclo", "mo",
                  "no_kozai", "nodeo", "radiusearthkm", "xke", "j2", "j3oj2", "j4")
_N_EL = len(_ELEMENT_ATTRS) + 2

DEG2RAD = PI / 180.0
RPTIM = 4.37526908801129966e-3       # Earth rotation, rad/min (dsinit, dspace)

# the resonance integrator's state kept between samples of one satellite:
# the C++ satrec's atime, xli, xni, plus the rates at that step and whether
# they are set
S_ATIME, S_XLI, S_XNI, S_XNDT, S_XLDOT, S_XNDDT, S_RATES_OK = range(7)
N_STATE = 7

# init status codes of _init_row
_OK, _NEAR_EARTH, _BAD_GSTO = 0, 1, 2


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _gstime(jdut1):
    """SGP4.cpp ``gstime_SGP4``."""
    tut1 = (jdut1 - 2451545.0) / 36525.0
    temp = -6.2e-6 * tut1 * tut1 * tut1 + 0.093104 * tut1 * tut1 + \
        (876600.0 * 3600 + 8640184.812866) * tut1 + 67310.54841
    temp = np.fmod(temp * DEG2RAD / 240.0, TWOPI)
    if temp < 0.0:
        temp += TWOPI
    return temp


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _init_row(el, gsto_satrec, out):
    """Deep-space part of SGP4.cpp ``initl`` + ``sgp4init`` (with ``dscom``,
    ``dpper`` at init, ``dsinit``) for one element row ``el`` (see
    _ELEMENT_ATTRS); writes the parameter row ``out``.  Returns _OK,
    _NEAR_EARTH (period < 225 min) or _BAD_GSTO (the recomputed sidereal
    time at epoch differs from the satrec's: not the epoch sgp4init had)."""
    jd = el[0]
    jdf = el[1]
    bstar = el[2]
    ecco = el[3]
    argpo = el[4]
    inclo = el[5]
    mo = el[6]
    no_kozai = el[7]
    nodeo = el[8]
    radiusearthkm = el[9]
    xke = el[10]
    j2 = el[11]
    j3oj2 = el[12]
    j4 = el[13]
    opsmode_a = el[14]
    epoch = el[15]
    for c in range(N_DEEP_PARAMS):
        out[c] = 0.0

    ss = 78.0 / radiusearthkm + 1.0
    qzms2ttemp = (120.0 - 78.0) / radiusearthkm
    qzms2t = qzms2ttemp * qzms2ttemp * qzms2ttemp * qzms2ttemp

    # ---- initl (sinio feeds only near-Earth and xlcof/aycof terms that deep
    # space recomputes)
    eccsq, omeosq, rteosq, cosio, cosio2, no_unkozai, ao, con42, con41, posq, rp = initl(
        ecco, inclo, no_kozai, xke, j2)
    gsto = _gstime(epoch + 2433281.5)
    if gsto != gsto_satrec:
        return _BAD_GSTO

    if not (omeosq >= 0.0 or no_unkozai >= 0.0):
        return _NEAR_EARTH                   # sgp4init leaves method 'n'
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
    x1mth2 = 1.0 - cosio2
    cc4 = 2.0 * no_unkozai * coef1 * ao * omeosq * \
        (eta * (2.0 + 0.5 * etasq) + ecco *
         (0.5 + 2.0 * etasq) - j2 * tsi / (ao * psisq) *
         (-3.0 * con41 * (1.0 - 2.0 * eeta + etasq *
                          (1.5 - 0.5 * eeta)) + 0.75 * x1mth2 *
          (2.0 * etasq - eeta * (1.0 + etasq)) * np.cos(2.0 * argpo)))
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
    xpidot = argpdot + nodedot
    nodecf = 3.5 * omeosq * xhdot1 * cc1
    t2cof = 1.5 * cc1
    if (2 * PI / no_unkozai) < 225.0:
        return _NEAR_EARTH

    # ---- dscom (epoch, ecco, argpo, tc = 0, inclo, nodeo, no_unkozai)
    tc = 0.0
    zes = 0.01675
    zel = 0.05490
    c1ss = 2.9864797e-6
    c1l = 4.7968065e-7
    zsinis = 0.39785416
    zcosis = 0.91744867
    zcosgs = 0.1945905
    zsings = -0.98088458
    nm = no_unkozai
    em = ecco
    snodm = np.sin(nodeo)
    cnodm = np.cos(nodeo)
    sinomm = np.sin(argpo)
    cosomm = np.cos(argpo)
    sinim = np.sin(inclo)
    cosim = np.cos(inclo)
    emsq = em * em
    betasq = 1.0 - emsq
    rtemsq = np.sqrt(betasq)
    day = epoch + 18261.5 + tc / 1440.0
    xnodce = np.fmod(4.5236020 - 9.2422029e-4 * day, TWOPI)
    stem = np.sin(xnodce)
    ctem = np.cos(xnodce)
    zcosil = 0.91375164 - 0.03568096 * ctem
    zsinil = np.sqrt(1.0 - zcosil * zcosil)
    zsinhl = 0.089683511 * stem / zsinil
    zcoshl = np.sqrt(1.0 - zsinhl * zsinhl)
    gam = 5.8351514 + 0.0019443680 * day
    zx = 0.39785416 * stem / zsinil
    zy = zcoshl * ctem + 0.91744867 * zsinhl * stem
    zx = np.arctan2(zx, zy)
    zx = gam + zx - xnodce
    zcosgl = np.cos(zx)
    zsingl = np.sin(zx)
    zcosg = zcosgs
    zsing = zsings
    zcosi = zcosis
    zsini = zsinis
    zcosh = cnodm
    zsinh = snodm
    cc = c1ss
    xnoi = 1.0 / nm
    # the C++ loop runs lsflg = 1 (Sun, saved as ss*/sz*) then 2 (Moon)
    ss1 = ss2 = ss3 = ss4 = ss5 = ss6 = ss7 = 0.0
    sz1 = sz2 = sz3 = sz11 = sz12 = sz13 = sz21 = sz22 = sz23 = sz31 = sz32 = sz33 = 0.0
    s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    z1 = z2 = z3 = z11 = z12 = z13 = z21 = z22 = z23 = z31 = z32 = z33 = 0.0
    for lsflg in range(1, 3):
        a1 = zcosg * zcosh + zsing * zcosi * zsinh
        a3 = -zsing * zcosh + zcosg * zcosi * zsinh
        a7 = -zcosg * zsinh + zsing * zcosi * zcosh
        a8 = zsing * zsini
        a9 = zsing * zsinh + zcosg * zcosi * zcosh
        a10 = zcosg * zsini
        a2 = cosim * a7 + sinim * a8
        a4 = cosim * a9 + sinim * a10
        a5 = -sinim * a7 + cosim * a8
        a6 = -sinim * a9 + cosim * a10

        x1 = a1 * cosomm + a2 * sinomm
        x2 = a3 * cosomm + a4 * sinomm
        x3 = -a1 * sinomm + a2 * cosomm
        x4 = -a3 * sinomm + a4 * cosomm
        x5 = a5 * sinomm
        x6 = a6 * sinomm
        x7 = a5 * cosomm
        x8 = a6 * cosomm

        z31 = 12.0 * x1 * x1 - 3.0 * x3 * x3
        z32 = 24.0 * x1 * x2 - 6.0 * x3 * x4
        z33 = 12.0 * x2 * x2 - 3.0 * x4 * x4
        z1 = 3.0 * (a1 * a1 + a2 * a2) + z31 * emsq
        z2 = 6.0 * (a1 * a3 + a2 * a4) + z32 * emsq
        z3 = 3.0 * (a3 * a3 + a4 * a4) + z33 * emsq
        z11 = -6.0 * a1 * a5 + emsq * (-24.0 * x1 * x7 - 6.0 * x3 * x5)
        z12 = -6.0 * (a1 * a6 + a3 * a5) + emsq * \
            (-24.0 * (x2 * x7 + x1 * x8) - 6.0 * (x3 * x6 + x4 * x5))
        z13 = -6.0 * a3 * a6 + emsq * (-24.0 * x2 * x8 - 6.0 * x4 * x6)
        z21 = 6.0 * a2 * a5 + emsq * (24.0 * x1 * x5 - 6.0 * x3 * x7)
        z22 = 6.0 * (a4 * a5 + a2 * a6) + emsq * \
            (24.0 * (x2 * x5 + x1 * x6) - 6.0 * (x4 * x7 + x3 * x8))
        z23 = 6.0 * a4 * a6 + emsq * (24.0 * x2 * x6 - 6.0 * x4 * x8)
        z1 = z1 + z1 + betasq * z31
        z2 = z2 + z2 + betasq * z32
        z3 = z3 + z3 + betasq * z33
        s3 = cc * xnoi
        s2 = -0.5 * s3 / rtemsq
        s4 = s3 * rtemsq
        s1 = -15.0 * em * s4
        s5 = x1 * x3 + x2 * x4
        s6 = x2 * x3 + x1 * x4
        s7 = x2 * x4 - x1 * x3

        if lsflg == 1:
            ss1 = s1
            ss2 = s2
            ss3 = s3
            ss4 = s4
            ss5 = s5
            ss6 = s6
            ss7 = s7
            sz1 = z1
            sz2 = z2
            sz3 = z3
            sz11 = z11
            sz12 = z12
            sz13 = z13
            sz21 = z21
            sz22 = z22
            sz23 = z23
            sz31 = z31
            sz32 = z32
            sz33 = z33
            zcosg = zcosgl
            zsing = zsingl
            zcosi = zcosil
            zsini = zsinil
            zcosh = zcoshl * cnodm + zsinhl * snodm
            zsinh = snodm * zcoshl - cnodm * zsinhl
            cc = c1l

    out[P_ZMOL] = np.fmod(4.7199672 + 0.22997150 * day - gam, TWOPI)
    out[P_ZMOS] = np.fmod(6.2565837 + 0.017201977 * day, TWOPI)
    # solar terms
    out[P_SE2] = 2.0 * ss1 * ss6
    out[P_SE3] = 2.0 * ss1 * ss7
    out[P_SI2] = 2.0 * ss2 * sz12
    out[P_SI3] = 2.0 * ss2 * (sz13 - sz11)
    out[P_SL2] = -2.0 * ss3 * sz2
    out[P_SL3] = -2.0 * ss3 * (sz3 - sz1)
    out[P_SL4] = -2.0 * ss3 * (-21.0 - 9.0 * emsq) * zes
    out[P_SGH2] = 2.0 * ss4 * sz32
    out[P_SGH3] = 2.0 * ss4 * (sz33 - sz31)
    out[P_SGH4] = -18.0 * ss4 * zes
    out[P_SH2] = -2.0 * ss2 * sz22
    out[P_SH3] = -2.0 * ss2 * (sz23 - sz21)
    # lunar terms
    out[P_EE2] = 2.0 * s1 * s6
    out[P_E3] = 2.0 * s1 * s7
    out[P_XI2] = 2.0 * s2 * z12
    out[P_XI3] = 2.0 * s2 * (z13 - z11)
    out[P_XL2] = -2.0 * s3 * z2
    out[P_XL3] = -2.0 * s3 * (z3 - z1)
    out[P_XL4] = -2.0 * s3 * (-21.0 - 9.0 * emsq) * zel
    out[P_XGH2] = 2.0 * s4 * z32
    out[P_XGH3] = 2.0 * s4 * (z33 - z31)
    out[P_XGH4] = -18.0 * s4 * zel
    out[P_XH2] = -2.0 * s2 * z22
    out[P_XH3] = -2.0 * s2 * (z23 - z21)
    # (dscom's peo, pinco, plo, pgho, pho are 0.0, and dpper with init 'y'
    # changes neither them nor the elements: nothing to carry.)

    # ---- dsinit (t = 0, tc = 0; em = ecco, nm = no_unkozai, inclm = inclo)
    q22 = 1.7891679e-6
    q31 = 2.1460748e-6
    q33 = 2.2123015e-7
    root22 = 1.7891679e-6
    root44 = 7.3636953e-9
    root54 = 2.1765803e-9
    root32 = 3.7393792e-7
    root52 = 1.1428639e-7
    znl = 1.5835218e-4
    zns = 1.19459e-5
    t = 0.0
    inclm = inclo
    irez = 0
    if nm < 0.0052359877 and nm > 0.0034906585:
        irez = 1
    if nm >= 8.26e-3 and nm <= 9.24e-3 and em >= 0.5:
        irez = 2
    ses = ss1 * zns * ss5
    sis = ss2 * zns * (sz11 + sz13)
    sls = -zns * ss3 * (sz1 + sz3 - 14.0 - 6.0 * emsq)
    sghs = ss4 * zns * (sz31 + sz33 - 6.0)
    shs = -zns * ss2 * (sz21 + sz23)
    if inclm < 5.2359877e-2 or inclm > PI - 5.2359877e-2:
        shs = 0.0
    if sinim != 0.0:
        shs = shs / sinim
    sgs = sghs - cosim * shs
    dedt = ses + s1 * znl * s5
    didt = sis + s2 * znl * (z11 + z13)
    dmdt = sls - znl * s3 * (z1 + z3 - 14.0 - 6.0 * emsq)
    sghl = s4 * znl * (z31 + z33 - 6.0)
    shll = -znl * s2 * (z21 + z23)
    if inclm < 5.2359877e-2 or inclm > PI - 5.2359877e-2:
        shll = 0.0
    domdt = sgs + sghl
    dnodt = shs
    if sinim != 0.0:
        domdt = domdt - cosim / sinim * shll
        dnodt = dnodt + shll / sinim
    theta = np.fmod(gsto + tc * RPTIM, TWOPI)
    em = em + dedt * t                        # (argpm, nodem, mm, inclm: unused after init)
    if irez != 0:
        aonv = (nm / xke) ** X2O3
        if irez == 2:
            cosisq = cosim * cosim
            emo = em
            em = ecco
            emsqo = emsq
            emsq = eccsq
            eoc = em * emsq
            g201 = -0.306 - (em - 0.64) * 0.440
            if em <= 0.65:
                g211 = 3.616 - 13.2470 * em + 16.2900 * emsq
                g310 = -19.302 + 117.3900 * em - 228.4190 * emsq + 156.5910 * eoc
                g322 = -18.9068 + 109.7927 * em - 214.6334 * emsq + 146.5816 * eoc
                g410 = -41.122 + 242.6940 * em - 471.0940 * emsq + 313.9530 * eoc
                g422 = -146.407 + 841.8800 * em - 1629.014 * emsq + 1083.4350 * eoc
                g520 = -532.114 + 3017.977 * em - 5740.032 * emsq + 3708.2760 * eoc
            else:
                g211 = -72.099 + 331.819 * em - 508.738 * emsq + 266.724 * eoc
                g310 = -346.844 + 1582.851 * em - 2415.925 * emsq + 1246.113 * eoc
                g322 = -342.585 + 1554.908 * em - 2366.899 * emsq + 1215.972 * eoc
                g410 = -1052.797 + 4758.686 * em - 7193.992 * emsq + 3651.957 * eoc
                g422 = -3581.690 + 16178.110 * em - 24462.770 * emsq + 12422.520 * eoc
                if em > 0.715:
                    g520 = -5149.66 + 29936.92 * em - 54087.36 * emsq + 31324.56 * eoc
                else:
                    g520 = 1464.74 - 4664.75 * em + 3763.64 * emsq
            if em < 0.7:
                g533 = -919.22770 + 4988.6100 * em - 9064.7700 * emsq + 5542.21 * eoc
                g521 = -822.71072 + 4568.6173 * em - 8491.4146 * emsq + 5337.524 * eoc
                g532 = -853.66600 + 4690.2500 * em - 8624.7700 * emsq + 5341.4 * eoc
            else:
                g533 = -37995.780 + 161616.52 * em - 229838.20 * emsq + 109377.94 * eoc
                g521 = -51752.104 + 218913.95 * em - 309468.16 * emsq + 146349.42 * eoc
                g532 = -40023.880 + 170470.89 * em - 242699.48 * emsq + 115605.82 * eoc
            sini2 = sinim * sinim
            f220 = 0.75 * (1.0 + 2.0 * cosim + cosisq)
            f221 = 1.5 * sini2
            f321 = 1.875 * sinim * (1.0 - 2.0 * cosim - 3.0 * cosisq)
            f322 = -1.875 * sinim * (1.0 + 2.0 * cosim - 3.0 * cosisq)
            f441 = 35.0 * sini2 * f220
            f442 = 39.3750 * sini2 * sini2
            f522 = 9.84375 * sinim * (sini2 * (1.0 - 2.0 * cosim - 5.0 * cosisq) +
                                      0.33333333 * (-2.0 + 4.0 * cosim + 6.0 * cosisq))
            f523 = sinim * (4.92187512 * sini2 * (-2.0 - 4.0 * cosim +
                                                  10.0 * cosisq) +
                            6.56250012 * (1.0 + 2.0 * cosim - 3.0 * cosisq))
            f542 = 29.53125 * sinim * (2.0 - 8.0 * cosim + cosisq *
                                       (-12.0 + 8.0 * cosim + 10.0 * cosisq))
            f543 = 29.53125 * sinim * (-2.0 - 8.0 * cosim + cosisq *
                                       (12.0 + 8.0 * cosim - 10.0 * cosisq))
            xno2 = nm * nm
            ainv2 = aonv * aonv
            temp1 = 3.0 * xno2 * ainv2
            temp = temp1 * root22
            out[P_D2201] = temp * f220 * g201
            out[P_D2211] = temp * f221 * g211
            temp1 = temp1 * aonv
            temp = temp1 * root32
            out[P_D3210] = temp * f321 * g310
            out[P_D3222] = temp * f322 * g322
            temp1 = temp1 * aonv
            temp = 2.0 * temp1 * root44
            out[P_D4410] = temp * f441 * g410
            out[P_D4422] = temp * f442 * g422
            temp1 = temp1 * aonv
            temp = temp1 * root52
            out[P_D5220] = temp * f522 * g520
            out[P_D5232] = temp * f523 * g532
            temp = 2.0 * temp1 * root54
            out[P_D5421] = temp * f542 * g521
            out[P_D5433] = temp * f543 * g533
            out[P_XLAMO] = np.fmod(mo + nodeo + nodeo - theta - theta, TWOPI)
            out[P_XFACT] = mdot + dmdt + 2.0 * (nodedot + dnodt - RPTIM) - no_unkozai
            em = emo
            emsq = emsqo
        if irez == 1:
            g200 = 1.0 + emsq * (-2.5 + 0.8125 * emsq)
            g310 = 1.0 + 2.0 * emsq
            g300 = 1.0 + emsq * (-6.0 + 6.60937 * emsq)
            f220 = 0.75 * (1.0 + cosim) * (1.0 + cosim)
            f311 = 0.9375 * sinim * sinim * (1.0 + 3.0 * cosim) - 0.75 * (1.0 + cosim)
            f330 = 1.0 + cosim
            f330 = 1.875 * f330 * f330 * f330
            del1 = 3.0 * nm * nm * aonv * aonv
            out[P_DEL2] = 2.0 * del1 * f220 * g200 * q22
            out[P_DEL3] = 3.0 * del1 * f330 * g300 * q33 * aonv
            out[P_DEL1] = del1 * f311 * g310 * q31 * aonv
            out[P_XLAMO] = np.fmod(mo + nodeo + argpo - theta, TWOPI)
            out[P_XFACT] = mdot + xpidot - RPTIM + dmdt + domdt + dnodt - no_unkozai

    out[P_JD] = jd
    out[P_JDF] = jdf
    out[P_OPSMODE_A] = opsmode_a
    out[P_IREZ] = irez
    out[P_MO] = mo
    out[P_MDOT] = mdot
    out[P_ARGPO] = argpo
    out[P_ARGPDOT] = argpdot
    out[P_NODEO] = nodeo
    out[P_NODEDOT] = nodedot
    out[P_NODECF] = nodecf
    out[P_CC1] = cc1
    out[P_BSTAR] = bstar
    out[P_CC4] = cc4
    out[P_T2COF] = t2cof
    out[P_NO_UNKOZAI] = no_unkozai
    out[P_ECCO] = ecco
    out[P_INCLO] = inclo
    out[P_XKE] = xke
    out[P_J2] = j2
    out[P_J3OJ2] = j3oj2
    out[P_RADIUS_KM] = radiusearthkm
    out[P_VKMPERSEC] = radiusearthkm * xke / 60.0
    # sgp4() evaluates pow(xke / nm, x2o3) with nm == no_unkozai when irez
    # is 0: the same operation on the same operands as initl's ao
    out[P_AO] = ao
    out[P_GSTO] = gsto
    out[P_DEDT] = dedt
    out[P_DIDT] = didt
    out[P_DMDT] = dmdt
    out[P_DNODT] = dnodt
    out[P_DOMDT] = domdt
    return _OK


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _init_rows(elements, gsto, params, status):
    """Rows of ``params`` from ``elements``; ``status[i]`` from _init_row."""
    for i in range(elements.shape[0]):
        status[i] = _init_row(elements[i], gsto[i], params[i])


def pack_deep_space(satrecs, epochs_days_1949=None) -> np.ndarray:
    """Parameter rows ``(n, N_DEEP_PARAMS)`` float64 for ``sdp4``, one per
    deep-space ``sgp4.api.Satrec`` (any gravity model and operation mode;
    read from each Satrec).  ``epochs_days_1949`` (n,): the epoch each
    satrec's sgp4init was given, where that was not ``(jdsatepoch +
    jdsatepochF) - 2433281.5`` (a satrec made by ``Satrec.sgp4init`` with
    any float epoch: pass that float).  Raises ValueError naming the first
    near-Earth satrec, or one whose epoch does not give its sidereal time
    at epoch (see the module docstring)."""
    satrecs = list(satrecs)
    n = len(satrecs)
    if epochs_days_1949 is not None:
        epochs_days_1949 = np.asarray(epochs_days_1949, dtype=np.float64)
        if epochs_days_1949.shape != (n,):
            raise ValueError(f"epochs_days_1949 must be ({n},), one per satrec: got "
                             f"{epochs_days_1949.shape}")
    elements = np.empty((n, _N_EL))
    gsto = np.empty(n)
    for i, s in enumerate(satrecs):
        if s.method != "d":
            raise ValueError(f"satrec {i} (NORAD {s.satnum}) is near-Earth (method "
                             f"{s.method!r}); sdp4_kernel ports deep-space SGP4 only: use "
                             "satwatch.sgp4_kernel.pack_near_earth for it")
        elements[i, :-2] = [getattr(s, a) for a in _ELEMENT_ATTRS]
        elements[i, -2] = 1.0 if s.operationmode == "a" else 0.0
        elements[i, -1] = ((s.jdsatepoch + s.jdsatepochF) - JD_1949   # as twoline2rv has it
                           if epochs_days_1949 is None else epochs_days_1949[i])
        gsto[i] = s.gsto
    params = np.empty((n, N_DEEP_PARAMS))
    status = np.zeros(n, dtype=np.int64)
    _init_rows(elements, gsto, params, status)
    bad = np.flatnonzero(status)
    if len(bad):
        i = int(bad[0])
        if status[i] == _NEAR_EARTH:      # method said 'd' but the period test disagrees
            raise ValueError(f"satrec {i} (NORAD {satrecs[i].satnum}) is near-Earth; "
                             "sdp4_kernel ports deep-space SGP4 only")
        raise ValueError(
            f"satrec {i} (NORAD {satrecs[i].satnum}): its sidereal time at epoch (gsto) is "
            f"not the one of epoch {elements[i, -1]!r} (days since 1949-12-31), so sgp4init "
            "was given another epoch (was the epoch split changed after initialisation?); "
            "pass the epoch it was given as epochs_days_1949, or initialise it with "
            "Satrec.twoline2rv or satwatch.propagation.satrec")
    return params


# -- propagation ------------------------------------------------------------------

@nb.njit(cache=True, nogil=True, error_model="numpy")
def _resonance_rates(params, s, irez, atime, xli, xni):
    """The "dot terms" of SGP4.cpp ``dspace``'s integrator at step
    ``atime`` (min) with state ``xli``, ``xni``: ``(xndt, xldot, xnddt)``."""
    xfact = params[s, P_XFACT]
    if irez != 2.0:
        del1 = params[s, P_DEL1]
        del2 = params[s, P_DEL2]
        del3 = params[s, P_DEL3]
        xndt = del1 * np.sin(xli - 0.13130908) + \
            del2 * np.sin(2.0 * (xli - 2.8843198)) + \
            del3 * np.sin(3.0 * (xli - 0.37448087))
        xldot = xni + xfact
        xnddt = del1 * np.cos(xli - 0.13130908) + \
            2.0 * del2 * np.cos(2.0 * (xli - 2.8843198)) + \
            3.0 * del3 * np.cos(3.0 * (xli - 0.37448087))
        xnddt = xnddt * xldot
    else:
        g22 = 5.7686396
        g32 = 0.95240898
        g44 = 1.8014998
        g52 = 1.0508330
        g54 = 4.4108898
        d2201 = params[s, P_D2201]
        d2211 = params[s, P_D2211]
        d3210 = params[s, P_D3210]
        d3222 = params[s, P_D3222]
        d4410 = params[s, P_D4410]
        d4422 = params[s, P_D4422]
        d5220 = params[s, P_D5220]
        d5232 = params[s, P_D5232]
        d5421 = params[s, P_D5421]
        d5433 = params[s, P_D5433]
        xomi = params[s, P_ARGPO] + params[s, P_ARGPDOT] * atime
        x2omi = xomi + xomi
        x2li = xli + xli
        xndt = d2201 * np.sin(x2omi + xli - g22) + d2211 * np.sin(xli - g22) + \
            d3210 * np.sin(xomi + xli - g32) + d3222 * np.sin(-xomi + xli - g32) + \
            d4410 * np.sin(x2omi + x2li - g44) + d4422 * np.sin(x2li - g44) + \
            d5220 * np.sin(xomi + xli - g52) + d5232 * np.sin(-xomi + xli - g52) + \
            d5421 * np.sin(xomi + x2li - g54) + d5433 * np.sin(-xomi + x2li - g54)
        xldot = xni + xfact
        xnddt = d2201 * np.cos(x2omi + xli - g22) + d2211 * np.cos(xli - g22) + \
            d3210 * np.cos(xomi + xli - g32) + d3222 * np.cos(-xomi + xli - g32) + \
            d5220 * np.cos(xomi + xli - g52) + d5232 * np.cos(-xomi + xli - g52) + \
            2.0 * (d4410 * np.cos(x2omi + x2li - g44) +
                   d4422 * np.cos(x2li - g44) + d5421 * np.cos(xomi + x2li - g54) +
                   d5433 * np.cos(-xomi + x2li - g54))
        xnddt = xnddt * xldot
    return xndt, xldot, xnddt


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _sdp4_one(params, s, tsince, state, r, v, i, trig_by_series=False):
    """SGP4.cpp ``sgp4`` deep-space branch (with ``dspace`` and ``dpper``)
    for parameter row ``params[s]`` at ``tsince`` minutes; ``state`` is the
    resonance integrator's (S_* columns: atime, xli, xni as the C++ keeps
    them in the satrec, read and updated as it updates them, and the rates
    at that step).  Writes ``r[i]`` (km), ``v[i]`` (km/s) unless the
    code is 1-4.  Returns the error code.  ``trig_by_series``: see
    sgp4_kernel.kepler_to_state; here also the sines and cosines of the
    lunar-solar terms and of the perturbed node and argument of perigee by
    table (sgp4_kernel.cos_sin_table); the inclination's stay libm's (sgp4
    divides by them)."""
    t = tsince
    # ---- secular gravity (isimp == 1 for deep space: no drag polynomials)
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

    no_unkozai = params[s, P_NO_UNKOZAI]
    xke = params[s, P_XKE]
    nm = no_unkozai
    em = params[s, P_ECCO]
    inclm = params[s, P_INCLO]

    # ---- dspace (tc = t)
    irez = params[s, P_IREZ]
    em = em + params[s, P_DEDT] * t
    inclm = inclm + params[s, P_DIDT] * t
    argpm = argpm + params[s, P_DOMDT] * t
    nodem = nodem + params[s, P_DNODT] * t
    mm = mm + params[s, P_DMDT] * t
    if irez != 0.0:
        # (the C++ takes theta before the resonance test; only resonances use it)
        theta = fmod_twopi(params[s, P_GSTO] + t * RPTIM)
        stepp = 720.0
        step2 = 259200.0
        atime = state[S_ATIME]
        xli = state[S_XLI]
        xni = state[S_XNI]
        if atime == 0.0 or t * atime <= 0.0 or abs(t) < abs(atime):
            if atime != 0.0:
                state[S_RATES_OK] = 0.0      # (at atime 0 the state is always the epoch's)
            atime = 0.0
            xni = no_unkozai
            xli = params[s, P_XLAMO]
        if t > 0.0:
            delt = stepp
        else:
            delt = -720.0
        ft = 0.0
        # the rates at the current step, kept from the previous sample when
        # it ended on the same step (the same function of the same state)
        if state[S_RATES_OK] != 0.0:
            xndt = state[S_XNDT]
            xldot = state[S_XLDOT]
            xnddt = state[S_XNDDT]
        else:
            xndt, xldot, xnddt = _resonance_rates(params, s, irez, atime, xli, xni)
        while True:
            # the C++ steps towards an infinite t for ever: stop there
            if abs(t - atime) >= stepp and abs(t) != np.inf:
                xli = xli + xldot * delt + xndt * step2
                xni = xni + xndt * delt + xnddt * step2
                atime = atime + delt
                xndt, xldot, xnddt = _resonance_rates(params, s, irez, atime, xli, xni)
            else:
                ft = t - atime
                break
        state[S_ATIME] = atime
        state[S_XLI] = xli
        state[S_XNI] = xni
        state[S_XNDT] = xndt
        state[S_XLDOT] = xldot
        state[S_XNDDT] = xnddt
        state[S_RATES_OK] = 1.0
        nm = xni + xndt * ft + xnddt * ft * ft * 0.5
        xl = xli + xldot * ft + xndt * ft * ft * 0.5
        if irez != 1.0:
            mm = xl - 2.0 * nodem + 2.0 * theta
            dndt = nm - no_unkozai
        else:
            mm = xl - nodem - argpm + theta
            dndt = nm - no_unkozai
        nm = no_unkozai + dndt

    if nm <= 0.0:
        return 2
    if irez != 0.0:
        am = (xke / nm) ** X2O3 * tempa * tempa
    else:
        am = params[s, P_AO] * tempa * tempa         # pow(xke / no_unkozai, x2o3)
    nm = xke / am ** 1.5
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

    # (sgp4 computes sin/cos(inclm) here; the deep-space branch overwrites
    # both before any use)
    ep = em
    xincp = inclm
    argpp = argpm
    nodep = nodem
    mp = mm

    # ---- dpper (init 'n'; peo, pinco, plo, pgho, pho are 0.0)
    zns = 1.19459e-5
    zes = 0.01675
    znl = 1.5835218e-4
    zel = 0.05490
    zm = params[s, P_ZMOS] + zns * t
    zf = zm + 2.0 * zes * cos_sin(zm, trig_by_series)[1]
    coszf, sinzf = cos_sin(zf, trig_by_series)
    f2 = 0.5 * sinzf * sinzf - 0.25
    f3 = -0.5 * sinzf * coszf
    ses = params[s, P_SE2] * f2 + params[s, P_SE3] * f3
    sis = params[s, P_SI2] * f2 + params[s, P_SI3] * f3
    sls = params[s, P_SL2] * f2 + params[s, P_SL3] * f3 + params[s, P_SL4] * sinzf
    sghs = params[s, P_SGH2] * f2 + params[s, P_SGH3] * f3 + params[s, P_SGH4] * sinzf
    shs = params[s, P_SH2] * f2 + params[s, P_SH3] * f3
    zm = params[s, P_ZMOL] + znl * t
    zf = zm + 2.0 * zel * cos_sin(zm, trig_by_series)[1]
    coszf, sinzf = cos_sin(zf, trig_by_series)
    f2 = 0.5 * sinzf * sinzf - 0.25
    f3 = -0.5 * sinzf * coszf
    sel = params[s, P_EE2] * f2 + params[s, P_E3] * f3
    sil = params[s, P_XI2] * f2 + params[s, P_XI3] * f3
    sll = params[s, P_XL2] * f2 + params[s, P_XL3] * f3 + params[s, P_XL4] * sinzf
    sghl = params[s, P_XGH2] * f2 + params[s, P_XGH3] * f3 + params[s, P_XGH4] * sinzf
    shll = params[s, P_XH2] * f2 + params[s, P_XH3] * f3
    pe = ses + sel
    pinc = sis + sil
    pl = sls + sll
    pgh = sghs + sghl
    ph = shs + shll
    xincp = xincp + pinc
    ep = ep + pe
    # libm's: sgp4 divides by sinip and by 1 + cosip, which vanish at 0 and
    # 180 deg of inclination, where a last-bit difference grows without bound
    sinip = np.sin(xincp)
    cosip = np.cos(xincp)
    if xincp >= 0.2:
        ph = ph / sinip
        pgh = pgh - cosip * ph
        argpp = argpp + pgh
        nodep = nodep + ph
        mp = mp + pl
    else:
        # Lyddane modification
        cosop, sinop = cos_sin(nodep, trig_by_series)
        alfdp = sinip * sinop
        betdp = sinip * cosop
        dalf = ph * cosop + pinc * cosip * sinop
        dbet = -ph * sinop + pinc * cosip * cosop
        alfdp = alfdp + dalf
        betdp = betdp + dbet
        nodep = fmod_twopi(nodep)
        opsmode_a = params[s, P_OPSMODE_A] != 0.0
        if nodep < 0.0 and opsmode_a:
            nodep = nodep + TWOPI
        xls = mp + argpp + cosip * nodep
        dls = pl + pgh - pinc * nodep * sinip
        xls = xls + dls
        xnoh = nodep
        nodep = np.arctan2(alfdp, betdp)
        if nodep < 0.0 and opsmode_a:
            nodep = nodep + TWOPI
        if abs(xnoh - nodep) > PI:
            if nodep < xnoh:
                nodep = nodep + TWOPI
            else:
                nodep = nodep - TWOPI
        mp = mp + pl
        argpp = xls - mp - cosip * nodep
    # ---- back in sgp4
    if xincp < 0.0:
        xincp = -xincp
        nodep = nodep + PI
        argpp = argpp - PI
        sinip = np.sin(xincp)
        cosip = np.cos(xincp)
    if ep < 0.0 or ep > 1.0:
        return 3

    # ---- long period periodics
    # (sgp4 takes sin and cos of xincp again here: the values dpper took of
    # the same xincp unless it was negated just above)
    j3oj2 = params[s, P_J3OJ2]
    aycof = -0.5 * j3oj2 * sinip
    if abs(cosip + 1.0) > 1.5e-12:
        xlcof = -0.25 * j3oj2 * sinip * (3.0 + 5.0 * cosip) / (1.0 + cosip)
    else:
        xlcof = -0.25 * j3oj2 * sinip * (3.0 + 5.0 * cosip) / 1.5e-12
    cos_argpp, sin_argpp = cos_sin(argpp, trig_by_series)
    axnl = ep * cos_argpp
    temp = 1.0 / (am * (1.0 - ep * ep))
    aynl = ep * sin_argpp + temp * aycof
    xl = mp + argpp + nodep + temp * xlcof * axnl

    # ---- Kepler's equation, short-period periodics, orientation: as the
    # near-Earth branch, with the inclination functions of the perturbed
    # inclination
    cosisq = cosip * cosip
    return kepler_to_state(xl, nodep, axnl, aynl, am, nm, xke, params[s, P_J2], xincp, sinip,
                           cosip, 3.0 * cosisq - 1.0, 1.0 - cosisq, 7.0 * cosisq - 1.0,
                           params[s, P_RADIUS_KM], params[s, P_VKMPERSEC], r, v, i,
                           trig_by_series)


@nb.njit(cache=True, nogil=True, error_model="numpy")
def _sample(params, s, jd, fr, state, err, r, v, i, trig_by_series=False):
    """Sample ``i``: satellite row ``s`` at ``jd + fr``, with python-sgp4's
    tsince and NaN conventions (wrapper.cpp ``_vectorized_sgp4``)."""
    tsince = (jd - params[s, P_JD]) * 1440.0 + (fr - params[s, P_JDF]) * 1440.0
    e = _sdp4_one(params, s, tsince, state, r, v, i, trig_by_series)
    if e != 0 and e < 6:
        for c in range(3):
            r[i, c] = np.nan
            v[i, c] = np.nan
    err[i] = e


@nb.njit(cache=True, nogil=True, error_model="numpy")
def sdp4_into(params, sat_idx, jd, fr, err, r, v):
    """``sdp4`` writing into caller-provided ``err`` (k,) uint8, ``r`` and
    ``v`` (k, 3) float64; ``params`` (n, N_DEEP_PARAMS) float64, ``sat_idx``
    (k,) int64 in [0, n) (not checked here), ``jd``, ``fr`` (k,) float64.
    Releases the GIL."""
    state = np.zeros(N_STATE)           # resonance integrator (S_* columns)
    last = -1
    for i in range(sat_idx.shape[0]):
        s = sat_idx[i]
        if s != last:                   # a new run: restart from epoch
            state[S_ATIME] = 0.0
            state[S_RATES_OK] = 0.0
            last = s
        _sample(params, s, jd[i], fr[i], state, err, r, v, i)


@nb.njit(cache=True, nogil=True, error_model="numpy")
def sdp4_ns_scatter(params, sat_idx, t_ns, out_idx, err, r, v, trig_by_series=False):
    """``sdp4`` at UTC times ``t_ns`` (k,) int64 ns since 1970, split as
    satwatch.passes splits them for python-sgp4 (``jd = t_ns // NS_PER_DAY
    + 2440587.5``, ``fr = (t_ns % NS_PER_DAY) / NS_PER_DAY``), for the
    samples whose ``sat_idx`` is >= 0, written at row ``out_idx[i]`` of
    ``err`` (uint8), ``r``, ``v`` (float64, (rows, 3); larger than the
    samples if need be); samples with a negative index (near-Earth sets,
    for sgp4_kernel) are skipped and their rows left untouched.
    ``trig_by_series``: Kepler's equation and the short-period periodics
    with fewer libm calls (sgp4_kernel.kepler_to_state): the C++ numbers to
    1e-9 km + 1e-11 of |r| on orbits instead of bit for bit."""
    state = np.zeros(N_STATE)
    last = -1
    for i in range(sat_idx.shape[0]):
        s = sat_idx[i]
        if s < 0:
            continue
        if s != last:
            state[S_ATIME] = 0.0
            state[S_RATES_OK] = 0.0
            last = s
        days = t_ns[i] // NS_PER_DAY
        _sample(params, s, days + JD_UNIX_EPOCH, (t_ns[i] - days * NS_PER_DAY) / NS_PER_DAY,
                state, err, r, v, out_idx[i], trig_by_series)


def sdp4(params, sat_idx, jd, fr):
    """Deep-space SGP4 states of satellites ``params[sat_idx]`` (rows from
    ``pack_deep_space``) at split Julian dates ``jd + fr`` (UTC, as
    python-sgp4 takes them): ``sat_idx``, ``jd``, ``fr`` (k,), any order
    (fastest sorted by satellite, then time).  Returns ``(err (k,) uint8,
    r_teme_km (k, 3), v_teme_km_s (k, 3))`` with python-sgp4's codes and
    NaN conventions (see the module docstring)."""
    sat_idx = np.ascontiguousarray(sat_idx, dtype=np.int64)
    jd = np.ascontiguousarray(jd, dtype=np.float64)
    fr = np.ascontiguousarray(fr, dtype=np.float64)
    params = np.ascontiguousarray(params, dtype=np.float64)
    k = sat_idx.shape[0]
    if sat_idx.ndim != 1 or jd.shape != (k,) or fr.shape != (k,):
        raise ValueError(f"sat_idx, jd and fr must all be (k,): got {sat_idx.shape}, "
                         f"{jd.shape}, {fr.shape}")
    if params.ndim != 2 or params.shape[1] != N_DEEP_PARAMS:
        raise ValueError(f"params must be (n, {N_DEEP_PARAMS}) rows from pack_deep_space: "
                         f"got {params.shape}")
    if k and (sat_idx.min() < 0 or sat_idx.max() >= len(params)):
        raise ValueError(f"sat_idx must lie in [0, {len(params)}): got "
                         f"{sat_idx.min()}..{sat_idx.max()}")
    err = np.empty(k, dtype=np.uint8)
    r = np.empty((k, 3))
    v = np.empty((k, 3))
    sdp4_into(params, sat_idx, jd, fr, err, r, v)
    return err, r, v
