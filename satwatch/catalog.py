"""A catalog: element sets of many objects, looked up by NORAD id or name,
filtered, and propagated all at once."""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from .elements import ElementSet, Rejection, catalog_number
from .errors import CatalogError
from .propagation import States, propagate, satrec
from .time import Time

# Orbit regimes by period and eccentricity (conventional boundaries: LEO
# below 128 min, GEO 1436 +- 10% min with e < 0.1, HEO e >= 0.25).
REGIMES = ("LEO", "MEO", "GEO", "GTO", "HEO", "other")
# Molniya-type orbits (12 h, e ~0.7, perigee low) look like a GTO by period
# and eccentricity; their inclination tells them apart: near the critical
# 63.4 deg (ESA's Space Environment Report's MGO class takes 50-70 deg).  In
# the 2023-10-13 catalog the low-perigee e > 0.6 orbits of 600-1000 min lie
# at 0-55 deg (GTOs; Breeze-M stages at 46-50 deg, a CZ-3A stage of an IGSO
# launch at 55.0), one Breeze-M tank at 59.4 deg (apogee at GEO height, a
# GTO), and at 61.5-67 deg (Molniya, Meridian, Arktika-M, their stages and
# debris): 60 deg splits them.
MOLNIYA_INCLINATION_DEG = (60.0, 70.0)


def orbit_regime(period_min: float, eccentricity: float, perigee_alt_km: float,
                 inclination_deg: float | None = None) -> str:
    """LEO, MEO, GEO, GTO, HEO or other; without ``inclination_deg`` a
    Molniya orbit cannot be told from a GTO (and is called GTO)."""
    if eccentricity >= 0.25:
        if perigee_alt_km < 2000 and 600 < period_min < 1000:
            molniya = inclination_deg is not None and \
                MOLNIYA_INCLINATION_DEG[0] <= inclination_deg <= MOLNIYA_INCLINATION_DEG[1]
            return "GTO" if period_min > 600 and eccentricity > 0.6 and not molniya else "HEO"
        return "HEO"

    if period_min < 128:
        return "LEO"
    if 1300 <= period_min <= 1580 and eccentricity < 0.1:
        return "GEO"
    if period_min < 1300:
        return "MEO"
    return "other"


