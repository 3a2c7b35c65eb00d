"""Alerts: watch rules and alerts kept in the store, delivered exactly once.

The rules' evaluation is pure (:mod:`satwatch.watch`); this module is the I/O
around it:

* tables ``watch_rules``, ``watch_alerts``, ``watch_deliveries`` and
  ``watch_state``, created by migration step 200 of
  :mod:`satwatch.store.migrations`;
* :class:`AlertStore`: rules, alerts (one row per alert key: a happening seen
  twice, by an overlapping window or after a restart, is stored once; one row
  per pass, whose entry a new element set may move by a second, and one per
  conjunction, whose closest approach it may move by seconds), and one
  delivery row per alert and channel, created in the same transaction as the
  alert;
* :func:`deliver_pending`: webhook POSTs and SMTP e-mails for every delivery
  not yet done; a delivery is marked done in the database right after the
  receiver accepted it.  The page's feed reads the alerts table itself.
* :func:`process_update`: one catalog update: what is new, what manoeuvred,
  the rules' alerts, recorded and delivered.

Exactly once: an alert is created once (unique key); each of its deliveries
is sent until one attempt succeeds and then never again, across restarts.
The only window for a duplicate is a crash between the receiver's 2xx (or the
SMTP server's 250) and the database commit; each webhook carries an
``Idempotency-Key`` header and each e-mail a ``Message-ID`` derived from the
alert's key, so receivers can drop such a repeat.
"""
from __future__ import annotations

import json
import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Sequence

import numpy as np

from sqlalchemy import (BigInteger, Boolean, Column, Integer, MetaData, String, Table, Text,
                        UniqueConstraint, delete, func, insert, select, update)

from .catalog import Catalog
from .errors import SatwatchError
from .time import NS_PER_S, Time, utc
from .watch import (Alert, ConjunctionFact, LaunchFact, ManeuverFact, Rule, RuleWarning,
                    Update, WatchError, attribute_launch_sites, evaluate, new_objects,
                    rule_warnings, sma_jumps, watched)

log = logging.getLogger("satwatch.alerts")

CHANNELS = ("webhook", "email")
MAX_ATTEMPTS = 10
WEBHOOK_TIMEOUT_S = 10.0
# A delivery claimed by a process ("sending") and not finished within this
# long is taken to belong to a process that died, and is claimed again: far
# longer than one attempt (WEBHOOK_TIMEOUT_S, SMTP_TIMEOUT_S).
CLAIM_LEASE_NS = 600 * 1_000_000_000
SMTP_TIMEOUT_S = 10.0

metadata = MetaData()

watch_rules = Table(
    "watch_rules", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("name", String(200), nullable=False, default=""),
    Column("spec_json", Text, nullable=False),          # the rule's fields (watch.Rule)
    Column("channels_json", Text, nullable=False),      # {"webhooks": [...], "emails": [...]}
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_ns", BigInteger, nullable=False),
)

watch_alerts = Table(
    "watch_alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("rule_id", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("norad_id", Integer, nullable=False),
    Column("time_ns", BigInteger, nullable=False),       # when the happening is (UTC ns)
    Column("message", Text, nullable=False),
    Column("details_json", Text, nullable=False),
    Column("created_ns", BigInteger, nullable=False),    # when the alert was raised
)

