"""Conjunctions: close approaches of chosen objects with the loaded catalog
(satwatch.conjunctions), screened over a bounded window."""
from __future__ import annotations

import threading
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from ... import conjunctions
from ...watch import shell_candidates
from ..deps import Page, Paging, State, check_span_end, page, parse_ids, read_time
from ..errors import limit_exceeded
from ..state import require_catalog

router = APIRouter(tags=["conjunctions"])
_cache: dict = {}
_lock = threading.Lock()
CACHE_SIZE = 64


class ConjunctionOut(BaseModel):
    tca: str
    norad_id_1: int
    name_1: str
    norad_id_2: int
    name_2: str
    miss_km: float
    relative_speed_km_s: float | None = None
    model_config = ConfigDict(extra="allow")


@router.get("/conjunctions", response_model=Page[ConjunctionOut],
            summary="Close approaches of chosen objects with the loaded catalog, by TCA")
def list_conjunctions(request: Request, state: State, paging: Paging,
                      ids: Annotated[str, Query(max_length=20_000, description=(
                          "primary objects: comma-separated NORAD ids"), examples=["25544"])],
                      start: Annotated[str | None, Query(max_length=40)] = None,
                      hours: Annotated[float, Query(gt=0, le=24 * 14)] = 24.0,
                      threshold_km: Annotated[float, Query(gt=0, le=100)] = 10.0):
    limit, offset = paging
    limits = state.settings.limits
    index = state.index
    require_catalog(index)
    id_list = parse_ids(ids, max_count=limits.max_objects * 5)
    index.rows(id_list, limit=limits.max_objects)            # known ids, bounded count
    t_asked = read_time(start, state, "start")
    check_span_end(t_asked, hours * 3600.0, "hours")
    # The screen runs from the whole minute at or before the start to a
    # minute past the end (cacheable: repeated questions within a minute
    # share it); the answer keeps the approaches inside the asked span only.
    t0 = type(t_asked)(int(t_asked.ns) // 60_000_000_000 * 60_000_000_000)
    key = (index.serial, tuple(sorted(id_list)), int(t0.ns), hours, threshold_km)
    with _lock:
        rows = _cache.get(key)
    if rows is None:
        scope = shell_candidates(index.catalog, id_list, threshold_km)
        object_days = len(scope) * hours / 24
        if object_days > limits.max_conjunction_object_days:
            raise limit_exceeded(
                f"screening {len(id_list)} objects against the {len(scope)} objects that share "
                f"their altitudes for {hours:g} h is {object_days:.0f} object-days; at most "
                f"{limits.max_conjunction_object_days:g} per request (a shorter span or "
                "fewer primaries)", field="hours", object_days=object_days,
                max_object_days=limits.max_conjunction_object_days)
        if len(scope) < 2:
            rows = []
        else:
            rows_sub = index.subset(np.array([index.row_of[es.norad_id] for es in scope]))
            result = conjunctions.screen_conjunctions(rows_sub, t0, t0 + hours * 3600.0 + 60.0,
                                                      threshold_km, primaries=id_list)
            names = {es.norad_id: es.name for es in scope}
            rows = result.rows(names=names, sort="tca")
        with _lock:
            if len(_cache) >= CACHE_SIZE:
                _cache.clear()
            _cache[key] = rows
    lo, hi = t_asked.iso(3), (t_asked + hours * 3600.0).iso(3)
    rows = [r for r in rows if lo <= r["tca"] <= hi]           # (ISO with Z sorts as time)
    return page(request, rows[offset:offset + limit], len(rows), limit, offset)
