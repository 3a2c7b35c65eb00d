"""Imaging access (satwatch.access): when chosen objects can image a site or
an area, and how often (revisit)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from ... import access
from ..deps import FailedOut, State, check_span_end, failed_rows, parse_ids, read_time
from ..errors import ApiError, limit_exceeded
from ..state import require_catalog
from .sites import SiteCode, find

router = APIRouter(tags=["access"])

# Sample points of one area at most (its vertices, edges and interior grid).
MAX_AREA_POINTS = 400


class AccessWindowOut(BaseModel):
    target: str
    norad_id: int
    name: str
    start_time: str | None
    end_time: str | None
    window_start: str
    window_end: str
    duration_s: float
    start_partial: bool
    end_partial: bool


class AccessOut(BaseModel):
    start: str
    end: str
    targets: list[dict]
    windows: list[AccessWindowOut]
    catalog: str | None
    failed: list[FailedOut] = Field(default_factory=list, description=(
        "objects SGP4 could not propagate over (part of) the span: no access while they fail"))
    model_config = ConfigDict(extra="allow")


def _run(state, targets, ids_list, start, hours, max_off_nadir_deg, min_elevation_deg,
         min_sun_elevation_deg) -> dict:
    limits = state.settings.limits
    index = state.index
    require_catalog(index)
    if hours * 3600 > limits.max_pass_span_s:
        raise limit_exceeded(f"hours={hours:g} is over the longest span "
                             f"({limits.max_pass_span_s / 3600:g} h)", field="hours",
                             max_hours=limits.max_pass_span_s / 3600)
    if max_off_nadir_deg is None and min_elevation_deg is None:
        raise ApiError(422, "validation_error", "give max_off_nadir_deg or min_elevation_deg "
                       "(or both)")
    n_points = sum(len(t.points) for t in targets)
    work = len(ids_list) * n_points * hours / 24
    if work > limits.max_pass_object_days:
        raise limit_exceeded(
            f"{len(ids_list)} objects x {n_points} target points x {hours / 24:g} days = "
            f"{work:g}; at most {limits.max_pass_object_days:g} per request (fewer objects, a "
            "smaller area or a wider spacing_km, or a shorter span)", work=work,
            max_work=limits.max_pass_object_days)
    rows = index.rows(ids_list, limit=limits.max_objects)
    t0 = read_time(start, state, "start")
    check_span_end(t0, hours * 3600.0, "hours")
    t1 = t0 + hours * 3600.0
    sub = index.subset(rows)
    try:
        acc = access.find_access(sub, targets, t0, t1, max_off_nadir_deg=max_off_nadir_deg,
                                 min_elevation_deg=min_elevation_deg,
                                 min_sun_elevation_deg=min_sun_elevation_deg)
    except access.AccessError as exc:
        raise ApiError(422, "validation_error", str(exc)) from None
    windows = sorted(access.access_rows(acc, sub), key=lambda r: r["window_start"])
    return {"start": t0.iso(3), "end": t1.iso(3), "catalog": index.catalog.source,
            "targets": [{"name": t.name, "points": len(t.points), **rev}
                        for t, rev in zip(acc.targets, acc.revisit)],
            "windows": windows, "failed": failed_rows(acc.failed, sub)}


@router.get("/sites/{code}/access", response_model=AccessOut,
            summary="When chosen objects can image a site, and its revisit")
def site_access(state: State, code: SiteCode,
                ids: Annotated[str, Query(max_length=20_000, examples=["25544"])],
                start: Annotated[str | None, Query(max_length=40)] = None,
                hours: Annotated[float, Query(gt=0, le=24 * 366)] = 24.0,
                max_off_nadir_deg: Annotated[float | None, Query(gt=0, lt=90)] = None,
                min_elevation_deg: Annotated[float | None, Query(ge=0, le=89)] = None,
                min_sun_elevation_deg: Annotated[float | None, Query(ge=-90, le=90)] = None):
    site = find(code, state.settings.sites)
    return _run(state, [access.point_target(site)], parse_ids(ids), start, hours,
                max_off_nadir_deg, min_elevation_deg, min_sun_elevation_deg)


class AreaAccessIn(BaseModel):
    """An area (a GeoJSON Polygon or MultiPolygon, lon/lat degrees) and the
    objects to check."""

    model_config = ConfigDict(extra="forbid")
    ids: list[Annotated[int, Field(ge=1, le=999_999_999)]] = Field(min_length=1,
                                                                   max_length=2000)
    area: dict[str, Any]
    name: str = Field("area", max_length=100)
    start: str | None = Field(None, max_length=40)
    hours: float = Field(24.0, gt=0, le=24 * 366)
    spacing_km: float = Field(25.0, ge=1, le=500)
    max_off_nadir_deg: float | None = Field(None, gt=0, lt=90)
    min_elevation_deg: float | None = Field(None, ge=0, le=89)
    min_sun_elevation_deg: float | None = Field(None, ge=-90, le=90)


@router.post("/access", response_model=AccessOut,
             summary="When chosen objects can image an area (a query: no token needed)")
def area_access(state: State, body: AreaAccessIn):
    geom = body.area.get("geometry", body.area) if body.area.get("type") == "Feature" \
        else body.area
    # (a Feature's geometry may be null, RFC 7946 sec. 3.2: no area to image)
    if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
        raise ApiError(422, "validation_error", "area: give a GeoJSON Polygon or "
                       "MultiPolygon (lon/lat degrees)", {"field": "area"})
    try:
        access.check_polygon(geom)              # satwatch's words, naming the ring
        # as polygon_points reads it (a ring across +-180 deg cut there)
        shape = access.area_geometry(geom)
        if not shape.is_valid or shape.is_empty:
            raise ValueError("the polygon is not valid")
        lon0, lat0, lon1, lat1 = shape.bounds
        if not (-180 <= lon0 <= lon1 <= 360 and -90 <= lat0 <= lat1 <= 90):
            raise ValueError("coordinates must be lon/lat degrees")
        # Bound the sample count before building the points.
        approx = shape.area * (111.0 / body.spacing_km) ** 2 + \
            shape.length * 111.0 / body.spacing_km
        if approx > MAX_AREA_POINTS * 4:
            raise limit_exceeded(f"the area at spacing_km={body.spacing_km:g} needs about "
                                 f"{approx:.0f} sample points; at most {MAX_AREA_POINTS} "
                                 "(a wider spacing_km or a smaller area)")
        points = access.polygon_points(geom, body.spacing_km)
    except ApiError:
        raise
    except Exception as exc:
        raise ApiError(422, "validation_error", f"area: {exc}", {"field": "area"}) from None
    if len(points) > MAX_AREA_POINTS:
        raise limit_exceeded(f"the area has {len(points)} sample points at spacing_km="
                             f"{body.spacing_km:g}; at most {MAX_AREA_POINTS}")
    target = access.Target(body.name, tuple(points), geom, "POST /api/v1/access")
    return _run(state, [target], body.ids, body.start, body.hours, body.max_off_nadir_deg,
                body.min_elevation_deg, body.min_sun_elevation_deg)
