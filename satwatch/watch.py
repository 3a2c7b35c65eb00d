"""Watch rules: which happenings in a catalog update deserve an alert.

Pure evaluation: :func:`evaluate` takes the rules and the facts of one
catalog update (the catalog after it, the objects new in it, the manoeuvres
and conjunctions found by their modules) and returns the alerts, each with a
stable ``key`` so that the same happening seen twice gives the same key (the
alert store keeps one alert per key: :mod:`satwatch.alerts`).  No I/O, no
clock: the caller passes the window to search.

Rule kinds
----------
``pass``
    a watched object's sub-satellite point comes within ``radius_km`` of a
    site (great-circle ground distance), or inside ``polygon`` (lon/lat
    vertices), within the update's window.
``maneuver``
    a manoeuvre is detected on a watched object.
``new_object``
    an object appears that was not in the catalog before (optionally launched
    from ``launch_site``, matched against the caller's launch-site mapping,
    which :func:`attribute_launch_sites` computes from reported launches and
    international designators).
``conjunction``
    a conjunction with miss distance under ``max_miss_km`` involves a watched
    object.

Watched objects: any of ``norad_ids``, a ``name_pattern`` (``STARLINK*``,
case-insensitive) or an ``owner`` (matched against the caller's owner
mapping, e.g. the store's object metadata).  A rule naming none watches every
object (allowed for ``maneuver``, ``new_object`` and ``conjunction``; a
``pass`` rule must narrow its objects).
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Sequence

import numpy as np

from .catalog import Catalog
from .elements import ElementSet
from .errors import SatwatchError
from .time import NS_PER_S, Time

RULE_KINDS = ("pass", "maneuver", "new_object", "conjunction")

# Mean Earth radius (IUGG) for great-circle ground distances: the sphere is
# within 0.5 % of the ellipsoid's surface distances, far below any radius a
# rule would set.
MEAN_EARTH_RADIUS_KM = 6371.0088

# Largest number of watched objects x time samples one pass rule evaluates;
# past it the rule must narrow its objects (bounded work, never OOM).
MAX_PASS_SAMPLES = 5_000_000
# How far before a window the pass search looks for the entry of a pass that
# is under way when the window opens (its alert key): a day.
PASS_LOOKBACK_S = 86_400.0


class WatchError(SatwatchError, ValueError):
    """A rule that cannot be evaluated as given."""


@dataclass(frozen=True)
class Rule:
    """One watch rule (see the module's documentation for the kinds)."""

    id: int
    kind: str
    name: str = ""
    norad_ids: tuple[int, ...] = ()
    name_pattern: str | None = None
    owner: str | None = None
    site_name: str | None = None
    site_lat_deg: float | None = None
    site_lon_deg: float | None = None
    radius_km: float | None = None
    polygon_lon_lat_deg: tuple[tuple[float, float], ...] | None = None
    launch_site: str | None = None
    max_miss_km: float | None = None

    def __post_init__(self):
        label = f"rule {self.id}" if self.id else "the rule"
        if self.kind not in RULE_KINDS:
            raise WatchError(f"{label}: kind {self.kind!r} is not one of "
                             f"{', '.join(RULE_KINDS)}")
        if self.kind == "pass":
            has_site = self.site_lat_deg is not None and self.site_lon_deg is not None
            if not has_site and not self.polygon_lon_lat_deg:
                raise WatchError(f"{label}: a pass rule needs a site (lat/lon and "
                                 "radius_km) or a polygon")
            if self.polygon_lon_lat_deg and not has_site:
                from .zones import ring_geometry
                geom = ring_geometry(self.polygon_lon_lat_deg)
                if geom is None or geom.is_empty:
                    raise WatchError(f"{label}: polygon_lon_lat_deg needs a closed ring of at "
                                     "least 4 (lon, lat) points enclosing an area")
            if has_site and not (self.radius_km and self.radius_km > 0):
                raise WatchError(f"{label}: a pass rule over a site needs radius_km > 0")
            if not (self.norad_ids or self.name_pattern or self.owner):
                raise WatchError(f"{label}: a pass rule must name its objects "
                                 "(norad_ids, name_pattern or owner)")
        if self.kind == "conjunction" and not (self.max_miss_km and self.max_miss_km > 0):
            raise WatchError(f"{label}: a conjunction rule needs max_miss_km > 0")

    @property
    def watches_everything(self) -> bool:
        return not (self.norad_ids or self.name_pattern or self.owner)


@dataclass(frozen=True)
class ManeuverFact:
    """A manoeuvre found by the manoeuvre detector: when and how big."""

    norad_id: int
    time_ns: int
    delta_sma_km: float | None = None
    delta_v_m_s: float | None = None
    detail: str = ""
    key: int | None = None                # stable identity (the detector's epoch)
    window_start_ns: int | None = None    # the burn lies in this span
    window_end_ns: int | None = None


@dataclass(frozen=True)
class ConjunctionFact:
    norad_id_1: int
    norad_id_2: int
    tca_ns: int
    miss_km: float


@dataclass
class Update:
    """The facts of one catalog update.

    ``catalog``: every object after the update; ``new_objects``: objects not
    known before it; ``owners`` and ``launch_sites``: NORAD id -> owner code
    / launch-site code where known; ``window_start_ns``..``window_end_ns``
    with ``step_s``: the span searched for passes.
    """

    catalog: Catalog
    new_objects: Sequence[ElementSet] = ()
    maneuvers: Sequence[ManeuverFact] = ()
    conjunctions: Sequence[ConjunctionFact] = ()
    owners: Mapping[int, str] = field(default_factory=dict)
    launch_sites: Mapping[int, str] = field(default_factory=dict)
    launch_site_reasons: Mapping[int, str] = field(default_factory=dict)
    window_start_ns: int | None = None
    window_end_ns: int | None = None
    step_s: float = 30.0


@dataclass(frozen=True)
class Alert:
    """One happening for one rule.  ``key`` is stable: the same happening
    evaluated again (after a restart, or by an overlapping window) gives the
    same key."""

    key: str
    rule_id: int
    kind: str
    norad_id: int
    time_ns: int
    message: str
    details: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def time_iso(self) -> str:
        return Time(self.time_ns).iso(0)

    def as_dict(self) -> dict:
        return {"key": self.key, "rule_id": self.rule_id, "kind": self.kind,
                "norad_id": self.norad_id, "time": self.time_iso, "message": self.message,
                "details": self.details}


# -- watched objects ---------------------------------------------------------
def matches(rule: Rule, es: ElementSet, owners: Mapping[int, str]) -> bool:
    """Does ``rule`` watch the object of ``es``?"""
    if rule.watches_everything:
        return True
    if es.norad_id in rule.norad_ids:
        return True
    if rule.name_pattern:
        pattern = rule.name_pattern.upper()
        if not any(c in pattern for c in "*?["):
            pattern = f"*{pattern}*"
        if fnmatch.fnmatchcase(es.name.upper(), pattern):
            return True
    if rule.owner:
        owner = owners.get(es.norad_id)
        if owner is not None and owner.strip().upper() == rule.owner.strip().upper():
            return True
    return False


def watched(rule: Rule, catalog: Iterable[ElementSet], owners: Mapping[int, str]) -> list:
    return [es for es in catalog if matches(rule, es, owners)]


# -- rules that cannot fire -----------------------------------------------------
@dataclass(frozen=True)
class RuleWarning:
    """A rule that names objects the evaluated catalog does not hold, so it
    cannot fire for them: the caller shows it (a rule that never fires in
    silence looks like a quiet sky)."""

    rule_id: int
    kind: str
    missing_norad_ids: tuple[int, ...]
    message: str
    unmatched: tuple[str, ...] = ()      # "name_pattern 'X*'", "owner 'Y'" matching nothing

    def as_dict(self) -> dict:
        return {"rule_id": self.rule_id, "kind": self.kind,
                "missing_norad_ids": list(self.missing_norad_ids),
                "unmatched": list(self.unmatched), "message": self.message}


def rule_warnings(rules: Sequence[Rule], catalog: Iterable[ElementSet],
                  owners: Mapping[int, str] | None = None,
                  known_ids: Iterable[int] | None = None) -> list[RuleWarning]:
    """One warning per pass, manoeuvre or conjunction rule whose NORAD ids
    are not all in ``catalog``, or whose name pattern or owner matches none
    of its objects.  New-object rules wait for objects to appear and rules
    watching everything name nothing: neither is reported.  ``known_ids``
    (e.g. every object the store has seen) tells apart an object missing
    from this catalog from one never seen at all."""
    sets = list(catalog)
    ids = {es.norad_id for es in sets}
    owners = owners or {}
    known = None if known_ids is None else set(int(n) for n in known_ids)
    out = []
    for rule in rules:
        if rule.kind == "new_object" or rule.watches_everything:
            continue
        missing = tuple(n for n in rule.norad_ids if n not in ids)
        unmatched = []
        if rule.name_pattern and not any(matches(_only(rule, name_pattern=rule.name_pattern),
                                                 es, owners) for es in sets):
            unmatched.append(f"name_pattern {rule.name_pattern!r}")
        if rule.owner and not any(matches(_only(rule, owner=rule.owner), es, owners)
                                  for es in sets):
            unmatched.append(f"owner {rule.owner!r}")
        if not missing and not unmatched:
            continue
        parts = []
        if missing:
            listed = ", ".join(str(n) for n in missing[:20]) + (" ..." if len(missing) > 20
                                                                 else "")
            never = [] if known is None else [n for n in missing if n not in known]
            parts.append(f"NORAD {listed} not in the catalog evaluated"
                         + (f" ({', '.join(str(n) for n in never[:20])} never seen: check "
                            "the number)" if never else ""))
        parts += [f"{u} matches no object of it" for u in unmatched]
        label = f"rule {rule.id} ({rule.kind}{f' {rule.name!r}' if rule.name else ''})"
        out.append(RuleWarning(rule.id, rule.kind, missing,
                               f"{label}: " + "; ".join(parts) + ": it cannot fire for "
                               + ("them" if len(missing) + len(unmatched) > 1 else "it"),
                               tuple(unmatched)))
    return out


def _only(rule: Rule, **criterion) -> Rule:
    """``rule`` watching by one criterion only (to test each on its own)."""
    return replace(rule, **{"norad_ids": (), "name_pattern": None, "owner": None, **criterion})


# -- evaluation ---------------------------------------------------------------
def evaluate(rules: Sequence[Rule], update: Update) -> list[Alert]:
    """Every alert the update raises, in rule order then time order."""
    alerts: list[Alert] = []
    by_id = {es.norad_id: es for es in update.catalog}
    for rule in rules:
        if rule.kind == "new_object":
            alerts += _new_object_alerts(rule, update)
        elif rule.kind == "maneuver":
            alerts += _maneuver_alerts(rule, update, by_id)
        elif rule.kind == "conjunction":
            alerts += _conjunction_alerts(rule, update, by_id)
        elif rule.kind == "pass":
            alerts += pass_alerts(rule, update)
    return alerts


def _name(by_id, norad_id) -> str:
    es = by_id.get(norad_id)
    return f"{es.name} ({norad_id})" if es is not None and es.name else str(norad_id)


def _new_object_alerts(rule: Rule, update: Update) -> list[Alert]:
    out = []
    for es in update.new_objects:
        if not matches(rule, es, update.owners):
            continue
        site = update.launch_sites.get(es.norad_id)
        if rule.launch_site and (site is None or site.upper() != rule.launch_site.upper()):
            continue
        where = f" launched from {site}" if site else ""
        out.append(Alert(f"new_object:{rule.id}:{es.norad_id}", rule.id, "new_object",
                         es.norad_id, es.epoch_ns,
                         f"new object {es.name or es.norad_id} ({es.norad_id}, "
                         f"{es.intl_designator or 'no designator'}){where}",
                         {"name": es.name, "intl_designator": es.intl_designator,
                          "launch_site": site,
                          "launch_site_reason": update.launch_site_reasons.get(es.norad_id),
                          "epoch": Time(es.epoch_ns).iso(0),
                          "perigee_alt_km": round(es.perigee_alt_km, 1),
                          "apogee_alt_km": round(es.apogee_alt_km, 1),
                          "inclination_deg": round(es.inclination_deg, 3)}))
    return out


def _maneuver_alerts(rule: Rule, update: Update, by_id) -> list[Alert]:
    out = []
    for m in update.maneuvers:
        es = by_id.get(m.norad_id)
        if es is None or not matches(rule, es, update.owners):
            continue
        size = []
        if m.delta_sma_km is not None:
            size.append(f"semi-major axis {m.delta_sma_km:+.2f} km")
        if m.delta_v_m_s is not None:
            size.append(f"delta-v {m.delta_v_m_s:.2f} m/s")
        ident = m.key if m.key is not None else m.time_ns
        out.append(Alert(f"maneuver:{rule.id}:{m.norad_id}:{ident}", rule.id, "maneuver",
                         m.norad_id, m.time_ns,
                         f"manoeuvre of {_name(by_id, m.norad_id)} near "
                         f"{Time(m.time_ns).iso(0)}" + (f": {', '.join(size)}" if size else ""),
                         {"delta_sma_km": m.delta_sma_km, "delta_v_m_s": m.delta_v_m_s,
                          "detail": m.detail,
                          "window_start": None if m.window_start_ns is None
                          else Time(m.window_start_ns).iso(0),
                          "window_end": None if m.window_end_ns is None
                          else Time(m.window_end_ns).iso(0)}))
    return out


def _conjunction_alerts(rule: Rule, update: Update, by_id) -> list[Alert]:
    out = []
    for c in update.conjunctions:
        if not c.miss_km < rule.max_miss_km:
            continue
        hit = None
        for nid in (c.norad_id_1, c.norad_id_2):
            es = by_id.get(nid)
            if es is not None and matches(rule, es, update.owners):
                hit = nid
                break
        if hit is None:
            continue
        a, b = sorted((c.norad_id_1, c.norad_id_2))
        tca_s = int(round(c.tca_ns / NS_PER_S))
        out.append(Alert(f"conjunction:{rule.id}:{a}:{b}:{tca_s}", rule.id, "conjunction",
                         hit, c.tca_ns,
                         f"conjunction of {_name(by_id, a)} and {_name(by_id, b)} at "
                         f"{Time(c.tca_ns).iso(0)}: miss {c.miss_km:.3f} km",
                         {"norad_id_1": a, "norad_id_2": b, "miss_km": c.miss_km}))
    return out


# -- passes --------------------------------------------------------------------
def ground_distance_km(lat1_deg, lon1_deg, lat2_deg, lon2_deg):
    """Great-circle distance on the mean sphere (haversine), broadcasting."""
    p1, p2 = np.radians(lat1_deg), np.radians(lat2_deg)
    dl = np.radians(np.asarray(lon2_deg) - np.asarray(lon1_deg))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * MEAN_EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def pass_times(update: Update, lookback_s: float = 0.0) -> Time:
    """Sample times of the pass search, aligned to whole multiples of
    ``step_s`` since 1970 so that overlapping windows share samples (and
    alert keys); from ``lookback_s`` before the window."""
    if update.window_start_ns is None or update.window_end_ns is None:
        raise WatchError("a pass rule needs the update's window (window_start_ns, "
                         "window_end_ns)")
    step_ns = int(round(update.step_s * NS_PER_S))
    start_ns = update.window_start_ns - int(round(lookback_s * NS_PER_S))
    first = -(-start_ns // step_ns) * step_ns
    n = max(0, (update.window_end_ns - first) // step_ns + 1)
    return Time(first + np.arange(n, dtype=np.int64) * step_ns)


def pass_alerts(rule: Rule, update: Update) -> list[Alert]:
    """One alert per entry of a watched object into the site's circle (or the
    polygon) that is inside during the window, at the sample closest to the
    site inside that entry.  The alert's key is the entry's time, found by
    looking back PASS_LOOKBACK_S before the window: a pass cut by a window's
    edge gets the same key from every window that sees it (an object inside
    for longer than that gets a new key each time its entry falls out of
    view)."""
    sets = watched(rule, update.catalog, update.owners)
    times = pass_times(update, PASS_LOOKBACK_S)
    if not sets or not len(times) or times.ns[-1] < update.window_start_ns:
        return []
    w0 = int(np.searchsorted(times.ns, update.window_start_ns))      # first window sample
    if len(sets) * len(times) > MAX_PASS_SAMPLES:
        raise WatchError(f"rule {rule.id}: {len(sets)} objects x {len(times)} times is over "
                         f"{MAX_PASS_SAMPLES} samples; narrow the rule's objects or shorten "
                         "the window")
    sub = Catalog(list(sets), [], update.catalog.source)
    from .propagation import propagate
    states = propagate(sub.satrec_array, times, sub.norad_ids)
    geo = states.geodetic()
    ok = states.error == 0
    if rule.polygon_lon_lat_deg:
        import shapely

        from .zones import ring_geometry
        poly = ring_geometry(rule.polygon_lon_lat_deg)      # cut at +-180 deg
        inside = np.asarray(shapely.contains_xy(poly, geo.lon_deg, geo.lat_deg)) & ok
        score = -np.ones_like(geo.lat_deg)
        where = "inside the rule's polygon"
    else:
        dist = ground_distance_km(geo.lat_deg, geo.lon_deg, rule.site_lat_deg,
                                  rule.site_lon_deg)
        inside = (dist <= rule.radius_km) & ok
        score = np.where(ok, dist, np.inf)
        where = (f"within {rule.radius_km:g} km of "
                 f"{rule.site_name or f'{rule.site_lat_deg:.3f},{rule.site_lon_deg:.3f}'}")
    # Runs of consecutive inside samples, per object (vectorized over time).
    padded = np.zeros((inside.shape[0], inside.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = inside
    edges = np.diff(padded, axis=1)
    obj_in, t_in = np.nonzero(edges == 1)
    obj_out, t_out = np.nonzero(edges == -1)
    out = []
    for k in range(len(obj_in)):        # loop over passes found, not over time
        i, a, b = obj_in[k], t_in[k], t_out[k]
        if b <= w0:
            continue                     # over before the window: an earlier window's
        j = a + int(np.argmin(score[i, a:b]))
        es = sets[i]
        t_ns = int(times.ns[j])
        details = {"enter": Time(times.ns[a]).iso(0), "leave": Time(times.ns[b - 1]).iso(0),
                   "lat_deg": round(float(geo.lat_deg[i, j]), 4),
                   "lon_deg": round(float(geo.lon_deg[i, j]), 4),
                   "alt_km": round(float(geo.alt_km[i, j]), 2),
                   "partial": bool(a == 0 or b == len(times))}
        if not rule.polygon_lon_lat_deg:
            details["distance_km"] = round(float(score[i, j]), 2)
        out.append(Alert(f"pass:{rule.id}:{es.norad_id}:{int(times.ns[a]) // NS_PER_S}",
                         rule.id, "pass",
                         es.norad_id, t_ns,
                         f"{es.name or es.norad_id} ({es.norad_id}) passes {where} at "
                         f"{Time(t_ns).iso(0)}", details))
    return out


# -- what changed ----------------------------------------------------------------
def new_objects(previous_ids: Iterable[int], catalog: Catalog) -> list[ElementSet]:
    """Objects of ``catalog`` whose NORAD id was not known before."""
    known = set(int(n) for n in previous_ids)
    return [es for es in catalog if es.norad_id not in known]


# -- launch-site attribution of new objects ----------------------------------------
@dataclass(frozen=True)
class LaunchFact:
    """A reported launch: site code and position, lift-off time and its
    uncertainty (from the store's reported events)."""

    site_code: str
    lat_deg: float
    lon_deg: float
    time_ns: int
    time_uncertainty_s: float = 60.0
    label: str = ""                      # e.g. the event id / vehicle, for reasons


# Score of satwatch.launches.identify above which an object is taken as from
# a launch.  The score is a product of plane, phase, epoch-age and designator
# factors in [0, 1]; objects of the launch score ~0.8 (Vega VV23 from Kourou:
# 0.79-0.82), objects of other launches days apart stay below ~0.15 (the
# plane-crossing and phase Gaussians fall off fast), so 0.3 separates them
# with a margin on both sides.
ATTRIBUTION_MIN_SCORE = 0.3

_LAUNCH_OF = re.compile(r"^\s*(\d{4}-\d{3})[A-Z]*\s*$")


def launch_of(intl_designator: str | None) -> str | None:
    """The launch part of an international designator: ``2023-155K`` ->
    ``2023-155``; None when there is none."""
    m = _LAUNCH_OF.match(intl_designator or "")
    return m.group(1) if m else None


def attribute_launch_sites(new_objects: Sequence[ElementSet], launches: Sequence[LaunchFact],
                           known_by_launch: Mapping[str, str] | None = None, *,
                           min_score: float = ATTRIBUTION_MIN_SCORE
                           ) -> tuple[dict[int, str], dict[int, str], dict[str, str]]:
    """Which launch site each new object came from.

    (a) every reported launch ranks the new objects with
    :func:`satwatch.launches.identify` (first element sets consistent with a
    launch from that site at that time); an object scoring at least
    ``min_score`` is attributed to the best-scoring launch's site;
    (b) an object left over takes the site of its launch (the designator's
    ``YYYY-NNN``) when objects of that launch were attributed, in this update
    or before (``known_by_launch``: launch -> site).

    Returns ``(sites, reasons, by_launch)``: NORAD id -> site code, NORAD id
    -> why, and the launch -> site map including this update's findings.
    Objects without evidence are left out (no site), never guessed.
    """
    from .launches import identify
    by_launch = dict(known_by_launch or {})
    best: dict[int, tuple[float, str, str]] = {}
    if new_objects and launches:
        catalog = Catalog(list(new_objects), [], "new objects")
        for fact in launches:
            site = _SitePoint(fact.lat_deg, fact.lon_deg)
            for c in identify(catalog, site, Time(fact.time_ns),
                              time_uncertainty_s=fact.time_uncertainty_s, top=None):
                if c.score < min_score:
                    break                       # ranked: the rest score lower
                if c.norad_id not in best or c.score > best[c.norad_id][0]:
                    what = f"the launch {fact.label}" if fact.label else "a launch"
                    why = (f"fits {what} from {fact.site_code} at {Time(fact.time_ns).iso(0)} "
                           f"(score {c.score:.2f}: " + "; ".join(c.reasons) + ")")
                    best[c.norad_id] = (c.score, fact.site_code, why)
    sites = {nid: b[1] for nid, b in best.items()}
    reasons = {nid: b[2] for nid, b in best.items()}
    # This update's launches: the site of each launch's best-scoring object.
    found: dict[str, tuple[float, str]] = {}
    for es in new_objects:
        launch = launch_of(es.intl_designator)
        if launch and es.norad_id in best:
            score, code, _ = best[es.norad_id]
            if launch not in found or score > found[launch][0]:
                found[launch] = (score, code)
    by_launch.update({k: v[1] for k, v in found.items()})
    for es in new_objects:
        if es.norad_id in sites:
            continue
        launch = launch_of(es.intl_designator)
        if launch and launch in by_launch:
            sites[es.norad_id] = by_launch[launch]
            reasons[es.norad_id] = (f"international designator {es.intl_designator} shares "
                                    f"launch {launch} with objects attributed to "
                                    f"{by_launch[launch]}")
    return sites, reasons, by_launch


@dataclass(frozen=True)
class _SitePoint:
    lat_deg: float
    lon_deg: float


# Fallback manoeuvre test when satwatch.maneuvers is not installed: a change
# of mean semi-major axis between consecutive element sets larger than drag
# can explain.  Drag lowers a LEO orbit by at most ~2 km/day at 300 km (solar
# maximum); 1 km plus 2 km/day of separation keeps decay below it.
FALLBACK_SMA_JUMP_KM = 1.0
FALLBACK_DECAY_KM_PER_DAY = 2.0


def sma_jumps(previous: Mapping[int, ElementSet], catalog: Catalog) -> list[ManeuverFact]:
    """Manoeuvres seen as semi-major-axis jumps between each object's previous
    element set and its new one (a simple test; :mod:`satwatch.maneuvers`
    does better where installed)."""
    out = []
    for es in catalog:
        old = previous.get(es.norad_id)
        if old is None or es.epoch_ns <= old.epoch_ns:
            continue
        days = (es.epoch_ns - old.epoch_ns) / (86_400 * NS_PER_S)
        delta = es.semi_major_axis_km - old.semi_major_axis_km
        allowed = FALLBACK_SMA_JUMP_KM + FALLBACK_DECAY_KM_PER_DAY * days
        if delta > FALLBACK_SMA_JUMP_KM or -delta > allowed:
            mid = old.epoch_ns + (es.epoch_ns - old.epoch_ns) // 2
            out.append(ManeuverFact(es.norad_id, int(mid), round(float(delta), 3), None,
                                    f"semi-major axis {delta:+.2f} km between epochs "
                                    f"{Time(old.epoch_ns).iso(0)} and {Time(es.epoch_ns).iso(0)}"))
    return out


# -- conjunction screening scope ------------------------------------------------
# Mean (TLE) perigee and apogee heights differ from the osculating ones by the
# short-period J2 terms, up to ~20 km in LEO; 50 km keeps every object that can
# reach a primary's altitude band.
SHELL_MARGIN_KM = 50.0


def shell_candidates(catalog: Catalog, primary_ids, threshold_km: float) -> Catalog:
    """The objects whose perigee-apogee band comes within ``threshold_km``
    (plus SHELL_MARGIN_KM) of any primary's band: the classic apogee/perigee
    pre-filter, a necessary condition for a conjunction with a primary."""
    wanted = set(int(n) for n in primary_ids)
    sets = catalog.element_sets
    per = np.array([es.perigee_alt_km for es in sets])
    apo = np.array([es.apogee_alt_km for es in sets])
    is_primary = np.array([es.norad_id in wanted for es in sets])
    keep = is_primary.copy()
    pad = threshold_km + SHELL_MARGIN_KM
    for lo, hi in zip(per[is_primary], apo[is_primary]):
        keep |= (per - pad <= hi) & (apo + pad >= lo)
    return Catalog([es for es, k in zip(sets, keep) if k], [], catalog.source)
