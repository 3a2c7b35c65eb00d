"""The service itself: health and what it can do."""
from __future__ import annotations

import importlib.util

from fastapi import APIRouter
from pydantic import BaseModel

from ...time import Time
from ..deps import State

router = APIRouter(tags=["service"])

CAPABILITIES = {"passes": "satwatch.passes", "access": "satwatch.access",
                "sites": "satwatch.sites", "conjunctions": "satwatch.conjunctions",
                "maneuvers": "satwatch.maneuvers", "store": "satwatch.store",
                "launches": "satwatch.launches", "reported_events": "satwatch.reported_events",
                "zones": "satwatch.zones"}


class HealthOut(BaseModel):
    status: str
    now: str
    objects: int
    catalog: str | None
    capabilities: dict[str, bool]


@router.get("/health", response_model=HealthOut, summary="Is the service up, what is loaded")
def health(state: State):
    index = state.index
    return {"status": "ok", "now": Time(state.now_ns()).iso(0), "objects": len(index.catalog),
            "catalog": index.catalog.source,
            "capabilities": {k: importlib.util.find_spec(v) is not None
                             for k, v in CAPABILITIES.items()}}
