"""Element sets: one model for TLE, 3LE, Alpha-5 and CCSDS OMM (KVN, XML, JSON, CSV).

Readers take text and return ``(element_sets, rejections)``: every good record
is kept and every bad one is reported with its line and field, never dropped
in silence.  With ``strict=True`` the first bad record raises
:class:`~satwatch.errors.ElementsError` instead.  Nothing here touches disk or
network: :mod:`satwatch.sources` reads files and URLs and hands their text in.

The TLE reader is deliberately strict about columns (every numeric field must
be right-justified digits with no inner or trailing blank, separators must be
blank, the checksum must hold, and both lines must name the same object), so
that a corrupted character is either caught or provably harmless: the TLE
checksum does not see letters, blanks, ``.`` or ``+``, and these column checks
close that gap.  OMM has no checksum, so a changed digit in an OMM value cannot
be detected by any reader; structure, types and ranges are checked.
"""
from __future__ import annotations

import calendar
import csv
import datetime
import functools
import io
import json
import math
import re
from dataclasses import dataclass, field, replace
from xml.parsers import expat

import numpy as np

from .errors import ElementsError
from .time import NS_PER_DAY, Time, _parse_iso_ns

__all__ = ["ElementSet", "Rejection", "parse_elements", "parse_tle", "parse_omm_kvn",
           "parse_omm_xml", "parse_omm_json", "parse_omm_csv", "detect_format",
           "alpha5_to_int", "catalog_number", "int_to_alpha5", "write_tle", "write_tle_text",
           "write_omm"]

OMM_FIELDS = ("OBJECT_NAME", "OBJECT_ID", "EPOCH", "MEAN_MOTION", "ECCENTRICITY",
              "INCLINATION", "RA_OF_ASC_NODE", "ARG_OF_PERICENTER", "MEAN_ANOMALY",
              "EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID", "ELEMENT_SET_NO",
              "REV_AT_EPOCH", "BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT")
# CCSDS 502.0-B-3 (7.5.10) epochs: calendar YYYY-MM-DDThh:mm:ss[.d...] or
# day-of-year YYYY-DDDThh:mm:ss[.d...] (the standard's own OMM example says
# EPOCH = 2007-064T10:34:41.4264), upper-case T and an optional upper-case Z.
# Stricter than satwatch.time's reader (which takes "t", "z", a space or
# "UTC" from people): in a file a lower-case "z" where a digit belongs is
# damage, and would otherwise silently drop that digit.
_OMM_EPOCH_RE = re.compile(r"\d{4}-(?:\d{2}-\d{2}|(\d{3}))T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?")
# Mean element theories whose elements SGP4 propagates: CCSDS 502.0's OMM
# examples and CelesTrak's KVN write "SGP/SGP4" (TLE elements, for SGP or
# SGP4), CelesTrak's XML and Space-Track write "SGP4".  Others (SGP4-XP,
# DSST, USM, ...) define different mean elements and are refused.
_SGP4_THEORIES = ("SGP4", "SGP/SGP4")
_OMM_REQUIRED = ("EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
                 "ARG_OF_PERICENTER", "MEAN_ANOMALY", "NORAD_CAT_ID", "BSTAR",
                 "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT")
MAX_ALPHA5 = 339_999
_ALPHA5_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"   # no I, no O (they read as 1 and 0)


@dataclass(frozen=True, slots=True)
class ElementSet:
    """SGP4 mean elements of one object at one epoch, whatever the format.

    Angles are in degrees and mean motion in revolutions per day as the
    formats write them, so that a set written back is exactly the set read;
    :meth:`satwatch.propagation.satrec` converts to SGP4's radians and
    minutes.  ``source_text`` is the record exactly as read.
    """

    norad_id: int
    epoch_ns: int                   # UTC, ns since 1970 (see satwatch.time)
    mean_motion_rev_day: float
    eccentricity: float
    inclination_deg: float
    raan_deg: float
    arg_perigee_deg: float
    mean_anomaly_deg: float
    bstar_per_earth_radius: float
    ndot_rev_day2: float            # MEAN_MOTION_DOT: first derivative / 2
    nddot_rev_day3: float           # MEAN_MOTION_DDOT: second derivative / 6
    name: str = ""
    intl_designator: str = ""       # COSPAR form, "1998-067A"
    classification: str = "U"
    ephemeris_type: int = 0
    element_set_no: int = 999
    rev_at_epoch: int = 0
    source_text: str = field(default="", compare=False, repr=False)
    source: str | None = field(default=None, compare=False, repr=False)
    line: int | None = field(default=None, compare=False, repr=False)

    @property
    def epoch(self) -> Time:
        return Time(self.epoch_ns)

    @property
    def period_min(self) -> float:
        return 1440.0 / self.mean_motion_rev_day

    @property
    def semi_major_axis_km(self) -> float:
        """From the Kozai mean motion with WGS-72 mu (a quick, regime-level figure)."""
        n_rad_s = self.mean_motion_rev_day * 2 * math.pi / 86400.0
        return (398600.8 / n_rad_s ** 2) ** (1.0 / 3.0)

    @property
    def perigee_alt_km(self) -> float:
        return self.semi_major_axis_km * (1 - self.eccentricity) - 6378.135

    @property
    def apogee_alt_km(self) -> float:
        return self.semi_major_axis_km * (1 + self.eccentricity) - 6378.135

    def to_tle(self, *, lossy: bool = False) -> tuple[str, str]:
        return write_tle(self, lossy=lossy)

    def to_omm(self) -> dict:
        return omm_dict(self)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that could not be read, with where and why."""

    source: str | None
    line: int | None
    field: str | None
    reason: str
    text: str = ""

    @classmethod
    def from_error(cls, err: ElementsError, text: str = "") -> "Rejection":
        return cls(err.source, err.line, err.field, err.reason, text)

    def __str__(self):
        return str(ElementsError(self.reason, source=self.source, line=self.line,
                                 field=self.field))


# --------------------------------------------------------------------------
# Alpha-5 catalog numbers
# --------------------------------------------------------------------------

def alpha5_to_int(text: str) -> int:
    """``"A0000"`` -> 100000 ... ``"Z9999"`` -> 339999; digits as they are."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if len(text) == 5 and text[0] in _ALPHA5_LETTERS and text[1:].isdigit():
        return (_ALPHA5_LETTERS.index(text[0]) + 10) * 10_000 + int(text[1:])
    raise ValueError(f"{text!r} is not a catalog number (digits or Alpha-5 such as A0001)")


_R_CATALOG_NUMBER = re.compile(r"[0-9]{1,9}|[A-HJ-NP-Z][0-9]{4}")


