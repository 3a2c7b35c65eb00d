"""A user's site and zone files: read here, parsed by the pure core.

:mod:`satwatch.sites` and :mod:`satwatch.zones` parse text and never open a
file; these two readers are the thin I/O around them, as
:mod:`satwatch.sources.loading` is around :mod:`satwatch.elements`.  Error
messages name the file, and the parsers add the line and field.
"""
from __future__ import annotations

from pathlib import Path

from ..sites import Site, SiteError, parse_sites
from ..zones import Zone, ZoneError, parse_zones


def load_sites(path) -> list[Site]:
    """Sites from a CSV, GeoJSON, JSON, YAML or TOML file (by extension)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SiteError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
    return parse_sites(text, str(path), format=path.suffix)


def read_zones(path, *, kind: str | None = None, object_name: str | None = None) -> list[Zone]:
    """Zones from a TopoJSON or GeoJSON file (see :func:`satwatch.zones.parse_zones`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ZoneError(f"{path}: cannot read zone file: {exc.strerror or exc}") from None
    return parse_zones(text, str(path), kind=kind, object_name=object_name)
