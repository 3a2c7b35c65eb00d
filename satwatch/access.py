"""Imaging access: which satellites can image a point or an area, when, and
how often (revisit), for a whole catalog at once.

A satellite has access to a target point when

* the target sees it (elevation >= 0, or >= ``min_elevation_deg``), and
* its sensor can point there: off-nadir angle <= ``max_off_nadir_deg`` (the
  angle at the satellite between the geocentric nadir and the target), and
* optionally, for optical imaging, the Sun is at least
  ``min_sun_elevation_deg`` above the target's horizon.

Each condition is a g-function of :mod:`satwatch.events` combined with
``all_of`` (one minimum, evaluated on shared SGP4 states).  An area
(a GeoJSON polygon) is represented by sample points: its vertices, its
edges densified every ``spacing_km`` and an interior grid at the same
spacing; a satellite has access to the area while it has access to any of
those points (the union of the points' windows: ``any_of``).  Revisit
statistics per target merge the windows of every satellite: coverage
fraction, mean and maximum gap (gaps include the window edges).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from .errors import SatwatchError
from .events import scan, to_intervals
from .frames import GroundPoint
from .passes import Ephemeris, _common, _PairG, catalog_ephemeris, map_satellite_chunks
from .propagation import warn_if_stale
from .sites import make_site
from .sun import sun_position_itrs_km
from .time import NS_PER_S, Time

EARTH_MEAN_RADIUS_KM = 6371.0088
# Screening (see AccessG._screen_cos): the WGS-84 polar radius, below every
# point of the ellipsoid, and a margin on the footprint's central angle.
SCREEN_EARTH_RADIUS_KM = 6356.752
SCREEN_MARGIN_DEG = 0.5
ACCESS_MIN_STEP_S = 10.0


class AccessError(SatwatchError, ValueError):
    """Bad access request or target file (names the file and field)."""


@dataclass(frozen=True)
class Target:
    """A point or an area to image; ``points`` sample it."""
    name: str
    points: tuple
    geometry: dict | None = None          # GeoJSON geometry of an area
    source: str = ""


def point_target(site) -> Target:
    gp = getattr(site, "ground_point", site)
    name = getattr(site, "code", "") or gp.name or f"{gp.lat_deg:.4f},{gp.lon_deg:.4f}"
    return Target(name, (gp,), None, getattr(site, "source", ""))


def _check_rings(geometry) -> None:
    """RFC 7946 sec. 3.1.6 for a Polygon's or MultiPolygon's coordinates,
    before shapely sees them: each linear ring has four or more [lon, lat]
    positions, the last equal to the first; a clear AccessError naming the
    ring (``coordinates[k]`` or ``coordinates[p][k]``) instead of shapely's
    ValueError or a silently closed ring."""
    if not isinstance(geometry, dict):
        raise AccessError(f"expected a GeoJSON geometry object, got {type(geometry).__name__}")
    kind = geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise AccessError(f"expected a Polygon or MultiPolygon, got {kind!r}")
    coords = geometry.get("coordinates")
    # JSON gives lists; shapely's mapping() (satwatch's footprints too) tuples
    seq = (list, tuple)
    if not isinstance(coords, seq) or not coords:
        raise AccessError(f"coordinates: a {kind} needs "
                          + ("its rings" if kind == "Polygon" else "its polygons"))
    polys = [("coordinates", coords)] if kind == "Polygon" else \
        [(f"coordinates[{p}]", c) for p, c in enumerate(coords)]
    for where, rings in polys:
        if not isinstance(rings, seq) or not rings:
            raise AccessError(f"{where}: a polygon needs its exterior ring")
        for k, ring in enumerate(rings):
            name = f"{where}[{k}]"
            if not isinstance(ring, seq):
                raise AccessError(f"{name}: a linear ring is a list of [lon, lat] positions")
            for j, pos in enumerate(ring):
                if not (isinstance(pos, seq) and len(pos) >= 2
                        and all(_finite_number(x) for x in pos)):
                    raise AccessError(f"{name}[{j}]: a position is [lon, lat] in degrees, "
                                      f"not {json.dumps(pos, default=str)}")
                if abs(float(pos[1])) > 90:
                    raise AccessError(f"{name}[{j}]: latitude {pos[1]} is outside -90..90")
                if not -180.0 <= float(pos[0]) <= 360.0:
                    raise AccessError(f"{name}[{j}]: longitude {pos[0]} is outside -180..360")
            if len(ring) < 4:
                raise AccessError(f"{name}: a linear ring has {len(ring)} position(s); it "
                                  "needs 4 or more, the last equal to the first (RFC 7946 "
                                  "sec. 3.1.6)")
            if list(ring[0][:2]) != list(ring[-1][:2]):
                raise AccessError(f"{name}: the ring is not closed: its last position "
                                  f"{list(ring[-1][:2])} differs from its first "
                                  f"{list(ring[0][:2])} (RFC 7946 sec. 3.1.6: repeat the "
                                  "first position at the end)")


def _finite_number(x) -> bool:
    """A real, finite number (not a bool; an integer too big for a float is not)."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        return False
    try:
        return math.isfinite(float(x))
    except OverflowError:
        return False


