"""Zones: countries and exclusive economic zones, and where points and tracks
fall among them.

Readers: Natural Earth country polygons as TopoJSON (the npm package
``world-atlas``: ``countries-110m/50m/10m.json``; public domain) and GeoJSON
(FeatureCollection, a bare list of Features, one Feature or one geometry),
such as the Global Fishing Watch EEZ files.  Polygons are shapely
geometries in longitude/latitude degrees; rings that cross the antimeridian
are cut there so that planar tests stay right.

Queries: which zones contain a point (:meth:`ZoneSet.containing`), the
distance in km from a point to a zone's boundary (:meth:`ZoneSet.
boundary_distance_km`: the nearest boundary point is found in an azimuthal
equidistant projection centred on the query point -- exact for distances
from the centre -- and the distance is then measured on the WGS-84
ellipsoid with ``pyproj.Geod``), the nearest boundaries of any zone, and
which zones a track crosses.

:func:`parse_zones` is pure (text in, zones out), like the rest of this
module; a user's zone file is read by
:func:`satwatch.sources.files.read_zones`.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import SatwatchError

NAME_KEYS = ("name", "NAME", "geoname", "GEONAME", "ADMIN", "admin", "territory1",
             "sovereign1", "label")


class ZoneError(SatwatchError, ValueError):
    """A zone file could not be read; names the file and the feature."""


@dataclass(frozen=True)
class Zone:
    name: str
    kind: str                      # "country", "eez", or what the file says
    geometry: object = field(repr=False)   # shapely (Multi)Polygon, lon/lat degrees
    source: str = ""
    id: str = ""
    properties: dict = field(default_factory=dict, repr=False, compare=False)


# --------------------------------------------------------------------------
# parsing


@functools.lru_cache(maxsize=1)
def _antimeridian():
    """The meridian +-180 deg, 1e-7 deg wide (about a centimetre)."""
    from shapely.geometry import MultiLineString
    lines = MultiLineString([[(180.0, -90.0), (180.0, 90.0)], [(-180.0, -90.0), (-180.0, 90.0)]])
    return lines.buffer(1e-7)                       # ~1 cm: only edges on the meridian


def ring_geometry(coords):
    """A polygon ring (lon, lat) in degrees as shapely geometry with
    longitudes in [-180, 180], cut at +-180 deg when it crosses there
    (consecutive longitudes more than 180 deg apart, or longitudes given
    past +-180 deg, as in 170..190); None for fewer than 4 points."""
    import shapely
    from shapely.geometry import Polygon, box
    ring = np.asarray(coords, dtype=float)
    if len(ring) < 4:
        return None
    if np.all(np.abs(np.diff(ring[:, 0])) <= 180.0) and np.all(np.abs(ring[:, 0]) <= 180.0):
        poly = Polygon(ring)
        return poly if poly.is_valid else shapely.make_valid(poly)
    lon = np.degrees(np.unwrap(np.radians(ring[:, 0])))
    if abs(lon[-1] - lon[0]) > 1.0:       # wraps the pole (Antarctica): close along the edge
        pole = -90.0 if ring[:, 1].mean() < 0 else 90.0
        lon = np.concatenate([lon, [lon[-1], lon[0]]])
        lat = np.concatenate([ring[:, 1], [pole, pole]])
    else:
        lat = ring[:, 1]
    poly = shapely.make_valid(Polygon(np.column_stack([lon, lat])))
    parts = []
    for shift in (-720.0, -360.0, 0.0, 360.0, 720.0):
        piece = poly.intersection(box(-180.0 - shift, -90.0, 180.0 - shift, 90.0))
        if not piece.is_empty:
            parts.append(shapely.affinity.translate(piece, xoff=shift))
    return shapely.union_all(parts) if parts else None


def _polygon(rings):
    """Shell and holes, each cut at the antimeridian."""
    import shapely
    shell = ring_geometry(rings[0])
    if shell is None:
        return None
    for hole in rings[1:]:
        h = ring_geometry(hole)
        if h is None:
            continue
        # TopoJSON from d3 is spherical: Antarctica is a sliver "shell" along
        # the pole with the coastline as its "hole".  On the plane, a hole
        # that lies outside its shell is more land, not a hole.
        if shell.contains(h.representative_point()):
            shell = shell.difference(h)
        else:
            shell = shell.union(h)
    return shapely.make_valid(shell) if not shell.is_valid else shell


def _geometry(geom: dict):
    import shapely
    kind = geom.get("type")
    if kind == "Polygon":
        parts = [_polygon(geom["coordinates"])]
    elif kind == "MultiPolygon":
        parts = [_polygon(p) for p in geom["coordinates"]]
    elif kind == "GeometryCollection":
        parts = [_geometry(g) for g in geom.get("geometries", [])]
    else:
        raise ValueError(f"geometry type {kind!r} is not an area (Polygon/MultiPolygon)")
    parts = [p for p in parts if p is not None and not p.is_empty]
    if not parts:           # too small for the file's quantization (Vatican at 1:10m)
        return shapely.Polygon()
    g = shapely.union_all(parts) if len(parts) > 1 else parts[0]
    return g if g.is_valid else shapely.make_valid(g)


def _name(props: dict, fallback: str) -> str:
    for key in NAME_KEYS:
        v = props.get(key)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return fallback


def _topojson_features(doc: dict, source: str, object_name: str | None):
    objects = doc.get("objects") or {}
    if object_name is None:
        object_name = "countries" if "countries" in objects else next(iter(objects), None)
    if object_name not in objects:
        raise ZoneError(f"{source}: TopoJSON has no object {object_name!r} "
                        f"(it has {', '.join(objects) or 'none'})")
    t = doc.get("transform")
    arcs = []
    for a in doc.get("arcs", []):
        a = np.asarray(a, dtype=float)[:, :2]
        if t:
            a = np.cumsum(a, axis=0) * np.asarray(t["scale"]) + np.asarray(t["translate"])
        arcs.append(a)

    def ring(indices):
        pts = []
        for k in indices:
            a = arcs[k] if k >= 0 else arcs[~k][::-1]
            pts.append(a if not pts else a[1:])
        return np.concatenate(pts) if pts else np.empty((0, 2))

    def geometry(g):
        kind = g.get("type")
        if kind == "Polygon":
            return {"type": "Polygon", "coordinates": [ring(r) for r in g["arcs"]]}
        if kind == "MultiPolygon":
            return {"type": "MultiPolygon",
                    "coordinates": [[ring(r) for r in p] for p in g["arcs"]]}
        if kind == "GeometryCollection":
            return {"type": "GeometryCollection",
                    "geometries": [geometry(x) for x in g.get("geometries", [])]}
        return None

    obj = objects[object_name]
    members = obj.get("geometries", [obj]) if obj.get("type") == "GeometryCollection" else [obj]
    for g in members:
        if g.get("type") is None:         # a null geometry (no area at this scale)
            continue
        props = dict(g.get("properties") or {})
        yield geometry(g), props, str(g.get("id", ""))


def parse_zones(text: str, source: str = "<zones>", *, kind: str | None = None,
                object_name: str | None = None) -> list[Zone]:
    """Zones from TopoJSON or GeoJSON text.  ``kind`` overrides the kind
    (default: TopoJSON -> ``"country"``; GeoJSON -> the feature's ``type``
    property if it is a string, else ``"zone"``)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ZoneError(f"{source}: not JSON (line {exc.lineno}): {exc.msg}") from None
    zones = []
    if isinstance(doc, dict) and doc.get("type") == "Topology":
        items = ((g, p, i, kind or "country") for g, p, i in
                 _topojson_features(doc, source, object_name))
    else:
        if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
            feats = doc.get("features") or []
        elif isinstance(doc, list):
            feats = doc
        elif isinstance(doc, dict) and doc.get("type") == "Feature":
            feats = [doc]
        elif isinstance(doc, dict) and doc.get("type") in ("Polygon", "MultiPolygon"):
            feats = [{"type": "Feature", "geometry": doc, "properties": {}}]
        else:
            raise ZoneError(f"{source}: neither TopoJSON nor GeoJSON (expected a Topology, "
                            "a FeatureCollection, a list of Features or a Polygon)")

        def gen():
            for i, f in enumerate(feats):
                if not isinstance(f, dict) or "geometry" not in f:
                    raise ZoneError(f"{source}: feature {i} has no geometry")
                props = dict(f.get("properties") or {})
                k = kind or (props.get("type") if isinstance(props.get("type"), str)
                             else "zone")
                yield f["geometry"], props, str(f.get("id", i)), k
        items = gen()
    stem = Path(source).stem if source and not source.startswith("<") else "zone"
    for n, (geom, props, ident, k) in enumerate(items):
        if geom is None:
            continue
        try:
            g = _geometry(geom)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ZoneError(f"{source}: feature {n} ({_name(props, '?')}): {exc}") from None
        zones.append(Zone(_name(props, f"{stem} #{n}"), k, g, source, ident, props))
    return zones


