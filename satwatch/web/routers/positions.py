"""Where objects are: sub-satellite points now (or at a time), ground tracks
over a span, and visibility footprints."""
from __future__ import annotations

from typing import Annotated

import numpy as np
import orjson
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from ...propagation import error_text, propagate
from ...time import NS_PER_S, Time
from ..deps import State, check_span_end, parse_ids, read_time
from ..errors import limit_exceeded
from ..geometry import footprint_radius_deg
from ..state import require_catalog

router = APIRouter(tags=["positions"])

IdsQuery = Annotated[str, Query(max_length=20_000, description=(
    "comma-separated NORAD ids, e.g. 25544,48274"), examples=["25544"])]
AtQuery = Annotated[str | None, Query(max_length=40, description=(
    "UTC ISO-8601 time, or 'now' (default)"))]


class PositionsOut(BaseModel):
    """Columns, one entry per object (the order of ``ids``).  ``error``: SGP4's
    code (0 = good; lat/lon/alt are null otherwise), ``error_text`` the same
    in words (null when good); ``age_days``: time from the element set's
    epoch."""

    at: str
    catalog: str | None
    norad_id: list[int]
    name: list[str]
    lat_deg: list[float | None]
    lon_deg: list[float | None]
    alt_km: list[float | None]
    error: list[int]
    error_text: list[str | None]
    age_days: list[float]


def _col(values: np.ndarray, digits: int) -> list:
    arr = np.round(values.astype(float), digits)
    out = arr.tolist()
    bad = ~np.isfinite(arr)
    if bad.any():
        for i in np.flatnonzero(bad):
            out[i] = None
    return out


def _geodetic(sub, times: Time):
    states = propagate(sub.satrec_array, times, sub.norad_ids)
    geo = states.geodetic()
    ok = states.error == 0
    lat = np.where(ok, geo.lat_deg, np.nan)
    lon = np.where(ok, geo.lon_deg, np.nan)
    alt = np.where(ok, geo.alt_km, np.nan)
    return lat, lon, alt, states.error


def json_response(document: dict) -> Response:
    """orjson (a dependency): 3-5x faster than json on big columns, and it
    writes numpy arrays directly."""
    return Response(orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY),
                    media_type="application/json")


@router.get("/positions", response_model=PositionsOut,
            summary="Sub-satellite points of up to max_objects objects at one time")
