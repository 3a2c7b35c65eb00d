"""The store: one data layer over SQLite (default, a file, zero set-up) and
PostgreSQL (``postgresql+psycopg://...``, shared deployments).

>>> store = open_store("sqlite:///satwatch.db")          # doctest: +SKIP
>>> store.ingest_texts([("cat.txt", text)])               # doctest: +SKIP
>>> store.latest_catalog(at=utc("2023-09-13T00:00:00Z"))  # doctest: +SKIP

The store never reads the environment: the CLI resolves ``--db`` /
``SATWATCH_DB`` and passes the URL in.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from sqlalchemy import Engine, bindparam, create_engine, event, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ..catalog import Catalog
from ..elements import ElementSet
from ..errors import SatwatchError
from ..time import Time
from . import ingest as _ingest
from . import queries, schema
from .migrations import MIGRATIONS, Migration, StoreError, migrate


def _time_ns(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, Time):
        return int(value.ns)
    if isinstance(value, (int,)):
        return int(value)
    from ..time import utc
    return int(utc(value).ns)


def normalize_url(url: str | Path) -> str:
    """A SQLAlchemy URL from a URL or a plain file path (-> SQLite);
    ``postgresql://`` is taken to mean the psycopg 3 driver."""
    text = str(url)
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    if text.startswith("postgresql://") or text.startswith("postgres://"):
        text = "postgresql+psycopg://" + text.split("://", 1)[1]
    return text


def _sqlite_setup(engine: Engine) -> None:
    # Let SQLAlchemy own transactions (pysqlite's implicit ones do not cover
    # DDL), write-ahead log for crash safety with concurrent readers, and wait
    # on a busy database rather than fail.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    # Transactions take the write lock at BEGIN (IMMEDIATE) unless the
    # engine says they only read (Store's queries use a DEFERRED engine), so
    # a writer never fails to upgrade a read lock and readers do not queue.
    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        deferred = conn.get_execution_options().get("sqlite_read_only", False)
        conn.exec_driver_sql("BEGIN DEFERRED" if deferred else "BEGIN IMMEDIATE")


def _create_engine(parsed, url: str, **kw) -> Engine:
    """The engine; a driver that is not installed (``postgresql+psycopg2://``,
    SQLAlchemy's psycopg2 form) or not known is a StoreError naming it."""
    try:
        return create_engine(url, **kw)
    except (ImportError, ArgumentError) as exc:
        raise StoreError(
            f"cannot open database {parsed.render_as_string(hide_password=True)}: driver "
            f"{parsed.get_driver_name()!r} is not available ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0]}); satwatch uses psycopg 3: write "
            "postgresql+psycopg://USER:PASSWORD@HOST/DB, or sqlite:///FILE") from None