@dataclass
class Catalog:
    """Element sets, one per object (the newest when a source repeats one).

    ``rejections`` lists the records of the source that could not be read;
    ``source`` says where the data came from.
    """

    element_sets: list[ElementSet]
    rejections: list[Rejection] = field(default_factory=list)
    source: str | None = None
    _satrecs: list | None = field(default=None, repr=False)
    _array: object | None = field(default=None, repr=False)
    # per-catalog constants derived by analyses (e.g. passes' ephemeris
    # constants), computed once like the Satrec objects above
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_element_sets(cls, element_sets: Iterable[ElementSet], rejections=(),
                          source=None, keep_history: bool = False) -> "Catalog":
        """Keep the newest element set of each object (unless ``keep_history``)."""
        sets = list(element_sets)
        if not keep_history:
            newest: dict[int, ElementSet] = {}
            for es in sets:
                old = newest.get(es.norad_id)
                if old is None or es.epoch_ns >= old.epoch_ns:
                    newest[es.norad_id] = es
            if len(newest) != len(sets):
                order = {es.norad_id: i for i, es in enumerate(sets)}
                sets = sorted(newest.values(), key=lambda es: order[es.norad_id])
        return cls(sets, list(rejections), source)

    # -- collection -----------------------------------------------------
    def __len__(self):
        return len(self.element_sets)

    def __iter__(self):
        return iter(self.element_sets)

    @property
    def norad_ids(self) -> np.ndarray:
        return np.fromiter((es.norad_id for es in self.element_sets), np.int64,
                           len(self.element_sets))

    @property
    def names(self) -> list[str]:
        return [es.name for es in self.element_sets]

    @property
    def epochs(self) -> Time:
        return Time(np.fromiter((es.epoch_ns for es in self.element_sets), np.int64,
                                len(self.element_sets)))

    def __getitem__(self, key) -> ElementSet:
        """By NORAD id (int, digits or Alpha-5) or by exact name (case-insensitive)."""
        found = self.find(key)
        if not found:
            raise CatalogError(f"no object {key!r} in this catalog "
                               f"({len(self)} objects from {self.source or 'memory'})")
        return found[0]

    def find(self, query) -> list[ElementSet]:
        """Objects matching a NORAD id (an integer, digits, or Alpha-5 such as
        ``T0288`` = 270288, as TLE columns 3-7 write it), an exact name, or a
        name pattern (``*`` and ``?`` wildcards, case-insensitive)."""
        nid = (int(query) if isinstance(query, (int, np.integer))
               else catalog_number(query) if isinstance(query, str) else None)
        if nid is not None:
            return [es for es in self.element_sets if es.norad_id == nid]
        q = str(query).strip().upper()
        exact = [es for es in self.element_sets if es.name.upper() == q]
        if exact:
            return exact
        if any(ch in q for ch in "*?["):
            return [es for es in self.element_sets if fnmatch.fnmatchcase(es.name.upper(), q)]
        return []

    def select(self, queries: Sequence) -> "Catalog":
        """A sub-catalog of the named objects; a query that matches nothing
        raises :class:`CatalogError` naming it."""
        out: list[ElementSet] = []
        seen: set[int] = set()
        for q in queries:
            found = self.find(q)
            if not found:
                raise CatalogError(f"no object {q!r} in this catalog (give a NORAD id, "
                                   "digits or Alpha-5 such as A0001, an exact name, or a "
                                   "pattern such as 'STARLINK*')")
            for es in found:
                if es.norad_id not in seen:
                    seen.add(es.norad_id)
                    out.append(es)
        return Catalog(out, [], self.source)

    def filter(self, predicate: Callable[[ElementSet], bool] | None = None, *,
               name: str | None = None, regime: str | None = None,
               norad_ids: Iterable[int] | None = None) -> "Catalog":
        """A sub-catalog: by predicate, name pattern, orbit regime or ids."""
        sets = self.element_sets
        if norad_ids is not None:
            wanted = set(int(n) for n in norad_ids)
            sets = [es for es in sets if es.norad_id in wanted]
        if name is not None:
            pattern = name.upper() if any(c in name for c in "*?[") else f"*{name.upper()}*"
            sets = [es for es in sets if fnmatch.fnmatchcase(es.name.upper(), pattern)]
        if regime is not None:
            sets = [es for es in sets if regime_of(es).upper() == regime.upper()]
        if predicate is not None:
            sets = [es for es in sets if predicate(es)]
        return Catalog(list(sets), [], self.source)

    def __getstate__(self):
        """Pickles without the caches (sgp4's Satrec objects do not pickle):
        they are rebuilt from the element sets on first use."""
        state = dict(self.__dict__)
        state.update(_satrecs=None, _array=None, _derived={})
        return state

    # -- propagation ----------------------------------------------------
    @property
    def satrecs(self) -> list:
        if self._satrecs is None or len(self._satrecs) != len(self.element_sets):
            # (re)built when the element sets were replaced or added to
            self._satrecs = [satrec(es) for es in self.element_sets]
            self._array = None
            self._derived = {}
        return self._satrecs

    @property
    def satrec_array(self):
        self.satrecs                        # rebuilds the caches if the sets changed
        if self._array is None:
            from sgp4.api import SatrecArray
            self._array = SatrecArray(self.satrecs)
        return self._array

    def propagate(self, times: Time) -> States:
        """TEME states of every object at every time: ``(3, n_sat, n_time)``."""
        if not len(self):
            raise CatalogError("the catalog is empty: nothing to propagate")
        return propagate(self.satrec_array, times, self.norad_ids,
                         np.fromiter((es.epoch_ns for es in self.element_sets), np.int64,
                                     len(self)))

    # -- summary --------------------------------------------------------
    def summary(self) -> dict:
        epochs = self.epochs.ns
        regimes = {r: 0 for r in REGIMES}
        for es in self.element_sets:
            regimes[regime_of(es)] += 1
        def iso(ns):
            return Time(ns).iso(0)
        return {
            "source": self.source,
            "objects": len(self),
            "rejected": len(self.rejections),
            "rejections": [{"source": r.source, "line": r.line, "field": r.field,
                            "reason": r.reason} for r in self.rejections],
            "epoch_min": iso(epochs.min()) if len(epochs) else None,
            "epoch_median": iso(int(np.median(epochs))) if len(epochs) else None,
            "epoch_max": iso(epochs.max()) if len(epochs) else None,
            "regimes": regimes,
        }


def regime_of(es: ElementSet) -> str:
    return orbit_regime(es.period_min, es.eccentricity, es.perigee_alt_km, es.inclination_deg)
