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

__all__ = ["Catalog", "ElementSet", "Rejection", "parse_elements", "write_omm", "write_tle",
           "write_tle_text", "CatalogError", "ElementsError", "SatwatchError", "SatwatchWarning",
           "SourceError", "StaleElementsWarning", "TimeError", "Geodetic", "GroundPoint",
           "Topocentric", "itrs_to_geodetic", "teme_to_itrs", "SGP4_ERRORS", "States",
           "propagate", "satrec", "load_catalog", "Time", "utc", "utc_range", "orbit_regime",
           "regime_of"]