def catalog_number(text: str | None) -> int | None:
    """The NORAD catalog number a query names: ASCII digits, or Alpha-5 (a
    letter without I and O, then four digits: ``A0001`` = 100001, ``Z9999`` =
    339999; either case); None when it is not one (a name)."""
    if text is None:
        return None
    t = text.strip().upper()
    return alpha5_to_int(t) if _R_CATALOG_NUMBER.fullmatch(t) else None


def int_to_alpha5(number: int) -> str:
    if not 0 <= number <= MAX_ALPHA5:
        raise ValueError(f"catalog number {number} does not fit five TLE columns "
                         f"(0..{MAX_ALPHA5} with Alpha-5)")
    if number < 100_000:
        return f"{number:05d}"
    head, tail = divmod(number, 10_000)
    return f"{_ALPHA5_LETTERS[head - 10]}{tail:04d}"


# --------------------------------------------------------------------------
# TLE / 3LE
# --------------------------------------------------------------------------

_R_SATNUM = re.compile(r"^(?: *\d+|[A-HJ-NP-Z]\d{4})$")
_R_INT = re.compile(r"^ *\d+$")
_R_FLOAT = re.compile(r"^ *[+-]?\d*\.\d+$")
_R_EPOCH = re.compile(r"^\d{5}\.\d{8}$")
_R_NDOT = re.compile(r"^[ +-]\.\d{8}$")
_R_EXP = re.compile(r"^[ +-]\d{5}[+-]\d$")
_R_DIGITS = re.compile(r"^\d+$")
_R_INTL = re.compile(r"^(?:\d{5}[A-Z ]{3}| {8})$")
# Columns (0-based slices) of each field, named as OMM names them.
_L1 = {"NORAD_CAT_ID": (2, 7), "CLASSIFICATION_TYPE": (7, 8), "OBJECT_ID": (9, 17),
       "EPOCH": (18, 32), "MEAN_MOTION_DOT": (33, 43), "MEAN_MOTION_DDOT": (44, 52),
       "BSTAR": (53, 61), "EPHEMERIS_TYPE": (62, 63), "ELEMENT_SET_NO": (64, 68)}
_L2 = {"NORAD_CAT_ID": (2, 7), "INCLINATION": (8, 16), "RA_OF_ASC_NODE": (17, 25),
       "ECCENTRICITY": (26, 33), "ARG_OF_PERICENTER": (34, 42), "MEAN_ANOMALY": (43, 51),
       "MEAN_MOTION": (52, 63), "REV_AT_EPOCH": (63, 68)}
_L1_BLANKS = (1, 8, 17, 32, 43, 52, 61, 63)
_L2_BLANKS = (1, 7, 16, 25, 33, 42, 51)


def tle_checksum(line: str) -> int:
    """Modulo-10 sum of the digits of columns 1-68, a minus sign counting 1.
    (Each byte mapped to its value by one ``bytes.translate`` and summed in
    C: 0.6 us a line against 4.2 us for a loop over the characters, which
    was a third of reading a whole catalog.)"""
    return sum(line[:68].encode("ascii", "replace").translate(_CHECKSUM_VALUES)) % 10


# byte -> its value in the checksum: digits their value, '-' one, the rest nothing
_CHECKSUM_VALUES = bytes((c - 48) if 48 <= c <= 57 else (1 if c == 45 else 0)
                         for c in range(256))


def _exp_field(text: str) -> float:
    # " 37082-3" means 0.37082e-3; the sign column may be blank or '+'.
    sign = "-" if text[0] == "-" else ""
    return float(f"{sign}0.{text[1:6]}e{text[6:8]}")


def _tle_year(two_digits: int) -> int:
    return 1900 + two_digits if two_digits >= 57 else 2000 + two_digits


def _check_ranges(values: dict, fail) -> None:
    e = values["eccentricity"]
    if not 0.0 <= e < 1.0:
        fail("ECCENTRICITY", f"eccentricity {e} is outside 0 <= e < 1")
    if not 0.0 <= values["inclination_deg"] <= 180.0:
        fail("INCLINATION", f"inclination {values['inclination_deg']} deg is outside 0..180")
    for key, name in (("raan_deg", "RA_OF_ASC_NODE"), ("arg_perigee_deg", "ARG_OF_PERICENTER"),
                      ("mean_anomaly_deg", "MEAN_ANOMALY")):
        if not 0.0 <= values[key] <= 360.0:
            fail(name, f"{name} {values[key]} deg is outside 0..360")
    n = values["mean_motion_rev_day"]
    if not 0.0 < n < 100.0 or not math.isfinite(n):
        fail("MEAN_MOTION", f"mean motion {n} rev/day is not in (0, 100)")
    for key, name in (("bstar_per_earth_radius", "BSTAR"), ("ndot_rev_day2", "MEAN_MOTION_DOT"),
                      ("nddot_rev_day3", "MEAN_MOTION_DDOT")):
        if not math.isfinite(values[key]):
            fail(name, f"{name} is not a finite number")


def _intl_from_tle(field: str) -> str:
    """ "98067A  " -> "1998-067A"; blank stays blank; stray inner blanks go."""
    if not field.strip():
        return ""
    return f"{_tle_year(int(field[:2]))}-{field[2:5]}{field[5:].replace(' ', '')}"


@functools.lru_cache(maxsize=None)
def _year_start_ns(year: int) -> int:
    return int(np.datetime64(f"{year}-01-01", "ns").astype(np.int64))


_FAST1 = re.compile(r"1 ([ \d]{4}\d|[A-HJ-NP-Z]\d{4})([UCS]) (\d{5}[A-Z ]{3}| {8}) "
                    r"(\d\d)(\d{3})\.(\d{8}) ([ +-]\.\d{8}) ([ +-])(\d{5})([+-]\d) "
                    r"([ +-])(\d{5})([+-]\d) (\d) ([ \d]{3}\d)(\d)")
_FAST2 = re.compile(r"2 ([ \d]{4}\d|[A-HJ-NP-Z]\d{4}) ([ \d]{3}\.\d{4}) ([ \d]{3}\.\d{4}) "
                    r"(\d{7}) ([ \d]{3}\.\d{4}) ([ \d]{3}\.\d{4}) ([ \d]{2}\.\d{8})([ \d]{4}\d)(\d)")


