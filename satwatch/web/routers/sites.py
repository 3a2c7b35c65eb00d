"""Sites (launch and programme sites) and, where satwatch.passes is
installed, the next passes over one."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from ..deps import Page, Paging, page
from ..errors import not_available, not_found

router = APIRouter(tags=["sites"])


class SiteOut(BaseModel):
    code: str
    name: str
    kind: str
    country: str
    lat_deg: float
    lon_deg: float
    alt_m: float
    uncertainty_deg: float | None
    aliases: list[str]
    source: str
    ref: str


def _sites():
    try:
        from ...sites import builtin_sites
    except ImportError:
        raise not_available("sites") from None
    return builtin_sites()


def find(code: str):
    try:
        from ...sites import find_site
    except ImportError:
        raise not_available("sites") from None
    try:
        return find_site(code)
    except Exception as exc:
        raise not_found(str(exc), site=code) from None


@router.get("/sites", response_model=Page[SiteOut], summary="Known sites, paged")
def list_sites(request: Request, paging: Paging,
               kind: Literal["launch site", "missile site", "other"] | None = None,
               country: Annotated[str | None, Query(max_length=10)] = None):
    limit, offset = paging
    sites = _sites()
    if kind:
        sites = [s for s in sites if s.kind == kind]
    if country:
        sites = [s for s in sites if s.country.upper() == country.upper()]
    return page(request, [s.as_dict() for s in sites[offset:offset + limit]], len(sites),
                limit, offset)


SiteCode = Annotated[str, Path(min_length=1, max_length=100, description=(
    "a site code or name (unambiguous prefix), or lat,lon"))]


@router.get("/sites/{code}", response_model=SiteOut, summary="One site")
def get_site(code: SiteCode):
    return find(code).as_dict()
