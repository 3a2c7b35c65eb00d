"""Reported events (launches and missile flights as reported): the list,
one event, what it implies (arc, impact point, zones), and adding events
(token needed)."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Path as PathParam, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from ... import reported_events
from ...launch_store import load_events, save_events
from ...sources.files import read_zones
from ...zones import ZoneSet
from ..deps import Page, Paging, State, WriteToken, page
from ..errors import ApiError, not_found

router = APIRouter(tags=["events"])
_lock = threading.Lock()


class EventOut(BaseModel):
    id: str
    name: str
    time: str | None
    date: str
    kind: str
    vehicle: str
    site_code: str
    site_name: str
    site_lat_deg: float | None
    site_lon_deg: float | None
    range_km: float | None
    apogee_km: float | None
    bearing_deg: float | None
    outcome: str
    analyzable: bool
    flags: list[str]
    source: str
    model_config = ConfigDict(extra="allow")


class AnalysisOut(BaseModel):
    event: EventOut
    summary: str
    launch: dict
    impact: dict | None
    arc: dict | None
    arc_example_bearing_deg: float | None = Field(None, description=(
        "set when the bearing is unknown: the arc is then an example along this bearing "
        "(the ring's nearest due east), not the flight's path"))
    impact_ring: dict | None = None
    zones: dict
    analysis: dict


def _event_out(d: dict) -> dict:
    who = d.get("vehicle") or d.get("kind") or "event"
    where = d.get("site_name") or d.get("site_code") or "an unknown site"
    return {**d, "id": d["event_id"], "name": f"{who} from {where}",
            "time": d.get("time_utc")}


def _site_lookup(settings):
    """Event sites by code: the user's own (Settings.sites) first, then the
    built-in ones, as the CLI's ``event import --sites`` reads them."""
    from ...sites import find_site
    return lambda code: find_site(code, extra_sites=settings.sites)


def _load_source(settings) -> list[dict]:
    if not settings.events_source:
        return []
    path = Path(settings.events_source)
    if path.is_dir():
        text = lambda name: (path / name).read_text(encoding="utf-8")     # noqa: E731
        missile = (path / "missile.en.json")
        events = reported_events.parse_cns(
            text("test.en.json"), text("facility.en.json"),
            missile.read_text(encoding="utf-8") if missile.exists() else None,
            source=str(path / "test.en.json"))
    elif path.suffix.lower() == ".csv":
        events = reported_events.parse_events_csv(path.read_text(encoding="utf-8-sig"), str(path),
                                                  _site_lookup(settings))
    else:
        events = reported_events.parse_events_json(path.read_text(encoding="utf-8-sig"),
                                                   str(path), _site_lookup(settings))
    return [e.as_dict() for e in events]


def all_events(state) -> list[dict]:
    """Events of the configured source (read once) and those in the store
    (posted here, or imported by 'satwatch' into the reported_events table);
    a stored event replaces a source event of the same id."""
    cache = getattr(state, "_events_source", None)
    if cache is None:
        with _lock:
            cache = state._events_source = _load_source(state.settings)
    stored = [e.as_dict() for e in load_events(state.alert_store.store)]
    ids = {e["event_id"] for e in stored}
    return [e for e in cache if e["event_id"] not in ids] + stored


def zone_set(state):
    zs = getattr(state, "_zone_set", None)
    if zs is None and state.settings.zones_paths:
        with _lock:
            zones = []
            for p in state.settings.zones_paths:
                kind = "country" if "countries" in Path(p).name else "eez"
                zones += read_zones(p, kind=kind)
            zs = state._zone_set = ZoneSet(zones)
    return zs


def _find(state, event_id: str) -> dict:
    for e in all_events(state):
        if e["event_id"] == event_id:
            return e
    raise not_found(f"no event {event_id!r}", event_id=event_id)


@router.get("/events", response_model=Page[EventOut],
            summary="Reported launches and missile flights, newest first")
