"""Ingest: element sets into the store, incremental, idempotent and crash-safe.

Sets are written in batches, each batch ONE transaction holding its element
sets and the matching ``objects`` rows; every write is an idempotent upsert
(``INSERT ... ON CONFLICT DO NOTHING`` on the unique key norad_id + epoch +
hash of the normalized elements; ``objects`` merges first/last epochs with
min/max).  A process killed at any point leaves whole batches only, and a
rerun of the same sources rewrites nothing that is there and adds what is
missing.  When a source text has been ingested to its end, its SHA-256 is
recorded in ``ingests`` and a later ingest of the same text is skipped.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass, field
from typing import Callable, Iterable

from sqlalchemy import Connection, case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from ..elements import ElementSet, Rejection, parse_elements
from . import schema

DEFAULT_BATCH = 2000


def elements_sha1(es: ElementSet) -> str:
    """Hash of the normalized elements: the nine numbers SGP4 uses, each to 12
    significant digits (so that a TLE and an OMM of the same set agree),
    plus the object and the epoch."""
    parts = [str(es.norad_id), str(es.epoch_ns)]
    parts += [format(float(getattr(es, c)) + 0.0, ".12g") for c in schema.ELEMENT_COLUMNS]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


def element_row(es: ElementSet) -> dict:
    row = {c: float(getattr(es, c)) for c in schema.ELEMENT_COLUMNS}
    row.update(norad_id=int(es.norad_id), epoch_ns=int(es.epoch_ns),
               elements_sha1=elements_sha1(es), name=(es.name or "")[:100],
               intl_designator=(es.intl_designator or "")[:20],
               classification=(es.classification or "U")[:1],
               ephemeris_type=int(es.ephemeris_type), element_set_no=int(es.element_set_no),
               rev_at_epoch=int(es.rev_at_epoch), source_text=es.source_text or "",
               source=es.source)
    return row


# What a column of either database holds: Integer columns are 32-bit on
# PostgreSQL ('integer', -2**31 .. 2**31 - 1; SQLite's go to 2**63 - 1, the
# store keeps the stricter bound so both hold the same rows), and
# PostgreSQL text cannot hold the NUL character.
_INT_COLUMNS = (("NORAD_CAT_ID", "norad_id"), ("EPHEMERIS_TYPE", "ephemeris_type"),
                ("ELEMENT_SET_NO", "element_set_no"), ("REV_AT_EPOCH", "rev_at_epoch"))
_TEXT_COLUMNS = (("OBJECT_NAME", "name"), ("OBJECT_ID", "intl_designator"),
                 ("CLASSIFICATION_TYPE", "classification"), ("source text", "source_text"))
INT_COLUMN_MIN, INT_COLUMN_MAX = -2**31, 2**31 - 1


def unstorable(es: ElementSet) -> Rejection | None:
    """A rejection naming the field when a value of ``es`` does not fit its
    column (a damaged record: OMM has no checksum, a crash can leave zero
    bytes in a file), else None."""
    what = f"NORAD {es.norad_id} at epoch {es.epoch.iso(3)}"
    for fld, attr in _INT_COLUMNS:
        value = int(getattr(es, attr))
        if not INT_COLUMN_MIN <= value <= INT_COLUMN_MAX:
            return Rejection(es.source, es.line, fld,
                             f"{what}: {fld} {value} is outside the store's integer range "
                             f"{INT_COLUMN_MIN}..{INT_COLUMN_MAX} (a damaged record?)",
                             es.source_text)
    for fld, attr in _TEXT_COLUMNS:
        if "\x00" in (getattr(es, attr) or ""):
            return Rejection(es.source, es.line, fld,
                             f"{what}: {fld} holds NUL characters (zero bytes: a damaged "
                             "file?), which a database text column cannot store",
                             es.source_text)
    return None


@dataclass
class IngestReport:
    """What an ingest did: sets read, new sets stored, objects, rejections."""

    sources: list[str] = field(default_factory=list)
    read: int = 0
    stored: int = 0              # new rows (identical sets already there are not counted)
    skipped_sources: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    new_objects: int = 0

    @property
    def duplicates(self) -> int:
        return self.read - self.stored

    def as_dict(self) -> dict:
        return {"sources": self.sources, "skipped_sources": self.skipped_sources,
                "read": self.read, "stored": self.stored, "duplicates": self.duplicates,
                "new_objects": self.new_objects, "rejected": len(self.rejections),
                "rejections": [{"source": r.source, "line": r.line, "field": r.field,
                                "reason": r.reason} for r in self.rejections]}


def _insert(conn: Connection):
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)


def _objects_upsert(conn: Connection, rows: list[dict]) -> int:
    """Insert or merge object rows; returns how many objects were new."""
    t = schema.objects
    ids = [r["norad_id"] for r in rows]
    known = set()
    for i in range(0, len(ids), 500):
        known.update(conn.execute(select(t.c.norad_id).where(
            t.c.norad_id.in_(ids[i:i + 500]))).scalars())
    ins = _insert(conn)(t)
    ex = ins.excluded
    lo, hi = (func.least, func.greatest) if conn.dialect.name == "postgresql" else (func.min,
                                                                                   func.max)
    newer = ex.last_epoch_ns > t.c.last_epoch_ns
    stmt = ins.on_conflict_do_update(index_elements=[t.c.norad_id], set_={
        "first_epoch_ns": lo(t.c.first_epoch_ns, ex.first_epoch_ns),
        "last_epoch_ns": hi(t.c.last_epoch_ns, ex.last_epoch_ns),
        "name": case((newer & (ex.name != ""), ex.name), (t.c.name == "", ex.name),
                     else_=t.c.name),
        "intl_designator": case((t.c.intl_designator == "", ex.intl_designator),
                                else_=t.c.intl_designator),
    })
    conn.execute(stmt, rows)              # executemany: compiled once per batch
    return len(set(ids) - known)


def write_batch(conn: Connection, sets: list[ElementSet]) -> tuple[int, int]:
    """Write one batch inside the caller's transaction; ``(new sets, new objects)``."""
    if not sets:
        return 0, 0
    rows = {}
    for es in sets:
        r = element_row(es)
        rows.setdefault((r["norad_id"], r["epoch_ns"], r["elements_sha1"]), r)
    rows = list(rows.values())
    per_object: dict[int, dict] = {}
    for r in rows:
        o = per_object.get(r["norad_id"])
        if o is None:
            per_object[r["norad_id"]] = {"norad_id": r["norad_id"], "name": r["name"],
                                         "intl_designator": r["intl_designator"],
                                         "first_epoch_ns": r["epoch_ns"],
                                         "last_epoch_ns": r["epoch_ns"]}
            continue
        o["first_epoch_ns"] = min(o["first_epoch_ns"], r["epoch_ns"])
        if r["epoch_ns"] >= o["last_epoch_ns"]:
            o["last_epoch_ns"] = r["epoch_ns"]
            o["name"] = r["name"] or o["name"]
        o["intl_designator"] = o["intl_designator"] or r["intl_designator"]
    new_objects = _objects_upsert(conn, sorted(per_object.values(), key=lambda o: o["norad_id"]))
    t = schema.element_sets
    stmt = _insert(conn)(t).on_conflict_do_nothing(
        index_elements=[t.c.norad_id, t.c.epoch_ns, t.c.elements_sha1])
    # executemany without RETURNING (psycopg's pipeline, sqlite3's
    # executemany).  sqlite3 reports the rows inserted; psycopg does not for
    # executemany, so there the batch's objects are counted before and after.
    ids = list(per_object)

    def count():
        n = 0
        for i in range(0, len(ids), 1000):
            n += conn.execute(select(func.count()).select_from(t).where(
                t.c.norad_id.in_(ids[i:i + 1000]))).scalar_one()
        return n

    counted = conn.dialect.name != "sqlite"
    before = count() if counted else 0
    stored = conn.execute(stmt, rows).rowcount
    if counted:
        stored = count() - before
    return stored, new_objects