def _check_spacing(spacing_km) -> None:
    """The sample spacing of an area is a positive length (0 divided by zero;
    a negative one gave no interior grid, silently)."""
    if not (_finite_number(spacing_km) and spacing_km > 0):
        raise AccessError(f"spacing_km {spacing_km}: the sample spacing of an area is a "
                          "positive number of km")


def check_polygon(geometry: dict) -> None:
    """Refuse a GeoJSON Polygon or MultiPolygon whose rings cannot bound an
    area (AccessError naming the ring), before any geometry library sees it:
    the checks of :func:`polygon_points`, for callers that look at the shape
    first (the API bounds its size)."""
    _check_rings(geometry)


def polygon_points(geometry: dict, spacing_km: float = 10.0) -> list[GroundPoint]:
    """Sample points of a GeoJSON Polygon/MultiPolygon: vertices, edges every
    ``spacing_km``, an interior grid at the same spacing (shapely).  Rings of
    fewer than four positions, not closed, or without area are refused
    (AccessError naming the ring)."""
    from shapely.geometry import Point
    _check_spacing(spacing_km)
    _check_rings(geometry)
    geom = area_geometry(geometry)
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise AccessError(f"expected a Polygon or MultiPolygon, got {geom.geom_type}")
    flat = [k for k, part in enumerate(getattr(geom, "geoms", [geom])) if not part.area > 0]
    if flat:
        where = "coordinates" if geom.geom_type == "Polygon" else f"coordinates[{flat[0]}]"
        raise AccessError(f"{where}: the polygon has no area (its exterior ring's positions "
                          "lie on one line or repeat one point)")
    step_deg = spacing_km / 111.2
    pts = []
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    for poly in polys:
        ring = poly.exterior
        n = max(int(np.ceil(ring.length / step_deg)), len(ring.coords))
        for d in np.linspace(0, ring.length, n, endpoint=False):
            p = ring.interpolate(d)
            pts.append((p.x, p.y))
        pts += [tuple(c[:2]) for c in ring.coords[:-1]]
        minx, miny, maxx, maxy = poly.bounds
        xs = np.arange(minx + step_deg / 2, maxx, step_deg)
        ys = np.arange(miny + step_deg / 2, maxy, step_deg)
        for x in xs:
            for y in ys:
                if poly.contains(Point(x, y)):
                    pts.append((x, y))
        c = poly.representative_point()
        pts.append((c.x, c.y))
    uniq = sorted(set((round(x, 6), round(y, 6)) for x, y in pts))
    return [GroundPoint(lat, lon, 0.0) for lon, lat in uniq]


