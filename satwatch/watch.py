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
from .events import GFunction, grid_window_mask, latest_at_or_before, scan, to_intervals
from .time import NS_PER_S, Time

RULE_KINDS = ("pass", "maneuver", "new_object", "conjunction")

# Mean Earth radius (IUGG) for great-circle ground distances: the sphere is
# within 0.5 % of the ellipsoid's surface distances, far below any radius a
# rule would set.
MEAN_EARTH_RADIUS_KM = 6371.0088

# Largest number of watched objects x time samples (at each object's step,
# MIN_PASS_STEP_S) one pass rule evaluates; past it the rule must narrow its
# objects (bounded work, never OOM: about 1 us a sample, so ~5 s; measured:
# 5 LEO objects, a 10 km circle, 2 days at ~1.2 s steps in 0.66 s).
MAX_PASS_SAMPLES = 5_000_000
# How far before a window the pass search looks for the entry of a pass that
# is under way when the window opens (its alert key): a day.
PASS_LOOKBACK_S = 86_400.0


class WatchError(SatwatchError, ValueError):
    """A rule that cannot be evaluated as given; ``field``: the rule's field
    at fault, where one is (the API's 422 names it)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


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
                             f"{', '.join(RULE_KINDS)}", "kind")
        if self.kind == "pass":
            has_site = self.site_lat_deg is not None and self.site_lon_deg is not None
            if not has_site and not self.polygon_lon_lat_deg:
                raise WatchError(f"{label}: a pass rule needs a site (lat/lon and "
                                 "radius_km) or a polygon", "site")
            if self.polygon_lon_lat_deg and not has_site:
                from .zones import ring_geometry
                geom = ring_geometry(self.polygon_lon_lat_deg)
                if geom is None or geom.is_empty or not geom.area > 0:
                    raise WatchError(f"{label}: polygon_lon_lat_deg needs a closed ring of at "
                                     "least 4 (lon, lat) points enclosing an area",
                                     "polygon_lon_lat_deg")
            if has_site and not (self.radius_km and self.radius_km > 0):
                raise WatchError(f"{label}: a pass rule over a site needs radius_km > 0",
                                 "radius_km")
            if not (self.norad_ids or self.name_pattern or self.owner):
                raise WatchError(f"{label}: a pass rule must name its objects "
                                 "(norad_ids, name_pattern or owner)", "norad_ids")
        if self.kind == "conjunction" and not (self.max_miss_km and self.max_miss_km > 0):
            raise WatchError(f"{label}: a conjunction rule needs max_miss_km > 0",
                             "max_miss_km")

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
    / launch-site code where known; ``window_start_ns``..``window_end_ns``:
    the span searched for passes; ``step_s``: the pass search's longest
    sampling step (smaller targets get shorter ones: MIN_PASS_STEP_S) and
    the lattice its start is aligned to.
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


def _span_start_ns(update: Update, lookback_s: float = 0.0) -> int:
    """Start of the pass search: ``lookback_s`` before the window, rounded up
    to a whole multiple of ``step_s`` since 1970, so that overlapping windows
    search from the same instants (and give the same keys)."""
    if update.window_start_ns is None or update.window_end_ns is None:
        raise WatchError("a pass rule needs the update's window (window_start_ns, "
                         "window_end_ns)")
    step_ns = int(round(update.step_s * NS_PER_S))
    start_ns = update.window_start_ns - int(round(lookback_s * NS_PER_S))
    return -(-start_ns // step_ns) * step_ns


def pass_times(update: Update, lookback_s: float = 0.0) -> Time:
    """Times every ``step_s``, aligned to whole multiples of ``step_s`` since
    1970 (as the pass search's start, :func:`_span_start_ns`), from
    ``lookback_s`` before the window to its end."""
    step_ns = int(round(update.step_s * NS_PER_S))
    first = _span_start_ns(update, lookback_s)
    n = max(0, (update.window_end_ns - first) // step_ns + 1)
    return Time(first + np.arange(n, dtype=np.int64) * step_ns)


# Sampling step of the pass search (SubpointG.step_s): the update's step
# where g is concave along the track (a circle, a convex polygon:
# g_is_concave); else, for a polygon that is not convex, searched only
# where the object passes through its convex hull (SubpointG windows), this
# bound: the
# sub-satellite point moves at most ``w`` between two samples, where ``w`` is
# the target's smallest dimension (a circle's radius; a polygon's minimum
# width or shortest edge, in km: target_size_km) and the speed is the
# object's largest ground speed (ground_speed_bound_km_s):
#     step_s = min(update.step_s, max(MIN_PASS_STEP_S, w / v_ground_max)).
# Then (a) every pass that keeps the object inside for a step or more (a
# chord of w or more) holds a sample inside, and (b) a shorter pass grazes
# the boundary: across the 2 steps around it the track is a near-straight
# segment of 2w or less, along which g (minus a distance to a point, or the
# signed distance to one edge or vertex) is concave with one peak; the
# engine refines every sampled maximum that comes near zero (a concave
# peak's sampled top lies within one sampled difference of its true top,
# inside events.OVERSHOOT), so its pair of roots is found too.  Features
# narrower than MIN_PASS_STEP_S of motion (~8 km in LEO) are still sampled
# every second, where (b) may fail: two peaks of g within one step can hide
# one pass (tests/test_watch_pass_rules.py's U polygons show it at 30 s).
MIN_PASS_STEP_S = 1.0
# Ground speed bound: R * (perigee angular rate + Earth rotation).  R: the
# ellipsoid's largest radius of curvature (WGS-84 polar, a / sqrt(1 - e2)),
# the perigee rate from the mean motion and eccentricity (n sqrt(1+e) /
# (1-e)^1.5); 10 % for SGP4's osculating motion (short-period terms and drag
# change n by well under 1 %) and the geodetic-vs-geocentric latitude rate
# (< 0.7 %).
GROUND_SPEED_MARGIN = 1.10
EARTH_ROTATION_RAD_S = 7.2921159e-5
# Root and extremum refinement run on Hermite-interpolated SGP4 states (the
# engine polishes each with exact SGP4); the SGP4 grid is the ephemeris' own
# step, capped at this (Hermite over 60 s is good to metres in LEO).
MAX_SGP4_GRID_S = 60.0
# Sub-satellite points per chunk of the search (events.scan's chunk_elements):
# a few tens of MB of intermediate arrays.
PASS_CHUNK_ELEMENTS = 500_000


def ground_speed_bound_km_s(sets: Sequence[ElementSet]) -> np.ndarray:
    """Upper bound of each object's sub-satellite point speed (km/s)."""
    from .frames import WGS84_A_KM, WGS84_E2
    n_rad_s = np.array([es.mean_motion_rev_day for es in sets], dtype=float) * 2 * np.pi / 86_400
    e = np.clip(np.array([es.eccentricity for es in sets], dtype=float), 0.0, 0.99)
    perigee_rate = n_rad_s * np.sqrt(1 + e) / (1 - e) ** 1.5
    r_max_km = WGS84_A_KM / np.sqrt(1 - WGS84_E2)
    return GROUND_SPEED_MARGIN * r_max_km * (perigee_rate + EARTH_ROTATION_RAD_S)


def g_is_concave(rule: Rule) -> bool:
    """Is the rule's g concave along every short, near-straight stretch of
    ground track (two steps of update.step_s: a few degrees of arc)?  Then
    every pass holds a sampled maximum next to its true one whatever the
    step, and the engine's refinement of sampled maxima near zero finds it
    (case (b) above needs no bound on w): a circle (its radius minus the
    distance to a point, which is convex along a line) and a convex polygon
    (its signed distance is the minimum of its edges' signed distances
    inside, and minus the distance to a convex set outside: both concave).
    A polygon that is not convex (or is cut at +-180 deg) can hold two
    peaks of g within one step: its size bounds the step
    (target_size_km).  Checked against a 1 s brute force on circles, boxes
    and L and U polygons (tests/test_watch_pass_rules.py)."""
    if not rule.polygon_lon_lat_deg:
        return True
    import shapely
    ring = np.asarray(rule.polygon_lon_lat_deg, dtype=float)
    lon = np.degrees(np.unwrap(np.radians(ring[:, 0])))
    if np.ptp(lon) >= 180.0:
        return False
    poly = shapely.Polygon(np.column_stack([lon, ring[:, 1]]))
    hull = poly.convex_hull
    return bool(poly.is_valid and hull.area > 0
                and poly.area >= hull.area * (1.0 - CONVEX_AREA_TOL))


# A polygon is taken as convex when it covers its convex hull to this
# fraction (vertices on straight edges and rounding leave it a hair short).
CONVEX_AREA_TOL = 1e-9


def target_size_km(rule: Rule) -> float:
    """The smallest dimension of a pass rule's target (km): a circle's
    radius; a polygon's minimum width (the short side of its minimum rotated
    rectangle, longitudes scaled by the cosine of the ring's largest
    latitude, which under-states it: conservative) or its shortest edge
    (great circle), whichever is smaller."""
    if not rule.polygon_lon_lat_deg:
        return float(rule.radius_km)
    import shapely
    ring = np.asarray(rule.polygon_lon_lat_deg, dtype=float)
    lon = np.degrees(np.unwrap(np.radians(ring[:, 0])))
    edges = ground_distance_km(ring[:-1, 1], lon[:-1], ring[1:, 1], lon[1:])
    edges = edges[edges > 0]
    km_deg = np.radians(1.0) * MEAN_EARTH_RADIUS_KM
    scale = max(np.cos(np.radians(np.max(np.abs(ring[:, 1])))), 1e-3)
    rect = shapely.minimum_rotated_rectangle(
        shapely.Polygon(np.column_stack([lon * scale * km_deg, ring[:, 1] * km_deg])))
    xy = np.asarray(shapely.get_coordinates(rect))
    sides = np.hypot(*np.diff(xy, axis=0).T) if len(xy) > 1 else np.zeros(0)
    sides = sides[sides > 0]
    return float(min([*edges, *sides] or [0.0]))


class SubpointG(GFunction):
    """The g-function of a pass rule, per watched object: >= 0 while its
    sub-satellite point (WGS-84 geodetic) is inside the rule's target.

    Circle: ``radius_km`` minus the great-circle distance from the site (km,
    mean sphere, :func:`ground_distance_km`).  Polygon: the signed planar
    distance in longitude/latitude degrees from the polygon's boundary,
    positive inside (shapely, vectorised).  Degrees, not km: the rule's
    polygon is a lon/lat polygon with straight edges in degrees (what
    ``shapely.contains_xy`` and the rule's validation mean by it), so this
    distance is zero exactly on that boundary and continuous across it; the
    unit only scales g, never moves its roots.  The boundary is taken
    without the cut that ring_geometry makes at +-180 deg (and the edge it
    adds along a pole), and repeated 360 deg east and west, so that the
    distance is continuous across the antimeridian.

    States: SGP4 on the ephemeris grid (its own step, capped at
    MAX_SGP4_GRID_S), Hermite-interpolated at the engine's samples and
    brackets; ``exact=True`` (the engine's polish of roots and extrema, and
    the whole-second entry of :func:`pass_alerts`) is SGP4 itself.  Failed
    propagation gives NaN: "out" to the engine, never an exception.
    """

    def __init__(self, eph, rule: Rule, step_s, windows=None):
        """``windows``: optional ``(obj, start_ns, end_ns)`` arrays; g is
        then computed only inside them and is OUTSIDE_WINDOWS_G (far below
        zero, finite) elsewhere: a search confined to where a screen
        (the convex hull's passes, :func:`pass_alerts`) allows a pass."""
        self.eph, self.rule = eph, rule
        self.windows = None if windows is None else tuple(
            np.asarray(w, dtype=np.int64) for w in windows)
        self.n_obj = len(eph)
        self.step_s = np.broadcast_to(np.asarray(step_s, dtype=float), (self.n_obj,)).copy()
        self.polygon = None
        if rule.polygon_lon_lat_deg:
            import shapely

            from .zones import _antimeridian, _polygonal, ring_geometry
            poly = _polygonal(ring_geometry(rule.polygon_lon_lat_deg))
            shapely.prepare(poly)
            edge = shapely.difference(shapely.boundary(poly), _antimeridian())
            poles = shapely.MultiLineString([[(-540.0, 90.0), (540.0, 90.0)],
                                             [(-540.0, -90.0), (540.0, -90.0)]]).buffer(1e-7)
            edge = shapely.difference(edge, poles)
            self.polygon = poly
            self.boundary = shapely.union_all([shapely.affinity.translate(edge, xoff=dx)
                                               for dx in (-360.0, 0.0, 360.0)])
            shapely.prepare(self.boundary)

    def subpoint(self, obj, t_ns, exact=False):
        """Geodetic sub-satellite points of objects ``obj`` (n,) at ``t_ns``
        (n, m): :class:`satwatch.frames.Geodetic` of ``(n, m)`` arrays."""
        from .frames import itrs_to_geodetic, teme_to_itrs
        from .passes import _common
        obj = np.asarray(obj)
        t_ns = np.asarray(t_ns, dtype=np.int64)
        common = None if exact else _common(t_ns)
        if common is not None:
            # SGP4 on a grid spanning the samples, cached for the refinement
            self._sgp4_grid(np.unique(obj), common)
            r = self._interpolated(obj, t_ns)
            r_itrs, _ = teme_to_itrs(r, None, Time(common))       # one rotation per time
        else:
            r = self.eph.states(obj, t_ns, exact=True, velocity=False)[0] if exact \
                else self._interpolated(obj, t_ns)
            r_itrs, _ = teme_to_itrs(r, None, Time(t_ns))
        return itrs_to_geodetic(r_itrs)

    def _interpolated(self, obj, t_ns):
        """Hermite positions, and exact SGP4 where they are NaN: next to a
        failed grid sample Hermite fails over a whole grid step, exact SGP4
        only where SGP4 itself fails, so that the edges of a failure (a
        decaying object) are found to the engine's tolerance, not the grid's."""
        r, _ = self.eph.states(obj, t_ns, velocity=False)
        bad = ~np.isfinite(r[0])
        if bad.any():
            rows = np.broadcast_to(np.asarray(obj)[:, None], t_ns.shape)[bad]
            r_bad, _ = self.eph.exact_states(rows, t_ns[bad][:, None])
            r[:, bad] = r_bad[:, :, 0]
        return r

    def value_at(self, geo):
        """g from sub-satellite points (NaN where propagation failed)."""
        if self.polygon is None:
            return self.rule.radius_km - ground_distance_km(
                geo.lat_deg, geo.lon_deg, self.rule.site_lat_deg, self.rule.site_lon_deg)
        import shapely
        lat, lon = np.asarray(geo.lat_deg), np.asarray(geo.lon_deg)
        ok = np.isfinite(lat) & np.isfinite(lon)
        out = np.full(lat.shape, np.nan)
        x, y = lon[ok], lat[ok]
        d = shapely.distance(self.boundary, shapely.points(x, y))
        out[ok] = np.where(shapely.contains_xy(self.polygon, x, y), d, -d)
        return out

    def evaluate(self, obj, t_ns, exact=False):
        if self.windows is None:
            return self.value_at(self.subpoint(obj, t_ns, exact))
        from .passes import _common
        obj = np.asarray(obj)
        t_ns = np.asarray(t_ns, dtype=np.int64)
        inside = self._in_windows(obj, t_ns)
        out = np.full(t_ns.shape, OUTSIDE_WINDOWS_G)
        if not inside.any():
            return out
        common = None if exact else _common(t_ns)
        if common is not None:
            self._sgp4_grid(np.unique(obj[inside.any(axis=1)]), common)
            # rows mostly inside their windows: the whole row on the grid
            # (one rotation per time); the others sample by sample
            full = inside.mean(axis=1) > 0.5
            if full.any():
                k = np.flatnonzero(full)
                vals = self.value_at(self.subpoint(obj[k], t_ns[k]))
                out[k] = np.where(inside[k], vals, OUTSIDE_WINDOWS_G)
                inside = inside & ~full[:, None]
        if inside.any():
            rows = np.broadcast_to(obj[:, None], t_ns.shape)[inside]
            out[inside] = self.value_at(self.subpoint(rows, t_ns[inside][:, None], exact))[:, 0]
        return out

    def _sgp4_grid(self, usat, common):
        """SGP4 of ``usat`` on a grid spanning ``common`` (the ephemeris'
        step, capped at MAX_SGP4_GRID_S), cached for interpolation."""
        step_ns = int(min(np.min(self.eph.step_s[usat]), MAX_SGP4_GRID_S) * NS_PER_S)
        n = max(int(-(-(int(common[-1]) - int(common[0])) // step_ns)), 1)
        self.eph.grid_states(usat, int(common[0]) + np.arange(n + 1, dtype=np.int64) * step_ns)

    def _in_windows(self, obj, t_ns):
        """``(n, m)`` bool: which samples lie in their object's windows."""
        w_obj, w_a, w_b = self.windows
        from .passes import _common
        common = _common(t_ns) if t_ns.ndim == 2 else None
        if common is not None and np.all(np.diff(obj) > 0):
            return grid_window_mask(obj, common, w_obj, w_a, w_b)
        flat_obj = np.broadcast_to(obj[:, None], t_ns.shape).ravel()
        flat_t = t_ns.ravel()
        j = latest_at_or_before(w_obj, w_a, flat_obj, flat_t)
        ok = j >= 0
        ok[ok] = flat_t[ok] <= w_b[j[ok]]
        return ok.reshape(t_ns.shape)


def _size_bound_step_s(size_km, v_ground_km_s, coarse_s):
    """The step that the target's smallest dimension bounds (case (b) above),
    per object: ``size / ground speed``, within [MIN_PASS_STEP_S, coarse]."""
    return np.minimum(coarse_s, np.maximum(MIN_PASS_STEP_S, size_km / v_ground_km_s))


def near_track_apex(rule: Rule, sets: Sequence[ElementSet]) -> np.ndarray:
    """Per object: does the rule's polygon reach within APEX_MARGIN_DEG of
    the latitude where the object's track turns (its inclination, or 180
    deg minus it; geodetic latitude exceeds it by under 0.2 deg)?  There the
    track is a tight arc in longitude and latitude: it can leave a convex
    lon/lat box through its top and come back within one step
    (tests/test_review_round9.py), so g is not concave along it.  All False
    for a circle (great-circle distance, concave along the track there too)."""
    if not rule.polygon_lon_lat_deg:
        return np.zeros(len(sets), dtype=bool)
    lat = np.asarray(rule.polygon_lon_lat_deg, dtype=float)[:, 1]
    hi_deg = float(np.max(np.abs(lat)))
    lo_deg = 0.0 if lat.min() <= 0.0 <= lat.max() else float(np.min(np.abs(lat)))
    inc = np.array([es.inclination_deg for es in sets], dtype=float)
    apex = np.minimum(inc, 180.0 - inc)
    # a track that turns below the polygon never enters it
    return (apex + APEX_GEODETIC_DEG >= lo_deg) & (apex - APEX_MARGIN_DEG <= hi_deg)


# How far below an object's turning latitude a polygon must stay for its g to
# be searched at the update's step: near the apex the latitude falls by
# ~0.03 deg in 30 s of LEO motion and ~0.5 deg in 2 min; 2 deg keeps several
# steps of the turn away from the polygon.
APEX_MARGIN_DEG = 2.0
# The sub-satellite point's geodetic latitude exceeds the geocentric one
# (whose largest value is the inclination) by at most 0.19 deg.
APEX_GEODETIC_DEG = 0.2


def _hull_rule(rule: Rule) -> Rule | None:
    """The rule with its polygon replaced by the polygon's convex hull (in
    unwrapped longitudes, written back within +-180 deg): every pass through
    the polygon is a pass through the hull, whose g is concave.  None for a
    polygon spanning 180 deg of longitude or more (its hull's edges could
    be read the other way round the globe)."""
    import dataclasses

    import shapely
    ring = np.asarray(rule.polygon_lon_lat_deg, dtype=float)
    lon = np.degrees(np.unwrap(np.radians(ring[:, 0])))
    if np.ptp(lon) >= 180.0:
        return None
    hull = shapely.Polygon(np.column_stack([lon, ring[:, 1]])).convex_hull
    xy = np.asarray(hull.exterior.coords)
    wrapped = (xy[:, 0] + 180.0) % 360.0 - 180.0
    return dataclasses.replace(rule, polygon_lon_lat_deg=tuple(
        (float(x), float(y)) for x, y in zip(wrapped, xy[:, 1])))


# g outside a SubpointG's windows: far below any distance in km or degrees,
# finite (so not a failure, whose edges the engine refines)
OUTSIDE_WINDOWS_G = -1.0e9


def pass_alerts(rule: Rule, update: Update) -> list[Alert]:
    """One alert per entry of a watched object into the site's circle (or the
    polygon) that is inside during the window.

    The event engine (:mod:`satwatch.events`) finds where :class:`SubpointG`
    is >= 0, sampled at a step fitted to the target's size and the object's
    ground speed (see MIN_PASS_STEP_S), roots refined to milliseconds.  The
    search starts PASS_LOOKBACK_S before the window (aligned: see
    :func:`_span_start_ns`) to find the entry of a pass under way when the
    window opens.  The alert's key is the entry's whole second (the first
    whole second at which exact SGP4 puts the object inside): a pass cut by
    a window's edge gets the same key from every window that sees it (an
    object inside for longer than the lookback gets a new key each time its
    entry falls out of view: its key is then the search's start).  The
    alert's time is the closest approach (circle; the deepest point inside,
    for a polygon): the largest g of the pass.
    """
    sets = watched(rule, update.catalog, update.owners)
    span_start = _span_start_ns(update, PASS_LOOKBACK_S)
    span_end = int(update.window_end_ns)
    if not sets or span_end <= max(span_start, int(update.window_start_ns) - 1):
        return []
    from .passes import catalog_ephemeris
    sub = Catalog(list(sets), [], update.catalog.source)
    eph = catalog_ephemeris(sub)
    t0, t1 = Time(span_start), Time(span_end)
    span_s = (span_end - span_start) / NS_PER_S
    windows = None
    coarse = float(update.step_s)
    # objects whose track turns (its highest latitude) near a polygon: the
    # track is a tight arc in lon/lat there and g is not concave along it
    apex = near_track_apex(rule, sets)
    concave = g_is_concave(rule)
    v_ground = ground_speed_bound_km_s(sets)
    # a concave g needs no bound on the step beyond the update's; elsewhere
    # the polygon's smallest dimension bounds it (case (b) above)
    size_km = np.inf if concave and not apex.any() else target_size_km(rule)
    fine = _size_bound_step_s(size_km, v_ground, coarse)
    step_s = np.where(apex, fine, coarse) if concave else fine
    n_samples = int(np.sum(span_s / step_s))
    hull_rule = None if concave else _hull_rule(rule)  # None: 180 deg of longitude or more
    if hull_rule is not None:
        # not convex: searched finely only where the object passes through
        # the convex hull, found at the update's step (a concave g), or for
        # objects near their apex at the step the hull's own size bounds (the
        # hull is convex and far larger than the polygon's smallest edge)
        hull_step = np.where(apex, _size_bound_step_s(target_size_km(hull_rule), v_ground,
                                                      coarse), coarse)
        hull = SubpointG(eph, hull_rule, hull_step)
        h = to_intervals(scan(hull, t0, t1, chunk_elements=PASS_CHUNK_ELEMENTS).crossings)
        w_obj, w_a, w_b = h.obj, h.start.ns, h.end.ns
        pad = ((2.0 * step_s[w_obj] + 2.0) * NS_PER_S).astype(np.int64)
        windows = (w_obj, w_a - pad, w_b + pad)
        n_samples = int(np.sum((w_b - w_a) / NS_PER_S / step_s[w_obj] + 4.0)) \
            + int(np.sum(span_s / hull_step))
    if n_samples > MAX_PASS_SAMPLES:
        raise WatchError(f"rule {rule.id}: {len(sets)} objects over a target of "
                         f"{target_size_km(rule):.3g} km need {n_samples} samples, over {MAX_PASS_SAMPLES}; narrow the "
                         "rule's objects, widen its target or shorten the window")
    g = SubpointG(eph, rule, step_s, windows=windows)
    found = scan(g, t0, t1, maxima=True, max_threshold=0.0,
                 chunk_elements=PASS_CHUNK_ELEMENTS)
    iv = to_intervals(found.crossings)
    keep = iv.end.ns >= update.window_start_ns          # inside during the window
    obj, start_ns, end_ns = iv.obj[keep], iv.start.ns[keep], iv.end.ns[keep]
    start_partial, end_partial = iv.start_partial[keep], iv.end_partial[keep]
    if not len(obj):
        return []
    entry_s = _entry_seconds(g, obj, start_ns, start_partial)
    # Closest approach: the largest g of each pass, among the engine's maxima
    # inside it and the pass's own ends (a pass cut by the search's edges, or
    # one that peaks at a failure's edge, may have no interior maximum).
    mx = found.maxima
    ends = np.stack([start_ns, end_ns], axis=1)
    g_ends = g.evaluate(obj, ends, exact=True)
    best_t = np.where(g_ends[:, 1] > g_ends[:, 0], end_ns, start_ns)
    best_g = np.fmax(g_ends[:, 0], g_ends[:, 1])
    of = latest_at_or_before(obj, start_ns, mx.obj, mx.time.ns)     # pass of each maximum
    ok = of >= 0
    ok[ok] = mx.time.ns[ok] <= end_ns[of[ok]]
    of, m_t, m_v = of[ok], mx.time.ns[ok], mx.value[ok]
    order = np.lexsort((m_v, of))
    last = order[np.r_[of[order][1:] != of[order][:-1], True]] if len(order) else order
    better = m_v[last] > best_g[of[last]]        # the highest maximum of each pass
    best_t[of[last][better]], best_g[of[last][better]] = m_t[last][better], m_v[last][better]
    lost = ~np.isfinite(best_g)     # both ends at failures, no maximum between: the middle
    if lost.any():
        best_t[lost] = start_ns[lost] + (end_ns[lost] - start_ns[lost]) // 2
        best_g[lost] = g.evaluate(obj[lost], best_t[lost][:, None], exact=True)[:, 0]
    geo = g.subpoint(obj, best_t[:, None], exact=True)
    if rule.polygon_lon_lat_deg:
        where = "inside the rule's polygon"
    else:
        where = (f"within {rule.radius_km:g} km of "
                 f"{rule.site_name or f'{rule.site_lat_deg:.3f},{rule.site_lon_deg:.3f}'}")
    out = []
    for k in range(len(obj)):
        es = sets[int(obj[k])]
        t_ns = int(best_t[k])
        details = {"enter": Time(int(start_ns[k])).iso(3), "leave": Time(int(end_ns[k])).iso(3),
                   "lat_deg": _rounded(geo.lat_deg[k, 0], 4),
                   "lon_deg": _rounded(geo.lon_deg[k, 0], 4),
                   "alt_km": _rounded(geo.alt_km[k, 0], 2),
                   "partial": bool(start_partial[k] or end_partial[k])}
        if not rule.polygon_lon_lat_deg:
            details["distance_km"] = _rounded(rule.radius_km - best_g[k], 2)
        out.append(Alert(f"pass:{rule.id}:{es.norad_id}:{int(entry_s[k])}",
                         rule.id, "pass", es.norad_id, t_ns,
                         f"{es.name or es.norad_id} ({es.norad_id}) passes {where} at "
                         f"{Time(t_ns).iso(0)}", details))
    return out


def _rounded(x, digits: int):
    """A float for JSON: rounded, None where not finite (failed propagation)."""
    x = float(x)
    return round(x, digits) if np.isfinite(x) else None


def _entry_seconds(g: SubpointG, obj, start_ns, start_partial) -> np.ndarray:
    """The alert key of each pass: the first whole second (since 1970) at
    which exact SGP4 puts the object inside, around the refined entry (a
    function of the orbit alone, not of the search's grid, so that
    overlapping windows agree even where two refinements straddle a whole
    second); the search's start for a pass under way there."""
    base = start_ns // NS_PER_S - 1
    cand = base[:, None] + np.arange(4, dtype=np.int64)[None, :]     # s-1 .. s+2
    inside = g.evaluate(obj, cand * NS_PER_S, exact=True) >= 0
    rise = inside[:, 1:] & ~inside[:, :-1]
    first = np.where(rise.any(axis=1), np.argmax(rise, axis=1) + 1, -1)
    sec = np.where(first >= 0, base + np.maximum(first, 0), -(-start_ns // NS_PER_S))
    return np.where(start_partial, start_ns // NS_PER_S, sec)


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