# --------------------------------------------------------------------------
# queries


@functools.lru_cache(maxsize=16)
def _aeqd(lat, lon):
    """Azimuthal equidistant projection centred on a point (x, y in metres)."""
    from pyproj import Proj
    proj = Proj(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m")

    class _T:
        @staticmethod
        def transform(x, y, direction="FORWARD"):
            return proj(x, y, inverse=(direction == "INVERSE"))
    return _T


def _polygonal(geom):
    """The area of a geometry: itself for a (Multi)Polygon, the union of the
    polygonal parts of a GeometryCollection (nested ones too; points and
    lines have no area and no boundary of one), else an empty Polygon."""
    import shapely
    kind = geom.geom_type
    if kind in ("Polygon", "MultiPolygon"):
        return geom
    if kind == "GeometryCollection":
        parts = [p for p in (_polygonal(g) for g in shapely.get_parts(geom)) if not p.is_empty]
        if parts:
            return shapely.union_all(parts) if len(parts) > 1 else parts[0]
    return shapely.Polygon()


class ZoneSet:
    """Zones with a spatial index."""

    def __init__(self, zones):
        import shapely
        self.zones = list(zones)
        self._geoms = np.array([z.geometry for z in self.zones], dtype=object)
        self._tree = shapely.STRtree(self._geoms) if self.zones else None
        # Boundaries without the cut at +-180 deg (ring_geometry's, or the
        # source's own: a zone split there has no edge along the meridian).
        # A GeometryCollection (make_valid's answer for some countries of
        # Natural Earth) has no boundary in shapely: its polygonal parts do.
        self._boundaries = shapely.difference(
            shapely.boundary(np.array([_polygonal(g) for g in self._geoms], dtype=object)),
            _antimeridian()) if self.zones else None
        for g in self._geoms:
            shapely.prepare(g)

    def __len__(self):
        return len(self.zones)

    def __iter__(self):
        return iter(self.zones)

    @property
    def names(self):
        return [z.name for z in self.zones]

    def containing(self, lat_deg, lon_deg) -> list[list[int]]:
        """For each point, the indices of the zones that contain it."""
        import shapely
        lat = np.atleast_1d(np.asarray(lat_deg, dtype=float))
        lon = (np.atleast_1d(np.asarray(lon_deg, dtype=float)) + 180.0) % 360.0 - 180.0
        out = [[] for _ in range(lat.size)]
        if self._tree is None:
            return out
        pts = shapely.points(lon, lat)
        pi, zi = self._tree.query(pts, predicate="intersects")
        for p, z in zip(pi, zi):
            out[int(p)].append(int(z))
        return [sorted(x) for x in out]

    def boundary_distance_km(self, lat_deg: float, lon_deg: float, index: int):
        """Geodesic distance (km) from a point to zone ``index``'s boundary and
        the nearest boundary point ``(lat_deg, lon_deg)``."""
        import shapely
        from pyproj import Geod
        tr = _aeqd(lat_deg, lon_deg)
        # Edges are straight in longitude/latitude; densify them (0.05 deg,
        # about 5 km) so that their images in the projection stay straight
        # to metres.
        boundary = shapely.transform(shapely.segmentize(self._boundaries[index], 0.05),
                                     lambda xy: np.column_stack(tr.transform(xy[:, 0],
                                                                             xy[:, 1])))
        if boundary.is_empty:
            return np.nan, (np.nan, np.nan)
        _, near = shapely.shortest_line(shapely.Point(0.0, 0.0), boundary).coords
        nlon, nlat = tr.transform(near[0], near[1], direction="INVERSE")
        _, _, d = Geod(ellps="WGS84").inv(lon_deg, lat_deg, nlon, nlat)
        return d / 1000.0, (nlat, nlon)

    def candidates(self, lat_deg: float, lon_deg: float, n: int = 4) -> list[int]:
        """Zones whose boundaries may be nearest to a point (by planar degree
        distance, widened for latitude), at least ``n`` of them."""
        import shapely
        if self._tree is None:
            return []
        p = shapely.Point((lon_deg + 180.0) % 360.0 - 180.0, lat_deg)
        d = shapely.distance(self._geoms, p)
        bd = shapely.distance(self._boundaries, p)
        key = np.where(d > 0, d, bd)
        widen = 1.0 / max(np.cos(np.radians(lat_deg)), 0.05)
        order = np.argsort(key)
        best = key[order[0]]
        keep = [int(i) for i in order if key[i] <= best * widen * 1.5 + 1.0]
        return keep if len(keep) >= n else [int(i) for i in order[:n]]

    def describe_point(self, lat_deg: float, lon_deg: float, near: int = 5) -> dict:
        """Which zones contain the point, and the distance to the nearest
        boundaries (of containing zones and of the closest others)."""
        inside = set(self.containing(lat_deg, lon_deg)[0])
        cand = list(dict.fromkeys(sorted(inside) + self.candidates(lat_deg, lon_deg)))
        rows = []
        for i in cand:
            d, (blat, blon) = self.boundary_distance_km(lat_deg, lon_deg, i)
            if not np.isfinite(d):
                continue
            z = self.zones[i]
            rows.append({"name": z.name, "kind": z.kind, "inside": i in inside,
                         "distance_to_boundary_km": d, "boundary_lat_deg": blat,
                         "boundary_lon_deg": blon, "source": z.source})
        rows.sort(key=lambda r: (not r["inside"], r["distance_to_boundary_km"]))
        nearest = min(rows, key=lambda r: r["distance_to_boundary_km"]) if rows else None
        outside = [r for r in rows if not r["inside"]][:near]
        return {"zones": [self.zones[i].name for i in sorted(inside)],
                "zone_kinds": [self.zones[i].kind for i in sorted(inside)],
                "distance_to_boundary_km": None if nearest is None
                else nearest["distance_to_boundary_km"],
                "nearest_boundary": None if nearest is None else nearest["name"],
                "boundaries": [r for r in rows if r["inside"]] + outside}

    def crossed_by(self, lat_deg, lon_deg) -> list[int]:
        """Indices of zones a polyline (degrees) touches, in the order first met."""
        import shapely
        if self._tree is None:
            return []
        line = track_geometry(lat_deg, lon_deg)
        if line is None:
            return []
        hits = self._tree.query(line, predicate="intersects")
        if len(hits) == 0:
            return []
        # order by where along the track each zone is first met
        lines = [line] if line.geom_type == "LineString" else list(line.geoms)
        offsets = np.cumsum([0.0] + [ln.length for ln in lines])
        first = {}
        for z in hits:
            best = np.inf
            for k, ln in enumerate(lines):
                inter = self._geoms[z].intersection(ln)
                if inter.is_empty:
                    continue
                pts = shapely.points(shapely.get_coordinates(inter))
                best = min(best, offsets[k] + float(np.min(ln.project(pts))))
                break
            first[int(z)] = best
        return sorted(first, key=lambda z: (first[z], z))


def track_geometry(lat_deg, lon_deg):
    """A polyline in degrees as a shapely (Multi)LineString, cut where it
    crosses the antimeridian (both parts meet at the crossing) and where a
    position is missing (a failed propagation: the track is unknown there,
    so nothing is drawn across it); ``None`` if no part has two points.
    The parts are ``tracks.split_antimeridian``'s."""
    from shapely.geometry import LineString, MultiLineString

    from .tracks import split_antimeridian
    lat = np.asarray(lat_deg, dtype=float).ravel()
    lon = (np.asarray(lon_deg, dtype=float).ravel() + 180.0) % 360.0 - 180.0
    parts = split_antimeridian(lon, lat)
    if not parts:
        return None
    return LineString(parts[0]) if len(parts) == 1 else MultiLineString(parts)


def track_coordinates(lat_deg, lon_deg):
    """GeoJSON coordinates of a track: a list of ``[lon, lat]`` lists per
    piece (cut at the antimeridian)."""
    g = track_geometry(lat_deg, lon_deg)
    if g is None:
        return []
    lines = [g] if g.geom_type == "LineString" else list(g.geoms)
    return [[[round(x, 6), round(y, 6)] for x, y in line.coords] for line in lines]