def area_geometry(geometry: dict):
    """Shapely geometry of a checked GeoJSON (Multi)Polygon.  A ring that
    crosses +-180 deg without being cut there (consecutive longitudes more
    than 180 deg apart, or longitudes past +-180: RFC 7946 sec. 3.1.9 asks
    writers to cut such rings, and many do not) is cut as the zones' rings
    are (zones.ring_geometry): 179.5 -> -179.5 is one degree across the
    antimeridian, not 359 degrees the other way round."""
    import shapely
    from shapely.geometry import shape
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else \
        geometry["coordinates"]
    lons = [np.asarray([pos[0] for pos in ring], dtype=float) for p in polys for ring in p]
    if all(np.all(np.abs(np.diff(x)) <= 180.0) and np.all(np.abs(x) <= 180.0) for x in lons):
        return shape(geometry)
    from .zones import _polygonal, ring_geometry
    parts = []
    for p in polys:
        rings = [ring_geometry([pos[:2] for pos in ring]) for ring in p]
        area = _polygonal(rings[0])
        for hole in rings[1:]:
            area = area.difference(_polygonal(hole))
        parts.append(_polygonal(area))
    return _polygonal(shapely.union_all(parts))


def targets_from_geojson(text: str, source: str = "<geojson>",
                         spacing_km: float = 10.0) -> list[Target]:
    """Targets from GeoJSON: Points become point targets, Polygons areas."""
    _check_spacing(spacing_km)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AccessError(f"{source}: line {exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(doc, dict):
        raise AccessError(f"{source}: not a GeoJSON object (a FeatureCollection, Feature or "
                          f"geometry), but a JSON {type(doc).__name__}")
    if doc.get("type") == "FeatureCollection":
        feats = doc.get("features") or []
    elif doc.get("type") == "Feature":
        feats = [doc]
    else:
        feats = [{"type": "Feature", "geometry": doc, "properties": {}}]
    out = []
    for i, f in enumerate(feats):
        geom = (f or {}).get("geometry") or {}
        name = ((f or {}).get("properties") or {}).get("name") or f"{source}#{i + 1}"
        kind = geom.get("type")
        if kind == "Point":
            coords = geom.get("coordinates") or []
            if not isinstance(coords, list) or len(coords) < 2:
                raise AccessError(f"{source}: features[{i}].geometry.coordinates: a Point "
                                  "needs [lon, lat(, alt_m)]")
            # the sites' own checks (numbers, latitude and longitude ranges);
            # RFC 7946 3.1.1: a third coordinate is the altitude
            site = make_site(name, coords[1], coords[0], coords[2] if len(coords) > 2 else 0.0,
                             source=f"{source} features[{i}]")
            out.append(Target(name, (site.ground_point,), None, source))
        elif kind in ("Polygon", "MultiPolygon"):
            try:
                pts = polygon_points(geom, spacing_km)
            except AccessError as exc:
                raise AccessError(f"{source}: features[{i}].geometry: {exc}") from None
            out.append(Target(name, tuple(pts), geom, source))
        else:
            raise AccessError(f"{source}: features[{i}].geometry: type {kind!r} is not a "
                              "Point, Polygon or MultiPolygon")
    if not out:
        raise AccessError(f"{source}: no features")
    return out


class AccessG(_PairG):
    """min(off-nadir margin, elevation margin, sun margin) of every
    (satellite, point) pair; >= 0 where the point can be imaged."""

    def __init__(self, eph, points, max_off_nadir_deg=None, min_elevation_deg=0.0,
                 min_sun_elevation_deg=None):
        super().__init__(eph, points)
        self.cos_max_off_nadir = (None if max_off_nadir_deg is None
                                  else np.cos(np.radians(max_off_nadir_deg)))
        self.sin_min_el = np.sin(np.radians(min_elevation_deg or 0.0))
        self.sin_min_sun = (None if min_sun_elevation_deg is None
                            else np.sin(np.radians(min_sun_elevation_deg)))
        # Narrow sensors give windows far shorter than an orbit: sample each
        # satellite at least twice while it crosses its screening circle, at
        # perigee, where that circle is smallest and crossed fastest (angular
        # rate the mean one times sqrt(1+e)/(1-e)^1.5): a Molniya-like orbit
        # has minute-long perigee windows.
        if eph.period_s is not None:
            ecc = np.clip(eph.plane_elements()["ecc"], 0.0, 0.99)
            lam = np.arccos(np.clip(self._screen_cos(eph.radius_km * (1 - ecc)), -1, 1))
            perigee_rate_factor = np.sqrt(1 + ecc) / (1 - ecc) ** 1.5
            crossing_s = 2 * lam / (2 * np.pi) * eph.period_s / perigee_rate_factor
            step = np.minimum(eph.step_s, np.maximum(0.5 * crossing_s, ACCESS_MIN_STEP_S))
            self.step_s = np.repeat(step, self.n_sites)

    def geometry(self, obj, t_ns, exact=False):
        """sin(elevation) and cos(off-nadir) of the pairs."""
        if not exact and _common(t_ns) is None:
            fast = self._fast_look(obj, t_ns)
            if fast is not None:
                return fast[0], fast[1], Time(t_ns)
        r, times = self._itrs(obj, t_ns, exact)
        site = obj % self.n_sites
        o = self._r_site[:, site][:, :, None]
        d = r - o
        rng = np.sqrt((d * d).sum(axis=0))
        sin_el = (d * self._up[:, site][:, :, None]).sum(axis=0) / rng
        # off-nadir: angle at the satellite between nadir (-r) and the target (-d)
        cos_nadir = (d * r).sum(axis=0) / (rng * np.sqrt((r * r).sum(axis=0)))
        return sin_el, cos_nadir, times

    def _screen_cos(self, r_km, extra_rad=0.0):
        """cos of a geocentric angle beyond which no access is possible for a
        satellite at radius ``r_km``: the footprint's central angle on a
        sphere of the polar radius (larger than on the ellipsoid), with the
        elevation mask lowered by 0.25 deg (geodetic vs geocentric up) and
        0.5 deg of margin."""
        R = SCREEN_EARTH_RADIUS_KM
        eps = np.arcsin(self.sin_min_el) - np.radians(0.25)
        lam = np.arccos(np.clip(R * np.cos(eps) / r_km, -1, 1)) - eps
        if self.cos_max_off_nadir is not None:
            eta = np.arccos(self.cos_max_off_nadir)
            x = r_km / R * np.sin(eta)
            lam = np.where(x < 1, np.minimum(lam, np.arcsin(np.minimum(x, 1)) - eta), lam)
        return np.cos(np.minimum(lam + np.radians(SCREEN_MARGIN_DEG) + extra_rad, np.pi))

    def evaluate(self, obj, t_ns, exact=False):
        obj = np.asarray(obj)
        t_ns = np.asarray(t_ns, dtype=np.int64)
        common = None if exact else _common(t_ns)
        if common is None:
            return self._exact(obj, t_ns, exact)
        return self._screened(obj, common, self._screen_cos, self._exact_at)

    def _exact_at(self, r, site, times):
        o = self._r_site[:, site]
        d = r - o
        rng = np.sqrt((d * d).sum(axis=0))
        g = (d * self._up[:, site]).sum(axis=0) / rng - self.sin_min_el
        if self.cos_max_off_nadir is not None:
            cos_nadir = (d * r).sum(axis=0) / (rng * np.sqrt((r * r).sum(axis=0)))
            g = np.minimum(g, cos_nadir - self.cos_max_off_nadir)
        if self.sin_min_sun is not None:
            ds = sun_position_itrs_km(times) - o
            g = np.minimum(g, (ds * self._up[:, site]).sum(axis=0)
                           / np.sqrt((ds * ds).sum(axis=0)) - self.sin_min_sun)
        return g

    def _exact(self, obj, t_ns, exact=False):
        sin_el, cos_nadir, times = self.geometry(obj, t_ns, exact)
        g = sin_el - self.sin_min_el
        if self.cos_max_off_nadir is not None:
            g = np.minimum(g, cos_nadir - self.cos_max_off_nadir)
        if self.sin_min_sun is not None:
            sun = sun_position_itrs_km(times)
            if sun.ndim == 2:
                sun = sun[:, None, :]
            site = obj % self.n_sites
            ds = sun - self._r_site[:, site][:, :, None]
            sin_sun = (ds * self._up[:, site][:, :, None]).sum(axis=0) / np.sqrt(
                (ds * ds).sum(axis=0))
            g = np.minimum(g, sin_sun - self.sin_min_sun)
        return g


@dataclass
class Access:
    """Access windows (arrays, one entry per window) and revisit statistics
    per target (``revisit``: list of dicts).  ``failed``: satellite index ->
    SGP4 error code of the objects that could not be propagated over (part
    of) the span; they have no windows while they fail."""
    sat: np.ndarray
    target: np.ndarray
    start_ns: np.ndarray
    end_ns: np.ndarray
    start_partial: np.ndarray
    end_partial: np.ndarray
    start: Time
    end: Time
    targets: list
    revisit: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.sat)

    @property
    def duration_s(self):
        return (self.end_ns - self.start_ns) / NS_PER_S


