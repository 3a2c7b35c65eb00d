"""The store's tables (SQLAlchemy 2.0 Core), the same for SQLite and PostgreSQL.

Every column that holds a quantity carries its unit in its name; times are
``*_ns`` (int64 UTC nanoseconds since 1970, as :class:`satwatch.time.Time`)
so that epochs compare exactly in SQL on both databases.

Tables are created by the migration steps in :mod:`satwatch.store.migrations`
(never by ``metadata.create_all`` at run time), so that an existing database
is upgraded step by step.  Another module that adds tables defines them on its
own ``MetaData`` (or on :data:`metadata`) and adds a migration step.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Column, Float, Index, Integer, MetaData, String, Table,
                        Text, UniqueConstraint)

metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at_utc", String(40), nullable=False),   # ISO-8601 with Z
)

# One row per object ever seen: metadata from the element sets (name and
# international designator of the newest set) and, where a source gives them,
# from a catalog such as GCAT (owner, launch date, object type).
objects = Table(
    "objects", metadata,
    Column("norad_id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False, default=""),
    Column("intl_designator", String(20), nullable=False, default=""),
    Column("owner", String(100), nullable=True),
    Column("launch_date", String(10), nullable=True),        # YYYY-MM-DD (UTC)
    Column("object_type", String(40), nullable=True),        # payload, rocket body, debris ...
    Column("decay_date", String(10), nullable=True),         # YYYY-MM-DD where known
    Column("first_epoch_ns", BigInteger, nullable=False),
    Column("last_epoch_ns", BigInteger, nullable=False),
)

# Every element set ever ingested; identical sets (same object, epoch and
# normalized elements) are stored once thanks to the unique key.
element_sets = Table(
    "element_sets", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("norad_id", Integer, nullable=False),
    Column("epoch_ns", BigInteger, nullable=False),
    Column("elements_sha1", String(40), nullable=False),
    Column("mean_motion_rev_day", Float, nullable=False),
    Column("eccentricity", Float, nullable=False),
    Column("inclination_deg", Float, nullable=False),
    Column("raan_deg", Float, nullable=False),
    Column("arg_perigee_deg", Float, nullable=False),
    Column("mean_anomaly_deg", Float, nullable=False),
    Column("bstar_per_earth_radius", Float, nullable=False),
    Column("ndot_rev_day2", Float, nullable=False),
    Column("nddot_rev_day3", Float, nullable=False),
    Column("name", String(100), nullable=False, default=""),
    Column("intl_designator", String(20), nullable=False, default=""),
    Column("classification", String(1), nullable=False, default="U"),
    Column("ephemeris_type", Integer, nullable=False, default=0),
    Column("element_set_no", Integer, nullable=False, default=999),
    Column("rev_at_epoch", Integer, nullable=False, default=0),
    Column("source_text", Text, nullable=False, default=""),
    Column("source", Text, nullable=True),                   # first file/URL it came from
    UniqueConstraint("norad_id", "epoch_ns", "elements_sha1", name="uq_element_sets_key"),
)
Index("ix_element_sets_epoch", element_sets.c.epoch_ns)

# Sources whose ingest ran to the end (a rerun of the same text is skipped).
ingests = Table(
    "ingests", metadata,
    Column("text_sha256", String(64), primary_key=True),
    Column("source", Text, nullable=False),
    Column("element_sets", Integer, nullable=False),         # sets read from the text
    Column("rejected", Integer, nullable=False),
    Column("completed_at_utc", String(40), nullable=False),
)

ELEMENT_COLUMNS = ("mean_motion_rev_day", "eccentricity", "inclination_deg", "raan_deg",
                   "arg_perigee_deg", "mean_anomaly_deg", "bstar_per_earth_radius",
                   "ndot_rev_day2", "nddot_rev_day3")