watch_deliveries = Table(
    "watch_deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False, index=True),
    Column("channel", String(20), nullable=False),
    Column("target", String(500), nullable=False),
    # pending, sending (claimed by a process: sent_ns holds the claim's time),
    # sent, failed
    Column("status", String(20), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("sent_ns", BigInteger, nullable=True),
    UniqueConstraint("alert_id", "channel", "target", name="uq_watch_delivery"),
)

watch_state = Table(
    "watch_state", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)


def upgrade_alerts(conn) -> None:
    """Migration step 200: the service's tables."""
    metadata.create_all(conn)


class AlertError(SatwatchError):
    """Rules or alerts that cannot be stored or delivered."""


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "satwatch@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False


def rule_from_row(row) -> Rule:
    spec = json.loads(row["spec_json"])
    spec["norad_ids"] = tuple(spec.get("norad_ids") or ())
    if spec.get("polygon_lon_lat_deg"):
        spec["polygon_lon_lat_deg"] = tuple(tuple(p) for p in spec["polygon_lon_lat_deg"])
    return Rule(id=row["id"], kind=row["kind"], name=row["name"], **spec)


RULE_FIELDS = ("norad_ids", "name_pattern", "owner", "site_name", "site_lat_deg",
               "site_lon_deg", "radius_km", "polygon_lon_lat_deg", "launch_site",
               "max_miss_km")


class AlertStore:
    """Rules, alerts, deliveries and the watcher's state in the store's
    database (SQLite or PostgreSQL; SQLAlchemy Core, no SQL from strings)."""

    def __init__(self, store):
        self.store = store
        self.engine = store.engine

    @classmethod
    def open(cls, url: str) -> "AlertStore":
        from .store import open_store
        return cls(open_store(url))

    def close(self) -> None:
        self.store.close()

    # -- rules -------------------------------------------------------------
    def add_rule(self, kind: str, spec: dict, channels: dict, *, name: str = "",
                 now_ns: int) -> dict:
        spec = {k: spec.get(k) for k in RULE_FIELDS if spec.get(k) is not None}
        Rule(id=0, kind=kind, name=name, **{**spec, "norad_ids": tuple(spec.get("norad_ids", ())),
                                              "polygon_lon_lat_deg": _poly(spec)})
        channels = {"webhooks": list(channels.get("webhooks") or []),
                    "emails": list(channels.get("emails") or [])}
        with self.engine.begin() as conn:
            rid = conn.execute(insert(watch_rules).values(
                kind=kind, name=name, spec_json=json.dumps(spec, sort_keys=True),
                channels_json=json.dumps(channels, sort_keys=True), enabled=True,
                created_ns=int(now_ns))).inserted_primary_key[0]
        return self.rule(rid)

    def rule(self, rule_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(watch_rules).where(watch_rules.c.id == rule_id)).first()
        return _rule_dict(row._mapping) if row else None

    def rules(self, *, limit: int | None = None, offset: int = 0) -> tuple[list[dict], int]:
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(watch_rules)).scalar_one()
            q = select(watch_rules).order_by(watch_rules.c.id).offset(offset)
            if limit is not None:
                q = q.limit(limit)
            rows = [_rule_dict(r._mapping) for r in conn.execute(q)]
        return rows, total

    def active_rules(self) -> list[tuple[Rule, dict]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(watch_rules).where(watch_rules.c.enabled.is_(True))
                                .order_by(watch_rules.c.id)).all()
        return [(rule_from_row(r._mapping), json.loads(r._mapping["channels_json"]))
                for r in rows]

    def delete_rule(self, rule_id: int) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(watch_rules).where(watch_rules.c.id == rule_id)
                                ).rowcount > 0

    # -- alerts -------------------------------------------------------------
    def record(self, alerts: Sequence[Alert], channels_by_rule: dict[int, dict], *,
               now_ns: int) -> list[int]:
        """Store alerts not stored before (by key; a pass also by its span,
        which another element set's prediction overlaps), each with its
        pending deliveries, in one transaction; returns the ids of the new
        alerts."""
        new_ids = []
        with self.engine.begin() as conn:
            keys = [a.key for a in alerts]
            known = set()
            for i in range(0, len(keys), 500):
                known |= set(conn.execute(select(watch_alerts.c.key).where(
                    watch_alerts.c.key.in_(keys[i:i + 500]))).scalars())
            passes = _stored_passes(conn, [a for a in alerts
                                           if a.kind == "pass" and a.key not in known])
            tcas = _stored_conjunctions(conn, [a for a in alerts
                                               if a.kind == "conjunction" and a.key not in known])
            for a in alerts:
                if a.key in known:
                    continue
                pair = _conjunction_pair(a) if a.kind == "conjunction" else None
                if pair is not None:
                    # the same approach predicted from another element set:
                    # its closest approach (in the key) moves by seconds
                    seen = tcas.setdefault(pair, [])
                    if any(abs(t - int(a.time_ns)) <= SAME_APPROACH_NS for t in seen):
                        continue
                    seen.append(int(a.time_ns))
                span = _pass_span(a.details) if a.kind == "pass" else None
                if span is not None:
                    # the same pass predicted from another element set: its
                    # entry (the key) may move by a second or two, its span
                    # still overlaps the one alerted
                    spans = passes.setdefault((a.rule_id, a.norad_id), [])
                    if any(lo <= span[1] and span[0] <= hi for lo, hi in spans):
                        continue
                    spans.append(span)
                known.add(a.key)
                aid = conn.execute(insert(watch_alerts).values(
                    key=a.key, rule_id=a.rule_id, kind=a.kind, norad_id=a.norad_id,
                    time_ns=int(a.time_ns), message=a.message,
                    details_json=json.dumps(a.details, sort_keys=True, default=str),
                    created_ns=int(now_ns))).inserted_primary_key[0]
                new_ids.append(aid)
                channels = channels_by_rule.get(a.rule_id, {})
                rows = [{"alert_id": aid, "channel": "webhook", "target": url,
                         "status": "pending", "attempts": 0}
                        for url in channels.get("webhooks", [])]
                rows += [{"alert_id": aid, "channel": "email", "target": addr,
                          "status": "pending", "attempts": 0}
                         for addr in channels.get("emails", [])]
                if rows:
                    conn.execute(insert(watch_deliveries), rows)
        return new_ids

    def alerts(self, *, limit: int = 100, offset: int = 0, kind: str | None = None,
               rule_id: int | None = None, by_time: bool = False) -> tuple[list[dict], int]:
        """The feed, newest first: the newest raised, or with ``by_time`` the
        latest happening (an alert's time is its pass's, manoeuvre's, ...)."""
        q = select(watch_alerts)
        c = select(func.count()).select_from(watch_alerts)
        if kind:
            q, c = q.where(watch_alerts.c.kind == kind), c.where(watch_alerts.c.kind == kind)
        if rule_id is not None:
            q = q.where(watch_alerts.c.rule_id == rule_id)
            c = c.where(watch_alerts.c.rule_id == rule_id)
        with self.engine.connect() as conn:
            total = conn.execute(c).scalar_one()
            order = ((watch_alerts.c.time_ns.desc(),) if by_time else ()) + \
                (watch_alerts.c.id.desc(),)
            rows = conn.execute(q.order_by(*order).limit(limit).offset(offset)).all()
        return [_alert_dict(r._mapping) for r in rows], total

    def alert(self, alert_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(watch_alerts).where(watch_alerts.c.id == alert_id)).first()
        return _alert_dict(row._mapping) if row else None

    def deliveries(self, status: str | None = None) -> list[dict]:
        q = select(watch_deliveries).order_by(watch_deliveries.c.id)
        if status:
            q = q.where(watch_deliveries.c.status == status)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def due(self, now_ns: int) -> list[dict]:
        """Deliveries to attempt now: pending ones, and those claimed by a
        process that has not finished them within CLAIM_LEASE_NS (it died)."""
        q = select(watch_deliveries).where(
            (watch_deliveries.c.status == "pending")
            | ((watch_deliveries.c.status == "sending")
               & (watch_deliveries.c.sent_ns < int(now_ns) - CLAIM_LEASE_NS))
        ).order_by(watch_deliveries.c.id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def claim(self, delivery_id: int, *, now_ns: int) -> bool:
        """Take one delivery for this process: True where no other process
        (``satwatch serve`` and ``satwatch watch`` share a database) holds it.
        One conditional UPDATE: the database lets one of two racing claims
        through."""
        with self.engine.begin() as conn:
            return conn.execute(update(watch_deliveries).where(
                watch_deliveries.c.id == delivery_id,
                (watch_deliveries.c.status == "pending")
                | ((watch_deliveries.c.status == "sending")
                   & (watch_deliveries.c.sent_ns < int(now_ns) - CLAIM_LEASE_NS))
            ).values(status="sending", sent_ns=int(now_ns))).rowcount == 1

    def mark(self, delivery_id: int, *, ok: bool, error: str | None, now_ns: int) -> None:
        with self.engine.begin() as conn:
            row = conn.execute(select(watch_deliveries.c.attempts).where(
                watch_deliveries.c.id == delivery_id)).first()
            attempts = (row[0] if row else 0) + 1
            status = "sent" if ok else ("failed" if attempts >= MAX_ATTEMPTS else "pending")
            conn.execute(update(watch_deliveries).where(watch_deliveries.c.id == delivery_id)
                         .values(status=status, attempts=attempts,
                                 last_error=None if ok else (error or "")[:2000],
                                 sent_ns=int(now_ns) if ok else None))

    # -- watcher state --------------------------------------------------------
    def get_state(self, key: str, default=None):
        with self.engine.connect() as conn:
            row = conn.execute(select(watch_state.c.value).where(watch_state.c.key == key)).first()
        return json.loads(row[0]) if row else default

    def set_state(self, key: str, value) -> None:
        text = json.dumps(value)
        with self.engine.begin() as conn:
            n = conn.execute(update(watch_state).where(watch_state.c.key == key)
                             .values(value=text)).rowcount
            if not n:
                conn.execute(insert(watch_state).values(key=key, value=text))


# Longest span a pass alert can have (the search's look-back, a day, plus the
# longest window, 14 days: satwatch watch --window-h), so that a stored pass
# overlapping a new one has its closest approach at most this long before
# the new pass's entry.
MAX_PASS_SPAN_NS = 16 * 86_400 * NS_PER_S


def _pass_span(details: dict) -> tuple[int, int] | None:
    """A pass alert's [enter, leave] (UTC ns), from its details."""
    try:
        return int(utc(details["enter"]).ns), int(utc(details["leave"]).ns)
    except (KeyError, TypeError, SatwatchError):
        return None


def _stored_passes(conn, alerts) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """(rule, object) -> [enter, leave] spans of the stored pass alerts that
    may overlap ``alerts`` (pass alerts about to be recorded)."""
    spans = [s for s in (_pass_span(a.details) for a in alerts) if s is not None]
    if not spans:
        return {}
    since = min(lo for lo, _ in spans) - MAX_PASS_SPAN_NS
    rule_ids = sorted({a.rule_id for a in alerts})
    norad_ids = sorted({a.norad_id for a in alerts})
    out: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i in range(0, len(norad_ids), 500):
        rows = conn.execute(select(watch_alerts.c.rule_id, watch_alerts.c.norad_id,
                                   watch_alerts.c.details_json).where(
            watch_alerts.c.kind == "pass", watch_alerts.c.rule_id.in_(rule_ids),
            watch_alerts.c.norad_id.in_(norad_ids[i:i + 500]),
            watch_alerts.c.time_ns >= since))
        for rule_id, norad_id, details in rows:
            span = _pass_span(json.loads(details))
            if span is not None:
                out.setdefault((rule_id, norad_id), []).append(span)
    return out


# Two conjunction alerts of one rule and pair whose closest approaches lie
# this close are one approach seen from two element sets: a new set moves a
# TCA by seconds (a km of along-track change at km/s of relative speed),
# while one pair's separate approaches come at least about half an orbit
# apart (45 min in LEO), where their relative geometry repeats.
SAME_APPROACH_NS = 600 * NS_PER_S


def _conjunction_pair(a) -> tuple[int, int, int] | None:
    """(rule, object, object) of a conjunction alert, from its details."""
    try:
        return a.rule_id, int(a.details["norad_id_1"]), int(a.details["norad_id_2"])
    except (KeyError, TypeError, ValueError):
        return None


def _stored_conjunctions(conn, alerts) -> dict[tuple[int, int, int], list[int]]:
    """(rule, object, object) -> closest-approach times (UTC ns) of the
    stored conjunction alerts that may be the same approach as one of
    ``alerts`` (conjunction alerts about to be recorded)."""
    if not alerts:
        return {}
    times = [int(a.time_ns) for a in alerts]
    rule_ids = sorted({a.rule_id for a in alerts})
    out: dict[tuple[int, int, int], list[int]] = {}
    rows = conn.execute(select(watch_alerts.c.rule_id, watch_alerts.c.time_ns,
                               watch_alerts.c.details_json).where(
        watch_alerts.c.kind == "conjunction", watch_alerts.c.rule_id.in_(rule_ids),
        watch_alerts.c.time_ns >= min(times) - SAME_APPROACH_NS,
        watch_alerts.c.time_ns <= max(times) + SAME_APPROACH_NS))
    for rule_id, time_ns, details in rows:
        d = json.loads(details)
        try:
            key = (rule_id, int(d["norad_id_1"]), int(d["norad_id_2"]))
        except (KeyError, TypeError, ValueError):
            continue
        out.setdefault(key, []).append(int(time_ns))
    return out


def _poly(spec):
    poly = spec.get("polygon_lon_lat_deg")
    return tuple(tuple(p) for p in poly) if poly else None


def _rule_dict(m) -> dict:
    spec = json.loads(m["spec_json"])
    return {"id": m["id"], "kind": m["kind"], "name": m["name"], **spec,
            "channels": json.loads(m["channels_json"]), "enabled": bool(m["enabled"]),
            "created": Time(m["created_ns"]).iso(0)}


def _alert_dict(m) -> dict:
    return {"id": m["id"], "key": m["key"], "rule_id": m["rule_id"], "kind": m["kind"],
            "norad_id": m["norad_id"], "time": Time(m["time_ns"]).iso(0),
            "message": m["message"], "details": json.loads(m["details_json"]),
            "created": Time(m["created_ns"]).iso(0)}


# -- delivery ---------------------------------------------------------------------
def _payload(alert: dict) -> dict:
    return {"source": "satwatch", "alert": alert}


def send_webhook(url: str, alert: dict, *, client=None) -> None:
    import httpx
    headers = {"Idempotency-Key": alert["key"], "User-Agent": "satwatch-alerts"}
    own = client is None
    client = client or httpx.Client(timeout=WEBHOOK_TIMEOUT_S, follow_redirects=False)
    try:
        resp = client.post(url, json=_payload(alert), headers=headers)
    finally:
        if own:
            client.close()
    if not 200 <= resp.status_code < 300:
        raise AlertError(f"webhook {url} answered HTTP {resp.status_code}")


def send_email(address: str, alert: dict, smtp: SmtpConfig) -> None:
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = address
    msg["Subject"] = f"[satwatch] {alert['kind']}: {alert['message'][:150]}"
    msg["Message-ID"] = f"<{alert['key'].replace(':', '.')}.{address.replace('@', '.')}@satwatch>"
    msg.set_content(f"{alert['message']}\n\ntime: {alert['time']}\nrule: {alert['rule_id']}\n"
                    f"details: {json.dumps(alert['details'], indent=1)}\n")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_S) as server:
        if smtp.starttls:
            server.starttls()
        if smtp.username:
            server.login(smtp.username, smtp.password or "")
        server.send_message(msg)


