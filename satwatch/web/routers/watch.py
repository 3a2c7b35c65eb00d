"""Watch rules (token needed), the alert feed (public), and catalog ingest
(token needed: an update is evaluated against the rules at once)."""
from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ...alerts import process_update
from ...catalog import Catalog
from ...elements import parse_elements
from ...sites import find_site
from ...watch import WatchError, rule_warnings
from ..deps import Page, Paging, State, WriteToken, page
from ..errors import ApiError, limit_exceeded, not_found

router = APIRouter(tags=["watch"])

Kind = Literal["pass", "maneuver", "new_object", "conjunction"]
NoradIdInt = Annotated[int, Field(ge=1, le=999_999_999)]
EMAIL_PATTERN = r"^[^@\s<>,;]{1,64}@[A-Za-z0-9.-]{1,200}$"


class RuleIn(BaseModel):
    """A watch rule.  Objects: ``norad_ids``, ``name_pattern`` or ``owner``.
    Where: ``site`` (a site code or name known to satwatch.sites) or
    ``site_lat_deg``/``site_lon_deg``, with ``radius_km``; or
    ``polygon_lon_lat_deg``.  Delivery: ``webhooks`` (http/https URLs) and
    ``emails``; every alert also appears in the feed."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    name: str = Field("", max_length=200)
    norad_ids: list[NoradIdInt] = Field(default_factory=list, max_length=1000)
    name_pattern: str | None = Field(None, min_length=1, max_length=80)
    owner: str | None = Field(None, min_length=1, max_length=40)
    site: str | None = Field(None, min_length=1, max_length=100)
    site_lat_deg: float | None = Field(None, ge=-90, le=90)
    site_lon_deg: float | None = Field(None, ge=-180, le=360)
    radius_km: float | None = Field(None, gt=0, le=20_000)
    polygon_lon_lat_deg: list[tuple[Annotated[float, Field(ge=-180, le=360)],
                                    Annotated[float, Field(ge=-90, le=90)]]] | None = Field(
        None, min_length=3, max_length=2000)
    launch_site: str | None = Field(None, min_length=1, max_length=40)
    max_miss_km: float | None = Field(None, gt=0, le=1000)
    webhooks: list[Annotated[str, Field(max_length=500, pattern=r"^https?://[^\s]+$")]] = Field(
        default_factory=list, max_length=10)
    emails: list[Annotated[str, Field(max_length=300, pattern=EMAIL_PATTERN)]] = Field(
        default_factory=list, max_length=10)

    @field_validator("polygon_lon_lat_deg")
    @classmethod
    def _polygon_ok(cls, value):
        if value:
            import shapely

            from satwatch.zones import ring_geometry
            if not shapely.Polygon(value).is_valid:
                raise ValueError("the polygon is not valid (self-intersecting or degenerate)")
            geom = ring_geometry(value)
            if geom is None or geom.is_empty:
                raise ValueError("the polygon needs at least 4 (lon, lat) points enclosing an "
                                 "area")
        return value

    @field_validator("webhooks")
    @classmethod
    def _webhooks_ok(cls, value):
        # RFC 9110 sec. 4.2.1: an http(s) URI with an empty host is invalid;
        # a TCP port is 1-65535.  Such a URL could never be delivered to.
        for url in value:
            try:
                parts = urlsplit(url)
                host, port = parts.hostname, parts.port
            except ValueError:
                host = port = None
            if not host or (port is not None and not 1 <= port <= 65_535):
                raise ValueError(f"{url!r} cannot be delivered to: give a host and, if any, "
                                 "a port from 1 to 65535")
        return value


class RuleOut(BaseModel):
    id: int
    kind: str
    name: str
    channels: dict
    enabled: bool
    created: str
    warnings: list[dict] = Field(default_factory=list, description=(
        "on creation: the rule's objects that the loaded catalog lacks (the rule is kept; "
        "it cannot fire for them until they appear)"))
    model_config = ConfigDict(extra="allow")


class AlertOut(BaseModel):
    id: int
    key: str
    rule_id: int
    kind: str
    norad_id: int
    time: str
    message: str
    details: dict
    created: str


@router.post("/rules", status_code=201, response_model=RuleOut, summary="Add a watch rule")
def add_rule(state: State, token: WriteToken, rule: RuleIn):
    store = state.alert_store
    _, total = store.rules(limit=1)
    if total >= state.settings.limits.max_rules:
        raise limit_exceeded(f"{total} rules are kept already (the limit): delete some first",
                             max_rules=state.settings.limits.max_rules)
    spec = rule.model_dump(exclude={"kind", "name", "webhooks", "emails", "site"})
    if rule.site:
        if rule.site_lat_deg is not None or rule.site_lon_deg is not None:
            raise ApiError(422, "validation_error", "give either site or site_lat_deg/"
                           "site_lon_deg, not both", {"field": "site"})
        site = _find_site(rule.site, state.settings.sites)
        spec.update(site_name=site.code or site.name, site_lat_deg=site.lat_deg,
                    site_lon_deg=site.lon_deg)
    if spec.get("polygon_lon_lat_deg"):
        spec["polygon_lon_lat_deg"] = [list(p) for p in spec["polygon_lon_lat_deg"]]
    try:
        out = store.add_rule(rule.kind, spec, {"webhooks": rule.webhooks, "emails": rule.emails},
                             name=rule.name, now_ns=state.now_ns())
    except WatchError as exc:
        raise ApiError(422, "validation_error", str(exc),
                       {"field": exc.field} if getattr(exc, "field", None) else None) from None
    out["warnings"] = _absent_objects(state, out["id"])
    return out


def _absent_objects(state, rule_id: int) -> list[dict]:
    """The new rule's objects that the loaded catalog lacks (none checked while
    no catalog is loaded): the rule is kept, for objects may appear later,
    but the user is told it cannot fire for them now."""
    catalog = state.index.catalog
    if not len(catalog):
        return []
    rule = next((r for r, _ in state.alert_store.active_rules() if r.id == rule_id), None)
    if rule is None:
        return []
    store = state.alert_store.store
    owners = {r["norad_id"]: r["owner"] for r in store.objects() if r.get("owner")} \
        if rule.owner else {}
    return [w.as_dict() for w in rule_warnings([rule], catalog, owners)]


def _find_site(query: str, extra_sites=()):
    try:
        return find_site(query, extra_sites=extra_sites)
    except Exception as exc:
        raise ApiError(422, "validation_error", f"site: {exc}", {"field": "site"}) from None


@router.get("/rules", response_model=Page[RuleOut],
            summary="Watch rules (token needed: they hold webhook URLs and addresses)")
def list_rules(request: Request, state: State, token: WriteToken, paging: Paging):
    limit, offset = paging
    items, total = state.alert_store.rules(limit=limit, offset=offset)
    return page(request, items, total, limit, offset)


RuleId = Annotated[int, Path(ge=1, le=2_000_000_000)]


@router.get("/rules/{rule_id}", response_model=RuleOut, summary="One watch rule")
def get_rule(state: State, token: WriteToken, rule_id: RuleId):
    rule = state.alert_store.rule(rule_id)
    if rule is None:
        raise not_found(f"no rule {rule_id}", rule_id=rule_id)
    return rule


@router.delete("/rules/{rule_id}", status_code=204, response_class=Response,
               summary="Delete a watch rule")
def delete_rule(state: State, token: WriteToken, rule_id: RuleId):
    if not state.alert_store.delete_rule(rule_id):
        raise not_found(f"no rule {rule_id}", rule_id=rule_id)
    return Response(status_code=204)


@router.get("/alerts", response_model=Page[AlertOut], summary="The alert feed, newest first")
def list_alerts(request: Request, state: State, paging: Paging,
                kind: Kind | None = None,
                rule_id: Annotated[int | None, Query(ge=1, le=2_000_000_000)] = None):
    limit, offset = paging
    items, total = state.alert_store.alerts(limit=limit, offset=offset, kind=kind,
                                            rule_id=rule_id)
    return page(request, items, total, limit, offset)


class IngestOut(BaseModel):
    read: int
    rejected: int
    rejections: list[dict]
    stored_sets: int
    new_objects: int
    maneuvers: int
    new_alerts: int
    objects: int
    baseline: bool
    deliveries: dict
    warnings: list[dict] = Field(default_factory=list, description=(
        "rules naming objects that are not in this update: they cannot fire for them"))


@router.post("/ingest", response_model=IngestOut,
             summary="Ingest a catalog update (TLE/3LE/OMM text) and evaluate the rules",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/plain": {"schema": {"type": "string"}}}}})
async def ingest(request: Request, state: State, token: WriteToken):
    raw = await request.body()
    if not raw.strip():
        raise ApiError(422, "validation_error", "the body is empty: send element sets "
                       "(TLE, 3LE or OMM) as text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(422, "validation_error", "the body is not UTF-8 text") from None
    from starlette.concurrency import run_in_threadpool
    return await run_in_threadpool(_ingest_text, state, text)


def _ingest_text(state, text: str) -> dict:
    sets, rejections = parse_elements(text, source="POST /api/v1/ingest")
    if not sets:
        first = rejections[0] if rejections else None
        raise ApiError(422, "validation_error", "no element set could be read from the body"
                       + (f": {first}" if first else ""),
                       {"rejections": [str(r) for r in rejections[:20]]})
    update = Catalog.from_element_sets(sets, rejections, "POST /api/v1/ingest")
    # one ingest at a time: two would run two delivery rounds over the same
    # pending deliveries (each sent twice), and could lose an update's merge
    with state.ingest_lock:
        report = process_update(state.alert_store, update, now_ns=state.now_ns,
                                element_sets=sets)
        merged = {es.norad_id: es for es in state.index.catalog}
        for es in update:
            old = merged.get(es.norad_id)
            if old is None or es.epoch_ns >= old.epoch_ns:
                merged[es.norad_id] = es
        # the catalog says which data it holds: an empty one (a service
        # started without --catalog) becomes this ingest's
        source = (state.index.catalog.source if len(state.index.catalog)
                  else "POST /api/v1/ingest")
        catalog = Catalog(list(merged.values()), [], source)
        state.replace_catalog(catalog)
    out = report.as_dict()
    out.update(read=len(sets), rejected=len(rejections),
               rejections=[{"source": r.source, "line": r.line, "field": r.field,
                            "reason": r.reason} for r in rejections[:100]],
               objects=len(catalog))
    out.pop("alerts", None)
    return out