def merge_intervals(key, start_ns, end_ns, start_partial=None, end_partial=None):
    """Union of intervals per key: returns (key, start, end, start_partial,
    end_partial) with overlapping or touching intervals merged."""
    n = len(key)
    if start_partial is None:
        start_partial = np.zeros(n, bool)
    if end_partial is None:
        end_partial = np.zeros(n, bool)
    if not n:
        z = np.zeros(0, np.int64)
        return z, z, z, np.zeros(0, bool), np.zeros(0, bool)
    # Sweep line: +1 at each start, -1 at each end; within a key the running
    # count goes 0 -> 1 where a merged interval starts and 1 -> 0 where it
    # ends (starts sort before ends at equal times, so touching ones merge).
    key = np.asarray(key)
    ev_key = np.r_[key, key]
    ev_t = np.r_[start_ns, end_ns].astype(np.int64)
    ev_d = np.r_[np.ones(n, np.int64), -np.ones(n, np.int64)]
    ev_p = np.r_[start_partial, end_partial]
    order = np.lexsort((-ev_d, ev_t, ev_key))
    ev_key, ev_t, ev_d, ev_p = ev_key[order], ev_t[order], ev_d[order], ev_p[order]
    count = np.cumsum(ev_d)
    opens = np.flatnonzero((ev_d == 1) & (count == 1))
    closes = np.flatnonzero((ev_d == -1) & (count == 0))
    return ev_key[opens], ev_t[opens], ev_t[closes], ev_p[opens], ev_p[closes]


