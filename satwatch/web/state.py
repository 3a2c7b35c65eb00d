"""Per-process state: the catalog (loaded once), its index, and the database.

Everything a request needs is built here once; routes only look things up
and call the core with bounded inputs.
"""
from __future__ import annotations

import threading
import time as _time
from dataclasses import dataclass, field

import numpy as np

from ..catalog import Catalog
from .errors import ApiError, limit_exceeded, not_found
from .settings import Settings


@dataclass
class CatalogIndex:
    """A catalog with the lookups the API needs precomputed: the row of each
    NORAD id, sorted ids for paging, and every object's Satrec built once."""

    catalog: Catalog
    row_of: dict[int, int] = field(default_factory=dict)
    norad_ids: np.ndarray = None
    epochs_ns: np.ndarray = None
    loaded_ns: int = 0

    @classmethod
    def build(cls, catalog: Catalog, loaded_ns: int) -> "CatalogIndex":
        ids = catalog.norad_ids
        index = cls(catalog, {int(n): i for i, n in enumerate(ids)}, ids,
                     catalog.epochs.ns.astype(np.int64), loaded_ns)
        catalog.satrecs            # build every Satrec now, not in a request
        return index

    def rows(self, norad_ids, *, limit: int) -> np.ndarray:
        ids = list(dict.fromkeys(int(n) for n in norad_ids))
        if len(ids) > limit:
            raise limit_exceeded(
                f"{len(ids)} objects asked for; at most {limit} per request "
                "(split the request)", objects=len(ids), max_objects=limit)
        missing = [n for n in ids if n not in self.row_of]
        if missing:
            raise not_found(f"no object {missing[0]} in the loaded catalog "
                            f"({len(self.catalog)} objects from {self.catalog.source})",
                            missing=missing[:20])
        return np.array([self.row_of[n] for n in ids], dtype=np.int64)

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
        self._index: CatalogIndex | None = None
        self._alert_store = None
        self.started_ns = self.now_ns()

    def now_ns(self) -> int:
        clock = self.settings.clock_ns
        return int(clock()) if clock else _time.time_ns()

    # -- catalog --------------------------------------------------------
    def load(self) -> None:
        """Load the catalog once (at start-up)."""
        self.index

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
