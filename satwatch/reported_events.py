"""Reported events: the log of launches and missile flights as reported
(time with its uncertainty, site, range, apogee, bearing, outcome, source,
notes), and what a report implies (:func:`analyze_events`: the Keplerian
arc over a rotating Earth, the impact point or the ring of possible impact
points, and the zones it falls in).

Importers are pure (text in, records out):

* :func:`parse_cns` -- the CNS North Korea Missile Test Database as
  repackaged by nk-missile-tests (``test.en.json`` with ``facility.en.json``
  and ``missile.en.json``; Apache-2.0; cite CNS/NTI).  Times are
  ``"HH:MM (UTC)"`` or ``"unknown"``; apogee and distance are numbers,
  numeric text, ``"unknown"`` or ``"na"``; bearings were added by the
  repackager from other sources (Japan MoD).
* :func:`parse_events_csv` / :func:`parse_events_json` -- our own schema
  (the field names of :class:`ReportedEvent`; ``site`` may be a site code,
  name or ``lat,lon``).

Events with unknown values are kept and flagged (``flags``), never dropped;
only malformed values are errors, and those name the file, line and field.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np

from . import ballistic
from .errors import SatwatchError
from .time import NS_PER_S, Time, utc
from .tracks import split_antimeridian

UNKNOWN_WORDS = {"", "unknown", "unk", "?", "-", "none", "null", "nan"}
NA_WORDS = {"na", "n/a", "not applicable"}
OUTCOMES = ("success", "failure", "unknown")
KINDS = ("missile", "launch")
DATE_ONLY_UNCERTAINTY_S = 43_200.0      # the middle of the day, +- 12 h
MINUTE_UNCERTAINTY_S = 30.0             # "HH:MM": +- half a minute
CNS_SOURCE = ("CNS North Korea Missile Test Database (James Martin Center for "
              "Nonproliferation Studies / NTI), via nk-missile-tests (Apache-2.0); "
              "bearings added by the repackager from Japan MoD and others")
MODEL_NOTE = ("Keplerian free flight over the rotating WGS-84 Earth from burnout at the "
              "site to impact; no atmosphere, boost phase or manoeuvres")


class EventsError(SatwatchError, ValueError):
    """A reported-events file could not be read; names the file, line/record and field."""

    def __init__(self, reason: str, *, source: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.reason, self.source, self.line, self.field = reason, source, line, field
        where = [str(x) for x in (source, None if line is None else f"record {line}",
                                  None if field is None else f"field {field}") if x]
        super().__init__(f"{', '.join(where)}: {reason}" if where else reason)


@dataclass(frozen=True)
class ReportedEvent:
    """One reported launch or missile flight.  ``None`` is unknown; the
    reasons are in ``flags``."""
    event_id: str
    date: str                               # YYYY-MM-DD as reported
    time_utc_ns: int | None                 # best estimate (middle of the day if only the date)
    time_uncertainty_s: float | None        # half-width of the interval
    kind: str = "missile"                   # missile | launch
    vehicle: str = ""
    vehicle_type: str = ""
    site_code: str = ""
    site_name: str = ""
    site_lat_deg: float | None = None
    site_lon_deg: float | None = None
    range_km: float | None = None
    apogee_km: float | None = None
    bearing_deg: float | None = None
    outcome: str = "unknown"
    landing: str = ""
    source: str = ""
    notes: str = ""
    flags: tuple = field(default=())

    @property
    def time(self) -> Time | None:
        return None if self.time_utc_ns is None else Time(self.time_utc_ns)

    @property
    def time_iso(self) -> str | None:
        return None if self.time_utc_ns is None else Time(self.time_utc_ns).iso(0)

    @property
    def analyzable(self) -> bool:
        """A site and a range are known (apogee and bearing are optional)."""
        return (self.site_lat_deg is not None and self.site_lon_deg is not None
                and self.range_km is not None and self.range_km > 0)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["time_utc"] = self.time_iso
        d["flags"] = list(self.flags)
        d["analyzable"] = self.analyzable
        return d


# --------------------------------------------------------------------------
# value readers


def _value(raw, name, source, line, *, lo=None, hi=None):
    """(number or None, flag or None) from a number, numeric text or an
    unknown/n.a. word; anything else is an error."""
    if raw is None:
        return None, f"{name}_unknown"
    if isinstance(raw, bool):
        raise EventsError(f"{name} {raw!r} is not a number", source=source, line=line,
                          field=name)
    if isinstance(raw, (int, float)):
        x = float(raw)
    else:
        text = str(raw).strip().lower()
        if text in UNKNOWN_WORDS:
            return None, f"{name}_unknown"
        if text in NA_WORDS:
            return None, f"{name}_not_applicable"
        text = re.sub(r"\s*(km|deg|°)$", "", text)
        try:
            x = float(text)
        except ValueError:
            raise EventsError(f"{name} {raw!r} is not a number, 'unknown' or 'na'",
                              source=source, line=line, field=name) from None
    if not math.isfinite(x) or (lo is not None and x < lo) or (hi is not None and x > hi):
        raise EventsError(f"{name} {raw!r} is out of range [{lo}, {hi}]", source=source,
                          line=line, field=name)
    return x, None


_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(\(?\s*utc\s*\)?|z)?\s*$", re.IGNORECASE)


def _date_time(date, time_text, source, line):
    """(time_ns, uncertainty_s, flag).  A month alone (``YYYY-MM``) is the
    middle of that month, +- half of it."""
    text = str(date).strip()
    if re.match(r"^\d{4}-\d{2}$", text):
        try:
            first = utc(text + "-01")
            nxt = utc(f"{int(text[:4]) + int(text[5:7]) // 12}-{int(text[5:7]) % 12 + 1:02d}-01")
        except SatwatchError:
            raise EventsError(f"date {date!r} is not YYYY-MM-DD or YYYY-MM", source=source,
                              line=line, field="date") from None
        half = (int(nxt.ns) - int(first.ns)) // 2
        return int(first.ns) + half, half / NS_PER_S, "day_unknown"
    try:
        day = utc(text[:10])
    except SatwatchError:
        raise EventsError(f"date {date!r} is not YYYY-MM-DD", source=source, line=line,
                          field="date") from None
    t = "" if time_text is None else str(time_text).strip()
    if t.lower() in UNKNOWN_WORDS | NA_WORDS:
        return int(day.ns) + 43_200 * NS_PER_S, DATE_ONLY_UNCERTAINTY_S, "time_unknown"
    m = _HHMM.match(t)
    if not m:
        raise EventsError(f"time {time_text!r} is not HH:MM (UTC) or 'unknown'",
                          source=source, line=line, field="time")
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if h > 23 or mi > 59 or s > 60:
        raise EventsError(f"time {time_text!r} is out of range", source=source, line=line,
                          field="time")
    unc = MINUTE_UNCERTAINTY_S if m.group(3) is None else 0.5
    return int(day.ns) + ((h * 60 + mi) * 60 + s) * NS_PER_S + int(unc * NS_PER_S), unc, None


def _outcome(raw, source, line):
    text = "unknown" if raw is None else str(raw).strip().lower()
    text = {"": "unknown", "fail": "failure", "failed": "failure", "succeeded": "success",
            "successful": "success"}.get(text, text)
    if text not in OUTCOMES:
        raise EventsError(f"outcome {raw!r} is not one of {', '.join(OUTCOMES)}",
                          source=source, line=line, field="outcome")
    return text


# --------------------------------------------------------------------------
# CNS


def parse_cns(test_text: str, facility_text: str, missile_text: str | None = None,
              source: str = "test.en.json") -> list[ReportedEvent]:
    """Every test in the CNS file, in file order, unknowns flagged.  Event ids
    are ``cns-YYYY-MM-DD-N`` (N: order within the day, from 1)."""
    try:
        doc = json.loads(test_text)
        facilities = json.loads(facility_text).get("facilities", {})
        missiles = json.loads(missile_text) if missile_text else {}
    except json.JSONDecodeError as exc:
        raise EventsError(f"not JSON (line {exc.lineno}): {exc.msg}", source=source) from None
    if not isinstance(doc, dict) or "timeBins" not in doc:
        raise EventsError("not the CNS schema: no 'timeBins'", source=source)
    out, per_day, n = [], {}, 0
    for b in doc["timeBins"]:
        for rec in b.get("data", []):
            n += 1
            if not isinstance(rec, dict) or "date" not in rec:
                raise EventsError("record has no date", source=source, line=n, field="date")
            flags = []
            t_ns, unc, f = _date_time(rec["date"], rec.get("time"), source, n)
            if f:
                flags.append(f)
                if f == "day_unknown" and str(rec.get("time", "")).lower() == "unknown":
                    flags.append("time_unknown")
            key = str(rec.get("facility", "unknown")).strip()
            fac = facilities.get(key)
            lat = lon = None
            name = key
            if key == "unknown" or fac is None:
                flags.append("site_unknown")
                if fac is None and key != "unknown":
                    flags.append("site_not_in_facility_list")
            else:
                lat, lon, name = float(fac["lat"]), float(fac["lon"]), fac.get("name", key)
            rng, f = _value(rec.get("distance"), "range", source, n, lo=0)
            if f:
                flags.append(f)
            apo, f = _value(rec.get("apogee"), "apogee", source, n, lo=0)
            if f:
                flags.append(f)
            brg, f = _value(rec.get("bearing"), "bearing", source, n, lo=-360, hi=360)
            if f:
                flags.append(f)
            outcome = _outcome(rec.get("outcome"), source, n)
            if outcome == "unknown":
                flags.append("outcome_unknown")
            mkey = str(rec.get("missile", "unknown"))
            m = missiles.get(mkey, {})
            vtype = m.get("type", "")
            if mkey == "unknown":
                flags.append("vehicle_unknown")
            if m.get("maneuver") or rec.get("glide"):
                flags.append("manoeuvring_vehicle")   # the Keplerian arc is a lower bound
            day = str(rec["date"]).strip()[:10]
            per_day[day] = per_day.get(day, 0) + 1
            out.append(ReportedEvent(
                event_id=f"cns-{day}-{per_day[day]}", date=day, time_utc_ns=t_ns,
                time_uncertainty_s=unc, kind="launch" if vtype == "SLV" else "missile",
                vehicle=m.get("name", mkey), vehicle_type=vtype, site_code=key,
                site_name=name, site_lat_deg=lat, site_lon_deg=lon,
                range_km=rng if rng else (None if rng is None else rng),
                apogee_km=apo, bearing_deg=None if brg is None else brg % 360.0,
                outcome=outcome, landing=str(rec.get("landing", "")), source=CNS_SOURCE,
                notes=str(rec.get("description", "")), flags=tuple(flags)))
    return out


# --------------------------------------------------------------------------
# our own schema: CSV and JSON

FIELDS = ("event_id", "date", "time", "time_uncertainty_s", "kind", "vehicle", "site",
          "site_lat_deg", "site_lon_deg", "range_km", "apogee_km", "bearing_deg", "outcome",
          "landing", "source", "notes")
_ALIASES = {"id": "event_id", "time_utc": "time", "datetime": "time", "range": "range_km",
            "distance_km": "range_km", "distance": "range_km", "apogee": "apogee_km",
            "bearing": "bearing_deg", "lat": "site_lat_deg", "lon": "site_lon_deg",
            "site_code": "site", "facility": "site", "description": "notes"}


_KNOWN_KEYS = frozenset(FIELDS) | {"flags"}


def _from_row(row: dict, source: str, line: int, site_lookup) -> ReportedEvent:
    r = {}
    for k, v in row.items():
        if k is None:
            continue
        raw = k.strip().lower().lstrip("\ufeff")
        key = _ALIASES.get(raw, raw)
        if key not in _KNOWN_KEYS:
            # a misspelt column would lose its values without a word
            raise EventsError(f"unknown field {k.strip()!r} (known: {', '.join(FIELDS)})",
                              source=source, line=line, field=k.strip())
        r[key] = v.strip() if isinstance(v, str) else v
    flags = []
    time_text = r.get("time")
    date = r.get("date")
    if not time_text and date and len(str(date).strip()) > 10:
        # a full timestamp in the date column: it is the time
        time_text = date
    # ISO-8601 when it opens with a date ("T" alone is no sign: "12:29 (UTC)")
    if time_text and re.match(r"^\s*\d{4}-\d\d-\d\d", str(time_text)):
        try:
            t = utc(str(time_text))
        except SatwatchError:
            raise EventsError(f"time {time_text!r} is not UTC ISO-8601", source=source,
                              line=line, field="time") from None
        t_ns = int(t.ns)
        date = date or t.iso(0)[:10]
        unc, _ = _value(r.get("time_uncertainty_s") or 0.0, "time_uncertainty_s", source,
                        line, lo=0)
        if ":" not in str(time_text):
            unc, t_ns = DATE_ONLY_UNCERTAINTY_S, t_ns + 43_200 * NS_PER_S
            flags.append("time_unknown")
    elif date:
        t_ns, unc, f = _date_time(date, time_text, source, line)
        if f:
            flags.append(f)
        if r.get("time_uncertainty_s") not in (None, ""):
            unc, _ = _value(r["time_uncertainty_s"], "time_uncertainty_s", source, line, lo=0)
    else:
        raise EventsError("neither time nor date is given", source=source, line=line,
                          field="time")
    lat, _ = _value(r.get("site_lat_deg"), "site_lat_deg", source, line, lo=-90, hi=90)
    lon, _ = _value(r.get("site_lon_deg"), "site_lon_deg", source, line, lo=-180, hi=360)
    code = str(r.get("site") or "")
    name = code
    if (lat is None or lon is None) and code and code.lower() not in UNKNOWN_WORDS:
        try:
            s = site_lookup(code)
        except SatwatchError as exc:
            raise EventsError(str(exc), source=source, line=line, field="site") from None
        lat, lon, code, name = s.lat_deg, s.lon_deg, s.code or code, s.name
    if lat is None or lon is None:
        flags.append("site_unknown")
        lat = lon = None
    rng, f = _value(r.get("range_km"), "range", source, line, lo=0)
    flags += [f] if f else []
    apo, f = _value(r.get("apogee_km"), "apogee", source, line, lo=0)
    flags += [f] if f else []
    brg, f = _value(r.get("bearing_deg"), "bearing", source, line, lo=-360, hi=360)
    flags += [f] if f else []
    outcome = _outcome(r.get("outcome"), source, line)
    if outcome == "unknown":
        flags.append("outcome_unknown")
    kind = (str(r.get("kind") or "missile")).lower()
    if kind not in KINDS:
        raise EventsError(f"kind {r.get('kind')!r} is not one of {', '.join(KINDS)}",
                          source=source, line=line, field="kind")
    # the file's own flags (events_to_csv writes them, ';'-separated; JSON: a
    # list), e.g. manoeuvring_vehicle, kept beside those read from the values
    given = r.get("flags")
    if isinstance(given, str):
        given = given.split(";")
    elif not isinstance(given, (list, tuple)):
        given = [] if given is None else [given]
    flags += [f for f in (str(g).strip() for g in given) if f and f not in flags]
    eid = str(r.get("event_id") or f"{date}-{line}")
    return ReportedEvent(eid, str(date)[:10], t_ns, unc, kind, str(r.get("vehicle") or ""),
                         "", code, name, lat, None if lon is None else
                         (lon - 360.0 if lon > 180 else lon), rng, apo,
                         None if brg is None else brg % 360.0, outcome,
                         str(r.get("landing") or ""), str(r.get("source") or source),
                         str(r.get("notes") or ""), tuple(flags))


def _default_lookup(code):
    from .sites import find_site
    return find_site(code)


def parse_events_csv(text: str, source: str = "<csv>", site_lookup=None) -> list[ReportedEvent]:
    """Events from CSV with a header (columns: :data:`FIELDS`, a few aliases)."""
    lookup = site_lookup or _default_lookup
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise EventsError("empty CSV: no header", source=source)
    return [_from_row(row, source, i + 2, lookup) for i, row in enumerate(reader)]


def parse_events_json(text: str, source: str = "<json>", site_lookup=None
                      ) -> list[ReportedEvent]:
    """Events from a JSON list of objects (or ``{"events": [...]}``)."""
    lookup = site_lookup or _default_lookup
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventsError(f"not JSON (line {exc.lineno}): {exc.msg}", source=source) from None
    if isinstance(doc, dict):
        doc = doc.get("events")
    if not isinstance(doc, list):
        raise EventsError("expected a list of events or {\"events\": [...]}", source=source)
    out = []
    for i, row in enumerate(doc, start=1):
        if not isinstance(row, dict):
            raise EventsError("event is not an object", source=source, line=i)
        out.append(_from_row(row, source, i, lookup))
    return out


def events_to_csv(events) -> str:
    """Write events back in our CSV schema (re-readable by :func:`parse_events_csv`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(FIELDS + ("flags",))
    def val(x, name):
        if x is not None:
            return x
        return "na" if f"{name}_not_applicable" in e.flags else "unknown"

    for e in events:
        w.writerow([e.event_id, e.date, "" if "time_unknown" in e.flags else e.time_iso,
                    e.time_uncertainty_s, e.kind, e.vehicle, e.site_code,
                    "" if e.site_lat_deg is None else e.site_lat_deg,
                    "" if e.site_lon_deg is None else e.site_lon_deg,
                    val(e.range_km, "range"), val(e.apogee_km, "apogee"),
                    val(e.bearing_deg, "bearing"),
                    e.outcome, e.landing, e.source, e.notes, ";".join(e.flags)])
    return buf.getvalue()


# --------------------------------------------------------------------------
# analysis

RING_STEP_DEG = 5.0


def analyze(site_lat_deg, site_lon_deg, range_km, apogee_km=None, bearing_deg=None, *,
            zones=None, track_points: int = 60, ring_step_deg: float = RING_STEP_DEG) -> dict:
    """What one report implies: the arc, the impact point (or the ring of
    impact points when the bearing is unknown) and the zones involved.

    ``zones``: a :class:`satwatch.zones.ZoneSet` or ``None``.
    """
    return analyze_many([site_lat_deg], [site_lon_deg], [range_km], [apogee_km],
                        [bearing_deg], zones=zones, track_points=track_points,
                        ring_step_deg=ring_step_deg)[0]


def _num(x):
    return np.nan if x is None else float(x)


def analyze_many(site_lat_deg, site_lon_deg, range_km, apogee_km, bearing_deg, *,
                 zones=None, track_points: int = 60,
                 ring_step_deg: float = RING_STEP_DEG, advance=None) -> list[dict]:
    """:func:`analyze` for many reports at once (one batch through the
    ballistic solver for all reports with a bearing; a ring of bearings
    for each report without).  ``advance(n)``, when given, is called as
    reports are finished (for a progress bar)."""
    lat = np.array([_num(x) for x in site_lat_deg])
    lon = np.array([_num(x) for x in site_lon_deg])
    rng = np.array([_num(x) for x in range_km])
    apo = np.array([_num(x) for x in apogee_km])
    brg = np.array([_num(x) for x in bearing_deg])
    known = np.isfinite(brg)
    ring = np.arange(0.0, 360.0, ring_step_deg)
    # one flat batch: each known report once, each unknown one per ring bearing
    owner, bearings = [], []
    for i in range(lat.size):
        b = [brg[i] % 360.0] if known[i] else list(ring)
        owner += [i] * len(b)
        bearings += b
    owner, bearings = np.array(owner, dtype=int), np.array(bearings)
    arc = ballistic.solve_arc(lat[owner], lon[owner], rng[owner], apo[owner], bearings)
    me_rng, me_angle = ballistic.max_range_for_speed(
        lat[owner], lon[owner], arc.burnout_speed_km_s, arc.azimuth_deg)
    # the arc drawn: the report's bearing, or due east of the ring
    draw = np.array([np.nonzero(owner == i)[0][0 if known[i] else
                                                int(np.argmin(np.abs(ring - 90.0)))]
                     for i in range(lat.size)], dtype=int)
    tracks = None
    if track_points:
        _, tracks = ballistic.fly(lat, lon, arc.burnout_speed_km_s[draw],
                                  arc.flight_path_angle_deg[draw], arc.azimuth_deg[draw],
                                  track_points=track_points)
    out = []
    for i in range(lat.size):
        sel = owner == i
        res = _result(lat[i], lon[i], rng[i], apo[i], bool(known[i]), bearings[sel],
                      {k: np.asarray(getattr(arc, k))[sel] for k in arc.__dataclass_fields__},
                      me_rng[sel], me_angle[sel], zones)
        if tracks is not None and arc.error[draw[i]] == 0:
            # with the bearing unknown, the arc is an example along the
            # ring's bearing nearest due east, not the flight's path
            res["track"] = {"lat_deg": tracks[0][i].tolist(), "lon_deg": tracks[1][i].tolist(),
                            "alt_km": tracks[2][i].tolist(), "t_s": tracks[3][i].tolist(),
                            "example_bearing_deg": None if known[i]
                            else float(ring[np.argmin(np.abs(ring - 90.0))])}
        out.append(res)
        if advance is not None:
            advance(1)
    return out


def _result(lat, lon, rng, apo, known, bearings, arc, me_rng, me_angle, zones) -> dict:
    ok = arc["error"] == 0
    err0 = int(arc["error"][0])
    out = {"site_lat_deg": float(lat), "site_lon_deg": float(lon), "range_km": float(rng),
           "apogee_km": None if not np.isfinite(apo) else float(apo),
           "apogee_assumed": "minimum-energy" if not np.isfinite(apo) else None,
           "bearing_deg": float(bearings[0]) if known else None, "bearing_known": known,
           "model": MODEL_NOTE, "error": err0 if known else int((~ok).sum()),
           "error_text": ballistic.BALLISTIC_ERRORS[err0] if known else
           ("ok" if ok.all() else f"{int((~ok).sum())} bearings without a solution")}

    def pick(x):
        x = np.asarray(x, dtype=float)
        if known:
            return float(x[0])
        good = x[ok]
        return float(np.mean(good)) if good.size else float("nan")

    def spread(x):
        good = np.asarray(x, dtype=float)[ok]
        return [float(good.min()), float(good.max())] if good.size else [None, None]

    out.update({
        "impact_lat_deg": float(arc["impact_lat_deg"][0]) if known else None,
        "impact_lon_deg": float(arc["impact_lon_deg"][0]) if known else None,
        "flight_time_s": pick(arc["flight_time_s"]),
        "burnout_speed_km_s": pick(arc["burnout_speed_km_s"]),
        "burnout_speed_inertial_km_s": pick(arc["burnout_speed_inertial_km_s"]),
        "flight_path_angle_deg": pick(arc["flight_path_angle_deg"]),
        "launch_azimuth_deg": float(arc["azimuth_deg"][0]) if known else None,
        "apogee_alt_km": pick(arc["apogee_alt_km"]),
        "apogee_time_s": pick(arc["apogee_time_s"]),
        "min_energy_range_km": pick(me_rng),
        "min_energy_flight_path_angle_deg": pick(me_angle),
    })
    if not known:
        out["ring"] = [{"bearing_deg": float(b), "impact_lat_deg": float(la),
                        "impact_lon_deg": float(lo), "flight_time_s": float(t),
                        "burnout_speed_km_s": float(v), "min_energy_range_km": float(m),
                        "error": int(e)} for b, la, lo, t, v, m, e in zip(
            bearings, arc["impact_lat_deg"], arc["impact_lon_deg"], arc["flight_time_s"],
            arc["burnout_speed_km_s"], me_rng, arc["error"])]
        out["flight_time_range_s"] = spread(arc["flight_time_s"])
        out["burnout_speed_range_km_s"] = spread(arc["burnout_speed_km_s"])
        out["min_energy_range_range_km"] = spread(me_rng)
    out.update({"zones": [], "zone_kinds": [], "distance_to_boundary_km": None,
                "nearest_boundary": None, "boundaries": []})
    if zones is not None and len(zones):
        if known and ok[0]:
            out.update(zones.describe_point(out["impact_lat_deg"], out["impact_lon_deg"]))
        elif not known and ok.any():
            la = np.append(arc["impact_lat_deg"][ok], arc["impact_lat_deg"][ok][0])
            lo = np.append(arc["impact_lon_deg"][ok], arc["impact_lon_deg"][ok][0])
            hit = zones.crossed_by(la, lo)
            inside = {j for row in zones.containing(la, lo) for j in row}
            idx = list(dict.fromkeys(hit + sorted(inside)))
            out["zones"] = [zones.zones[j].name for j in idx]
            out["zone_kinds"] = [zones.zones[j].kind for j in idx]
            out["zones_note"] = "zones the ring of possible impact points touches"
    return out


def analyze_event(event: ReportedEvent, zones=None, **kw) -> dict:
    """:func:`analyze` for a logged event; raises :class:`EventsError` when
    the site or the range is unknown (see ``event.flags``)."""
    return analyze_events([event], zones, **kw)[0]


def analyze_events(events, zones=None, **kw) -> list[dict]:
    """Analyse many logged events in one batch; every one must be
    :attr:`~ReportedEvent.analyzable` (filter first, or catch the error)."""
    events = list(events)
    for e in events:
        if not e.analyzable:
            missing = [f for f in e.flags if f.startswith(("site_", "range_"))]
            raise EventsError(f"event {e.event_id} cannot be analysed: "
                              f"{', '.join(missing) or 'range <= 0'}")
    results = analyze_many([e.site_lat_deg for e in events], [e.site_lon_deg for e in events],
                           [e.range_km for e in events], [e.apogee_km for e in events],
                           [e.bearing_deg for e in events], zones=zones, **kw)
    out = []
    for e, r in zip(events, results):
        r = {"event_id": e.event_id, "time_utc": e.time_iso,
             "time_uncertainty_s": e.time_uncertainty_s, "site": e.site_code,
             "site_name": e.site_name, "vehicle": e.vehicle, "outcome": e.outcome,
             "reported_landing": e.landing, "flags": list(e.flags), **r}
        if "manoeuvring_vehicle" in e.flags:
            r["model"] += ("; this vehicle manoeuvres (pull-up/glide): the arc is only what "
                           "a ballistic flight with the reported range and apogee would be")
        out.append(r)
    return out


def analysis_geojson(result: dict, zones=None) -> dict:
    """A GeoJSON FeatureCollection of one analysis: the site, the arc (with
    the height in metres as the third coordinate, RFC 7946 sec. 4), the
    impact point or ring, and the polygons of the zones hit."""
    from .zones import track_coordinates
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [
        result["site_lon_deg"], result["site_lat_deg"]]},
        "properties": {"role": "site", "name": result.get("site_name") or
                       result.get("site") or ""}}]
    tr = result.get("track")
    if tr:
        # cut where it crosses the antimeridian (RFC 7946 sec. 3.1.9), as
        # the impact ring and ground tracks are: flat maps draw one line
        # across the whole world otherwise
        # RFC 7946 sec. 4: a third position element SHALL be the height in
        # metres above the WGS-84 ellipsoid
        parts = split_antimeridian(tr["lon_deg"], tr["lat_deg"],
                                   np.asarray(tr["alt_km"], dtype=float) * 1000.0)
        geom = {"type": "LineString", "coordinates": parts[0]} if len(parts) == 1 else \
            {"type": "MultiLineString", "coordinates": parts}
        feats.append({"type": "Feature", "geometry": geom,
                      "properties": {"role": "arc", "alt_unit": "m",
                                     "example_bearing_deg": tr.get("example_bearing_deg"),
                                     "flight_time_s": result["flight_time_s"]}})
    if result.get("impact_lat_deg") is not None:
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [
            result["impact_lon_deg"], result["impact_lat_deg"]]},
            "properties": {"role": "impact", "zones": result["zones"],
                           "distance_to_boundary_km": result["distance_to_boundary_km"]}})
    elif result.get("ring"):
        ring = [r for r in result["ring"] if r["error"] == 0]
        la = [r["impact_lat_deg"] for r in ring] + [ring[0]["impact_lat_deg"]] if ring else []
        lo = [r["impact_lon_deg"] for r in ring] + [ring[0]["impact_lon_deg"]] if ring else []
        parts = track_coordinates(la, lo)
        if parts:
            geom = {"type": "LineString", "coordinates": parts[0]} if len(parts) == 1 else \
                {"type": "MultiLineString", "coordinates": parts}
            feats.append({"type": "Feature", "geometry": geom,
                          "properties": {"role": "impact_ring", "zones": result["zones"]}})
    if zones is not None and result.get("zones"):
        import shapely.geometry
        pairs = set(zip(result["zones"], result["zone_kinds"]))
        for z in zones:
            if (z.name, z.kind) in pairs:
                feats.append({"type": "Feature",
                              "geometry": shapely.geometry.mapping(z.geometry),
                              "properties": {"role": "zone", "name": z.name, "kind": z.kind,
                                             "source": z.source}})
    props = {k: v for k, v in result.items() if k not in ("track", "ring", "boundaries")}
    return {"type": "FeatureCollection", "properties": props, "features": feats}


