"""What routes share: the process state, the token check for writes,
pagination, and reading times."""
from __future__ import annotations

import hmac
import re
from typing import Annotated, Any, Generic, TypeVar

import numpy as np
from fastapi import Depends, Query, Request
from pydantic import BaseModel

from ..errors import TimeError
from ..time import NS_PER_S, Time, utc
from .errors import ApiError
from .state import ServiceState

T = TypeVar("T")


def get_state(request: Request) -> ServiceState:
    return request.app.state.satwatch


State = Annotated[ServiceState, Depends(get_state)]


def require_token(request: Request) -> str:
    """Write endpoints: ``Authorization: Bearer <token>`` with one of the
    configured tokens (compared in constant time)."""
    state: ServiceState = request.app.state.satwatch
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "this endpoint needs an API token: send "
                       "'Authorization: Bearer <token>'",
                       headers={"WWW-Authenticate": "Bearer"})
    token = token.strip()
    tokens = state.settings.api_tokens
    ok = False
    for known in tokens:
        ok |= hmac.compare_digest(token.encode(), known.encode())
    if not tokens or not ok:
        raise ApiError(403, "forbidden", "the API token is not valid for this service"
                       + ("" if tokens else " (no tokens are configured: writes are disabled)"),
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return token


WriteToken = Annotated[str, Depends(require_token)]


class Page(BaseModel, Generic[T]):
    """One page of a long list: ``next`` is the URL of the following page
    (null on the last)."""

    items: list[T]
    total: int
    limit: int
    offset: int
    next: str | None = None


def page(request: Request, items: list, total: int, limit: int, offset: int) -> dict[str, Any]:
    nxt = None
    if offset + limit < total:
        nxt = str(request.url.include_query_params(limit=limit, offset=offset + limit))
    return {"items": items, "total": total, "limit": limit, "offset": offset, "next": nxt}


def paging(request: Request,
           limit: Annotated[int, Query(ge=1, le=10_000, description="page size")] = 100,
           offset: Annotated[int, Query(ge=0, le=10_000_000, description="items to skip")] = 0,
           ) -> tuple[int, int]:
    max_page = request.app.state.satwatch.settings.limits.max_page
    if limit > max_page:
        raise ApiError(422, "limit_exceeded", f"limit={limit} is over the largest page "
                       f"({max_page}); follow the 'next' links instead",
                       {"limit": limit, "max_page": max_page})
    return limit, offset


Paging = Annotated[tuple[int, int], Depends(paging)]


# The service answers for 1957-01-01 up to (not including) 2201-01-01 UTC.
_FIRST_NS = int(utc("1957-01-01T00:00:00Z").ns)
_END_NS = int(utc("2201-01-01T00:00:00Z").ns)


def read_time(text: str | None, state: ServiceState, name: str = "at") -> Time:
    """``now`` (or nothing) is the service clock; else ISO-8601 UTC."""
    if text is None or text.strip().lower() == "now":
        return Time(state.now_ns())
    try:
        t = utc(text)
    except TimeError as exc:
        raise ApiError(422, "validation_error", f"{name}: {exc}", {"field": name}) from None
    if not _FIRST_NS <= int(t.ns) < _END_NS:
        raise ApiError(422, "validation_error", f"{name}: {text!r} is outside 1957-2200",
                       {"field": name})
    return t


def check_span_end(start: Time, duration_s: float, name: str = "duration_s") -> None:
    """A span's end (``start`` + ``duration_s``) inside 1957-2200, as its
    start is (:func:`read_time`): 422 naming the field that sets the end."""
    end_ns = int(start.ns) + int(round(float(duration_s) * NS_PER_S))
    if not end_ns < _END_NS:
        raise ApiError(422, "validation_error",
                       f"{name}: the span from {start.iso(0)} ends at {Time(end_ns).iso(0)}, "
                       "past 2200 (times are accepted in 1957-2200)", {"field": name})


# ASCII digits only: str.isdigit and \d also accept other scripts' digits
# and superscripts, which int() or numpy then refuse or read differently.
_IDS_RE = re.compile(r"[0-9]{1,9}(?:,[0-9]{1,9})*")
_ID_RE = re.compile(r"[0-9]{1,9}")


def parse_ids(text: str, field: str = "ids", max_count: int = 10_000) -> list[int]:
    """``"25544,43013"`` -> ``[25544, 43013]`` with a clear error."""
    text = text.strip().strip(",")
    if _IDS_RE.fullmatch(text):
        ids = np.array(text.split(","), dtype=np.int64)
        if len(ids) > max_count:
            raise ApiError(422, "limit_exceeded", f"{field}: {len(ids)} ids given; at most "
                           f"{max_count} per request", {"field": field, "max_objects": max_count})
        return ids
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) > max_count:
        raise ApiError(422, "limit_exceeded", f"{field}: {len(parts)} ids given; at most "
                       f"{max_count} per request", {"field": field, "max_objects": max_count})
    out = []
    for p in parts:
        if not _ID_RE.fullmatch(p):
            raise ApiError(422, "validation_error", f"{field}: {p[:20]!r} is not a NORAD "
                           "catalog number", {"field": field})
        out.append(int(p))
    if not out:
        raise ApiError(422, "validation_error", f"{field}: give at least one NORAD id",
                       {"field": field})
    return out


class FailedOut(BaseModel):
    """An object that SGP4 could not propagate over (part of) the span: it
    has no passes or access while it fails (a decayed or invalid element set)."""
    norad_id: int
    name: str
    error_code: int
    error: str


def failed_rows(failed: dict, catalog) -> list[dict[str, Any]]:
    """``failed`` (catalog index -> error code, as Passes.failed and
    Access.failed give it) as rows naming each object and its error."""
    from ..propagation import error_text
    sets = catalog.element_sets
    return [{"norad_id": sets[i].norad_id, "name": sets[i].name or "", "error_code": int(code),
             "error": error_text(int(code)) or ""} for i, code in sorted(failed.items())]