async def positions(state: State, ids: IdsQuery, at: AtQuery = None):
    """``at`` omitted or ``now``: the current whole second, so that clients
    polling the same objects share one computation per second.  Runs on the
    event loop: a millisecond or two of numpy, cheaper than a thread hop."""
    limits = state.settings.limits
    index = state.index
    require_catalog(index)
    t = read_time(at, state)
    if at is None or at.strip().lower() == "now":
        t = Time(int(t.ns) // NS_PER_S * NS_PER_S)
    key = (int(t.ns), ids)
    body = index.answers.get(key)
    if body is not None:                     # the same question this second: same answer
        return Response(body, media_type="application/json")
    rows = index.rows(parse_ids(ids, max_count=limits.max_objects * 5),
                      limit=limits.max_objects)
    lat, lon, alt, err = index.geodetic_at(int(t.ns), rows)
    age = (t.ns - index.epochs_ns[rows]) / (86_400 * NS_PER_S)
    names = index.catalog.element_sets
    response = json_response({
        "at": t.iso(3), "catalog": index.catalog.source,
        "norad_id": index.norad_ids[rows].tolist(),
        "name": [names[i].name for i in rows.tolist()],
        "lat_deg": _col(lat, 4), "lon_deg": _col(lon, 4),
        "alt_km": _col(alt, 3), "error": err.astype(int).tolist(),
        "error_text": [error_text(c) for c in err.astype(int).tolist()],
        "age_days": np.round(age, 3).tolist()})
    index.answers.put(key, response.body)
    return response


class TrackOut(BaseModel):
    norad_id: int
    name: str
    lat_deg: list[float | None]
    lon_deg: list[float | None]
    alt_km: list[float | None]


class TracksOut(BaseModel):
    """Ground tracks: ``times`` shared by every object."""

    catalog: str | None
    times: list[str]
    tracks: list[TrackOut]


@router.get("/tracks", response_model=TracksOut,
            summary="Ground tracks of a few objects over a span")
def tracks(state: State, ids: IdsQuery,
           start: AtQuery = None,
           duration_s: Annotated[float, Query(gt=0, le=1e7)] = 5_400.0,
           step_s: Annotated[float, Query(ge=1, le=86_400)] = 60.0):
    limits = state.settings.limits
    index = state.index
    require_catalog(index)
    if duration_s > limits.max_track_span_s:
        raise limit_exceeded(f"duration_s={duration_s:g} is over the longest track span "
                             f"({limits.max_track_span_s:g} s)", field="duration_s",
                             max_track_span_s=limits.max_track_span_s)
    id_list = parse_ids(ids, max_count=limits.max_objects * 5)
    n_times = int(duration_s // step_s) + 1
    if len(id_list) * n_times > limits.max_samples:
        raise limit_exceeded(
            f"{len(id_list)} objects x {n_times} times = {len(id_list) * n_times} samples; "
            f"at most {limits.max_samples} per request (fewer objects, a shorter span or "
            "a longer step_s)", samples=len(id_list) * n_times,
            max_samples=limits.max_samples)
    rows = index.rows(id_list, limit=limits.max_objects)
    t0 = read_time(start, state, "start")
    check_span_end(t0, duration_s, "duration_s")
    offsets = np.arange(n_times) * float(step_s)
    if offsets[-1] < duration_s:            # the span's end, when the step does not divide it
        offsets = np.append(offsets, float(duration_s))
    times = t0 + offsets
    sub = index.subset(rows)
    lat, lon, alt, _ = _geodetic(sub, times)
    return json_response({
        "catalog": index.catalog.source, "times": list(times.iso(3)),
        "tracks": [{"norad_id": int(es.norad_id), "name": es.name,
                    "lat_deg": _col(lat[i], 4), "lon_deg": _col(lon[i], 4),
                    "alt_km": _col(alt[i], 3)} for i, es in enumerate(sub.element_sets)]})


class FootprintOut(BaseModel):
    norad_id: int
    lat_deg: float | None
    lon_deg: float | None
    alt_km: float | None
    radius_deg: float | None = Field(description="earth-central angle from the "
                                     "sub-satellite point to the footprint's edge")


class FootprintsOut(BaseModel):
    at: str
    min_elevation_deg: float
    footprints: list[FootprintOut]


@router.get("/footprints", response_model=FootprintsOut,
            summary="Visibility footprints: where each object is above min_elevation_deg")
def footprints(state: State, ids: IdsQuery, at: AtQuery = None,
               min_elevation_deg: Annotated[float, Query(ge=0, le=89)] = 0.0):
    limits = state.settings.limits
    index = state.index
    require_catalog(index)
    rows = index.rows(parse_ids(ids, max_count=limits.max_objects * 5),
                      limit=limits.max_objects)
    t = read_time(at, state)
    sub = index.subset(rows)
    lat, lon, alt, _ = _geodetic(sub, t)
    radius = footprint_radius_deg(alt[:, 0], min_elevation_deg)
    return json_response({
        "at": t.iso(3), "min_elevation_deg": min_elevation_deg,
        "footprints": [{"norad_id": int(n), "lat_deg": la, "lon_deg": lo, "alt_km": al,
                        "radius_deg": r}
                       for n, la, lo, al, r in zip(index.norad_ids[rows].tolist(),
                                                   _col(lat[:, 0], 4), _col(lon[:, 0], 4),
                                                   _col(alt[:, 0], 3), _col(radius, 4))]})
