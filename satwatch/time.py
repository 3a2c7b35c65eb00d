"""UTC instants as arrays, with TT and UT1 from offline IERS data.

A :class:`Time` holds one or many UTC instants as int64 nanoseconds since
1970-01-01T00:00:00Z (86,400-second days, as in POSIX and numpy), which is
exact to the nanosecond from 1678 to 2261 and turns into the split Julian
dates that SGP4 and the Earth-rotation formulas want without rounding.

Leap seconds (TAI-UTC) and Earth orientation (UT1-UTC, polar motion x and y)
come from the ``astropy-iers-data`` package: IERS ``Leap_Second.dat`` and
``finals2000A.all`` (Bulletin A, from 1973-01-02, with about a year of
predictions), preceded by the IERS 20 C04 series (``eopc04.1962-now``) for
1962-01-01 to 1973-01-01, read once from the installed package and never
downloaded.  Outside the table's span, UT1-TAI and polar motion hold their
nearest tabulated value (UT1-UTC too, unless a leap second intervenes);
:attr:`EarthOrientation.span_mjd` says what the table covers.
"""
from __future__ import annotations

import datetime as _dt
import functools
import re
from dataclasses import dataclass
from importlib import resources

import numpy as np

from .errors import TimeError

NS_PER_S = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_S
DAY_S = 86_400.0
JD_UNIX_EPOCH = 2440587.5          # JD of 1970-01-01T00:00:00
MJD_UNIX_EPOCH = 40587.0
TT_MINUS_TAI_S = 32.184
ARCSEC_RAD = np.pi / 648_000.0

_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?"
    r"\s*(Z|[+-]00:?00|UTC)?\s*$", re.IGNORECASE)


def _parse_iso_ns(text: str) -> int:
    m = _ISO_RE.match(text)
    if not m:
        raise TimeError(f"cannot read time {text!r}: use UTC ISO-8601 such as "
                        "2023-09-13T04:30:00Z")
    y, mo, d, h, mi, s, frac, _ = m.groups()
    try:
        day = _dt.date(int(y), int(mo), int(d))
    except ValueError as exc:
        raise TimeError(f"cannot read time {text!r}: {exc}") from None
    h, mi, s = int(h or 0), int(mi or 0), int(s or 0)
    if h > 23 or mi > 59 or s > 60:
        raise TimeError(f"cannot read time {text!r}: hour, minute or second out of range")
    days = (day - _dt.date(1970, 1, 1)).days
    ns = ((days * 24 + h) * 60 + mi) * 60 * NS_PER_S + s * NS_PER_S
    if frac:
        digits = (frac[1:] + "000000000")[:9]
        ns += int(digits)
    return ns


