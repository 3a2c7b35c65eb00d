"""Schema migrations: numbered steps, applied once each, in order, on SQLite and
PostgreSQL alike.

The ``schema_version`` table holds one row per applied step.  On
:func:`satwatch.store.open_store` every step of :data:`MIGRATIONS` whose
version is not yet in that table runs, each in its own transaction together
with its ``schema_version`` row, so that a crash leaves either the whole step
or none of it.

Adding a table (for another module)
-----------------------------------
1. Define the table in your own module on your own ``sqlalchemy.MetaData()``
   (columns with units in their names), and an upgrade function::

       # satwatch/launch_store.py
       reported_events = Table("reported_events", MetaData(), Column(...), ...)

       def upgrade_reported_events(conn):
           reported_events.create(conn)

2. Append ONE line to :data:`MIGRATIONS` below, naming the function as
   ``"module:function"`` (imported only when the step runs, so the store
   never imports your module otherwise)::

       Migration(100, "reported_events", "satwatch.launch_store:upgrade_reported_events"),

   Version ranges, so that parallel work never collides: store 1-99, launch
   analysis 100-199, service (watch rules, alerts) 200-299, anything else
   300+.  Never change or renumber a step that has shipped; add a new one.

Steps get a SQLAlchemy ``Connection`` inside a transaction; use Core
(``Table.create``, ``op``-like ``ALTER`` through ``sqlalchemy.schema``
constructs), never SQL built from strings.
"""
from __future__ import annotations

import datetime as _dt
import importlib
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import Connection, Engine, inspect, select

from ..errors import SatwatchError
from . import schema


class StoreError(SatwatchError):
    """The database could not be opened, migrated or queried."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    upgrade: Callable[[Connection], None] | str   # a function or "module:function"

    def run(self, conn: Connection) -> None:
        fn = self.upgrade
        if isinstance(fn, str):
            module, _, attr = fn.partition(":")
            fn = getattr(importlib.import_module(module), attr)
        fn(conn)


def _initial(conn: Connection) -> None:
    for table in (schema.objects, schema.element_sets, schema.ingests):
        table.create(conn)


MIGRATIONS: list[Migration] = [
    Migration(1, "objects, element_sets, ingests", _initial),
    Migration(100, "reported_events", "satwatch.launch_store:upgrade_reported_events"),
    Migration(200, "watch rules, alerts, deliveries", "satwatch.alerts:upgrade_alerts"),
]


def applied_versions(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        if not inspect(conn).has_table(schema.schema_version.name):
            return set()
        return set(conn.execute(select(schema.schema_version.c.version)).scalars())


def migrate(engine: Engine, migrations: list[Migration] | None = None) -> list[int]:
    """Apply every step not yet applied; returns the versions applied now."""
    steps = sorted(MIGRATIONS if migrations is None else migrations, key=lambda m: m.version)
    seen = set()
    for m in steps:
        if m.version in seen:
            raise StoreError(f"two migration steps share version {m.version}: give each a "
                             "unique number (see satwatch/store/migrations.py)")
        seen.add(m.version)
    with engine.begin() as conn:
        schema.schema_version.create(conn, checkfirst=True)
    done = applied_versions(engine)
    applied = []
    for m in steps:
        if m.version in done:
            continue
        with engine.begin() as conn:
            # Re-check inside the transaction: another process may have run it.
            already = conn.execute(select(schema.schema_version.c.version).where(
                schema.schema_version.c.version == m.version)).first()
            if already:
                continue
            m.run(conn)
            conn.execute(schema.schema_version.insert().values(
                version=m.version, name=m.name,
                applied_at_utc=_dt.datetime.now(_dt.timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%SZ")))
        applied.append(m.version)
    return applied
