"""Conjunction screening on a Dask distributed cluster.

The window is cut into the same time blocks as the single-machine run
(:meth:`satwatch.conjunctions.Grid.blocks`); each block is one task that runs
:func:`satwatch.conjunctions.screen_block` on a worker, and the client joins
the results with the same :func:`satwatch.conjunctions.merge_blocks`.  Same
blocks, same code, same inputs: the events are identical to a local run, bit
for bit.  The element sets travel once to every worker (``scatter`` with
``broadcast``); workers rebuild the SGP4 satellites with
:func:`satwatch.propagation.satrec`, exactly as the client does, and keep them
for the following blocks.

The caller brings the cluster: a :class:`distributed.Client`, or a scheduler
address (``tcp://host:8786``).  See docs/conjunctions.md for a multi-node set-up.
"""
from __future__ import annotations

import threading
import uuid

import numpy as np

from .conjunctions import (BlockResult, ConjunctionError, Conjunctions, ObjectTable,
                           ScreeningSettings, make_grid, merge_blocks, primary_mask)
from .propagation import warn_if_stale
from .time import Time

_CACHE: dict = {}
_CACHE_LOCK = threading.Lock()


def _objects_on_worker(token: str, element_sets) -> tuple:
    """The worker's ObjectTable and SatrecArray for this run (built once)."""
    with _CACHE_LOCK:
        hit = _CACHE.get(token)
        if hit is None:
            from sgp4.api import SatrecArray
            from .catalog import Catalog
            catalog = Catalog.from_element_sets(element_sets, keep_history=True)
            objects = ObjectTable.from_catalog(catalog)
            hit = (objects, SatrecArray(objects.satrecs))
            _CACHE.clear()              # one run at a time per worker process
            _CACHE[token] = hit
        return hit


def _block_task(token, element_sets, grid, k0, k1, settings, primary) -> BlockResult:
    from .conjunctions import screen_block
    objects, sa = _objects_on_worker(token, element_sets)
    return screen_block(objects, grid, k0, k1, settings, primary, sa)


def screen_distributed(catalog, start: Time, end: Time, threshold_km: float = 5.0, *,
                       client=None, scheduler: str | None = None, primaries=None,
                       settings: ScreeningSettings | None = None,
                       progress=None) -> Conjunctions:
    """:func:`satwatch.conjunctions.screen_conjunctions` with the blocks run as
    Dask tasks.  Give ``client`` (a ``distributed.Client``) or ``scheduler``
    (its address)."""
    settings = settings or ScreeningSettings(threshold_km=threshold_km)
    if settings.threshold_km != threshold_km:
        settings = ScreeningSettings(**{**settings.__dict__, "threshold_km": threshold_km})
    if len(catalog) < 2:
        raise ConjunctionError("screening needs at least two objects in the catalog")
    warn_if_stale(catalog.epochs.ns, start.ns, end.ns)
    own = None
    if client is None:
        if not scheduler:
            raise ConjunctionError("screen_distributed needs a Dask client or a scheduler "
                                   "address such as tcp://127.0.0.1:8786")
        from distributed import Client
        client = own = Client(scheduler)
    try:
        objects = ObjectTable.from_catalog(catalog)
        grid = make_grid(start, end, settings)
        primary = primary_mask(objects, primaries)
        element_sets = list(catalog)
        token = uuid.uuid4().hex
        sets_future = client.scatter(element_sets, broadcast=True, hash=False)
        futures = [client.submit(_block_task, token, sets_future, grid, k0, k1, settings,
                                 primary, pure=False, key=f"conjunction-block-{token}-{k0}")
                   for k0, k1 in grid.blocks()]
        results: list = [None] * len(futures)
        index = {f.key: i for i, f in enumerate(futures)}
        from distributed import as_completed
        for fut in as_completed(futures):
            results[index[fut.key]] = fut.result()
            if progress is not None:
                progress(1)
        return merge_blocks(objects, grid, results, settings, primary)
    finally:
        if own is not None:
            own.close()


def same_events(a: Conjunctions, b: Conjunctions) -> bool:
    """True when two runs found exactly the same events (ids, TCA to the
    nanosecond, and bit-identical states)."""
    return (len(a) == len(b)
            and np.array_equal(a.norad_id_1, b.norad_id_1)
            and np.array_equal(a.norad_id_2, b.norad_id_2)
            and np.array_equal(a.tca.ns, b.tca.ns)
            and np.array_equal(a.miss_km, b.miss_km)
            and np.array_equal(a.r1_teme_km, b.r1_teme_km)
            and np.array_equal(a.r2_teme_km, b.r2_teme_km))
