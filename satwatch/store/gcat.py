"""Object metadata from GCAT (Jonathan McDowell, General Catalog of Artificial
Space Objects, CC-BY 4.0): launch date, registering state and payload class
from ``psatcat.tsv``, for the objects the store already knows.

:func:`parse_psatcat` is pure (text in, rows out); the store writes them with
:meth:`satwatch.store.Store.set_object_metadata`.
"""
from __future__ import annotations

import datetime as _dt

from ..errors import SourceError

_MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)}
# GCAT payload categories (psatcat "Category"), as words.
CATEGORIES = {"COM": "communications", "IMG": "imaging", "NAV": "navigation",
              "SCI": "science", "TECH": "technology", "BIO": "biology", "SIG": "signals",
              "MET": "weather", "EW": "early warning", "AST": "astronomy", "CAL": "calibration",
              "HUM": "crewed", "SS": "space station", "TARG": "target", "INF": "infrastructure",
              "RV": "re-entry vehicle", "GEOD": "geodesy", "OBS": "observation",
              "WEA": "weapon", "RB": "rocket body"}


def _gcat_date(text: str) -> str | None:
    """``"1998 Nov 20"`` (optionally with a time, or ``?`` marks) -> ``"1998-11-20"``."""
    parts = text.replace("?", "").split()
    if len(parts) < 3 or parts[1] not in _MONTHS:
        return None
    try:
        return _dt.date(int(parts[0]), _MONTHS[parts[1]], int(parts[2])).isoformat()
    except ValueError:
        return None


def parse_psatcat(text: str, *, source: str = "psatcat.tsv") -> list[dict]:
    """Rows ``{norad_id, launch_date, owner, object_type}`` from GCAT's
    payload catalog (tab-separated; header line starting with ``#JCAT``).
    Only entries with a satellite-catalog number (JCAT ``Snnnnn``) are kept."""
    lines = text.splitlines()
    header = next((i for i, line in enumerate(lines) if line.startswith("#JCAT")), None)
    if header is None:
        raise SourceError(f"{source}: not a GCAT psatcat file (no '#JCAT' header line)")
    cols = lines[header].lstrip("#").split("\t")
    try:
        ij, il, iu, ic = (cols.index(c) for c in ("JCAT", "LDate", "UNState", "Category"))
    except ValueError as exc:
        raise SourceError(f"{source}: header lacks a column ({exc})") from None
    rows = []
    for line in lines[header + 1:]:
        if not line or line.startswith("#"):
            continue
        f = line.split("\t")
        if len(f) <= max(ij, il, iu, ic) or not f[ij].startswith("S") \
                or not f[ij][1:].isdigit():
            continue
        cat = f[ic].strip()
        owner = f[iu].strip()
        rows.append({"norad_id": int(f[ij][1:]), "launch_date": _gcat_date(f[il]),
                     "owner": owner if owner not in ("", "-") else None,
                     "object_type": "payload" + (f" ({CATEGORIES.get(cat, cat)})"
                                                 if cat not in ("", "-") else "")})
    return rows