def list_events(request: Request, state: State, paging: Paging,
                kind: Literal["missile", "launch"] | None = None,
                site: Annotated[str | None, Query(max_length=100)] = None,
                analyzable: bool | None = None):
    limit, offset = paging
    events = all_events(state)
    if kind:
        events = [e for e in events if e.get("kind") == kind]
    if site:
        events = [e for e in events if site.lower() in (e.get("site_code") or "").lower()
                  or site.lower() in (e.get("site_name") or "").lower()]
    if analyzable is not None:
        events = [e for e in events if bool(e.get("analyzable")) == analyzable]
    events = sorted(events, key=lambda e: (e.get("time_utc") or e.get("date") or ""),
                    reverse=True)
    return page(request, [_event_out(e) for e in events[offset:offset + limit]], len(events),
                limit, offset)


EventId = Annotated[str, PathParam(min_length=1, max_length=100)]


@router.get("/events/{event_id}", response_model=EventOut, summary="One reported event")
def get_event(state: State, event_id: EventId):
    return _event_out(_find(state, event_id))


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


@router.get("/events/{event_id}/analysis", response_model=AnalysisOut,
            summary="What a report implies: ballistic arc, impact point, economic zones")
def event_analysis(state: State, event_id: EventId):
    event = _find(state, event_id)
    doc = _analysis(state, event_id, json.dumps(event, sort_keys=True, default=str))
    return Response(json.dumps(doc, default=str, allow_nan=False),
                    media_type="application/json")


_ANALYSES: dict = {}


def _analysis(state, event_id: str, event_json: str) -> dict:
    key = (state.serial, event_id, event_json)
    if key in _ANALYSES:
        return _ANALYSES[key]
    d = json.loads(event_json)
    fields = {k: d.get(k) for k in reported_events.ReportedEvent.__dataclass_fields__}
    fields["flags"] = tuple(d.get("flags") or ())
    event = reported_events.ReportedEvent(**fields)
    if not event.analyzable:
        missing = "site" if event.site_lat_deg is None or event.site_lon_deg is None \
            else "range_km"
        raise ApiError(422, "validation_error", f"event {event_id} cannot be analysed: its "
                       f"{'site' if missing == 'site' else 'range'} is unknown",
                       {"flags": list(event.flags), "field": missing})
    zones = zone_set(state)
    result = reported_events.analyze_event(event, zones)
    gj = reported_events.analysis_geojson(result, zones)
    arc_feature = next((f for f in gj["features"] if f["properties"].get("role") == "arc"),
                       None)
    arc = arc_feature["geometry"] if arc_feature else None
    # with the bearing unknown the arc is an example (the ring's bearing
    # nearest due east), not the flight's path
    example_bearing = arc_feature["properties"].get("example_bearing_deg") if arc_feature \
        else None
    if arc:
        # the page draws lon/lat; a MultiLineString where it crosses +-180 deg
        parts = [arc["coordinates"]] if arc["type"] == "LineString" else arc["coordinates"]
        parts = [[c[:2] for c in part] for part in parts]
        arc = {"type": arc["type"],
               "coordinates": parts[0] if arc["type"] == "LineString" else parts}
    ring = next((f["geometry"] for f in gj["features"]
                 if f["properties"].get("role") == "impact_ring"), None)
    wanted = set(result.get("zones") or []) | {b["name"] for b in result.get("boundaries") or []}
    feats = []
    if zones is not None:
        import shapely.geometry
        for z in zones:
            if z.name in wanted:
                feats.append({"type": "Feature", "geometry": shapely.geometry.mapping(z.geometry),
                              "properties": {"name": z.name, "kind": z.kind,
                                             "hit": z.name in (result.get("zones") or [])}})
    impact = None
    if result.get("impact_lat_deg") is not None:
        impact = {"lat_deg": result["impact_lat_deg"], "lon_deg": result["impact_lon_deg"]}
    where = ", ".join(result.get("zones") or []) or "no listed zone"
    summary = (f"{_event_out(d)['name']}: {result.get('range_km')} km"
               + (f" on bearing {result['bearing_deg']:.0f}°" if result.get("bearing_known")
                  else " (bearing unknown: ring of impact points)")
               + (f"; impact in {where}" if impact else "")
               + (f", {result['distance_to_boundary_km']:.0f} km from the "
                  f"{result['nearest_boundary']} boundary"
                  if result.get("distance_to_boundary_km") is not None else ""))
    analysis = {k: v for k, v in result.items() if k not in ("track", "ring")}
    doc = _plain({"event": _event_out(d), "summary": summary,
                  "launch": {"lat_deg": result["site_lat_deg"], "lon_deg": result["site_lon_deg"]},
                  "impact": impact, "arc": arc, "arc_example_bearing_deg": example_bearing,
                  "impact_ring": ring,
                  "zones": {"type": "FeatureCollection", "features": feats},
                  "analysis": analysis})
    if len(_ANALYSES) > 512:
        _ANALYSES.clear()
    _ANALYSES[key] = doc
    return doc