def deliver_pending(alert_store: AlertStore, *, now_ns, smtp: SmtpConfig | None = None,
                    client=None) -> dict:
    """Send every pending delivery; returns counts ``{"sent", "failed", "pending"}``.
    ``now_ns``: a function returning the time (the caller reads the clock)."""
    counts = {"sent": 0, "failed": 0, "pending": 0}
    waiting = 0                             # e-mails with no SMTP server to send them
    cache: dict[int, dict] = {}
    down: set[tuple[str, str]] = set()      # targets that failed in this round
    for d in alert_store.due(now_ns()):
        if d["channel"] == "email" and smtp is None:
            # no SMTP server here (the service's POST /ingest): not an attempt;
            # the e-mail waits for 'satwatch watch --smtp'
            counts["pending"] += 1
            waiting += 1
            continue
        if (d["channel"], d["target"]) in down:
            counts["pending"] += 1
            continue
        if not alert_store.claim(d["id"], now_ns=now_ns()):
            # another process (serve and watch share the database) has it
            counts["pending"] += 1
            continue
        alert = cache.get(d["alert_id"]) or alert_store.alert(d["alert_id"])
        if alert is None:
            continue
        cache[d["alert_id"]] = alert
        try:
            if d["channel"] == "webhook":
                send_webhook(d["target"], alert, client=client)
            elif d["channel"] == "email":
                send_email(d["target"], alert, smtp)
            else:
                raise AlertError(f"unknown channel {d['channel']!r}")
        except Exception as exc:       # any failure of the far end is data: retried later
            log.warning("delivery %s of alert %s to %s failed: %s", d["id"], alert["key"],
                        d["target"], exc)
            down.add((d["channel"], d["target"]))
            alert_store.mark(d["id"], ok=False, error=f"{type(exc).__name__}: {exc}",
                             now_ns=now_ns())
            counts["failed" if d["attempts"] + 1 >= MAX_ATTEMPTS else "pending"] += 1
            continue
        alert_store.mark(d["id"], ok=True, error=None, now_ns=now_ns())
        counts["sent"] += 1
    if waiting:
        log.warning("%d e-mail deliveries wait for an SMTP server (satwatch watch --smtp "
                    "HOST:PORT)", waiting)
    return counts


