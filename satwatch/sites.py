"""Sites: named places on the ground (launch sites, missile bases, targets).

The built-in registry (``satwatch/data/sites.csv``) holds the launch sites
and programme sites users of this field ask about first, each with the
reference row its coordinates were copied from (GCAT launch-pad and site
tables by Jonathan McDowell, CC-BY 4.0; CNS North Korea Missile Test
Database facility list).  Users add sites as ``lat,lon[,alt_m]`` text, or
from CSV, GeoJSON, YAML/TOML/JSON config files.

Everything here is pure: the parsers (:func:`parse_sites`,
:func:`parse_sites_csv`, :func:`parse_sites_geojson`,
:func:`parse_sites_mapping`) take text and a source name for their error
messages; a user's file is read by :func:`satwatch.sources.files.load_sites`.
The one read here is the built-in registry, package data shipped inside
satwatch and read through ``importlib.resources`` -- the same exception
``docs/design.md`` makes for the IERS tables, not a read of user disk.
"""
from __future__ import annotations

import csv
import functools
import io
import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources

from .errors import SatwatchError
from .frames import GroundPoint

KINDS = ("launch site", "missile site", "other")
GCAT_CITATION = ("Jonathan McDowell, General Catalog of Artificial Space Objects (GCAT), "
                 "CC-BY 4.0")
CNS_CITATION = ("CNS North Korea Missile Test Database (James Martin Center for "
                "Nonproliferation Studies / NTI), facility list")


class SiteError(SatwatchError, ValueError):
    """A site could not be found or read; names the file, line and field."""

    def __init__(self, reason: str, *, source: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.reason, self.source, self.line, self.field = reason, source, line, field
        where = [str(x) for x in (source, None if line is None else f"line {line}",
                                  None if field is None else f"field {field}") if x]
        super().__init__(f"{', '.join(where)}: {reason}" if where else reason)


@dataclass(frozen=True)
class Site:
    """A named point on the WGS-84 ellipsoid.

    ``source`` says where the coordinates come from (a citation for
    built-in sites, the file and line for user sites); ``ref`` is the
    machine-readable reference row (``gcat-lp:SITE/PAD``, ``gcat-sites:SITE``,
    ``cns:KEY``) or ``""``; ``uncertainty_deg`` is the source's stated error.
    """

    name: str
    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0
    code: str = ""
    kind: str = "other"
    country: str = ""
    source: str = ""
    ref: str = ""
    uncertainty_deg: float | None = None
    aliases: tuple = field(default=())

    @property
    def ground_point(self) -> GroundPoint:
        return GroundPoint(self.lat_deg, self.lon_deg, self.alt_m, self.code or self.name)

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "kind": self.kind,
                "country": self.country, "lat_deg": self.lat_deg, "lon_deg": self.lon_deg,
                "alt_m": self.alt_m, "uncertainty_deg": self.uncertainty_deg,
                "aliases": list(self.aliases), "source": self.source, "ref": self.ref}


def _citation(ref: str) -> str:
    kind, _, key = ref.partition(":")
    if kind == "gcat-lp":
        return f"{GCAT_CITATION}, lp.tsv {key}"
    if kind == "gcat-sites":
        return f"{GCAT_CITATION}, sites.tsv {key}"
    if kind == "cns":
        return f"{CNS_CITATION}, facility {key}"
    return ref


def _float(value, name, source, line, *, lo=None, hi=None, default=None):
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is not None:
            return default
        raise SiteError(f"{name} is missing", source=source, line=line, field=name)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise SiteError(f"{name} {value!r} is not a number", source=source, line=line,
                        field=name) from None
    if not math.isfinite(x) or (lo is not None and x < lo) or (hi is not None and x > hi):
        raise SiteError(f"{name} {value!r} is out of range [{lo}, {hi}]", source=source,
                        line=line, field=name)
    return x


