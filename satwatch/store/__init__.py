"""The store: every element set ever ingested, object metadata, and (through
migration steps added by other modules) sites, events and analysis results.

Public API::

    from satwatch.store import open_store
    store = open_store("sqlite:///path/satwatch.db")   # or postgresql+psycopg://...
    store.ingest_texts([(name, text), ...]); store.ingest_catalog(catalog)
    store.element_sets(norad_id, start=None, end=None) -> [ElementSet]
    store.latest_catalog(at=None) -> Catalog
    store.nearest(norad_id, time) -> ElementSet | None
    store.objects(query) / store.object(norad_id) -> metadata dicts
    store.history_arrays(norad_ids=None, since=None) -> [(norad_id, arrays)]

To add tables, see :mod:`satwatch.store.migrations` (append a
``Migration(version, name, "module:function")`` to ``MIGRATIONS``).
"""
from .database import Store, StoreError, create_store_engine, normalize_url, open_store
from .history import nearest_index, propagate_history, propagate_sets_nearest
from .ingest import IngestReport, elements_sha1
from .migrations import MIGRATIONS, Migration, migrate

__all__ = ["Store", "StoreError", "open_store", "create_store_engine", "normalize_url",
           "IngestReport", "elements_sha1", "MIGRATIONS", "Migration", "migrate",
           "nearest_index", "propagate_history", "propagate_sets_nearest"]
