"""The page's feed: alerts (manoeuvres, new objects, passes, conjunctions)
and reported launches and missile flights, newest first."""
from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ..deps import Page, Paging, State, page
from .events import all_events

router = APIRouter(tags=["feed"])


class FeedItem(BaseModel):
    time: str
    kind: str
    message: str
    norad_id: int | None = None
    source: str
    id: str
    time_uncertainty_s: float | None = Field(None, description=(
        "half-width of the interval the time is known to (a reported event given to the "
        "minute or by date only: 43200 for a date, whose time is then noon)"))


@router.get("/feed", response_model=Page[FeedItem],
            summary="Manoeuvres, new objects, launches and other alerts, newest first")
def feed(request: Request, state: State, paging: Paging):
    limit, offset = paging
    want = offset + limit
    # the first offset + limit by time (the order of the merged list), not by id
    alerts, n_alerts = state.alert_store.alerts(limit=want, offset=0, by_time=True)
    items = [{"time": a["time"], "kind": a["kind"], "message": a["message"],
              "norad_id": a["norad_id"], "source": "alert", "id": f"alert:{a['id']}"}
             for a in alerts]
    extra = launch_items(state)
    items += extra
    items.sort(key=lambda i: i["time"], reverse=True)
    return page(request, items[offset:offset + limit], n_alerts + len(extra), limit, offset)


def launch_items(state) -> list[dict]:
    """Reported launches and missile flights (see /events)."""
    out = []
    for e in all_events(state):
        when = e.get("time_utc") or e.get("date")
        if not when:
            continue
        who = e.get("vehicle") or e.get("kind")
        where = e.get("site_name") or e.get("site_code") or "an unknown site"
        rng = f", {e['range_km']:g} km" if e.get("range_km") else ""
        unknown = "time_unknown" in (e.get("flags") or ()) or "T" not in when
        unc = e.get("time_uncertainty_s")
        out.append({"time": when if "T" in when else f"{when}T12:00:00Z",
                    "kind": "launch" if e.get("kind") == "launch" else "missile",
                    "message": f"{who} from {where}{rng} ({e.get('outcome', 'unknown')})"
                    + ("; time unknown, date only" if unknown else ""),
                    "norad_id": None, "source": "event", "id": f"event:{e['event_id']}",
                    "time_uncertainty_s": float(unc) if unc else (43200.0 if unknown
                                                                  else None)})
    return out