def _fast_tle(line1, line2, name, source, line, source_text):
    """The common case in one regular expression per line; None sends the
    record to the field-by-field reader, which explains any fault."""
    m1 = _FAST1.match(line1)
    m2 = _FAST2.match(line2)
    if m1 is None or m2 is None or line1[2:7] != line2[2:7]:
        return None
    if int(m1.group(16)) != tle_checksum(line1) or int(m2.group(9)) != tle_checksum(line2):
        return None
    try:
        (sat, cls, intl, yy, doy, frac, ndot, s1, m1d, e1, s2, m2d, e2, eph, elset, _) = m1.groups()
        year = _tle_year(int(yy))
        day = int(doy)
        if not 1 <= day <= 365 + (year % 4 == 0):
            return None
        values = dict(
            ndot_rev_day2=float(ndot),
            nddot_rev_day3=float(f"{'-' if s1 == '-' else ''}0.{m1d}e{e1}"),
            bstar_per_earth_radius=float(f"{'-' if s2 == '-' else ''}0.{m2d}e{e2}"),
            inclination_deg=float(m2.group(2)), raan_deg=float(m2.group(3)),
            eccentricity=float("0." + m2.group(4)), arg_perigee_deg=float(m2.group(5)),
            mean_anomaly_deg=float(m2.group(6)), mean_motion_rev_day=float(m2.group(7)))
        norad_id = int(sat) if sat[0] not in _ALPHA5_LETTERS else alpha5_to_int(sat)
        elset_no, rev = int(elset), int(m2.group(8))
    except ValueError:
        return None
    if not (values["eccentricity"] < 1.0 and values["inclination_deg"] <= 180.0
            and values["raan_deg"] <= 360.0 and values["arg_perigee_deg"] <= 360.0
            and values["mean_anomaly_deg"] <= 360.0 and values["mean_motion_rev_day"] > 0.0):
        return None
    epoch_ns = _year_start_ns(year) + (day - 1) * NS_PER_DAY + int(frac) * 864_000
    return ElementSet(norad_id=norad_id, epoch_ns=epoch_ns, name=name,
                      intl_designator=_intl_from_tle(intl), classification=cls,
                      ephemeris_type=int(eph), element_set_no=elset_no, rev_at_epoch=rev,
                      source_text=source_text, source=source, line=line, **values)


