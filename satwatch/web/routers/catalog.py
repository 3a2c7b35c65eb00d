"""The catalog: its summary, objects (paged), one object and its element set."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from ...catalog import regime_of
from ...elements import ElementSet, write_tle
from ...time import Time
from ..deps import Page, Paging, State, page
from ..errors import not_found

router = APIRouter(tags=["catalog"])

Regime = Literal["LEO", "MEO", "GEO", "GTO", "HEO", "other"]


class ObjectOut(BaseModel):
    norad_id: int
    name: str
    intl_designator: str
    epoch: str
    regime: str
    period_min: float
    inclination_deg: float
    eccentricity: float
    perigee_alt_km: float
    apogee_alt_km: float


class CatalogOut(BaseModel):
    source: str | None
    objects: int
    rejected: int
    epoch_min: str | None
    epoch_median: str | None
    epoch_max: str | None
    regimes: dict[str, int]
    loaded_at: str


def object_out(es: ElementSet) -> dict:
    return {"norad_id": es.norad_id, "name": es.name, "intl_designator": es.intl_designator,
            "epoch": Time(es.epoch_ns).iso(3), "regime": regime_of(es),
            "period_min": round(es.period_min, 4),
            "inclination_deg": round(es.inclination_deg, 4),
            "eccentricity": es.eccentricity,
            "perigee_alt_km": round(es.perigee_alt_km, 3),
            "apogee_alt_km": round(es.apogee_alt_km, 3)}


@router.get("/catalog", response_model=CatalogOut, summary="What catalog is loaded")
def get_catalog(state: State):
    index = state.index
    summary = index.catalog.summary()
    summary.pop("rejections", None)
    summary["loaded_at"] = Time(index.loaded_ns).iso(0)
    return summary


@router.get("/objects", response_model=Page[ObjectOut], summary="Objects of the catalog, paged")
def list_objects(request: Request, state: State, paging: Paging,
                 name: Annotated[str | None, Query(max_length=80, description=(
                     "name pattern: 'STARLINK*' or a substring"))] = None,
                 regime: Regime | None = None):
    limit, offset = paging
    catalog = state.index.catalog
    if name is not None or regime is not None:
        catalog = catalog.filter(name=name, regime=regime)
    sets = catalog.element_sets
    items = [object_out(es) for es in sets[offset:offset + limit]]
    return page(request, items, len(sets), limit, offset)


NoradId = Annotated[int, Path(ge=1, le=999_999_999, description="NORAD catalog number")]


def _one(state, norad_id: int) -> ElementSet:
    row = state.index.row_of.get(norad_id)
    if row is None:
        raise not_found(f"no object {norad_id} in the loaded catalog", norad_id=norad_id)
    return state.index.catalog.element_sets[row]


@router.get("/objects/{norad_id}", response_model=ObjectOut, summary="One object")
def get_object(state: State, norad_id: NoradId):
    return object_out(_one(state, norad_id))


@router.get("/objects/{norad_id}/tle", response_class=PlainTextResponse,
            summary="The object's element set as a 3LE, verbatim when the source was a TLE")
def get_tle(state: State, norad_id: NoradId):
    es = _one(state, norad_id)
    if es.source_text and es.source_text.lstrip().startswith(("0 ", "1 ")) or \
            (es.source_text and "\n1 " in es.source_text):
        return es.source_text.strip() + "\n"
    line1, line2 = write_tle(es, lossy=True)
    return f"0 {es.name}\n{line1}\n{line2}\n"