def make_site(name, lat_deg, lon_deg, alt_m=None, *, code=None, kind="other", country="",
              source="", ref="", uncertainty_deg=None, aliases=(), line=None) -> Site:
    """A validated :class:`Site` (errors name ``source``, ``line`` and the field)."""
    if not name or not str(name).strip():
        raise SiteError("name is missing", source=source, line=line, field="name")
    lat = _float(lat_deg, "lat_deg", source, line, lo=-90, hi=90)
    lon = _float(lon_deg, "lon_deg", source, line, lo=-180, hi=360)
    if lon > 180:
        lon -= 360.0
    alt = _float(alt_m, "alt_m", source, line, lo=-12_000, hi=100_000, default=0.0)
    kind = (kind or "other").strip().lower()
    if kind not in KINDS:
        raise SiteError(f"kind {kind!r} is not one of {', '.join(KINDS)}", source=source,
                        line=line, field="kind")
    unc = None if uncertainty_deg in (None, "") else _float(uncertainty_deg, "uncertainty_deg",
                                                            source, line, lo=0)
    code = (code or re.sub(r"[^A-Z0-9]+", "_", str(name).upper()).strip("_"))
    return Site(str(name).strip(), lat, lon, alt, code.strip(), kind, country or "",
                source, ref, unc, tuple(a for a in aliases if a))


# -- parsers (pure) ------------------------------------------------------------

def parse_sites_csv(text: str, source: str = "<csv>") -> list[Site]:
    """Sites from CSV with a header: ``name`` (or ``code``), ``lat_deg``/``lat``/
    ``latitude``, ``lon_deg``/``lon``/``longitude``, optional ``alt_m``, ``code``,
    ``kind``, ``country``, ``aliases`` (``;``-separated), ``ref``.  Lines
    starting with ``#`` are comments."""
    lines = text.splitlines()
    numbered = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and
                not ln.lstrip().startswith("#")]
    if not numbered:
        raise SiteError("no sites (empty file)", source=source)
    reader = csv.reader(io.StringIO("\n".join(ln for _, ln in numbered)))
    rows = list(reader)
    header = [h.strip().lower() for h in rows[0]]

    def col(*names):
        for n in names:
            if n in header:
                return header.index(n)
        return None

    c_name, c_code = col("name"), col("code", "id")
    c_lat, c_lon = col("lat_deg", "lat", "latitude"), col("lon_deg", "lon", "longitude")
    c_alt = col("alt_m", "altitude_m", "elevation_m")
    if c_name is None and c_code is None:
        raise SiteError("header has no 'name' or 'code' column", source=source,
                        line=numbered[0][0], field="name")
    for c, n in ((c_lat, "lat_deg"), (c_lon, "lon_deg")):
        if c is None:
            raise SiteError(f"header has no '{n}' column", source=source, line=numbered[0][0],
                            field=n)
    sites = []
    for (lineno, _), row in zip(numbered[1:], rows[1:]):
        def get(c):
            return row[c].strip() if c is not None and c < len(row) else ""
        if len(row) < len(header):
            raise SiteError(f"{len(row)} fields, the header has {len(header)}",
                            source=source, line=lineno)
        ref = get(col("ref"))
        unc = get(col("uncertainty_deg"))
        sites.append(make_site(
            get(c_name) or get(c_code), get(c_lat), get(c_lon), get(c_alt) or None,
            code=get(c_code) or None, kind=get(col("kind")) or "other",
            country=get(col("country")),
            source=_citation(ref) if ref else f"{source} line {lineno}", ref=ref,
            uncertainty_deg=unc or None,
            aliases=tuple(a.strip() for a in get(col("aliases")).split(";")), line=lineno))
    return sites


