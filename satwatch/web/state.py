"""Per-process state: the catalog (loaded once), its index, and the database.

Everything a request needs is built here once; routes only look things up
and call the core with bounded inputs.
"""
from __future__ import annotations

import hashlib
import itertools
import threading
import time as _time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from ..catalog import Catalog
from .errors import ApiError, limit_exceeded, not_found
from .settings import Settings


# Positions kept for this many recent (time, objects) pairs (1,000 objects:
# 32 kB each).
POSITION_CACHE_ENTRIES = 256


class SmallCache:
    """A thread-safe LRU of a bounded number of entries."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.size:
                self._data.popitem(last=False)


# Positions answers (JSON bytes) kept for identical questions in the same
# second: 1,000 objects are ~56 kB; 64 of them ~4 MB.
ANSWER_CACHE_ENTRIES = 64


_SERIALS = itertools.count(1)


@dataclass
class CatalogIndex:
    """A catalog with the lookups the API needs precomputed: the row of each
    NORAD id, sorted ids for paging, and every object's Satrec built once."""

    catalog: Catalog
    row_of: dict[int, int] = field(default_factory=dict)
    norad_ids: np.ndarray = None
    epochs_ns: np.ndarray = None
    loaded_ns: int = 0
    sorted_ids: np.ndarray = None
    sorted_rows: np.ndarray = None
    _positions: OrderedDict = field(default_factory=OrderedDict)
    answers: SmallCache = field(default_factory=lambda: SmallCache(ANSWER_CACHE_ENTRIES))
    _positions_lock: threading.Lock = field(default_factory=threading.Lock)
    # a number no other index of this process has (cache keys: an id() can be
    # reused by a new object once the old one is collected)
    serial: int = field(default_factory=lambda: next(_SERIALS))

    @classmethod
    def build(cls, catalog: Catalog, loaded_ns: int) -> "CatalogIndex":
        ids = catalog.norad_ids
        order = np.argsort(ids, kind="stable")
        index = cls(catalog, {int(n): i for i, n in enumerate(ids)}, ids,
                    catalog.epochs.ns.astype(np.int64), loaded_ns, ids[order], order)
        catalog.satrecs            # build every Satrec now, not in a request
        return index

    def rows(self, norad_ids, *, limit: int) -> np.ndarray:
        """Catalog rows of the ids (first occurrence order, duplicates dropped)."""
        ids = np.asarray(norad_ids, dtype=np.int64)
        _, first = np.unique(ids, return_index=True)
        ids = ids[np.sort(first)]
        if len(ids) > limit:
            raise limit_exceeded(
                f"{len(ids)} objects asked for; at most {limit} per request "
                "(split the request)", objects=len(ids), max_objects=limit)
        pos = np.searchsorted(self.sorted_ids, ids)
        pos = np.minimum(pos, max(len(self.sorted_ids) - 1, 0))
        found = (self.sorted_ids[pos] == ids) if len(self.sorted_ids) else \
            np.zeros(len(ids), bool)
        if not found.all():
            missing = ids[~found].tolist()
            raise not_found(f"no object {missing[0]} in the loaded catalog "
                            f"({len(self.catalog)} objects from {self.catalog.source})",
                            missing=missing[:20])
        return self.sorted_rows[pos]

    def geodetic_at(self, t_ns: int, rows: np.ndarray):
        """WGS-84 latitude, longitude (deg), altitude (km) and SGP4 error code
        of the objects ``rows`` at one time.  Kept for a few recent (time,
        objects) pairs: a page polling the same objects, or many clients at
        the same second, share one computation."""
        key = (int(t_ns), hashlib.blake2b(rows.tobytes(), digest_size=16).digest())
        with self._positions_lock:
            hit = self._positions.get(key)
            if hit is not None:
                self._positions.move_to_end(key)
                return hit
        from ..propagation import propagate
        from ..time import Time
        sub = self.subset(rows)
        states = propagate(sub.satrec_array, Time(int(t_ns)), sub.norad_ids)
        geo = states.geodetic()
        ok = states.error[:, 0] == 0
        value = (np.where(ok, geo.lat_deg[:, 0], np.nan), np.where(ok, geo.lon_deg[:, 0], np.nan),
                 np.where(ok, geo.alt_km[:, 0], np.nan), states.error[:, 0].astype(np.int64))
        with self._positions_lock:
            self._positions[key] = value
            while len(self._positions) > POSITION_CACHE_ENTRIES:
                self._positions.popitem(last=False)
        return value

    def subset(self, rows: np.ndarray) -> Catalog:
        """A sub-catalog whose Satrecs are reused, not rebuilt."""
        sets = [self.catalog.element_sets[i] for i in rows]
        sub = Catalog(sets, [], self.catalog.source)
        all_recs = self.catalog.satrecs
        sub._satrecs = [all_recs[i] for i in rows]
        return sub


class ServiceState:
    """What one process holds: settings, the catalog index, the alert store."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        # one ingest at a time reads, merges and replaces the catalog
        self.ingest_lock = threading.Lock()
        self.serial = next(_SERIALS)            # (cache keys, as CatalogIndex.serial)
        self._index: CatalogIndex | None = None
        self._alert_store = None
        self.started_ns = self.now_ns()

    def now_ns(self) -> int:
        clock = self.settings.clock_ns
        return int(clock()) if clock else _time.time_ns()

    # -- catalog --------------------------------------------------------
    def load(self) -> None:
        """Load the catalog once and open the database (at start-up, so that
        a bad catalog or database stops the service at once)."""
        self.index
        self.alert_store

    @property
    def index(self) -> CatalogIndex:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = CatalogIndex.build(self._read_catalog(), self.now_ns())
        return self._index

    def _read_catalog(self) -> Catalog:
        if self.settings.catalog is not None:
            return self.settings.catalog
        if self.settings.catalog_source:
            from ..sources import load_catalog
            catalog = load_catalog(self.settings.catalog_source)
            catalog.source = catalog.source or self.settings.catalog_source
            return catalog
        return Catalog([], [], "empty (start the service with --catalog)")

    def replace_catalog(self, catalog: Catalog) -> CatalogIndex:
        index = CatalogIndex.build(catalog, self.now_ns())
        with self._lock:
            self._index = index
        return index

    # -- database -------------------------------------------------------
    @property
    def alert_store(self):
        if self._alert_store is None:
            with self._lock:
                if self._alert_store is None:
                    from ..alerts import AlertStore
                    self._alert_store = AlertStore.open(self.settings.db_url)
        return self._alert_store

    def close(self) -> None:
        if self._alert_store is not None:
            self._alert_store.close()
            self._alert_store = None


def require_catalog(index: CatalogIndex) -> None:
    if not len(index.catalog):
        raise ApiError(503, "unavailable", "no catalog is loaded: start the service with "
                       "--catalog FILE or run 'satwatch update' first")