# --------------------------------------------------------------------------
# files (the one place this module reads disk)


def read_events_file(path, *, extra_sites=()) -> list[ReportedEvent]:
    """Events from a CSV or JSON file; a CNS ``test.en.json`` is read with
    the ``facility.en.json`` (required) and ``missile.en.json`` beside it.
    A CSV/JSON ``site`` code is looked up in ``extra_sites`` (the user's own
    sites, e.g. ``sources.files.load_sites``) before the built-in ones, as
    :func:`satwatch.sites.find_site` does; CNS sites come from its facility
    file."""
    from pathlib import Path
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")         # a spreadsheet's BOM is not data
    except OSError as exc:
        raise EventsError(f"cannot read: {exc.strerror or exc}", source=str(p)) from None
    extra_sites = tuple(extra_sites)

    def lookup(code):
        from .sites import find_site
        return find_site(code, extra_sites)
    if p.suffix.lower() == ".csv":
        return parse_events_csv(text, str(p), lookup)
    if '"timeBins"' in text[:2000]:
        fac = p.parent / "facility.en.json"
        mis = p.parent / "missile.en.json"
        if not fac.is_file():
            raise EventsError(f"CNS data needs {fac.name} beside it (facility coordinates)",
                              source=str(p))
        return parse_cns(text, fac.read_text(encoding="utf-8"),
                         mis.read_text(encoding="utf-8") if mis.is_file() else None, str(p))
    return parse_events_json(text, str(p), lookup)