def ingest_element_sets(engine, sets: Iterable[ElementSet], *, batch: int = DEFAULT_BATCH,
                        report: IngestReport | None = None,
                        advance: Callable[[int], None] | None = None) -> IngestReport:
    """Store element sets in batches of ``batch``, one transaction each; a
    set with a value no column can hold is a rejection in the report."""
    report = report or IngestReport()
    chunk: list[ElementSet] = []

    def flush():
        with engine.begin() as conn:
            stored, new = write_batch(conn, chunk)
        report.stored += stored
        report.new_objects += new
        report.read += len(chunk)
        if advance:
            advance(len(chunk))
        chunk.clear()

    for es in sets:
        rejection = unstorable(es)
        if rejection is not None:
            report.rejections.append(rejection)
            continue
        chunk.append(es)
        if len(chunk) >= batch:
            flush()
    if chunk:
        flush()
    return report


def ingest_texts(engine, texts: Iterable[tuple[str, str]], *, batch: int = DEFAULT_BATCH,
                 force: bool = False, advance=None) -> IngestReport:
    """Ingest ``(source_name, text)`` pairs; a text already ingested to its end
    (same SHA-256) is skipped unless ``force``.  Unreadable records are
    reported in ``report.rejections`` with file, line and reason."""
    report = IngestReport()
    t = schema.ingests
    for name, text in texts:
        digest = hashlib.sha256(text.encode()).hexdigest()
        report.sources.append(name)
        if not force:
            with engine.connect() as conn:
                if conn.execute(select(t.c.text_sha256).where(
                        t.c.text_sha256 == digest)).first():
                    report.skipped_sources.append(name)
                    continue
        sets, rejections = parse_elements(text, source=name)
        report.rejections.extend(rejections)
        before = len(report.rejections)
        ingest_element_sets(engine, sets, batch=batch, report=report, advance=advance)
        refused = len(report.rejections) - before     # values no column holds
        with engine.begin() as conn:
            conn.execute(_insert(conn)(t).values(
                text_sha256=digest, source=name, element_sets=len(sets) - refused,
                rejected=len(rejections) + refused,
                completed_at_utc=_dt.datetime.now(_dt.timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%SZ")).on_conflict_do_nothing(
                    index_elements=[t.c.text_sha256]))
    return report