def create_store_engine(url: str) -> Engine:
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:   # sqlalchemy.exc.ArgumentError
        raise StoreError(f"cannot read database URL {url!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = _create_engine(parsed, url)
        _sqlite_setup(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return _create_engine(parsed, url, pool_pre_ping=True)
    raise StoreError(f"database {parsed.get_backend_name()!r} is not supported: use "
                     "sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST/DB")


class Store:
    """Element-set history and object metadata in a database.

    Open with :func:`open_store`.  ``engine`` is the SQLAlchemy engine, for
    modules that add their own tables (see :mod:`satwatch.store.migrations`).
    """

    def __init__(self, engine: Engine, url: str):
        self.engine = engine
        self.url = url
        # Same pool; on SQLite its transactions start DEFERRED (reads only).
        self._reader = engine.execution_options(sqlite_read_only=True)

    # -- life cycle --------------------------------------------------------
    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def schema_versions(self) -> list[int]:
        with self._reader.connect() as conn:
            return sorted(conn.execute(select(schema.schema_version.c.version)).scalars())

    # -- ingest --------------------------------------------------------------
    def ingest_texts(self, texts: Iterable[tuple[str, str]], *, batch: int = _ingest.DEFAULT_BATCH,
                     force: bool = False, advance=None) -> _ingest.IngestReport:
        """Ingest ``(source_name, text)`` pairs of any element format."""
        return _ingest.ingest_texts(self.engine, texts, batch=batch, force=force,
                                    advance=advance)

    def ingest_catalog(self, catalog: Catalog | Iterable[ElementSet], *,
                       batch: int = _ingest.DEFAULT_BATCH, advance=None) -> _ingest.IngestReport:
        """Ingest element sets (a Catalog, or any iterable of ElementSet)."""
        report = _ingest.IngestReport()
        if isinstance(catalog, Catalog):
            report.rejections.extend(catalog.rejections)
            report.sources.append(catalog.source or "<catalog>")
        return _ingest.ingest_element_sets(self.engine, catalog, batch=batch, report=report,
                                           advance=advance)

    def set_object_metadata(self, rows: Iterable[dict]) -> int:
        """Update owner / launch_date / object_type / decay_date / name /
        intl_designator of objects already in the store, from rows with a
        ``norad_id`` (a None value leaves the field as it is); returns the
        number of objects updated.  One transaction, one statement per field
        set (executemany)."""
        allowed = ("owner", "launch_date", "object_type", "decay_date", "name",
                   "intl_designator")
        groups: dict[tuple, list[dict]] = {}
        for row in rows:
            values = {k: row[k] for k in allowed if row.get(k) is not None}
            if values:
                key = tuple(sorted(values))
                values["nid"] = int(row["norad_id"])
                groups.setdefault(key, []).append(values)
        t = schema.objects
        n = 0
        with self.engine.begin() as conn:
            for key, params in groups.items():
                stmt = (update(t).where(t.c.norad_id == bindparam("nid"))
                        .values({k: bindparam(k) for k in key}))
                n += conn.execute(stmt, params).rowcount
        return n

    def ingest_gcat_psatcat(self, text: str, *, source: str = "psatcat.tsv") -> int:
        """Launch date, registering state (``owner``) and payload class from
        GCAT's psatcat.tsv, for objects already in the store."""
        from .gcat import parse_psatcat
        return self.set_object_metadata(parse_psatcat(text, source=source))

    # -- queries -------------------------------------------------------------
    def element_sets(self, norad_id: int, start=None, end=None) -> list[ElementSet]:
        """Every stored set of one object, by epoch, optionally within [start, end]."""
        with self._reader.connect() as conn:
            return queries.element_sets(conn, norad_id, _time_ns(start), _time_ns(end))

    def nearest(self, norad_id: int, time) -> ElementSet | None:
        """The set of ``norad_id`` nearest in epoch to ``time`` (None if none)."""
        with self._reader.connect() as conn:
            return queries.nearest(conn, norad_id, _time_ns(time))

    def latest_catalog(self, at=None, norad_ids: Iterable[int] | None = None) -> Catalog:
        """The catalog as known at ``at``: each object's newest set with epoch
        at or before ``at`` (every object's newest set when None)."""
        with self._reader.connect() as conn:
            sets = queries.latest_sets(conn, _time_ns(at), norad_ids)
        label = f"store {self._safe_url()}" + (f" at {Time(_time_ns(at)).iso(0)}"
                                                if at is not None else "")
        return Catalog(sets, [], label)

    def history_arrays(self, norad_ids=None, since=None, until=None, last: int | None = None):
        """``[(norad_id, {epoch_ns, mean_motion_rev_day, ...: array})]`` sorted by
        epoch; ``last``: only each object's newest ``last`` sets (of those in
        [since, until])."""
        with self._reader.connect() as conn:
            return list(queries.history_arrays(conn, norad_ids, _time_ns(since),
                                               _time_ns(until), last))

    def objects(self, query: str | None = None, norad_ids=None) -> list[dict]:
        """Object metadata: norad_id, name, intl_designator, owner, launch_date,
        object_type, decay_date, first_epoch_ns, last_epoch_ns."""
        with self._reader.connect() as conn:
            return queries.objects(conn, query, norad_ids)

    def object(self, norad_id: int) -> dict | None:
        rows = self.objects(norad_ids=[norad_id])
        return rows[0] if rows else None

    def counts(self) -> dict:
        with self._reader.connect() as conn:
            return queries.counts(conn)

    def _safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def __repr__(self):
        return f"Store({self._safe_url()!r})"


def open_store(url: str | Path, *, migrations: list[Migration] | None = None) -> Store:
    """Open (creating and migrating as needed) the database at ``url``: a
    SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://...``) or a path
    to an SQLite file."""
    url = normalize_url(url)
    engine = create_store_engine(url)
    try:
        migrate(engine, migrations if migrations is not None else MIGRATIONS)
    except SatwatchError:
        raise
    except Exception as exc:
        engine.dispose()
        safe = make_url(url).render_as_string(hide_password=True)
        raise StoreError(f"cannot open database {safe}: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0]}") from exc
    return Store(engine, url)