class EventsIn(BaseModel):
    """Events in satwatch's schema (see satwatch.reported_events: event_id,
    date, time_utc, kind, vehicle, site (code, name or lat,lon), range_km,
    apogee_km, bearing_deg, outcome, ...)."""

    model_config = ConfigDict(extra="forbid")
    events: list[dict] = []


@router.post("/events", status_code=201, summary="Add reported events (token needed)")
def add_events(state: State, token: WriteToken, body: EventsIn):
    if not body.events:
        raise ApiError(422, "validation_error", "events: give at least one event",
                       {"field": "events"})
    if len(body.events) > 1000:
        raise ApiError(422, "limit_exceeded", f"events: {len(body.events)} events given; at "
                       "most 1000 per request", {"field": "events", "max_events": 1000})
    try:
        events = reported_events.parse_events_json(json.dumps(body.events, default=str),
                                                   "POST /events", _site_lookup(state.settings))
    except reported_events.EventsError as exc:
        raise _bad_event(exc, body.events) from None
    ids = [e.event_id for e in events]
    repeat = next((i for i, e in enumerate(ids) if e in ids[:i]), None)
    if repeat is not None:
        raise ApiError(422, "validation_error", f"events[{repeat}].event_id: event id "
                       f"{ids[repeat]!r} is given twice in this request",
                       {"field": f"events[{repeat}].event_id", "index": repeat,
                        "event_id": ids[repeat]})
    known = {e["event_id"] for e in all_events(state)}
    clash = next((i for i, e in enumerate(ids) if e in known), None)
    if clash is not None:
        raise ApiError(409, "conflict", f"event id {ids[clash]!r} is already used",
                       {"event_id": ids[clash], "field": f"events[{clash}].event_id",
                        "index": clash})
    try:
        save_events(state.alert_store.store, events)
    except reported_events.EventsError as exc:
        raise _bad_event(exc, body.events) from None
    return {"added": [e.event_id for e in events]}


# reported_events names some fields by what they measure: the schema's keys
_SCHEMA_FIELD = {"range": "range_km", "apogee": "apogee_km", "bearing": "bearing_deg"}


def _bad_event(exc: reported_events.EventsError, rows: list) -> ApiError:
    """A 422 naming the event (``events[i]``, its index in the request) and
    the field as the request spelt it, where the parser knows them."""
    if exc.line is None:
        return ApiError(422, "validation_error", str(exc), {"field": "events"})
    i = exc.line - 1                     # parse_events_json counts records from 1
    row = rows[i] if 0 <= i < len(rows) and isinstance(rows[i], dict) else {}
    name = exc.field
    if name is not None:
        canonical = _SCHEMA_FIELD.get(name, name)
        used = [k for k in row if isinstance(k, str) and reported_events._ALIASES.get(
            k.strip().lower(), k.strip().lower()) == canonical]
        if used:
            name = used[0]
        elif canonical == "time" and "date" in row:
            name = "date"                 # a full timestamp given as the date
        else:
            name = canonical
    field = f"events[{i}]" + (f".{name}" if name else "")
    return ApiError(422, "validation_error", f"{field}: {exc.reason}",
                    {"field": field, "index": i})