def revisit_stats(target_idx, start_ns, end_ns, n_targets, t0: int, t1: int) -> list[dict]:
    """Per target: coverage fraction, count of merged windows, mean and
    maximum gap (s), gaps including the window edges."""
    k, s, e, _, _ = merge_intervals(np.asarray(target_idx), np.asarray(start_ns),
                                    np.asarray(end_ns))
    span = (t1 - t0) / NS_PER_S
    out = []
    for j in range(n_targets):
        m = k == j
        ss, ee = s[m], e[m]
        if not len(ss):
            out.append({"coverage_fraction": 0.0, "windows": 0, "mean_gap_s": span,
                        "max_gap_s": span})
            continue
        gaps = np.r_[ss[0] - t0, ss[1:] - ee[:-1], t1 - ee[-1]] / NS_PER_S
        gaps = gaps[gaps > 0]
        out.append({"coverage_fraction": float((ee - ss).sum() / NS_PER_S / span),
                    "windows": int(len(ss)),
                    "mean_gap_s": float(gaps.mean()) if len(gaps) else 0.0,
                    "max_gap_s": float(gaps.max()) if len(gaps) else 0.0})
    return out


def _windows(eph, points, owner, n_targets, start, end, options):
    """Merged windows ``(key, start, end, start_partial, end_partial)`` of
    every satellite of ``eph`` to every target, key = sat * n_targets + target,
    and the satellites that failed over the window (index -> error code)."""
    eph.failed = {}                       # failures of this window only
    eph.failure_window = (int(start.ns), int(end.ns))
    g = AccessG(eph, points, *options)
    iv = to_intervals(scan(g, start, end).crossings)
    sat = iv.obj // len(points)
    tgt = owner[iv.obj % len(points)]
    # union over the points of an area, per satellite
    return merge_intervals(sat * n_targets + tgt, iv.start.ns, iv.end.ns, iv.start_partial,
                           iv.end_partial) + (dict(eph.failed),)