# -- one catalog update -----------------------------------------------------------
@dataclass
class UpdateReport:
    stored_sets: int
    new_objects: int
    maneuvers: int
    alerts: int
    new_alerts: int
    baseline: bool
    deliveries: dict
    # rules naming objects absent from the update (watch.RuleWarning.as_dict)
    warnings: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


MANEUVER_HISTORY_DAYS = 120.0     # history given to the detector before an update


def detect_maneuvers(store, previous: Catalog, update_sets, norad_ids=None
                     ) -> list[ManeuverFact]:
    """Manoeuvres this update reveals, for the objects ``norad_ids`` (all
    when None).

    With :mod:`satwatch.maneuvers`: its detector runs on each changed
    object's stored history (the last MANEUVER_HISTORY_DAYS) with and without
    the update's element sets; the manoeuvres found only with them are new
    (the detector confirms a step with sets after it, so a burn may be
    revealed by a later update than the one that crossed it).  Without that
    module: the simple semi-major-axis test of :func:`satwatch.watch.sma_jumps`.
    """
    prev = {es.norad_id: es for es in previous}
    wanted = None if norad_ids is None else set(int(n) for n in norad_ids)
    new_by_id: dict[int, list] = {}
    for es in update_sets:
        old = prev.get(es.norad_id)
        if old is None or es.epoch_ns <= old.epoch_ns:
            continue
        if wanted is not None and es.norad_id not in wanted:
            continue
        new_by_id.setdefault(es.norad_id, []).append(es)
    if not new_by_id:
        return []
    try:
        from . import maneuvers as _maneuvers
    except ImportError:
        newest = [max(v, key=lambda e: e.epoch_ns) for v in new_by_id.values()]
        return sma_jumps(prev, Catalog(newest, [], "update"))
    since = min(prev[n].epoch_ns for n in new_by_id) - int(MANEUVER_HISTORY_DAYS * 86_400 * NS_PER_S)
    history = dict(store.history_arrays(list(new_by_id), since=Time(since)))
    cols = ("epoch_ns", "mean_motion_rev_day", "eccentricity", "inclination_deg", "raan_deg",
            "arg_perigee_deg", "mean_anomaly_deg", "ndot_rev_day2")
    facts = []
    for nid, sets in new_by_id.items():
        old = history.get(nid)
        if old is None:
            continue
        if not all(c in old for c in cols):
            continue
        before = {c: np.asarray(old[c]) for c in cols}
        extra = {c: np.array([getattr(es, c) for es in sets]) for c in cols}
        after = {c: np.concatenate([before[c], extra[c]]) for c in cols}
        seen = set(_maneuvers.detect_maneuvers(**before, norad_id=nid).epoch_ns.tolist())
        found = _maneuvers.detect_maneuvers(**after, norad_id=nid)
        for j in range(len(found)):
            if int(found.epoch_ns[j]) in seen:
                continue
            lo, hi = int(found.window_start_ns[j]), int(found.window_end_ns[j])
            facts.append(ManeuverFact(
                nid, lo + (hi - lo) // 2, float(found.delta_a_km[j]),
                float(found.delta_v_m_s[j]),
                f"{found.kind[j]} between element sets of {Time(lo).iso(0)} and "
                f"{Time(hi).iso(0)} (z = {float(found.z_score[j]):.1f})",
                key=int(found.epoch_ns[j]), window_start_ns=lo, window_end_ns=hi))
    return facts