def parse_sites_geojson(text: str, source: str = "<geojson>") -> list[Site]:
    """Sites from GeoJSON Point features (a FeatureCollection, a Feature or a
    bare Point); the name comes from ``properties.name`` (or ``code``/``id``)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SiteError(f"not valid JSON: {exc.msg}", source=source, line=exc.lineno) from None
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features") or []
        if not isinstance(features, list):
            raise SiteError("features must be a list of Point features", source=source,
                            field="features")
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    elif isinstance(doc, dict) and doc.get("type") == "Point":
        features = [{"type": "Feature", "geometry": doc, "properties": {}}]
    else:
        raise SiteError("expected a GeoJSON FeatureCollection, Feature or Point",
                        source=source, field="type")
    sites = []
    for i, feat in enumerate(features):
        where = f"features[{i}]"
        if not isinstance(feat, dict):
            raise SiteError(f"{where}: a feature must be an object, not {feat!r}",
                            source=source, field=where)
        geom = feat.get("geometry") or {}
        props = feat.get("properties") or {}
        for part, value in ((f"{where}.geometry", geom), (f"{where}.properties", props)):
            if not isinstance(value, dict):
                raise SiteError(f"{part} must be an object, not {value!r}", source=source,
                                field=part)
        if geom.get("type") != "Point":
            raise SiteError(f"{where}: geometry is {geom.get('type')!r}, sites must be Points "
                            "(use --polygon for areas)", source=source, field=f"{where}.geometry")
        coords = geom.get("coordinates") or []
        if not isinstance(coords, list) or len(coords) < 2:
            raise SiteError(f"{where}: a Point needs [lon, lat]", source=source,
                            field=f"{where}.geometry.coordinates")
        name = props.get("name") or props.get("code") or props.get("id") or f"site {i + 1}"
        alt = props.get("alt_m", coords[2] if len(coords) > 2 else None)
        sites.append(make_site(name, coords[1], coords[0], alt, code=props.get("code"),
                               kind=props.get("kind", "other"),
                               country=props.get("country", ""),
                               source=f"{source} {where}"))
    return sites


def parse_sites_mapping(doc, source: str = "<config>") -> list[Site]:
    """Sites from a config mapping ``{"sites": {NAME: {lat_deg, lon_deg,
    alt_m?, kind?, country?}}}`` (or ``NAME: "lat,lon[,alt]"``), as read from
    YAML, TOML or JSON."""
    if isinstance(doc, dict) and "sites" in doc:
        doc = doc["sites"]
    if isinstance(doc, list):
        names = [str((d or {}).get("name", f"site {i + 1}")) if isinstance(d, dict)
                 else f"site {i + 1}" for i, d in enumerate(doc)]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            # a name is how a site is asked for: two sites of one name would
            # leave one unreachable (or lost)
            raise SiteError(f"site name(s) {', '.join(map(repr, repeated))} given more than "
                            "once", source=source, field="sites")
        doc = dict(zip(names, doc))
    if not isinstance(doc, dict):
        raise SiteError("expected a mapping of site names to coordinates", source=source,
                        field="sites")
    sites = []
    for name, spec in doc.items():
        if isinstance(spec, str):
            parsed = _split_latlon(spec, source, f"sites.{name}")
            if parsed is None:
                raise SiteError(f"cannot read site {name!r} from {spec!r}: give "
                                "'lat,lon[,alt_m]' in degrees and metres, or a mapping",
                                source=source, field=f"sites.{name}")
            lat, lon, alt = parsed
            sites.append(make_site(name, lat, lon, alt, source=f"{source} sites.{name}"))
            continue
        if not isinstance(spec, dict):
            raise SiteError(f"site {name!r} must be a mapping or 'lat,lon[,alt_m]'",
                            source=source, field=f"sites.{name}")
        def pick(*keys):
            for k in keys:
                if k in spec:
                    return spec[k]
            return None
        try:
            sites.append(make_site(name, pick("lat_deg", "lat", "latitude"),
                                   pick("lon_deg", "lon", "longitude"),
                                   pick("alt_m", "altitude_m"), code=spec.get("code"),
                                   kind=spec.get("kind", "other"),
                                   country=spec.get("country", ""),
                                   source=f"{source} sites.{name}"))
        except SiteError as exc:
            raise SiteError(exc.reason, source=source, field=f"sites.{name}.{exc.field}") from None
    return sites


# a number as people and programs write it: 51.9, -.5, +128, 1.2e3
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_LATLON_RE = re.compile(rf"^\s*({_NUMBER})\s*,\s*({_NUMBER})\s*(?:,\s*({_NUMBER}))?\s*$")


def _split_latlon(text: str, source=None, field=None):
    m = _LATLON_RE.match(text)
    if not m:
        return None
    return float(m.group(1)), float(m.group(2)), (float(m.group(3)) if m.group(3) else 0.0)


# -- registry ------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _builtin() -> tuple:
    text = (resources.files("satwatch") / "data" / "sites.csv").read_text(encoding="utf-8")
    return tuple(parse_sites_csv(text, source="satwatch/data/sites.csv"))


def builtin_sites() -> list[Site]:
    """The built-in registry (launch sites and programme sites), each citing
    its source."""
    return list(_builtin())


def find_site(query: str, extra_sites=()) -> Site:
    """A site by code, name or alias (case-insensitive; an unambiguous prefix
    is enough), or from ``"lat,lon[,alt_m]"`` text.  ``extra_sites`` (user
    sites) are searched before the built-in ones."""
    if isinstance(query, Site):
        return query
    text = str(query).strip()
    parsed = _split_latlon(text)
    if parsed is not None:
        lat, lon, alt = parsed
        return make_site(text, lat, lon, alt, code=text.replace(" ", ""),
                         source="given as lat,lon", line=None)
    if re.match(r"^[-+\d.,\s]+$", text):
        raise SiteError(f"cannot read site {text!r}: give lat,lon[,alt_m] in degrees and metres")
    pool = list(extra_sites) + builtin_sites()
    key = _norm(text)

    def keys(s):
        return [_norm(s.code), _norm(s.name)] + [_norm(a) for a in s.aliases]

    exact = [s for s in pool if key in keys(s)]
    if exact:
        return exact[0]
    prefix = [s for s in pool if any(k.startswith(key) for k in keys(s))]
    unique = {s.code: s for s in prefix}
    if len(unique) == 1:
        return prefix[0]
    if len(unique) > 1:
        raise SiteError(f"site {text!r} is ambiguous: {', '.join(sorted(unique))}; "
                        "give more of the name")
    raise SiteError(f"no site {text!r}: give a site code (see 'satwatch sites'), "
                    "lat,lon[,alt_m], or add it with --sites FILE")


def _unique_keys(keys_lines, source) -> None:
    """Refuse a key given twice in one mapping (YAML 1.2.2 sec. 3.2.1.1;
    RFC 8259 sec. 4): YAML and JSON readers keep the last value, and the
    site (or value) before it would be lost without a word.
    ``keys_lines``: ``(key, line or None)`` pairs."""
    seen = set()
    for key, line in keys_lines:
        try:
            if key in seen:
                raise SiteError(f"{key!r} is given twice in one mapping: the first would be "
                                "lost (a site name, or a field of one site)", source=source,
                                line=line, field=str(key))
            seen.add(key)
        except TypeError:                   # an unhashable key: the mapping's own error
            continue


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


# -- text of a whole file (pure: the reader is satwatch.sources.files) ----------

SITE_FORMATS = ("csv", "geojson", "json", "yaml", "toml")


def parse_sites(text: str, source: str = "<sites>", *, format: str) -> list[Site]:
    """Sites from the text of a CSV, GeoJSON, JSON, YAML or TOML file.

    ``format`` is one of :data:`SITE_FORMATS` or a file suffix (``".yml"``);
    JSON that is a GeoJSON object is read as GeoJSON.  Errors name
    ``source``, the line and the field.  A leading byte-order mark (Excel's
    "CSV UTF-8", Notepad) is read away."""
    text = text.removeprefix("\ufeff")
    fmt = format.lower().lstrip(".")
    fmt = {"yml": "yaml"}.get(fmt, fmt)
    if fmt == "csv":
        return parse_sites_csv(text, source)
    if fmt == "geojson":
        return parse_sites_geojson(text, source)
    if fmt == "json":
        try:
            doc = json.loads(text, object_pairs_hook=lambda pairs: _unique_keys(
                [(k, None) for k, _ in pairs], source) or dict(pairs))
        except json.JSONDecodeError as exc:
            raise SiteError(f"not valid JSON: {exc.msg}", source=source,
                            line=exc.lineno) from None
        if isinstance(doc, dict) and doc.get("type") in ("FeatureCollection", "Feature", "Point"):
            return parse_sites_geojson(text, source)
        return parse_sites_mapping(doc, source)
    if fmt == "yaml":
        import yaml

        class UniqueKeyLoader(yaml.SafeLoader):
            def construct_mapping(self, node, deep=False):
                if isinstance(node, yaml.MappingNode):
                    _unique_keys([(self.construct_object(k, deep=True), k.start_mark.line + 1)
                                  for k, _ in node.value
                                  if k.tag != "tag:yaml.org,2002:merge"], source)
                return super().construct_mapping(node, deep)
        try:
            doc = yaml.load(text, Loader=UniqueKeyLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise SiteError(f"not valid YAML: {getattr(exc, 'problem', exc)}", source=source,
                            line=None if mark is None else mark.line + 1) from None
        return parse_sites_mapping(doc, source)
    if fmt == "toml":
        import tomllib
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SiteError(f"not valid TOML: {exc}", source=source) from None
        return parse_sites_mapping(doc, source)
    raise SiteError("unknown site file type: use .csv, .geojson, .json, .yaml or .toml",
                    source=source)