def _windows_chunk(sub, a, points, owner, n_targets, start, end, options):
    k, s, e, sp, ep, failed = _windows(sub, points, owner, n_targets, start, end, options)
    return k + a * n_targets, s, e, sp, ep, {a + j: c for j, c in failed.items()}


def find_access(catalog, targets, start: Time, end: Time, *, max_off_nadir_deg=None,
                min_elevation_deg=None, min_sun_elevation_deg=None,
                ephemeris: Ephemeris | None = None, workers: int = 1) -> Access:
    """Access windows of every satellite to every target, with revisit
    statistics per target.  Give ``max_off_nadir_deg`` or
    ``min_elevation_deg`` (or both).  ``workers > 1`` splits the satellites
    over that many forked processes (same result; the caller chooses)."""
    targets = [t if isinstance(t, Target) else point_target(t) for t in targets]
    if not targets:
        raise AccessError("no targets")
    if max_off_nadir_deg is None and min_elevation_deg is None:
        raise AccessError("give --max-off-nadir or --min-elevation")
    if max_off_nadir_deg is not None and not 0 < max_off_nadir_deg < 90:
        raise AccessError(f"max off-nadir {max_off_nadir_deg} deg must be between 0 and 90")
    # an elevation lies in [-90, 90] deg: sin() would read 120 as 60, silently
    for what, value in (("min elevation", min_elevation_deg),
                        ("min sun elevation", min_sun_elevation_deg)):
        if value is not None and not -90.0 <= value <= 90.0:
            raise AccessError(f"{what} {value:g} deg must lie in [-90, 90] (an angle above "
                              "the horizon)")
    points, owner = [], []
    for j, t in enumerate(targets):
        points += list(t.points)
        owner += [j] * len(t.points)
    owner = np.asarray(owner)
    eph = ephemeris or catalog_ephemeris(catalog)
    if ephemeris is None:           # (the caller of a given ephemeris warns for its window)
        warn_if_stale(eph._epoch_ns, start.ns, end.ns)
    options = (max_off_nadir_deg, min_elevation_deg or 0.0, min_sun_elevation_deg)
    if workers > 1 and len(eph) >= 2 * workers:
        parts = map_satellite_chunks(eph, _windows_chunk, (points, owner, len(targets), start,
                                                           end, options), int(workers))
        k, s, e, sp, ep = (np.concatenate([pt[i] for pt in parts]) for i in range(5))
        failed = {j: c for pt in parts for j, c in pt[5].items()}
    else:
        k, s, e, sp, ep, failed = _windows(eph, points, owner, len(targets), start, end,
                                           options)
    t0, t1 = int(start.ns), int(end.ns)
    acc = Access(sat=k // len(targets), target=k % len(targets), start_ns=s, end_ns=e,
                 start_partial=sp, end_partial=ep, start=Time(t0), end=Time(t1),
                 targets=targets, failed=dict(sorted(failed.items())))
    acc.revisit = revisit_stats(acc.target, s, e, len(targets), t0, t1)
    return acc


def access_rows(acc: Access, catalog) -> list[dict]:
    sets = list(catalog)

    def iso(ns):
        return Time(int(ns)).iso(3)
    rows = []
    for i in range(len(acc)):
        es = sets[acc.sat[i]]
        rows.append({"target": acc.targets[acc.target[i]].name, "norad_id": es.norad_id,
                     "name": es.name,
                     "start_time": None if acc.start_partial[i] else iso(acc.start_ns[i]),
                     "end_time": None if acc.end_partial[i] else iso(acc.end_ns[i]),
                     "window_start": iso(max(acc.start_ns[i], acc.start.ns)),
                     "window_end": iso(min(acc.end_ns[i], acc.end.ns)),
                     "duration_s": round(float(acc.duration_s[i]), 3),
                     "start_partial": bool(acc.start_partial[i]),
                     "end_partial": bool(acc.end_partial[i])})
    return rows