CONJUNCTION_WINDOW_S = 86_400.0      # conjunctions are screened one day ahead


def screen_for_rules(catalog: Catalog, rules, owners, start_ns: int, end_ns: int
                     ) -> list[ConjunctionFact]:
    """Conjunctions the rules may care about: their watched objects against
    the objects sharing their altitudes (all vs all when a rule watches
    everything), under the largest ``max_miss_km`` of the rules."""
    try:
        from .conjunctions import screen_conjunctions
    except ImportError:
        log.warning("conjunction rules need satwatch.conjunctions, which is not installed")
        return []
    threshold = max(r.max_miss_km for r in rules)
    if any(r.watches_everything for r in rules):
        primaries, scope = None, catalog
    else:
        primaries = sorted({es.norad_id for r in rules for es in watched(r, catalog, owners)})
        if not primaries:
            return []
        from .watch import shell_candidates
        scope = shell_candidates(catalog, primaries, threshold)
    if len(scope) < 2:
        return []
    result = screen_conjunctions(scope, Time(start_ns), Time(end_ns), threshold,
                                 primaries=primaries)
    return [ConjunctionFact(int(a), int(b), int(t), float(m)) for a, b, t, m in zip(
        result.norad_id_1, result.norad_id_2, np.atleast_1d(result.tca.ns), result.miss_km)]