class Time:
    """One or many UTC instants; array-shaped like numpy.

    Build with :func:`utc`, :func:`utc_range` or :meth:`from_jd`.
    """

    __slots__ = ("ns",)

    def __init__(self, ns):
        try:
            self.ns = np.asarray(ns, dtype=np.int64)
        except OverflowError:
            raise TimeError("time out of range: UTC instants are int64 ns since 1970 "
                            "(years 1678-2262)") from None

    # -- construction -------------------------------------------------
    @classmethod
    def from_jd(cls, jd, fraction=0.0) -> "Time":
        """From a (split) UTC Julian date, as SGP4 writes epochs."""
        jd = np.asarray(jd, dtype=float)
        fraction = np.asarray(fraction, dtype=float)
        whole = np.floor(jd - 0.5) + 0.5
        frac = (jd - whole) + fraction
        days = np.rint(whole - JD_UNIX_EPOCH).astype(np.int64)
        return cls(days * NS_PER_DAY + np.rint(frac * NS_PER_DAY).astype(np.int64))

    @classmethod
    def from_datetime64(cls, values) -> "Time":
        return cls(np.asarray(values, dtype="datetime64[ns]").astype(np.int64))

    # -- array protocol -----------------------------------------------
    @property
    def shape(self):
        return self.ns.shape

    def __len__(self):
        return len(self.ns)

    def __getitem__(self, index) -> "Time":
        return Time(self.ns[index])

    def __iter__(self):
        for value in self.ns.ravel() if self.ns.ndim else [self.ns]:
            yield Time(value)

    def __eq__(self, other):
        return isinstance(other, Time) and np.array_equal(self.ns, other.ns)

    def __hash__(self):
        return hash(self.ns.tobytes())

    def __add__(self, seconds) -> "Time":
        step_ns = np.rint(np.asarray(seconds, dtype=float) * NS_PER_S)
        total = self.ns + step_ns                     # float: only to check the range
        if not np.all(np.isfinite(step_ns)) or np.any(np.abs(total) >= 2.0 ** 63):
            raise TimeError("time out of range: UTC instants are int64 ns since 1970 "
                            "(years 1678-2262)")
        return Time(self.ns + step_ns.astype(np.int64))

    def __sub__(self, other):
        if isinstance(other, Time):
            return (self.ns - other.ns) / NS_PER_S
        return self + (-np.asarray(other))

    def __repr__(self):
        text = self.iso()
        return f"Time({text!r})" if self.ns.ndim == 0 else f"Time(<{self.ns.size} instants>)"

    # -- representations ----------------------------------------------
    @property
    def datetime64(self):
        return self.ns.astype("datetime64[ns]")

    def iso(self, digits: int = 3):
        """UTC ISO-8601 with ``Z``, ``digits`` decimals of seconds (0..9)."""
        if not (isinstance(digits, (int, np.integer)) and 0 <= digits <= 9):
            raise TimeError(f"iso: digits must be an integer 0..9, not {digits!r}")
        unit = {0: "s", 3: "ms", 6: "us", 9: "ns"}.get(int(digits))
        if unit is not None:
            step = {"s": NS_PER_S, "ms": 1_000_000, "us": 1_000, "ns": 1}[unit]
            rounded = ((self.ns + step // 2) // step).astype(f"datetime64[{unit}]")
            text = np.char.add(np.datetime_as_string(rounded, unit=unit), "Z")
        else:
            # other precisions: round to 10^(9 - digits) ns, write nanoseconds, cut
            step = 10 ** (9 - int(digits))
            rounded = ((self.ns + step // 2) // step * step).astype("datetime64[ns]")
            full = np.datetime_as_string(rounded, unit="ns")
            text = np.char.add(np.array([x[:len(x) - 9 + int(digits)] for x in
                                         np.atleast_1d(full).tolist()]).reshape(full.shape), "Z")
        return str(text) if text.ndim == 0 else text.tolist()

    def to_datetime(self):
        def one(ns):
            return (_dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
                    + _dt.timedelta(microseconds=int(ns) // 1000))
        return one(self.ns) if self.ns.ndim == 0 else [one(n) for n in self.ns.ravel()]

    def seconds_since(self, reference: "Time"):
        """Float seconds from ``reference`` (a scalar Time)."""
        return (self.ns - reference.ns) / NS_PER_S

    # -- scales ---------------------------------------------------------
    def jd_utc(self):
        """Split UTC Julian date ``(whole, fraction)``, whole at 0h UTC (x.5)."""
        days, rem = np.divmod(self.ns, NS_PER_DAY)
        return days + JD_UNIX_EPOCH, rem / NS_PER_DAY

    @property
    def mjd_utc(self):
        days, rem = np.divmod(self.ns, NS_PER_DAY)
        return days + MJD_UNIX_EPOCH + rem / NS_PER_DAY

    def tai_minus_utc_s(self):
        return earth_orientation().tai_minus_utc_s(self.mjd_utc)

    def jd_tt(self):
        """Split TT Julian date ``(whole, fraction)``."""
        whole, frac = self.jd_utc()
        return whole, frac + (self.tai_minus_utc_s() + TT_MINUS_TAI_S) / DAY_S

    def dut1_s(self):
        """UT1-UTC in seconds (IERS Bulletin A, interpolated)."""
        return earth_orientation().dut1_s(self.mjd_utc)

    def jd_ut1(self):
        """Split UT1 Julian date ``(whole, fraction)``."""
        whole, frac = self.jd_utc()
        return whole, frac + self.dut1_s() / DAY_S

    def polar_motion_rad(self):
        """Polar motion ``(xp, yp)`` in radians (IERS Bulletin A)."""
        return earth_orientation().polar_motion_rad(self.mjd_utc)


def utc(value) -> Time:
    """UTC time(s) from ISO-8601 text, a datetime, a Time, or a list of them.

    >>> utc("2023-09-13T04:30:00Z").iso()
    '2023-09-13T04:30:00.000Z'
    """
    if isinstance(value, Time):
        return value
    if isinstance(value, str):
        return Time(_parse_iso_ns(value))
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return Time(np.datetime64(value, "ns").astype(np.int64))
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.datetime64):
        return Time.from_datetime64(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return Time(np.array([utc(v).ns for v in value], dtype=np.int64))
    raise TimeError(f"cannot read time {value!r}: give UTC ISO-8601 text or a datetime")


def utc_range(start, end, step_s: float) -> Time:
    """Evenly spaced UTC times from ``start`` to ``end`` inclusive (when ``end``
    falls on a step)."""
    if not (step_s > 0 and np.isfinite(step_s)) or round(step_s * NS_PER_S) < 1:
        raise TimeError(f"step_s must be a finite number of seconds, at least 1 ns, "
                        f"got {step_s!r}")
    t0, t1 = utc(start), utc(end)
    if t1.ns < t0.ns:
        raise TimeError(f"end {t1.iso()} is before start {t0.iso()}")
    step_ns = int(round(step_s * NS_PER_S))
    n = int((t1.ns - t0.ns) // step_ns) + 1
    return Time(t0.ns + np.arange(n, dtype=np.int64) * step_ns)


@dataclass(frozen=True)
class EarthOrientation:
    """IERS leap seconds and Earth orientation parameters, as arrays."""

    leap_mjd: np.ndarray
    leap_tai_minus_utc_s: np.ndarray
    table_mjd: np.ndarray
    table_dut1_s: np.ndarray
    table_xp_arcsec: np.ndarray
    table_yp_arcsec: np.ndarray
    source: str

    @property
    def span_mjd(self):
        return float(self.table_mjd[0]), float(self.table_mjd[-1])

    def tai_minus_utc_s(self, mjd_utc):
        i = np.searchsorted(self.leap_mjd, mjd_utc, side="right") - 1
        return np.where(i >= 0, self.leap_tai_minus_utc_s[np.maximum(i, 0)], 10.0)

    def dut1_s(self, mjd_utc):
        # Interpolate UT1-TAI, which is continuous across leap seconds.
        ut1_tai = self.table_dut1_s - self.tai_minus_utc_s(self.table_mjd)
        return np.interp(mjd_utc, self.table_mjd, ut1_tai) + self.tai_minus_utc_s(mjd_utc)

    def polar_motion_rad(self, mjd_utc):
        return (np.interp(mjd_utc, self.table_mjd, self.table_xp_arcsec) * ARCSEC_RAD,
                np.interp(mjd_utc, self.table_mjd, self.table_yp_arcsec) * ARCSEC_RAD)


def _parse_leap_seconds(text: str):
    mjd, dat = [], []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split()
        mjd.append(float(fields[0]))
        dat.append(float(fields[4]))
    return np.array(mjd), np.array(dat)


def _parse_finals(text: str):
    mjd, x, y, dut1 = [], [], [], []
    for line in text.splitlines():
        # Columns per IERS ReadMe.finals2000A: MJD 8-15, PM-x 19-27,
        # PM-y 38-46, UT1-UTC 59-68 (Bulletin A, 1-based).
        if len(line) < 68 or not line[58:68].strip() or not line[18:27].strip():
            continue
        mjd.append(float(line[7:15]))
        x.append(float(line[18:27]))
        y.append(float(line[37:46]))
        dut1.append(float(line[58:68]))
    return np.array(mjd), np.array(dut1), np.array(x), np.array(y)


def _parse_c04(text: str):
    """IERS 20 C04 (``eopc04.1962-now``: YR MM DD HH MJD x y UT1-UTC ...,
    whitespace-separated, ``#`` comments): the same arrays as :func:`_parse_finals`."""
    rows = np.array([line.split()[4:8] for line in text.splitlines()
                     if line.strip() and not line.startswith("#")], dtype=float).reshape(-1, 4)
    return rows[:, 0], rows[:, 3], rows[:, 1], rows[:, 2]


@functools.lru_cache(maxsize=1)
def earth_orientation() -> EarthOrientation:
    """The IERS tables shipped in the installed ``astropy-iers-data`` package:
    finals2000A.all from its first day (1973-01-02), C04 before it.  Without
    C04, UT1-TAI held over 1972's three leap seconds put UT1-UTC at -1.19 s in
    early 1972 (C04: about -0.2 s), half a kilometre of LEO position."""
    import astropy_iers_data
    data = resources.files(astropy_iers_data) / "data"
    leap_mjd, leap_dat = _parse_leap_seconds((data / "Leap_Second.dat").read_text())
    mjd, dut1, x, y = _parse_finals((data / "finals2000A.all").read_text())
    c_mjd, c_dut1, c_x, c_y = _parse_c04((data / "eopc04.1962-now").read_text())
    early = c_mjd < mjd[0]
    mjd, dut1, x, y = (np.concatenate([c[early], f]) for c, f in
                       ((c_mjd, mjd), (c_dut1, dut1), (c_x, x), (c_y, y)))
    version = getattr(astropy_iers_data, "__version__", "unknown")
    return EarthOrientation(leap_mjd, leap_dat, mjd, dut1, x, y,
                            source=f"IERS finals2000A.all + eopc04.1962-now + Leap_Second.dat "
                                   f"(astropy-iers-data {version})")
