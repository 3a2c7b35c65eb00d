"""Launch analysis (satwatch.launches) and manoeuvre history
(satwatch.maneuvers over the store's element-set history)."""
from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict

from ... import launches
from ...catalog import Catalog
from ...maneuvers import detect_maneuvers
from ...time import NS_PER_S, Time
from ..deps import State, read_time
from ..errors import not_found
from ..state import require_catalog
from .sites import SiteCode, find

router = APIRouter(tags=["launches", "maneuvers"])


class ReachOut(BaseModel):
    site: str
    lat_deg: float
    lon_deg: float
    inclination_min_deg: float
    inclination_max_deg: float
    sso_inclination_deg: float | None
    sso_reachable: bool
    model_config = ConfigDict(extra="allow")


@router.get("/sites/{code}/reach", response_model=ReachOut,
            summary="Inclinations a site reaches by direct ascent for an azimuth sector")
def site_reach(state: State, code: SiteCode,
               azimuth_min_deg: Annotated[float, Query(ge=-360, le=360)] = 0.0,
               azimuth_max_deg: Annotated[float, Query(ge=-360, le=720)] = 360.0,
               altitude_km: Annotated[float, Query(gt=100, le=2000)] = 500.0):
    site = find(code, state.settings.sites)
    out = launches.reach(site.lat_deg, site.lon_deg, azimuth_min_deg, azimuth_max_deg,
                         altitude_km=altitude_km, site_name=site.code or site.name)
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
            for k, v in out.items()}


class CandidateOut(BaseModel):
    norad_id: int
    name: str
    intl_designator: str
    score: float
    reasons: list[str]
    model_config = ConfigDict(extra="allow")


class IdentifyOut(BaseModel):
    site: str
    launch_time: str
    catalog: str | None
    candidates: list[CandidateOut]


@router.get("/launches/identify", response_model=IdentifyOut,
            summary="Catalogued objects that fit a launch from a site at a time, ranked")
def identify_launch(state: State,
                    site: Annotated[str, Query(min_length=1, max_length=100)],
                    time: Annotated[str, Query(max_length=40, description="launch time, UTC")],
                    time_uncertainty_s: Annotated[float, Query(ge=0, le=86_400)] = 60.0,
                    top: Annotated[int, Query(ge=1, le=100)] = 20):
    where = find(site, state.settings.sites)
    index = state.index
    require_catalog(index)
    t = read_time(time, state, "time")
    # Only objects whose element sets start after the launch can be from it:
    # the epochs bound the work to recent objects.
    recent = index.epochs_ns >= int(t.ns) - int(1 * 86_400 * NS_PER_S)
    rows = np.flatnonzero(recent)
    candidates = []
    if len(rows):
        sub: Catalog = index.subset(rows)
        candidates = [c.as_dict() for c in launches.identify(
            sub, where, t, time_uncertainty_s=time_uncertainty_s, top=top)]
    return {"site": where.code or where.name, "launch_time": t.iso(0),
            "catalog": index.catalog.source,
            "candidates": [{**c, "score": float(c["score"])} for c in candidates]}


class ManeuverOut(BaseModel):
    norad_id: int
    epoch: str
    window_start: str
    window_end: str
    type: str
    delta_v_m_s: float
    delta_a_km: float
    model_config = ConfigDict(extra="allow")


class ManeuversOut(BaseModel):
    norad_id: int
    element_sets: int
    since: str | None
    until: str | None
    maneuvers: list[ManeuverOut]


MAX_HISTORY_DAYS = 3_660.0


@router.get("/objects/{norad_id}/maneuvers", response_model=ManeuversOut,
            summary="Manoeuvres found in the object's stored element-set history")
def object_maneuvers(state: State,
                     norad_id: Annotated[int, Path(ge=1, le=999_999_999)],
                     since: Annotated[str | None, Query(max_length=40)] = None,
                     until: Annotated[str | None, Query(max_length=40)] = None):
    t1 = read_time(until, state, "until") if until else None
    t0 = read_time(since, state, "since") if since else None
    if t0 is not None and t1 is not None and int(t1.ns) < int(t0.ns):
        from ..errors import ApiError
        raise ApiError(422, "validation_error", f"until: {until} is before since ({since})",
                       {"field": "until"})
    store = state.alert_store.store
    history = dict(store.history_arrays([norad_id], since=t0, until=t1))
    arrays = history.get(norad_id)
    if arrays is None:
        if store.object(norad_id) is None:
            raise not_found(f"no element-set history of object {norad_id} in the store "
                            "(ingest some with POST /api/v1/ingest or 'satwatch' store "
                            "commands)", norad_id=norad_id)
        arrays = {"epoch_ns": np.zeros(0, np.int64)}
    n = len(arrays["epoch_ns"])
    rows = []
    if n:
        extra = {k: arrays[k] for k in ("arg_perigee_deg", "mean_anomaly_deg", "ndot_rev_day2")
                 if k in arrays}
        found = detect_maneuvers(arrays["epoch_ns"], arrays["mean_motion_rev_day"],
                                 arrays["eccentricity"], arrays["inclination_deg"],
                                 arrays["raan_deg"], norad_id=norad_id, **extra)
        rows = found.rows()
    ep = arrays["epoch_ns"]
    return {"norad_id": norad_id, "element_sets": n,
            "since": Time(int(ep.min())).iso(0) if n else None,
            "until": Time(int(ep.max())).iso(0) if n else None, "maneuvers": rows}