# Reported launches up to this long before the new objects' first element sets
# are tried against them: identify's epoch factor halves past ~12 days
# (MAX_AGE_DAYS 7 + exponential tail), so older launches cannot reach the
# attribution score; designators carry the attribution beyond that.
LAUNCH_LOOKBACK_DAYS = 30.0
LAUNCH_SITES_STATE = "launch_sites_by_launch"     # watch_state: launch (YYYY-NNN) -> site


def launch_facts(store, new_sets) -> list[LaunchFact]:
    """The reported launches (store's ``reported_events``, kind ``launch``,
    with a known time and site, not failed) that the new objects may come
    from: lift-off up to LAUNCH_LOOKBACK_DAYS before the oldest first element
    set, and not after the newest."""
    if not new_sets:
        return []
    from .launch_store import load_events
    epochs = [es.epoch_ns for es in new_sets]
    since = min(epochs) - int(LAUNCH_LOOKBACK_DAYS * 86_400 * NS_PER_S)
    facts = []
    for e in load_events(store, since_ns=since, until_ns=max(epochs)):
        if (e.kind != "launch" or e.time_utc_ns is None or e.site_lat_deg is None
                or e.site_lon_deg is None or e.outcome == "failure"):
            continue
        code = e.site_code or e.site_name or f"{e.site_lat_deg:.3f},{e.site_lon_deg:.3f}"
        facts.append(LaunchFact(code, float(e.site_lat_deg), float(e.site_lon_deg),
                                int(e.time_utc_ns), float(e.time_uncertainty_s or 60.0),
                                " ".join(x for x in (e.event_id, e.vehicle) if x)))
    return facts


