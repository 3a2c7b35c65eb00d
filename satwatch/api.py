"""satwatch's public front door: what users import.

>>> import satwatch
>>> cat = satwatch.load_catalog("catalog.txt")            # doctest: +SKIP
>>> states = cat.propagate(satwatch.utc_range("2023-09-13T00:00:00Z",
...                                           "2023-09-14T00:00:00Z", 60))  # doctest: +SKIP
"""
from .catalog import Catalog, orbit_regime, regime_of
from .elements import (ElementSet, Rejection, parse_elements, write_omm, write_tle,
                       write_tle_text)
from .errors import (CatalogError, ElementsError, SatwatchError, SatwatchWarning, SourceError,
                     StaleElementsWarning, TimeError)
from .frames import Geodetic, GroundPoint, Topocentric, itrs_to_geodetic, teme_to_itrs
from .propagation import SGP4_ERRORS, States, propagate, satrec
from .sources import load_catalog
from .time import Time, utc, utc_range

# The analyses, imported on first use so that ``import satwatch`` stays quick.
_LAZY = {
    "find_site": "sites", "builtin_sites": "sites", "Site": "sites",
    "find_passes": "passes", "pass_rows": "passes", "find_access": "access",
    "find_crossings": "events", "find_maxima": "events", "all_of": "events",
    "any_of": "events", "negate": "events",
    "screen_conjunctions": "conjunctions", "detect_maneuvers": "maneuvers",
    "open_store": "store", "reach": "launches", "launch_windows": "launches",
    "identify": "launches", "solve_arc": "ballistic", "ZoneSet": "zones",
    "read_zones": "sources.files", "load_sites": "sources.files",
    "parse_cns": "reported_events", "analyze_event": "reported_events",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'satwatch' has no attribute {name!r}")
    import importlib
    target = "analyze" if name == "analyze_event" else name
    return getattr(importlib.import_module(f"satwatch.{module}"), target)


__all__ = ["Catalog", "ElementSet", "Rejection", "parse_elements", "write_omm", "write_tle",
           "write_tle_text", "CatalogError", "ElementsError", "SatwatchError", "SatwatchWarning",
           "SourceError", "StaleElementsWarning", "TimeError", "Geodetic", "GroundPoint",
           "Topocentric", "itrs_to_geodetic", "teme_to_itrs", "SGP4_ERRORS", "States",
           "propagate", "satrec", "load_catalog", "Time", "utc", "utc_range", "orbit_regime",
           "regime_of"]
