"""Sites (launch and programme sites) and the next passes over one."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ...passes import find_passes, pass_rows
from ...sites import builtin_sites, find_site
from ..deps import (FailedOut, Page, Paging, State, check_span_end, failed_rows, page,
                    parse_ids, read_time)
from ..errors import ApiError, limit_exceeded, not_found
from ..state import require_catalog

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


def find(code: str, extra_sites=()):
    """A site by code or name (404 when unknown), the user's own
    (``extra_sites``, Settings.sites) first, or ``lat,lon[,alt_m]`` (422
    when those are not valid coordinates)."""
    try:
        return find_site(code, extra_sites=extra_sites)
    except Exception as exc:
        # coordinates out of range name their field (sites.make_site's
        # checks); an unknown name names none
        if getattr(exc, "field", None) in ("lat_deg", "lon_deg", "alt_m"):
            raise ApiError(422, "validation_error", str(exc), {"site": code}) from None
        raise not_found(str(exc), site=code) from None


@router.get("/sites", response_model=Page[SiteOut], summary="Known sites, paged")
def list_sites(request: Request, state: State, paging: Paging,
               kind: Literal["launch site", "missile site", "other"] | None = None,
               country: Annotated[str | None, Query(max_length=10)] = None):
    limit, offset = paging
    sites = list(state.settings.sites) + builtin_sites()
    if kind:
        sites = [s for s in sites if s.kind == kind]
    if country:
        sites = [s for s in sites if s.country.upper() == country.upper()]
    return page(request, [s.as_dict() for s in sites[offset:offset + limit]], len(sites),
                limit, offset)


SiteCode = Annotated[str, Path(min_length=1, max_length=100, description=(
    "a site code or name (unambiguous prefix), or lat,lon"))]


@router.get("/sites/{code}", response_model=SiteOut, summary="One site")
def get_site(state: State, code: SiteCode):
    return find(code, state.settings.sites).as_dict()


class PassOut(BaseModel):
    norad_id: int
    name: str
    rise: str = Field(description="rise time, or the window's start for a pass already up")
    set: str = Field(description="set time, or the window's end for a pass still up")
    rise_time: str | None
    culmination_time: str
    set_time: str | None
    max_elevation_deg: float
    rise_azimuth_deg: float | None
    culmination_azimuth_deg: float
    set_azimuth_deg: float | None
    duration_s: float
    rise_partial: bool
    set_partial: bool
    visible: bool | None = None
    model_config = ConfigDict(extra="allow")


class PassesOut(BaseModel):
    site: SiteOut
    start: str
    end: str
    hours: float
    min_elevation_deg: float
    catalog: str | None
    passes: list[PassOut]
    failed: list[FailedOut] = Field(default_factory=list, description=(
        "objects SGP4 could not propagate over (part of) the span: no passes while they fail"))


@router.get("/sites/{code}/passes", response_model=PassesOut,
            summary="The next passes of chosen objects over a site")
def site_passes(state: State, code: SiteCode,
                ids: Annotated[str, Query(max_length=20_000, description=(
                    "comma-separated NORAD ids"), examples=["25544"])],
                start: Annotated[str | None, Query(max_length=40)] = None,
                hours: Annotated[float, Query(gt=0, le=24 * 366)] = 24.0,
                min_elevation_deg: Annotated[float, Query(ge=-5, le=89)] = 0.0,
                visibility: bool = False):
    limits = state.settings.limits
    site = find(code, state.settings.sites)
    index = state.index
    require_catalog(index)
    if hours * 3600 > limits.max_pass_span_s:
        raise limit_exceeded(f"hours={hours:g} is over the longest pass span "
                             f"({limits.max_pass_span_s / 3600:g} h)", field="hours",
                             max_hours=limits.max_pass_span_s / 3600)
    id_list = parse_ids(ids, max_count=limits.max_objects * 5)
    object_days = len(id_list) * hours / 24
    if object_days > limits.max_pass_object_days:
        raise limit_exceeded(
            f"{len(id_list)} objects x {hours / 24:g} days = {object_days:g} object-days; at "
            f"most {limits.max_pass_object_days:g} per request (fewer objects or a shorter "
            "span)", object_days=object_days, max_object_days=limits.max_pass_object_days)
    rows = index.rows(id_list, limit=limits.max_objects)
    t0 = read_time(start, state, "start")
    check_span_end(t0, hours * 3600.0, "hours")
    t1 = t0 + hours * 3600.0
    sub = index.subset(rows)
    passes = find_passes(sub, [site], t0, t1, min_elevation_deg=min_elevation_deg,
                         visibility=visibility)
    out = []
    for row in pass_rows(passes, sub, [site]):
        row["rise"] = row["rise_time"] or row["window_start"]
        row["set"] = row["set_time"] or row["window_end"]
        out.append(row)
    out.sort(key=lambda r: r["rise"])
    return {"site": site.as_dict(), "start": t0.iso(3), "end": t1.iso(3), "hours": hours,
            "min_elevation_deg": min_elevation_deg, "catalog": index.catalog.source,
            "passes": out, "failed": failed_rows(passes.failed, sub)}