def gather_launch_sites(alert_store: AlertStore, new_sets) -> tuple[dict, dict, dict]:
    """Attribute new objects to launch sites from the store's reported launches
    and the launch -> site map kept from earlier updates (see
    :func:`satwatch.watch.attribute_launch_sites`)."""
    if not new_sets:
        return {}, {}, alert_store.get_state(LAUNCH_SITES_STATE, {})
    known = alert_store.get_state(LAUNCH_SITES_STATE, {})
    facts = launch_facts(alert_store.store, new_sets)
    return attribute_launch_sites(new_sets, facts, known)


def process_update(alert_store: AlertStore, catalog: Catalog, *, now_ns, window_s: float = 86_400,
                   step_s: float = 30.0, smtp: SmtpConfig | None = None, owners=None,
                   launch_sites=None, conjunctions=(), client=None,
                   element_sets=None) -> UpdateReport:
    """Ingest one catalog update into the store, evaluate every rule, record
    the alerts (once each) and deliver them.  ``catalog``: each object's
    newest set; ``element_sets``: every set of the update (default: the
    catalog's).  The first update into an empty store is a baseline: nothing
    is new yet.  ``launch_sites`` (NORAD id -> site code) defaults to the
    attribution of :func:`gather_launch_sites` (the store's reported launches
    and the launch -> site map kept from earlier updates).  The report's
    ``warnings`` name the rules whose objects are not in ``catalog`` (they
    cannot fire for them: :func:`satwatch.watch.rule_warnings`)."""
    store = alert_store.store
    previous = store.latest_catalog()
    baseline = len(previous) == 0
    element_sets = list(catalog) if element_sets is None else list(element_sets)
    rules = alert_store.active_rules()
    fresh = [] if baseline else new_objects(previous.norad_ids.tolist(), catalog)
    if owners is None:
        owners = {r["norad_id"]: r["owner"] for r in store.objects() if r.get("owner")}
    man_rules = [r for r, _ in rules if r.kind == "maneuver"]
    maneuvers = []
    if man_rules and not baseline:
        ids = None
        if not any(r.watches_everything for r in man_rules):
            ids = {es.norad_id for r in man_rules for es in watched(r, catalog, owners)}
        maneuvers = detect_maneuvers(store, previous, element_sets, ids)
    t0 = int(now_ns())
    conj_rules = [r for r, _ in rules if r.kind == "conjunction"]
    if conj_rules and not conjunctions:
        conjunctions = screen_for_rules(catalog, conj_rules, owners, t0,
                                        t0 + int(min(window_s, CONJUNCTION_WINDOW_S) * NS_PER_S))
    reasons, by_launch = {}, None
    if launch_sites is None:
        launch_sites, reasons, by_launch = gather_launch_sites(alert_store, fresh)
    update_facts = Update(catalog=catalog, new_objects=fresh, maneuvers=maneuvers,
                          conjunctions=list(conjunctions), owners=owners,
                          launch_sites=launch_sites or {}, launch_site_reasons=reasons,
                          window_start_ns=t0,
                          window_end_ns=t0 + int(window_s * NS_PER_S), step_s=step_s)
    alerts, refused = [], []
    for rule, _ in rules:
        # a rule that cannot be evaluated (e.g. a pass rule over too many
        # objects) is reported; the update and the other rules go on
        try:
            alerts += evaluate([rule], update_facts)
        except WatchError as exc:
            refused.append(RuleWarning(rule.id, rule.kind, (), f"{exc}: it was not evaluated"))
    warnings = rule_warnings([r for r, _ in rules], catalog, owners,
                             known_ids=[*previous.norad_ids.tolist(),
                                        *(es.norad_id for es in catalog)]) + refused
    for w in warnings:
        log.warning("%s", w.message)
    # Alerts are recorded before the update is ingested: a crash in between
    # re-evaluates the same update on restart, and the keys drop the repeats.
    new_ids = alert_store.record(alerts, {r.id: ch for r, ch in rules}, now_ns=now_ns())
    if by_launch:
        alert_store.set_state(LAUNCH_SITES_STATE, by_launch)
    report = store.ingest_catalog(element_sets)
    deliveries = deliver_pending(alert_store, now_ns=now_ns, smtp=smtp, client=client)
    return UpdateReport(report.stored, len(fresh), len(maneuvers), len(alerts), len(new_ids),
                        baseline, deliveries, [w.as_dict() for w in warnings])
