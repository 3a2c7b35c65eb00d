"""The log of reported launches and missile flights in the store: the
``reported_events`` table (migration step 100, see
:mod:`satwatch.store.migrations`) and the functions that write and read it.

One row per event, keyed by ``event_id``; importing the same event again
replaces it (so a corrected file can be re-imported).  Unknown values are
NULL and the reasons are kept in ``flags`` (``;``-separated).
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, MetaData, String, Table, Text, delete, select

from .reported_events import ReportedEvent

metadata = MetaData()

reported_events = Table(
    "reported_events", metadata,
    Column("event_id", String(100), primary_key=True),
    Column("date", String(10), nullable=False),
    Column("time_utc_ns", BigInteger, nullable=True),
    Column("time_uncertainty_s", Float, nullable=True),
    Column("kind", String(20), nullable=False),
    Column("vehicle", String(200), nullable=False, default=""),
    Column("vehicle_type", String(50), nullable=False, default=""),
    Column("site_code", String(100), nullable=False, default=""),
    Column("site_name", String(200), nullable=False, default=""),
    Column("site_lat_deg", Float, nullable=True),
    Column("site_lon_deg", Float, nullable=True),
    Column("range_km", Float, nullable=True),
    Column("apogee_km", Float, nullable=True),
    Column("bearing_deg", Float, nullable=True),
    Column("outcome", String(20), nullable=False),
    Column("landing", String(100), nullable=False, default=""),
    Column("source", Text, nullable=False, default=""),
    Column("notes", Text, nullable=False, default=""),
    Column("flags", Text, nullable=False, default=""),
)

_FIELDS = [c.name for c in reported_events.columns]


def upgrade_reported_events(conn) -> None:
    """Migration step 100."""
    reported_events.create(conn)


def _row(e: ReportedEvent) -> dict:
    d = {k: getattr(e, k) for k in _FIELDS if k != "flags"}
    d["flags"] = ";".join(e.flags)
    return d


def save_events(store, events) -> dict:
    """Insert or replace events; returns counts ``{"inserted", "replaced"}``."""
    events = list(events)
    ids = [e.event_id for e in events]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        from .reported_events import EventsError
        raise EventsError(f"event ids repeat in one import: {', '.join(dup)}")
    with store.engine.begin() as conn:
        existing = set()
        for k in range(0, len(ids), 500):
            existing |= set(conn.execute(select(reported_events.c.event_id).where(
                reported_events.c.event_id.in_(ids[k:k + 500]))).scalars())
        if existing:
            conn.execute(delete(reported_events).where(
                reported_events.c.event_id.in_(sorted(existing))))
        if events:
            conn.execute(reported_events.insert(), [_row(e) for e in events])
    return {"inserted": len(events) - len(existing), "replaced": len(existing)}


def _event(row) -> ReportedEvent:
    d = dict(row._mapping)
    d["flags"] = tuple(f for f in (d.get("flags") or "").split(";") if f)
    return ReportedEvent(**d)


def load_events(store, *, event_ids=None, site: str | None = None,
                since_ns: int | None = None, until_ns: int | None = None) -> list[ReportedEvent]:
    """Events, oldest first, optionally filtered."""
    q = select(reported_events)
    if event_ids is not None:
        q = q.where(reported_events.c.event_id.in_(list(event_ids)))
    if site:
        q = q.where(reported_events.c.site_code == site)
    if since_ns is not None:
        q = q.where(reported_events.c.time_utc_ns >= since_ns)
    if until_ns is not None:
        q = q.where(reported_events.c.time_utc_ns <= until_ns)
    q = q.order_by(reported_events.c.time_utc_ns, reported_events.c.event_id)
    with store.engine.connect() as conn:
        return [_event(r) for r in conn.execute(q)]


def get_event(store, event_id: str) -> ReportedEvent | None:
    found = load_events(store, event_ids=[event_id])
    return found[0] if found else None