def parse_tle_pair(line1: str, line2: str, name: str = "", *, source: str | None = None,
                   line: int | None = None, verify_checksum: bool = True,
                   source_text: str | None = None) -> ElementSet:
    """Read one TLE (two lines, plus an optional name). ``line`` is the file
    line number of ``line1``."""

    def fail(fld, reason, which=1):
        lineno = None if line is None else line + (which - 1)
        raise ElementsError(reason, source=source, line=lineno, field=fld)

    line1 = line1.rstrip("\r\n")
    line2 = line2.rstrip("\r\n")
    if source_text is None:
        source_text = (f"{name}\n" if name else "") + f"{line1}\n{line2}\n"
    if verify_checksum:
        fast = _fast_tle(line1, line2, name, source, line, source_text)
        if fast is not None:
            return fast
    for which, text in ((1, line1), (2, line2)):
        if not text.startswith(f"{which} "):
            fail("line number", f"expected TLE line {which} here, found {text[:20]!r} "
                                "(lines out of order or a record cut short)", which)
        if len(text.rstrip()) < 69:
            fail("length", f"TLE line {which} has {len(text.rstrip())} columns, "
                           "69 are needed (truncated record)", which)
        if verify_checksum:
            want = text[68]
            if not want.isdigit() or int(want) != tle_checksum(text):
                fail("checksum", f"checksum is {want!r}, the line sums to "
                                 f"{tle_checksum(text)} (a character is corrupted)", which)
    for which, text, blanks in ((1, line1, _L1_BLANKS), (2, line2, _L2_BLANKS)):
        for col in blanks:
            if text[col] != " ":
                fail(f"column {col + 1}", f"column {col + 1} should be blank, "
                                          f"found {text[col]!r}", which)

    def take(fields, text, key, pattern, which):
        a, b = fields[key]
        value = text[a:b]
        if not pattern.match(value):
            fail(key, f"malformed {key} {value!r} in columns {a + 1}-{b}", which)
        return value

    satnum1 = take(_L1, line1, "NORAD_CAT_ID", _R_SATNUM, 1)
    satnum2 = take(_L2, line2, "NORAD_CAT_ID", _R_SATNUM, 2)
    norad_id = alpha5_to_int(satnum1)
    if alpha5_to_int(satnum2) != norad_id:
        fail("NORAD_CAT_ID", f"line 2 is for object {satnum2.strip()!r}, line 1 for "
                             f"{satnum1.strip()!r}", 2)
    classification = line1[7]
    if classification not in "UCS":
        fail("CLASSIFICATION_TYPE", f"classification {classification!r} is not U, C or S")
    intl = _intl_from_tle(take(_L1, line1, "OBJECT_ID", _R_INTL, 1))
    epoch_text = take(_L1, line1, "EPOCH", _R_EPOCH, 1)
    year = _tle_year(int(epoch_text[:2]))
    day = int(epoch_text[2:5])
    days_in_year = 366 if (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)) else 365
    if not 1 <= day <= days_in_year:
        fail("EPOCH", f"day of year {day} is outside 1..{days_in_year}")
    epoch_ns = _year_start_ns(year) + (day - 1) * NS_PER_DAY + int(epoch_text[6:]) * (NS_PER_DAY // 10**8)

    values = dict(
        ndot_rev_day2=float(take(_L1, line1, "MEAN_MOTION_DOT", _R_NDOT, 1).replace(" ", "")),
        nddot_rev_day3=_exp_field(take(_L1, line1, "MEAN_MOTION_DDOT", _R_EXP, 1)),
        bstar_per_earth_radius=_exp_field(take(_L1, line1, "BSTAR", _R_EXP, 1)),
        inclination_deg=float(take(_L2, line2, "INCLINATION", _R_FLOAT, 2)),
        raan_deg=float(take(_L2, line2, "RA_OF_ASC_NODE", _R_FLOAT, 2)),
        eccentricity=float("0." + take(_L2, line2, "ECCENTRICITY", _R_DIGITS, 2)),
        arg_perigee_deg=float(take(_L2, line2, "ARG_OF_PERICENTER", _R_FLOAT, 2)),
        mean_anomaly_deg=float(take(_L2, line2, "MEAN_ANOMALY", _R_FLOAT, 2)),
        mean_motion_rev_day=float(take(_L2, line2, "MEAN_MOTION", _R_FLOAT, 2)),
    )
    eph = line1[62]
    if eph == " ":
        eph = "0"       # old element sets leave it blank; 0 is what it meant
    if not eph.isdigit():
        fail("EPHEMERIS_TYPE", f"ephemeris type {eph!r} is not a digit")
    elset = take(_L1, line1, "ELEMENT_SET_NO", _R_INT, 1)
    rev = line2[63:68]
    if not (_R_INT.match(rev) or rev == "     "):
        fail("REV_AT_EPOCH", f"malformed REV_AT_EPOCH {rev!r} in columns 64-68", 2)

    def range_fail(fld, reason):
        fail(fld, reason, 1 if fld in _L1 else 2)

    _check_ranges(values, range_fail)
    return ElementSet(norad_id=norad_id, epoch_ns=int(epoch_ns), name=name,
                      intl_designator=intl, classification=classification,
                      ephemeris_type=int(eph), element_set_no=int(elset),
                      rev_at_epoch=int(rev) if rev.strip() else 0,
                      source_text=source_text, source=source, line=line, **values)


def parse_tle(text: str, *, source: str | None = None, strict: bool = False,
              verify_checksum: bool = True, first_line: int = 1):
    """Read TLE or 3LE text (name lines with or without ``0 ``, blank lines
    allowed).  Returns ``(element_sets, rejections)``."""
    lines = text.splitlines()
    sets: list[ElementSet] = []
    rejections: list[Rejection] = []
    n = len(lines)
    i = 0
    name, name_line = "", None

    def reject(err: ElementsError, raw: str):
        if strict:
            raise err
        rejections.append(Rejection.from_error(err, raw))

    while i < n:
        raw = lines[i]
        lineno = first_line + i
        if not raw.strip() or raw.startswith("#"):
            i += 1      # blank lines and '#' comments (as in Vallado's SGP4-VER.TLE)
            continue
        if raw.startswith("1 ") and i + 1 < n and lines[i + 1].startswith("2 "):
            name_text = (f"{lines[name_line - first_line]}\n" if name_line is not None else "")
            try:
                sets.append(parse_tle_pair(
                    raw, lines[i + 1], name, source=source, line=lineno,
                    verify_checksum=verify_checksum,
                    source_text=f"{name_text}{raw}\n{lines[i + 1]}\n"))
            except ElementsError as err:
                reject(err, f"{raw}\n{lines[i + 1]}")
            name, name_line = "", None
            i += 2
            continue
        if raw.startswith("1 ") and (len(raw.rstrip()) >= 69 or raw[2:7].strip().isdigit()):
            reject(ElementsError("TLE line 1 is not followed by its line 2 (record cut "
                                 "short or lines out of order)", source=source, line=lineno,
                                 field="line number"), raw)
            name, name_line = "", None
            i += 1
            continue
        if raw.startswith("2 ") and len(raw.rstrip()) >= 60 and raw[2:7].strip().isalnum():
            reject(ElementsError("TLE line 2 without its line 1 before it (lines out of "
                                 "order or a record cut short)", source=source, line=lineno,
                                 field="line number"), raw)
            name, name_line = "", None
            i += 1
            continue
        if name_line is not None:
            reject(ElementsError(f"name line {name!r} is not followed by a TLE",
                                 source=source, line=name_line, field="OBJECT_NAME"),
                   lines[name_line - first_line])
        name = raw[2:].strip() if raw.startswith("0 ") else raw.strip()
        name_line = lineno
        i += 1
    if name_line is not None:
        reject(ElementsError(f"name line {name!r} is not followed by a TLE (truncated file?)",
                             source=source, line=name_line, field="OBJECT_NAME"),
               lines[name_line - first_line])
    return sets, rejections


# --------------------------------------------------------------------------
# OMM
# --------------------------------------------------------------------------

_R_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _omm_number(record: dict, key: str, fail, kind=float, default=None):
    raw = record.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if default is not None:
            return default
        fail(key, f"{key} is missing")
    if isinstance(raw, bool):
        fail(key, f"{key} is {raw!r}, not a number")
    if isinstance(raw, str):
        raw = raw.strip()
        if raw.startswith("[") or " " in raw:
            fail(key, f"malformed {key} {raw!r}")
    try:
        if kind is int:
            if isinstance(raw, float):
                if not raw.is_integer():
                    raise ValueError
                return int(raw)
            if isinstance(raw, str) and not re.fullmatch(r"[+-]?\d+", raw):
                raise ValueError
            return int(raw)
        if isinstance(raw, str) and not _R_DECIMAL.fullmatch(raw):
            raise ValueError    # float() would take "1_5", "inf", "nan"
        value = float(raw)
    except (TypeError, ValueError):
        fail(key, f"{key} is {raw!r}, not {'an integer' if kind is int else 'a number'}")
    if not math.isfinite(value):
        fail(key, f"{key} is {raw!r}, not a finite number")
    return value


# Every keyword CCSDS 502.0-B-3 (OMM) defines, plus Space-Track's extra GP
# columns.  An unknown keyword that looks like a missing known one is a typo
# or corruption and is refused; other unknown keywords are ignored.
_OMM_KNOWN = set(OMM_FIELDS) | {
    "CCSDS_OMM_VERS", "COMMENT", "CREATION_DATE", "ORIGINATOR", "MESSAGE_ID", "CENTER_NAME",
    "REF_FRAME", "REF_FRAME_EPOCH", "TIME_SYSTEM", "MEAN_ELEMENT_THEORY", "SEMI_MAJOR_AXIS", "GM",
    "BTERM", "AGOM", "MASS", "SOLAR_RAD_AREA", "SOLAR_RAD_COEFF", "DRAG_AREA", "DRAG_COEFF",
    "COV_REF_FRAME", "SEMIMAJOR_AXIS", "PERIOD", "APOAPSIS", "PERIAPSIS", "OBJECT_TYPE",
    "RCS_SIZE", "COUNTRY_CODE", "LAUNCH_DATE", "SITE", "DECAY_DATE", "FILE", "GP_ID",
    "TLE_LINE0", "TLE_LINE1", "TLE_LINE2"}


_R_COVARIANCE = re.compile(r"C[XYZ](?:_DOT)?_[XYZ](?:_DOT)?")


def _check_keywords(record: dict, fail) -> None:
    import difflib
    for key in record:
        if key in _OMM_KNOWN or key.startswith("USER_DEFINED") or _R_COVARIANCE.fullmatch(key):
            continue
        missing = [k for k in _OMM_KNOWN if k not in record]
        close = difflib.get_close_matches(key, missing, n=1, cutoff=0.8)
        if close:
            fail(key, f"unknown keyword {key!r}: did you mean {close[0]}?")


# The units CCSDS 502.0-B-3 gives OMM keywords (its tables; the NDM/XML
# schema spells them the same, compared here case-insensitively, as the
# schema also lists "REV/DAY"), plus Space-Track's extra GP columns.  A unit
# written in a message (KVN "[...]", XML units="...") must be this one: a
# value in other units (INCLINATION = 0.901346 [rad]) is refused naming the
# keyword and the unit, not converted, because a message in non-CCSDS units
# comes from a writer that does not follow the standard, and guessing what
# else it changed would be worse than asking for a conforming file.
# Keywords without a unit (ECCENTRICITY, integers, text) take "n/a", as the
# tables write it; USER_DEFINED_* and unknown keywords may carry any unit.
_OMM_UNITS = {
    "MEAN_MOTION": "rev/day", "SEMI_MAJOR_AXIS": "km", "INCLINATION": "deg",
    "RA_OF_ASC_NODE": "deg", "ARG_OF_PERICENTER": "deg", "MEAN_ANOMALY": "deg",
    "GM": "km**3/s**2", "MASS": "kg", "SOLAR_RAD_AREA": "m**2", "DRAG_AREA": "m**2",
    "BSTAR": "1/ER", "BTERM": "m**2/kg", "AGOM": "m**2/kg",
    "MEAN_MOTION_DOT": "rev/day**2", "MEAN_MOTION_DDOT": "rev/day**3",
    "SEMIMAJOR_AXIS": "km", "APOAPSIS": "km", "PERIAPSIS": "km", "PERIOD": "min"}


def _unit_of(key: str) -> str:
    """The CCSDS unit of a known OMM keyword ("n/a" when it has none)."""
    if _R_COVARIANCE.fullmatch(key):
        return {0: "km**2", 1: "km**2/s", 2: "km**2/s**2"}[key.count("_DOT")]
    return _OMM_UNITS.get(key, "n/a")


def _check_units(units: dict, fail) -> None:
    for key, unit in units.items():
        if key.startswith("USER_DEFINED") or not (key in _OMM_KNOWN
                                                  or _R_COVARIANCE.fullmatch(key)):
            continue
        want = _unit_of(key)
        if unit.strip().casefold() != want.casefold():
            ccsds = "has no unit" if want == "n/a" else f"is in [{want}]"
            fail(key, f"{key} is given in [{unit}]; in CCSDS 502.0 OMM it {ccsds} "
                      "(satwatch does not convert units)")


def element_set_from_omm(record: dict, *, source: str | None = None, line: int | None = None,
                         where: str = "", source_text: str = "",
                         units: dict | None = None) -> ElementSet:
    """One ElementSet from OMM keywords (values as text or numbers).
    ``units``: keyword -> unit as the message wrote it (KVN ``[...]``, XML
    ``units=``); each must be the CCSDS unit of that keyword."""

    def fail(fld, reason):
        raise ElementsError(reason, source=source, line=line, field=f"{where}{fld}")

    if not isinstance(record, dict):
        raise ElementsError(f"an OMM record must be an object of keywords, got "
                            f"{type(record).__name__}", source=source, line=line,
                            field=where.rstrip(".") or None)
    _check_keywords(record, fail)
    _check_units(units or {}, fail)
    if any(record.get(k) in (None, "") for k in _OMM_REQUIRED) \
            and record.get("TLE_LINE1") and record.get("TLE_LINE2"):
        return _element_set_from_tle_columns(record, source, line, where, source_text)
    theory = str(record.get("MEAN_ELEMENT_THEORY", "SGP4") or "SGP4").strip().upper()
    if theory not in _SGP4_THEORIES:
        fail("MEAN_ELEMENT_THEORY", f"mean element theory {theory!r} is not SGP4 (nor "
                                    "SGP/SGP4); satwatch propagates SGP4 elements only")
    for key in ("REF_FRAME", "TIME_SYSTEM", "CENTER_NAME"):
        want = {"REF_FRAME": "TEME", "TIME_SYSTEM": "UTC", "CENTER_NAME": "EARTH"}[key]
        got = record.get(key)
        if got not in (None, "") and str(got).strip().upper() != want:
            fail(key, f"{key} is {got!r}; SGP4 elements need {want}")
    for key in _OMM_REQUIRED:
        if record.get(key) in (None, ""):
            fail(key, f"{key} is missing")
    epoch_raw = record["EPOCH"]
    if not isinstance(epoch_raw, str):
        fail("EPOCH", f"EPOCH is {epoch_raw!r}, not ISO-8601 text")
    m = _OMM_EPOCH_RE.fullmatch(epoch_raw.strip())
    if not m:
        fail("EPOCH", f"EPOCH {epoch_raw!r} is not a CCSDS UTC time "
                      "(YYYY-MM-DDThh:mm:ss[.f...][Z] or YYYY-DDDThh:mm:ss[.f...][Z], "
                      "upper-case T and Z)")
    epoch_text = epoch_raw.strip()
    if m.group(1) is not None:      # day of year: 001 .. 365 (366 in leap years)
        year, day = int(epoch_text[:4]), int(m.group(1))
        length = 366 if calendar.isleap(year) else 365
        if not 1 <= day <= length:
            fail("EPOCH", f"EPOCH {epoch_raw!r}: day of year {m.group(1)} is outside "
                          f"001..{length} ({year} has {length} days)")
    try:
        if m.group(1) is not None:
            date = datetime.date(year, 1, 1) + datetime.timedelta(days=day - 1)
            epoch_text = date.isoformat() + epoch_text[8:]
        epoch_ns = _parse_iso_ns(epoch_text)
    except Exception:
        fail("EPOCH", f"EPOCH {epoch_raw!r} is not an ISO-8601 UTC time")
    norad_id = _omm_number(record, "NORAD_CAT_ID", fail, int)
    if not 0 <= norad_id <= 999_999_999:
        fail("NORAD_CAT_ID", f"NORAD_CAT_ID {norad_id} is outside 0..999999999")
    values = dict(
        mean_motion_rev_day=_omm_number(record, "MEAN_MOTION", fail),
        eccentricity=_omm_number(record, "ECCENTRICITY", fail),
        inclination_deg=_omm_number(record, "INCLINATION", fail),
        raan_deg=_omm_number(record, "RA_OF_ASC_NODE", fail),
        arg_perigee_deg=_omm_number(record, "ARG_OF_PERICENTER", fail),
        mean_anomaly_deg=_omm_number(record, "MEAN_ANOMALY", fail),
        bstar_per_earth_radius=_omm_number(record, "BSTAR", fail),
        ndot_rev_day2=_omm_number(record, "MEAN_MOTION_DOT", fail),
        nddot_rev_day3=_omm_number(record, "MEAN_MOTION_DDOT", fail),
    )
    _check_ranges(values, fail)
    classification = str(record.get("CLASSIFICATION_TYPE") or "U").strip()
    if classification not in ("U", "C", "S"):
        fail("CLASSIFICATION_TYPE", f"classification {classification!r} is not U, C or S")
    name = record.get("OBJECT_NAME") or ""
    intl = record.get("OBJECT_ID") or ""
    if not isinstance(name, str) or not isinstance(intl, str):
        fail("OBJECT_NAME" if not isinstance(name, str) else "OBJECT_ID", "must be text")
    return ElementSet(
        norad_id=norad_id, epoch_ns=int(epoch_ns), name=name.strip(),
        intl_designator=intl.strip(), classification=classification,
        ephemeris_type=_omm_number(record, "EPHEMERIS_TYPE", fail, int, 0),
        element_set_no=_omm_number(record, "ELEMENT_SET_NO", fail, int, 999),
        rev_at_epoch=_omm_number(record, "REV_AT_EPOCH", fail, int, 0),
        source_text=source_text, source=source, line=line, **values)


def _element_set_from_tle_columns(record, source, line, where, source_text) -> ElementSet:
    """A table row whose OMM keywords are incomplete but which carries its
    element set as TLE lines (Space-Track's GP class and GP tables derived
    from it have TLE_LINE1 / TLE_LINE2 columns; the history table in
    ../shared/data/history has no MEAN_MOTION_DOT column): the lines are
    the element set, checksums and all; OBJECT_NAME, where given, names it."""
    name = record.get("OBJECT_NAME") or record.get("TLE_LINE0") or ""
    if isinstance(name, str) and name.startswith("0 "):
        name = name[2:]
    try:
        return parse_tle_pair(str(record["TLE_LINE1"]), str(record["TLE_LINE2"]),
                              name.strip() if isinstance(name, str) else "", source=source,
                              source_text=source_text or None)
    except ElementsError as err:
        raise ElementsError(f"{err.reason} (the row's OMM keywords are incomplete, so its "
                            "TLE lines were read)", source=source, line=line,
                            field=f"{where}TLE_LINE1/TLE_LINE2: {err.field}") from None


def _collect(records, *, source, strict):
    """records: iterable of (dict, line, where, text, units) -> (sets, rejections);
    units: keyword -> unit written in the message, or None."""
    sets, rejections = [], []
    for record, line, where, text, units in records:
        try:
            sets.append(element_set_from_omm(record, source=source, line=line, where=where,
                                             source_text=text, units=units))
        except ElementsError as err:
            if strict:
                raise
            rejections.append(Rejection.from_error(err, text))
    return sets, rejections


_KVN_LINE = re.compile(r"^\s*([A-Z_0-9]+)\s*=\s*(.*?)\s*$")
_KVN_UNITS = re.compile(r"\s*\[([^\]]*)\]$")
_KVN_TEXT_KEYS = {"OBJECT_NAME", "OBJECT_ID", "ORIGINATOR", "COMMENT"}


def parse_omm_kvn(text: str, *, source: str | None = None, strict: bool = False):
    """CCSDS OMM in Keyword = Value notation; several messages may follow one
    another, each starting with ``CCSDS_OMM_VERS``."""
    records, current, start, raw, units = [], None, None, [], {}
    pre_rejections = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("COMMENT"):
            if current is not None:
                raw.append(line)
            continue
        m = _KVN_LINE.match(line)
        if not m:
            err = ElementsError(f"not a KVN 'KEYWORD = value' line: {stripped[:40]!r}",
                                source=source, line=lineno, field=None)
            if strict:
                raise err
            pre_rejections.append(Rejection.from_error(err, line))
            if current is not None:
                current["__bad__"] = True
            continue
        key, value = m.groups()
        unit = None
        if key not in _KVN_TEXT_KEYS:
            m_unit = _KVN_UNITS.search(value)   # "15.5 [rev/day]" -> "15.5", "rev/day"
            if m_unit:
                value, unit = value[:m_unit.start()], m_unit.group(1).strip() or None
        if key == "CCSDS_OMM_VERS":
            if current is not None:
                records.append((current, start, "\n".join(raw) + "\n", units))
            current, start, raw, units = {}, lineno, [], {}
        elif current is None:
            err = ElementsError(f"{key} before CCSDS_OMM_VERS: the message header is "
                                "missing", source=source, line=lineno, field=key)
            if strict:
                raise err
            pre_rejections.append(Rejection.from_error(err, line))
            continue
        raw.append(line)
        if key in current and key != "COMMENT":
            current["__dup__"] = key
        current[key] = value
        if unit is not None:
            units[key] = unit
    if current is not None:
        records.append((current, start, "\n".join(raw) + "\n", units))

    def gen():
        for record, line, text, record_units in records:
            if record.pop("__bad__", False):
                continue   # its bad line was already reported
            dup = record.pop("__dup__", None)
            if dup:
                err = ElementsError(f"{dup} appears twice in one message", source=source,
                                    line=line, field=dup)
                if strict:
                    raise err
                pre_rejections.append(Rejection.from_error(err, text))
                continue
            yield record, line, "", text, record_units
    sets, rejections = _collect(gen(), source=source, strict=strict)
    return sets, pre_rejections + rejections


def parse_omm_xml(text: str, *, source: str | None = None, strict: bool = False):
    """CCSDS OMM XML (an ``<ndm>`` of ``<omm>`` messages, or one ``<omm>``)."""
    parser = expat.ParserCreate("utf-8")    # the text is already decoded
    records: list = []
    stack: list[str] = []
    state = {"record": None, "chars": [], "unit": None}

    def start(name, attrs):
        local = name.split(":")[-1]
        stack.append(local)
        if local == "omm":
            state["record"] = ({}, parser.CurrentLineNumber, parser.CurrentByteIndex, {})
        state["chars"] = []
        state["unit"] = attrs.get("units") or None      # <INCLINATION units="deg">

    def end(name):
        local = name.split(":")[-1]
        stack.pop()
        rec = state["record"]
        if local == "omm" and rec is not None:
            # the message's own text, verbatim (byte offsets into the UTF-8)
            end_byte = parser.CurrentByteIndex + len(name) + 3
            records.append((rec[0], rec[1], encoded[rec[2]:end_byte].decode("utf-8", "replace"),
                            rec[3]))
            state["record"] = None
        elif rec is not None and local.isupper():
            rec[0][local] = "".join(state["chars"]).strip()
            if state["unit"] is not None:
                rec[3][local] = state["unit"]
        state["chars"] = []
        state["unit"] = None

    def chars(data):
        state["chars"].append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    encoded = text.encode("utf-8")
    try:
        parser.Parse(encoded, True)
    except (expat.ExpatError, LookupError, ValueError) as exc:
        err = ElementsError(f"malformed XML: {expat.ErrorString(getattr(exc, 'code', 0)) if isinstance(exc, expat.ExpatError) else exc}",
                            source=source, line=getattr(exc, "lineno", parser.CurrentLineNumber),
                            field=None)
        if strict or not records:
            raise err from None
        sets, rej = _collect(((r, ln, "", raw, u) for r, ln, raw, u in records), source=source,
                             strict=strict)
        return sets, rej + [Rejection.from_error(err)]
    if not records:
        raise ElementsError("no <omm> element in this XML", source=source, line=1)
    return _collect(((r, ln, "", raw, u) for r, ln, raw, u in records), source=source,
                    strict=strict)


def parse_omm_json(text: str, *, source: str | None = None, strict: bool = False):
    """OMM as JSON: a list of keyword objects (CelesTrak, Space-Track) or one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ElementsError(f"malformed JSON: {exc.msg}", source=source, line=exc.lineno,
                            field=None) from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ElementsError("OMM JSON must be a list of objects", source=source)
    return _collect(((rec, None, f"[{i}].", json.dumps(rec), None)
                     for i, rec in enumerate(data)),
                    source=source, strict=strict)


def parse_omm_csv(text: str, *, source: str | None = None, strict: bool = False):
    """OMM as CSV with a header row of OMM keywords (CelesTrak, Space-Track)."""
    # newline="": the csv module sees every line ending itself (a stray
    # carriage return ends a row instead of raising inside a field)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().upper() for h in next(reader)]
    except StopIteration:
        raise ElementsError("empty CSV", source=source, line=1) from None
    except csv.Error as exc:
        raise ElementsError(f"unreadable CSV header: {exc}", source=source, line=1) from None
    missing = [k for k in ("EPOCH", "NORAD_CAT_ID", "MEAN_MOTION") if k not in header]
    if missing:
        raise ElementsError(f"CSV header lacks {', '.join(missing)}", source=source, line=1,
                            field=missing[0])
    lines = text.splitlines()
    rows, rejections = [], []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            err = ElementsError(f"unreadable CSV row: {exc}", source=source,
                                line=reader.line_num, field=None)
            if strict:
                raise err from None
            bad = reader.line_num - 1
            rejections.append(Rejection.from_error(err, lines[bad] if 0 <= bad < len(lines)
                                                   else ""))
            continue
        lineno = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            err = ElementsError(f"row has {len(row)} cells, the header {len(header)}",
                                source=source, line=lineno, field=None)
            if strict:
                raise err
            rejections.append(Rejection.from_error(err, ",".join(row)))
            continue
        rows.append((dict(zip(header, row)), lineno, "",
                     lines[lineno - 1] if lineno - 1 < len(lines) else "", None))
    sets, rej = _collect(rows, source=source, strict=strict)
    return sets, rejections + rej


def detect_format(text: str) -> str:
    """``tle``, ``omm-kvn``, ``omm-xml``, ``omm-json`` or ``omm-csv``, by content."""
    head = text.lstrip("\ufeff \t\r\n")[:4096]
    if head.startswith("<"):
        return "omm-xml"
    if head.startswith("[") or head.startswith("{"):
        return "omm-json"
    if re.search(r"^\s*CCSDS_OMM_VERS\s*=", head, re.MULTILINE):
        return "omm-kvn"
    first = head.splitlines()[0] if head else ""
    if "," in first and "NORAD_CAT_ID" in first.upper():
        return "omm-csv"
    return "tle"


_PARSERS = {"omm-kvn": parse_omm_kvn, "omm-xml": parse_omm_xml,
            "omm-json": parse_omm_json, "omm-csv": parse_omm_csv}


def parse_elements(text: str, *, source: str | None = None, strict: bool = False,
                   format: str | None = None):
    """Read element sets in any supported format (detected from the content
    unless ``format`` is given).  Returns ``(element_sets, rejections)``."""
    if text.startswith("\ufeff"):            # a byte-order mark is not data
        text = text[1:]
    fmt = format or detect_format(text)
    if fmt == "tle":
        return parse_tle(text, source=source, strict=strict)
    if fmt not in _PARSERS:
        raise ElementsError(f"unknown element format {fmt!r}; use one of tle, "
                            + ", ".join(_PARSERS), source=source)
    return _PARSERS[fmt](text, source=source, strict=strict)


# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------

def _epoch_text(es: ElementSet) -> str:
    """CCSDS epoch text: microseconds, as CelesTrak writes it, or nanoseconds
    where the epoch has them (nothing is cut)."""
    ns = int(es.epoch_ns)
    if ns % 1000 == 0:
        return np.datetime_as_string(np.datetime64(ns // 1000, "us"), unit="us")
    return np.datetime_as_string(np.datetime64(ns, "ns"), unit="ns")


def omm_dict(es: ElementSet) -> dict:
    """OMM keywords in CelesTrak's order, values typed as CelesTrak's JSON."""
    return {"OBJECT_NAME": es.name, "OBJECT_ID": es.intl_designator, "EPOCH": _epoch_text(es),
            "MEAN_MOTION": float(es.mean_motion_rev_day), "ECCENTRICITY": float(es.eccentricity),
            "INCLINATION": float(es.inclination_deg), "RA_OF_ASC_NODE": float(es.raan_deg),
            "ARG_OF_PERICENTER": float(es.arg_perigee_deg),
            "MEAN_ANOMALY": float(es.mean_anomaly_deg), "EPHEMERIS_TYPE": int(es.ephemeris_type),
            "CLASSIFICATION_TYPE": es.classification, "NORAD_CAT_ID": int(es.norad_id),
            "ELEMENT_SET_NO": int(es.element_set_no), "REV_AT_EPOCH": int(es.rev_at_epoch),
            "BSTAR": float(es.bstar_per_earth_radius), "MEAN_MOTION_DOT": float(es.ndot_rev_day2),
            "MEAN_MOTION_DDOT": float(es.nddot_rev_day3)}


def _text(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def write_omm(element_sets, format: str = "json") -> str:
    """Write element sets as OMM: ``kvn``, ``xml``, ``json`` or ``csv``."""
    dicts = [omm_dict(es) for es in element_sets]
    if format == "json":
        return json.dumps(dicts, indent=1) + "\n"
    if format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(OMM_FIELDS)
        for d in dicts:
            writer.writerow([_text(d[k]) for k in OMM_FIELDS])
        return out.getvalue()
    meta = ("OBJECT_NAME", "OBJECT_ID")
    fixed = (("CENTER_NAME", "EARTH"), ("REF_FRAME", "TEME"), ("TIME_SYSTEM", "UTC"),
             ("MEAN_ELEMENT_THEORY", "SGP4"))
    mean = ("EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
            "ARG_OF_PERICENTER", "MEAN_ANOMALY")
    tle = ("EPHEMERIS_TYPE", "CLASSIFICATION_TYPE", "NORAD_CAT_ID", "ELEMENT_SET_NO",
           "REV_AT_EPOCH", "BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT")
    if format == "kvn":
        chunks = []
        for d in dicts:
            lines = ["CCSDS_OMM_VERS = 2.0", "CREATION_DATE = " + d["EPOCH"],
                     "ORIGINATOR = satwatch", ""]
            lines += [f"{k} = {d[k]}" for k in meta] + [f"{k} = {v}" for k, v in fixed]
            lines += [""] + [f"{k} = {_text(d[k])}" for k in mean]
            lines += [""] + [f"{k} = {_text(d[k])}" for k in tle]
            chunks.append("\n".join(lines) + "\n")
        return "\n".join(chunks)
    if format == "xml":
        from xml.sax.saxutils import escape
        parts = ['<?xml version="1.0" encoding="UTF-8"?>', '<ndm>']
        for d in dicts:
            def tags(keys):
                return "".join(f"<{k}>{escape(_text(d[k]))}</{k}>" for k in keys)
            parts.append(
                '<omm id="CCSDS_OMM_VERS" version="2.0"><header><CREATION_DATE>'
                f'{d["EPOCH"]}</CREATION_DATE><ORIGINATOR>satwatch</ORIGINATOR></header>'
                f'<body><segment><metadata>{tags(meta)}'
                + "".join(f"<{k}>{v}</{k}>" for k, v in fixed)
                + f'</metadata><data><meanElements>{tags(mean)}</meanElements>'
                f'<tleParameters>{tags(tle)}</tleParameters></data></segment></body></omm>')
        parts.append("</ndm>")
        return "\n".join(parts) + "\n"
    raise ElementsError(f"unknown OMM format {format!r}; use kvn, xml, json or csv")


def _fmt_exp(value: float, fld: str, fail, lossy: bool) -> str:
    if value == 0.0:
        return " 00000+0"
    mantissa, exp = f"{abs(value):.4e}".split("e")
    digits = mantissa.replace(".", "")
    exp = int(exp) + 1
    if not -9 <= exp <= 9:
        fail(fld, f"{fld} {value!r} needs exponent {exp}, the TLE field holds -9..9")
    text = f"{'-' if value < 0 else ' '}{digits}{'-' if exp < 0 else '+'}{abs(exp)}"
    if not lossy and not math.isclose(_exp_field(text), value, rel_tol=1e-12):
        fail(fld, f"{fld} {value!r} has more digits than a TLE carries (5); "
                  "pass lossy=True to round")
    return text


def _fmt_fixed(value: float, width: int, decimals: int, fld: str, fail, lossy: bool) -> str:
    text = f"{value:{width}.{decimals}f}"
    if len(text) > width:
        fail(fld, f"{fld} {value!r} does not fit {width} TLE columns")
    if not lossy and not math.isclose(float(text), value, rel_tol=1e-12, abs_tol=1e-15):
        fail(fld, f"{fld} {value!r} has more decimals than a TLE carries ({decimals}); "
                  "pass lossy=True to round")
    return text


def write_tle(es: ElementSet, *, lossy: bool = False) -> tuple[str, str]:
    """The two TLE lines of an element set.  Refuses (ElementsError naming the
    field) what TLE columns cannot carry: catalog numbers over 339999, years
    outside 1957-2056, and, unless ``lossy``, values with more digits."""

    def fail(fld, reason):
        raise ElementsError(reason, source=es.source, line=es.line, field=fld)

    try:
        satnum = int_to_alpha5(int(es.norad_id))
    except ValueError as exc:
        fail("NORAD_CAT_ID", f"{exc}; write OMM instead")
    days, rem = divmod(int(es.epoch_ns), NS_PER_DAY)
    date = np.datetime64(days, "D").astype(object)
    if not 1957 <= date.year <= 2056:
        fail("EPOCH", f"epoch year {date.year} is outside the TLE's 1957..2056")
    doy = date.timetuple().tm_yday
    frac_units, leftover = divmod(rem, NS_PER_DAY // 10**8)
    if leftover and not lossy:
        fail("EPOCH", "epoch has sub-day precision finer than a TLE's 1e-8 day (0.864 ms); "
                      "pass lossy=True to round")
    frac_units += leftover * 2 >= NS_PER_DAY // 10**8
    if frac_units >= 10**8:   # rounding reached the next day
        return write_tle(replace(es, epoch_ns=(days + 1) * NS_PER_DAY), lossy=lossy)
    intl = es.intl_designator
    if intl:
        m = re.fullmatch(r"(\d{4})-(\d{3})([A-Z]{0,3})", intl)
        if not m or not 1957 <= int(m.group(1)) <= 2056:
            fail("OBJECT_ID", f"international designator {intl!r} is not YYYY-NNNP..P")
        intl = f"{m.group(1)[2:]}{m.group(2)}{m.group(3)}"
    if es.rev_at_epoch > 99_999 or es.element_set_no > 9999:
        fail("REV_AT_EPOCH" if es.rev_at_epoch > 99_999 else "ELEMENT_SET_NO",
             "value too large for its TLE columns")
    if not 0 <= es.ephemeris_type <= 9:
        fail("EPHEMERIS_TYPE", "ephemeris type must be one digit")
    if abs(es.ndot_rev_day2) >= 1:
        fail("MEAN_MOTION_DOT", "MEAN_MOTION_DOT must be below 1 in magnitude for a TLE")
    ndot = _fmt_fixed(abs(es.ndot_rev_day2), 10, 8, "MEAN_MOTION_DOT", fail, lossy)
    ndot = ("-" if es.ndot_rev_day2 < 0 else " ") + ndot.strip()[1:]
    ecc = _fmt_fixed(es.eccentricity, 9, 7, "ECCENTRICITY", fail, lossy)[2:]
    line1 = (f"1 {satnum}{es.classification} {intl:<8s} {date.year % 100:02d}{doy:03d}."
             f"{frac_units:08d} {ndot} "
             f"{_fmt_exp(es.nddot_rev_day3, 'MEAN_MOTION_DDOT', fail, lossy)} "
             f"{_fmt_exp(es.bstar_per_earth_radius, 'BSTAR', fail, lossy)} "
             f"{es.ephemeris_type} {es.element_set_no:4d}")
    line2 = (f"2 {satnum} {_fmt_fixed(es.inclination_deg, 8, 4, 'INCLINATION', fail, lossy)} "
             f"{_fmt_fixed(es.raan_deg, 8, 4, 'RA_OF_ASC_NODE', fail, lossy)} {ecc} "
             f"{_fmt_fixed(es.arg_perigee_deg, 8, 4, 'ARG_OF_PERICENTER', fail, lossy)} "
             f"{_fmt_fixed(es.mean_anomaly_deg, 8, 4, 'MEAN_ANOMALY', fail, lossy)} "
             f"{_fmt_fixed(es.mean_motion_rev_day, 11, 8, 'MEAN_MOTION', fail, lossy)}"
             f"{es.rev_at_epoch:5d}")
    return (line1 + str(tle_checksum(line1)), line2 + str(tle_checksum(line2)))


def write_tle_text(element_sets, *, names: bool = True, lossy: bool = False) -> str:
    """3LE text (``0 NAME`` lines) or, with ``names=False``, plain TLE."""
    out = []
    for es in element_sets:
        l1, l2 = write_tle(es, lossy=lossy)
        if names:
            out.append(f"0 {es.name}")
        out += [l1, l2]
    return "\n".join(out) + "\n"
